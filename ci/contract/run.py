"""The contract, checked by tools nobody on this project wrote.

Starts the real `pushpull` binary (fresh SQLite files in a temporary
directory, free ports) and runs, in order:

1. **validate** — both `/openapi.json` documents through
   `openapi-spec-validator` (an independent OpenAPI 3.1 validator);
2. **schemathesis** — every operation of both documents, all of
   schemathesis' checks (its default: server errors, status codes,
   content types, headers, response schemas, positive and negative data,
   ignored auth, unsupported methods, …). Keys come from the demo
   configuration (`store.toml`, `inventory.toml`);
3. **interop** — Standard Webhooks with the `standardwebhooks` library
   (see `interop.py`).

Each step gets services of its own, started fresh, so one step's leftovers
(orders, endpoints, a chaos switch left on) cannot change another's
outcome. Within the inventory's schemathesis run the chaos controls are
tested last, on their own: "down" or two minutes of latency would
otherwise turn every later integration request into a 503 or a timeout.

`GET /events` is a Server-Sent Events stream, which by default never ends,
and schemathesis reads every answer to its end: it is checked in its
bounded form (`seconds=0`, set in the .toml files), which answers the
same headers and closes. What the events carry — each one's data against
its documented schema — is checked by the services' own tests
(`tests/api/live_events.rs`), which read the endless form.

With `CONTRACT_DATABASE_URL` naming a PostgreSQL server
(`postgres://postgres@127.0.0.1:5432/postgres`), every service started
here gets fresh databases on it instead (created with `psql`, dropped
afterwards): `.ci/run` runs schemathesis that way too.

Usage: run.py BINARY [validate] [schemathesis] [interop]  (default: all)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO_STORE_KEY = "pp_demo_store_key_change_me"
DEMO_INVENTORY_KEY = "pp_demo_inventory_key_change_me"
# A fixed seed: the same run every time, so a red CI is reproducible.
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261128")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("RUST_LOG", "warn")
    env["STORE_API_KEY"] = DEMO_STORE_KEY
    env["INVENTORY_API_KEY"] = DEMO_INVENTORY_KEY
    return env


class Databases:
    """A fresh database for each service: SQLite files in `directory`, or
    new databases on the PostgreSQL server of `CONTRACT_DATABASE_URL`."""

    def __init__(self, directory: Path) -> None:
        self.server = os.environ.get("CONTRACT_DATABASE_URL", "")
        self.created: list[str] = []
        if not self.server:
            self.store = f"sqlite:{directory}/store.db?mode=rwc"
            self.inventory = f"sqlite:{directory}/inventory.db?mode=rwc"
            return
        self.store = self._create("store")
        self.inventory = self._create("inventory")

    def _create(self, service: str) -> str:
        name = f"pushpull_contract_{service}_{uuid.uuid4().hex[:12]}"
        self._psql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return urllib.parse.urlunsplit(urllib.parse.urlsplit(self.server)._replace(path=f"/{name}"))

    def _psql(self, sql: str) -> None:
        subprocess.run(["psql", self.server, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)

    def drop(self) -> None:
        for name in self.created:
            self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Demo:
    """Both services in one process (`pushpull demo`), on free ports."""

    def __init__(self, binary: str, workdir: str, name: str) -> None:
        self.dir = Path(workdir) / name
        self.dir.mkdir()
        self.databases = Databases(self.dir)
        store_port, inventory_port = free_port(), free_port()
        self.store = f"http://127.0.0.1:{store_port}"
        self.inventory = f"http://127.0.0.1:{inventory_port}"
        env = {
            **base_env(),
            "STORE_PORT": str(store_port),
            "INVENTORY_PORT": str(inventory_port),
            "STORE_DATABASE_URL": self.databases.store,
            "INVENTORY_DATABASE_URL": self.databases.inventory,
        }
        self.log = open(self.dir / "pushpull.log", "wb")
        self.process = subprocess.Popen(
            [binary, "demo"], cwd=self.dir, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        for url in (self.store, self.inventory):
            wait_healthy(url, self.process)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        self.databases.drop()

    def __enter__(self) -> "Demo":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_healthy(url: str, process: subprocess.Popen, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"pushpull exited ({process.returncode}) before {url} answered")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url}/healthz did not answer within {within:.0f} s")


def fetch_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def validate(demo: Demo) -> list[str]:
    from openapi_spec_validator import validate as validate_spec
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    failures = []
    for name, url in (("store", demo.store), ("inventory", demo.inventory)):
        document = fetch_json(f"{url}/openapi.json")
        version = document.get("openapi", "")
        try:
            validate_spec(document)
        except OpenAPIValidationError as e:
            failures.append(f"{name}: {e}")
            continue
        if not version.startswith("3.1."):
            failures.append(f"{name}: OpenAPI {version}, expected 3.1")
            continue
        print(f"  {name}: OpenAPI {version}, {len(document['paths'])} paths — valid")
    return failures


def schemathesis(workdir: str, config: str, url: str, *filters: str) -> bool:
    """One schemathesis run; True when it found nothing."""
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file", str(HERE / config),
        "run", f"{url}/openapi.json",
        "--seed", SEED,
        "--request-timeout", "20",
        "--warnings", "off",
        *filters,
    ]
    print("  $", " ".join(command[1:]), flush=True)
    # Run where its caches (.schemathesis/) land in the temporary directory.
    return subprocess.run(command, env=base_env(), cwd=workdir).returncode == 0


def run_schemathesis(binary: str, workdir: str) -> list[str]:
    failures = []
    with Demo(binary, workdir, "schemathesis-inventory") as demo:
        print("::: schemathesis: the inventory (everything but the chaos switch)", flush=True)
        if not schemathesis(workdir, "inventory.toml", demo.inventory, "--exclude-path", "/api/chaos"):
            failures.append("schemathesis found failures in the inventory's API")
        print("::: schemathesis: the inventory's chaos switch, last", flush=True)
        if not schemathesis(workdir, "inventory.toml", demo.inventory, "--include-path", "/api/chaos"):
            failures.append("schemathesis found failures in the inventory's chaos API")
    with Demo(binary, workdir, "schemathesis-store") as demo:
        print("::: schemathesis: the store", flush=True)
        if not schemathesis(workdir, "store.toml", demo.store):
            failures.append("schemathesis found failures in the store's API")
    return failures


def run_interop(binary: str, workdir: str) -> list[str]:
    import interop

    failures = []
    with Demo(binary, workdir, "interop") as demo:
        try:
            for line in interop.store_deliveries(demo.store):
                print(f"  ok: {line}")
        except (interop.Failure, Exception) as e:  # every failure is reported the same way
            failures.append(f"interop (store deliveries): {e!r}")
    try:
        for line in interop.signed_by_the_library(binary, workdir, free_port(), base_env()):
            print(f"  ok: {line}")
    except (interop.Failure, Exception) as e:
        failures.append(f"interop (inventory receiver): {e!r}")
    return failures


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = str(Path(sys.argv[1]).resolve())
    steps = sys.argv[2:] or ["validate", "schemathesis", "interop"]
    sys.path.insert(0, str(HERE))
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    failures: list[str] = []
    backend = "PostgreSQL" if os.environ.get("CONTRACT_DATABASE_URL") else "SQLite"
    print(f"::: the contract checks, on {backend}", flush=True)
    with tempfile.TemporaryDirectory(prefix="pushpull-contract-") as workdir:
        for step in steps:
            if step == "validate":
                print("::: openapi-spec-validator: both documents", flush=True)
                with Demo(binary, workdir, "validate") as demo:
                    failures += validate(demo)
            elif step == "schemathesis":
                failures += run_schemathesis(binary, workdir)
            elif step == "interop":
                print("::: Standard Webhooks interop (standardwebhooks from PyPI)", flush=True)
                failures += run_interop(binary, workdir)
            else:
                print(f"unknown step {step!r}")
                return 2
        if failures:
            print("::: contract checks FAILED")
            for f in failures:
                print(f"  - {f}")
            logs = sorted(Path(workdir).glob("*/pushpull.log"))
            for log in logs:
                print(f"--- {log.parent.name}: last lines of the service log")
                print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))
            return 1
    print("::: contract checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
