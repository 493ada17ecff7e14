#!/usr/bin/env python3
"""Instructions per order on the push path: the store alone in webhook mode
(the bench's "sender only"), under `valgrind --tool=callgrind`.

Instruction counts do not depend on what else the machine is doing, so two
builds can be compared on a busy machine: BENCHMARKS.md's "Where the time
goes" quotes this script's output for the build before the sender's
optimisation (group commit, deliveries handed to the dispatcher in memory)
and after it.

    ci/profile/sender.py STORE_BINARY RECEIVER_BINARY [ORDERS] [CLIENTS]
    PROFILER=perf ci/profile/sender.py …   # sampled CPU time instead

With `PROFILER=perf` the store runs under `perf record` (CPU-clock samples,
start to end; the warm-up and start-up are a few per cent of it), for a
breakdown of *time* by crate: `ci/profile/by_crate.py perf.data.sender.*`.

STORE_BINARY runs `store` (any build of pushpull); RECEIVER_BINARY runs
`floor-hop` (a receiver that answers 200 to anything). Each order is placed
with `POST /api/orders`; the counters are zeroed after a warm-up and dumped
once every delivery has landed, so start-up and warm-up are not counted.
Prints instructions per order and where they went (the callgrind output
file is left in the working directory for `callgrind_annotate`).
"""

import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read() or b"{}")


ORDER = {
    "customer": {"name": "Profiler", "email": "profile@example.com"},
    "items": [{"sku": "TEA-SENCHA", "quantity": 1}, {"sku": "MUG-WHITE", "quantity": 1}],
}


def place(store: str, n: int, clients: int) -> list[str]:
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda _: post(f"{store}/api/orders", ORDER)["id"], range(n)))


def delivered(store: str, seconds: float = 600) -> None:
    """Until no delivery is pending (each order's is succeeded)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        with urllib.request.urlopen(f"{store}/api/deliveries?state=pending&limit=1", timeout=10) as r:
            page = json.loads(r.read())
        rows = page.get("data", page) if isinstance(page, dict) else page
        if not rows:
            return
        time.sleep(0.5)
    raise SystemExit("the deliveries did not land")


def main() -> None:
    store_bin, receiver_bin = sys.argv[1], sys.argv[2]
    orders = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    clients = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    work = Path(tempfile.mkdtemp(prefix="pushpull-profile-"))
    receiver_port, store_port = free_port(), free_port()
    receiver = subprocess.Popen(
        [receiver_bin, "floor-hop", "--port", str(receiver_port)], cwd=work,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    store = f"http://127.0.0.1:{store_port}"
    out = Path.cwd() / f"callgrind.out.sender.{Path(store_bin).name}"
    env = {
        **os.environ,
        "STORE_PORT": str(store_port),
        "STORE_DATABASE_URL": f"sqlite:{work}/store.db?mode=rwc",
        "STORE_URL": store,
        "INVENTORY_URL": f"http://127.0.0.1:{free_port()}",
        "INTEGRATION_MODE": "webhook",
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "RUST_LOG": "warn",
    }
    perf = os.environ.get("PROFILER") == "perf"
    if perf:
        out = Path.cwd() / out.name.replace("callgrind.out", "perf.data")
        command = ["perf", "record", "-e", "cpu-clock", "-F", "2000", "-g", "-o", str(out), store_bin, "store"]
    else:
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", store_bin, "store"]
    proc = subprocess.Popen(
        command, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{receiver_port}/healthz")
        wait_up(f"{store}/healthz", 300)
        post(f"{store}/api/webhook-endpoints", {"url": f"http://127.0.0.1:{receiver_port}/webhooks"})
        place(store, 100, clients)
        delivered(store)
        if not perf:
            subprocess.run(["callgrind_control", "--zero", str(proc.pid)], check=True, capture_output=True)
        started = time.time()
        place(store, orders, clients)
        delivered(store)
        if not perf:
            subprocess.run(["callgrind_control", "--dump", str(proc.pid)], check=True, capture_output=True)
        took = time.time() - started
    finally:
        # perf passes SIGINT on to the store and then writes its file.
        proc.send_signal(signal.SIGINT if perf else signal.SIGTERM)
        proc.wait()
        receiver.terminate()
    if perf:
        print(f"{store_bin}: {orders} orders, {clients} clients, {took:.1f} s under perf")
        print(f"profile: {out}")
        return
    # `callgrind_control --dump` wrote part 1: from the zeroing to the dump.
    dump = Path(f"{out}.1")
    total = 0
    for line in dump.read_text().splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            total = int(line.split()[1])
    print(f"{store_bin}: {orders} orders, {clients} clients, {took:.0f} s under callgrind")
    print(f"instructions per order (store): {total / orders:,.0f}")
    print(f"profile: {dump}")


if __name__ == "__main__":
    main()
