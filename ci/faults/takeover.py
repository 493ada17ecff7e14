#!/usr/bin/env python3
"""kill -9 a store mid-work and measure how soon its work is finished by
someone else — its restarted self, or a live peer on the same database.

What the in-process tests (crates/store/tests/api/faults.rs) prove on an
injected clock, this measures with real processes, real time and a real
`kill -9`, on PostgreSQL:

  1. webhook: orders whose deliveries are on the wire (the inventory is made
     slow with its chaos switch) when the store is killed;
  2. hybrid: the same with thin notices on the wire — the same outbox, and
     the inventory fetching each order before it answers;
  3. api: orders whose /update_inventory call is under way when the store
     is killed: they must be rejected and their stock voided;
  4. poll: the other side — the *inventory* killed while it pulls a burst
     (page acknowledgements, long polling on), then restarted: each order
     applied once, its acknowledgement sent, none skipped;

and then checks the inventory's stock is exact: every confirmed order took
its stock once, every rejected one took nothing (or gave it back).

    ci/faults/takeover.py target/release/pushpull [--peer] [--database-url URL]

With --peer, a second store runs on the same database and the killed one
is not restarted: the peer takes the work over. Prints one line per phase
with the seconds from the kill (or restart) to the last order settled.
Nothing here is part of the test suite: it needs free ports, a PostgreSQL
server it may create databases on, and about a minute.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SKU = "TEA-SENCHA"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STORE_KEY = os.environ.get("STORE_API_KEY", "pp_demo_store_key_change_me")


def call(method, url, body=None, timeout=30, key=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if key:
        req.add_header("authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, None


def wait_until(what, check, within=60):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.05)
    sys.exit(f"timed out waiting for: {what}")


def psql(server, sql):
    subprocess.run(["psql", "-q", server, "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


class Fleet:
    def __init__(self, binary, server, peer):
        self.binary = binary
        self.server = server.rstrip("/")
        base = self.server.rsplit("/", 1)[0]
        self.store_db = f"{base}/pp_faults_store"
        self.inventory_db = f"{base}/pp_faults_inventory"
        for db in ("pp_faults_store", "pp_faults_inventory"):
            psql(self.server, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            psql(self.server, f"CREATE DATABASE {db}")
        self.store_ports = [free_port()] + ([free_port()] if peer else [])
        self.inventory_port = free_port()
        self.inventory_url = f"http://127.0.0.1:{self.inventory_port}"
        self.stores = {}
        self.log = open("target/faults-takeover.log", "w")

    def env(self):
        e = dict(os.environ)
        e.update({
            "RUST_LOG": "warn",
            "STORE_URL": f"http://127.0.0.1:{self.store_ports[0]}",
            "INVENTORY_URL": self.inventory_url,
            "STORE_DATABASE_URL": self.store_db,
            "INVENTORY_DATABASE_URL": self.inventory_db,
            "INVENTORY_PORT": str(self.inventory_port),
            "POLL_PAUSED": "true",
        })
        return e

    def start_inventory(self):
        env = self.env()
        # The inventory reaches "the store" where a balancer would send it:
        # to a live one. With --peer that is the peer (the last store), which
        # is never killed — hybrid's fetch and the poller's reads need it.
        env["STORE_URL"] = f"http://127.0.0.1:{self.store_ports[-1]}"
        self.inventory = subprocess.Popen([self.binary, "inventory"], env=env,
                                          stdout=self.log, stderr=self.log)
        wait_until("the inventory", lambda: call("GET", f"{self.inventory_url}/healthz")[0] == 200)

    def start_store(self, port):
        env = self.env()
        env["STORE_PORT"] = str(port)
        self.stores[port] = subprocess.Popen([self.binary, "store"], env=env,
                                             stdout=self.log, stderr=self.log)
        wait_until("the store", lambda: call("GET", f"http://127.0.0.1:{port}/healthz")[0] == 200)

    def kill_inventory(self):
        self.inventory.send_signal(signal.SIGKILL)
        self.inventory.wait()

    def kill_store(self, port):
        self.stores[port].send_signal(signal.SIGKILL)
        self.stores[port].wait()

    def stop(self):
        for p in list(self.stores.values()) + [self.inventory]:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def store_url(port, path):
    return f"http://127.0.0.1:{port}{path}"


def order(port):
    body = {"customer": {"name": "Ada", "email": "ada@example.com"},
            "items": [{"sku": SKU, "quantity": 1}]}
    try:
        status, order = call("POST", store_url(port, "/api/orders"), body, timeout=60)
    except (OSError, urllib.error.URLError):
        return None  # the store was killed under this customer
    return order["id"] if status == 201 and order else None


def feed(port):
    """Every order in the store's feed (the pull API, with the store's key)."""
    orders, after = [], ""
    while True:
        query = f"after={after}&limit=100" if after else "limit=100"
        _, page = call("GET", store_url(port, f"/api/orders?{query}"), key=STORE_KEY)
        orders += page["data"]
        after = page["iterator"]
        if page["done"]:
            return orders


def statuses(port, ids):
    return {i: call("GET", store_url(port, f"/api/orders/{i}"))[1]["status"] for i in ids}


def on_hand(fleet):
    stock = call("GET", f"{fleet.inventory_url}/api/stock")[1]
    return next(s["on_hand"] for s in stock if s["sku"] == SKU)


def settle(port, ids):
    """Seconds until no order of `ids` is pending (None: never, in a minute)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        if "pending" not in statuses(port, ids).values():
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--peer", action="store_true", help="a second store takes over; no restart")
    ap.add_argument("--orders", type=int, default=20)
    args = ap.parse_args()
    os.makedirs("target", exist_ok=True)

    fleet = Fleet(args.binary, args.database_url, args.peer)
    try:
        fleet.start_inventory()
        for port in fleet.store_ports:
            fleet.start_store(port)
        first, survivor = fleet.store_ports[0], fleet.store_ports[-1]
        wait_until("the inventory's subscription", lambda: any(
            e["role"] == "resolver" for e in call("GET", store_url(first, "/api/webhook-endpoints"))[1]))
        # Enough for every order of every phase, so that each one kept
        # takes its unit and the count below can be exact.
        call("POST", f"{fleet.inventory_url}/api/stock/{SKU}/restock", {"quantity": args.orders * 10})
        before = on_hand(fleet)
        results = {}

        for mode in ("webhook", "hybrid", "api"):
            pushed = mode in ("webhook", "hybrid")
            call("PUT", store_url(first, "/api/integration"), {"mode": mode})
            call("PUT", f"{fleet.inventory_url}/api/chaos", {"latency_ms": 3000})
            ids = []
            threads = [threading.Thread(target=lambda: ids.append(order(first)))
                       for _ in range(args.orders if pushed else 5)]
            for t in threads:
                t.start()
            if pushed:
                for t in threads:
                    t.join()
            time.sleep(1.0)  # the deliveries / calls are on the wire
            fleet.kill_store(first)
            call("PUT", f"{fleet.inventory_url}/api/chaos", {"latency_ms": 0})
            if not args.peer:
                fleet.start_store(first)
            for t in threads:
                t.join()
            # The orders placed in this phase (an api customer whose store
            # was killed never got an answer: the feed has them).
            seen = {o for r in results.values() for o in r[2]}
            ids = [o["id"] for o in feed(survivor) if o["mode"] == mode and o["id"] not in seen]
            took = settle(survivor, ids) if ids else None
            results[mode] = (len(ids), took, statuses(survivor, ids) if ids else {})
            if args.peer:
                fleet.start_store(first)  # back, as a peer, to be killed again

        # Poll: kill -9 the inventory mid-pull, with long polling on (kept
        # in its state, so the restarted poller long-polls again).
        call("PUT", store_url(first, "/api/integration"), {"mode": "poll"})
        call("PUT", f"{fleet.inventory_url}/api/poller",
             {"paused": False, "interval_ms": 1000, "wait_s": 20})
        seen = {o for r in results.values() for o in r[2]}
        threads = [threading.Thread(target=order, args=(survivor,)) for _ in range(args.orders * 5)]
        for t in threads:
            t.start()
        time.sleep(0.3)  # pages read, applied, acknowledged as the orders commit
        fleet.kill_inventory()
        for t in threads:
            t.join()
        fleet.start_inventory()
        ids = [o["id"] for o in feed(survivor) if o["mode"] == "poll" and o["id"] not in seen]
        took = settle(survivor, ids) if ids else None
        results["poll"] = (len(ids), took, statuses(survivor, ids) if ids else {})
        wait_ms = call("GET", f"{fleet.inventory_url}/api/poller")[1]["wait_ms"]
        print(f"poll: the restarted poller long-polls with wait {wait_ms} ms")

        time.sleep(2)  # voids delivered
        after = on_hand(fleet)
        kept = sum(1 for _, _, st in results.values() for s in st.values()
                   if s in ("confirmed", "backordered"))
        for mode, (n, took, st) in results.items():
            counts = {s: list(st.values()).count(s) for s in set(st.values())}
            where = ("restart of the inventory" if mode == "poll"
                     else "kill (a live peer took over)" if args.peer else "restart")
            what = ("placed while the inventory pulled, killed -9 among them" if mode == "poll"
                    else "in flight at kill -9")
            print(f"{mode}: {n} orders {what}, all settled "
                  f"{took:.1f} s after the {where}: {counts}" if took is not None
                  else f"{mode}: NOT settled within a minute: {counts}")
        print(f"stock of {SKU}: {before} before, {after} after, "
              f"{kept} orders kept it -> {'exact' if before - after == kept else 'WRONG'}")
    finally:
        fleet.stop()


if __name__ == "__main__":
    main()
