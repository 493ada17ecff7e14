#!/usr/bin/env python3
"""Where a `perf record` profile's CPU time went, by crate.

    ci/profile/by_crate.py perf.data.sender.…

Reads `perf report`'s self time per symbol and adds it up by the crate (or
library) the symbol belongs to — the first path segment of a Rust symbol,
`sqlite3…` for SQLite, the kernel's `[k]` symbols as "kernel" — then folds
the crates into the parts of a webhook's trip that BENCHMARKS.md names.
"""

import re
import subprocess
import sys
from collections import defaultdict

PARTS = [
    ("SQLite (the engine)", lambda c: c == "sqlite"),
    ("sqlx (driver, pool, statements)", lambda c: c.startswith("sqlx")),
    ("kernel (sockets, files, futexes)", lambda c: c == "kernel"),
    ("allocator (malloc/free)", lambda c: c == "malloc"),
    ("HTTP server (actix)", lambda c: c.startswith("actix") or c in ("h2", "http", "httparse", "bytes", "bytestring")),
    ("HTTP client (reqwest, hyper)", lambda c: c in ("reqwest", "hyper", "hyper_util", "want", "tower", "tower_service")),
    ("async runtime (tokio, futures)", lambda c: c.startswith("tokio") or c.startswith("futures") or c in ("mio", "parking_lot", "parking_lot_core")),
    ("signing (HMAC-SHA256, base64)", lambda c: c in ("sha2", "hmac", "digest", "base64", "subtle")),
    ("JSON (serde)", lambda c: c.startswith("serde")),
    ("logging (tracing)", lambda c: c.startswith("tracing")),
    ("this project (store, platform, contract)", lambda c: c in ("store", "platform", "contract", "pushpull", "bench")),
    ("std and core (strings, formatting, hashing)", lambda c: c in ("core", "alloc", "std", "hashbrown", "libc")),
]

LINE = re.compile(r"^\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$")


def crate_of(dso: str, kind: str, symbol: str) -> str:
    if kind == "k":
        return "kernel"
    if "libc.so" in dso and re.match(r"_?_?(int_)?(malloc|free|realloc|calloc|memalign|cfree)|_int_", symbol):
        return "malloc"
    if symbol.startswith("sqlite3") or symbol.startswith("sqlite"):
        return "sqlite"
    if "libc.so" in dso or "ld-linux" in dso:
        return "libc"
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)::", symbol.lstrip("<&* "))
    return m.group(1) if m else "other"


def main() -> None:
    report = subprocess.run(
        ["perf", "report", "-i", sys.argv[1], "--no-children", "--sort", "dso,sym", "--stdio", "-g", "none"],
        capture_output=True, text=True, check=True,
    ).stdout
    by_crate: dict[str, float] = defaultdict(float)
    for line in report.splitlines():
        m = LINE.match(line)
        if m:
            share, dso, kind, symbol = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
            by_crate[crate_of(dso, kind, symbol)] += share
    parts: dict[str, float] = defaultdict(float)
    for crate, share in by_crate.items():
        name = next((n for n, test in PARTS if test(crate)), "other")
        parts[name] += share
    for name, share in sorted(parts.items(), key=lambda p: -p[1]):
        print(f"| {name} | {share:.1f} % |")
    print()
    print("by crate:", ", ".join(f"{c} {s:.1f}" for c, s in sorted(by_crate.items(), key=lambda p: -p[1])[:25]))


if __name__ == "__main__":
    main()
