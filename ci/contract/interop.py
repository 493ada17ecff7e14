"""Standard Webhooks interop: the services against the PyPI `standardwebhooks`
library, which neither side's code had a hand in.

1. **The store's deliveries verify with the library.** A tiny receiver (a
   Python HTTP server) registers two endpoints with a running store — one
   JSON, one XML — keeps the secrets the store answers with, and verifies
   every delivery it gets with `standardwebhooks.Webhook(secret).verify`:
   the registration pings, an `order.created` in each format, and, after
   one endpoint's secret is rotated, a delivery that carries both
   signatures — each of which must verify on its own, with the old secret
   and with the new.
2. **A message the library signs is accepted by the inventory's receiver.**
   The test needs the inventory's secret, and takes it the way an operator
   can: by running the store the inventory subscribes to. A stand-in store
   (a Python HTTP server) answers the inventory's subscription with a secret
   the test generated; the inventory keeps it; the library then signs an
   `order.created` with it, and `POST /webhooks/store` must apply it (2xx),
   call a second copy a duplicate, and refuse a tampered body (401).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.request
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Failure(Exception):
    pass


def request(method: str, url: str, body: Any = None, headers: dict | None = None):
    """(status, headers, text) of one request; an error status is an answer."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        if isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
        else:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def expect(status: int, wanted: int | tuple, what: str, text: str = "") -> None:
    wanted = wanted if isinstance(wanted, tuple) else (wanted,)
    if status not in wanted:
        raise Failure(f"{what}: answered {status}, expected {wanted}: {text[:500]}")


def eventually(what: str, check, within: float = 30.0):
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(0.1)


class Recorder(ThreadingHTTPServer):
    """Accepts every POST with 204 and keeps (path, headers, body)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def messages(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return [(h, b) for (p, h, b) in self.received if p == path]


class _RecordingHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.server.lock:
            self.server.received.append((self.path, headers, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def event_of(headers: dict[str, str], body: bytes) -> tuple[str, str | None]:
    """(type, order id) of a delivered event, JSON or XML."""
    if "xml" in headers.get("content-type", ""):
        root = ElementTree.fromstring(body)
        return root.findtext("type"), root.findtext("data/id") or root.findtext("data/order_id")
    event = json.loads(body)
    data = event.get("data") or {}
    # An order.created carries the order (`id`); a thin order.notice only names it.
    return event["type"], data.get("id") or data.get("order_id")


def verified(secret: str, headers: dict[str, str], body: bytes) -> None:
    """Raises unless the library verifies this delivery with `secret`."""
    Webhook(secret).verify(body, headers, json_parse=False)


def store_deliveries(store: str) -> list[str]:
    """Part 1. Returns what it checked, one line each."""
    checked = []
    receiver = Recorder()
    endpoints = {}
    for fmt in ("json", "xml"):
        status, _, text = request(
            "POST",
            f"{store}/api/webhook-endpoints",
            {"url": f"{receiver.url}/{fmt}", "format": fmt, "event_types": ["*"],
             "description": f"standardwebhooks interop ({fmt})"},
        )
        expect(status, 201, f"registering the {fmt} endpoint", text)
        endpoint = json.loads(text)
        if not endpoint.get("secret", "").startswith("whsec_"):
            raise Failure(f"the registration answer has no whsec_ secret: {text}")
        endpoints[fmt] = endpoint

    # The registration pings, each verified with its endpoint's secret.
    for fmt, endpoint in endpoints.items():
        headers, body = eventually(f"the {fmt} ping", lambda: receiver.messages(f"/{fmt}"))[0]
        verified(endpoint["secret"], headers, body)
        if event_of(headers, body)[0] != "ping":
            raise Failure(f"the first {fmt} delivery is not a ping: {body[:200]!r}")
        try:
            verified("whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(), headers, body)
            raise Failure("a wrong secret verified a delivery")
        except WebhookVerificationError:
            pass
        checked.append(f"{fmt} ping verified by standardwebhooks (and refused with a wrong secret)")

    status, _, text = request("PUT", f"{store}/api/integration", {"mode": "webhook"})
    expect(status, 200, "switching to webhook mode", text)

    def place_order() -> str:
        status, _, text = request(
            "POST",
            f"{store}/api/orders",
            {"customer": {"name": "Interop Tester", "email": "interop@example.com"},
             "items": [{"sku": "TEA-ASSAM", "quantity": 1}]},
        )
        expect(status, 201, "placing an order", text)
        return json.loads(text)["id"]

    def delivery_of(fmt: str, order_id: str, event_type: str = "order.created"):
        def find():
            for headers, body in receiver.messages(f"/{fmt}"):
                if event_of(headers, body) == (event_type, order_id):
                    return headers, body
            return None
        return eventually(f"order {order_id} at the {fmt} endpoint", find)

    first = place_order()
    for fmt, endpoint in endpoints.items():
        headers, body = delivery_of(fmt, first)
        verified(endpoint["secret"], headers, body)
        wanted = "application/xml" if fmt == "xml" else "application/json"
        if not headers.get("content-type", "").startswith(wanted):
            raise Failure(f"{fmt} delivery sent as {headers.get('content-type')}")
        checked.append(f"order.created in {fmt.upper()} verified by standardwebhooks")

    # Hybrid mode's thin notice: signed the same way, and carrying no order.
    status, _, text = request("PUT", f"{store}/api/integration", {"mode": "hybrid"})
    expect(status, 200, "switching to hybrid mode", text)
    noticed = place_order()
    for fmt, endpoint in endpoints.items():
        headers, body = delivery_of(fmt, noticed, "order.notice")
        verified(endpoint["secret"], headers, body)
        if b"interop@example.com" in body or b"TEA-ASSAM" in body:
            raise Failure(f"the {fmt} order.notice carries the order: {body[:300]!r}")
        checked.append(f"a thin order.notice in {fmt.upper()} verified by standardwebhooks")
    status, _, text = request("PUT", f"{store}/api/integration", {"mode": "webhook"})
    expect(status, 200, "switching back to webhook mode", text)

    # Rotation: both secrets sign during the grace period.
    old = endpoints["json"]["secret"]
    status, _, text = request(
        "POST", f"{store}/api/webhook-endpoints/{endpoints['json']['id']}/rotate-secret",
        {"grace_seconds": 600},
    )
    expect(status, 200, "rotating the JSON endpoint's secret", text)
    new = json.loads(text)["secret"]
    if new == old:
        raise Failure("rotation kept the old secret")
    second = place_order()
    headers, body = delivery_of("json", second)
    signatures = headers["webhook-signature"].split(" ")
    if len(signatures) != 2:
        raise Failure(f"expected two signatures during the rotation: {signatures}")
    for _, secret in (("new", new), ("old", old)):
        verified(secret, headers, body)
    # ...and each signature on its own verifies with exactly one secret.
    for signature in signatures:
        matches = []
        for which, secret in (("new", new), ("old", old)):
            try:
                verified(secret, {**headers, "webhook-signature": signature}, body)
                matches.append(which)
            except WebhookVerificationError:
                pass
        if len(matches) != 1:
            raise Failure(f"signature {signature[:12]}… verified with {matches}")
    checked.append("during a rotation: two signatures, one from each secret, both verified")
    receiver.shutdown()
    return checked


class StandInStore(ThreadingHTTPServer):
    """What the inventory subscribes to: answers the registration with a
    secret of the test's own; every other request is a 404."""

    daemon_threads = True

    def __init__(self) -> None:
        self.secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.registered = threading.Event()
        super().__init__(("127.0.0.1", 0), _StandInHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _StandInHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/api/webhook-endpoints":
            answer = {
                "id": "whe_interop0001",
                "url": body.get("url"),
                "secret": self.server.secret,
            }
            self._json(201, answer)
            self.server.registered.set()
        else:
            self._json(404, {"title": "Not found", "status": 404})

    def do_GET(self) -> None:  # noqa: N802
        self._json(404, {"title": "Not found", "status": 404})

    def _json(self, status: int, value: Any) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def signed_by_the_library(binary: str, workdir: str, inventory_port: int, env: dict) -> list[str]:
    """Part 2: a standalone inventory, subscribed to the stand-in store."""
    checked = []
    store = StandInStore()
    inventory = f"http://127.0.0.1:{inventory_port}"
    process = subprocess.Popen(
        [binary, "inventory"],
        cwd=workdir,
        env={
            **env,
            "INVENTORY_PORT": str(inventory_port),
            "INVENTORY_DATABASE_URL": f"sqlite:{workdir}/interop-inventory.db?mode=rwc",
            "STORE_URL": store.url,
            "POLL_PAUSED": "true",
        },
    )
    try:
        eventually("the inventory's subscription", store.registered.is_set, within=60)
        order_id = "ord_" + secrets.token_hex(16)
        event = {
            "type": "order.created",
            "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "data": {
                "id": order_id,
                "status": "pending",
                "mode": "webhook",
                "customer": {"name": "Interop Tester", "email": "interop@example.com"},
                "items": [{"sku": "TEA-ASSAM", "name": "Assam breakfast tea, 250 g",
                           "quantity": 2, "unit_price_cents": 990, "line_total_cents": 1980}],
                "total_cents": 1980,
                "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            },
        }
        body = json.dumps(event)
        message_id = "msg_interop" + secrets.token_hex(8)
        now = datetime.now(timezone.utc)
        signature = Webhook(store.secret).sign(message_id, now, body)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }

        def deliver():
            status, _, text = request("POST", f"{inventory}/webhooks/store", body, headers)
            # The subscription is kept just after the stand-in answered it:
            # until then the signature is (rightly) unknown.
            return (status, text) if status != 401 else None

        status, text = eventually("the inventory to accept the signed message", deliver, 30)
        expect(status, (200, 201, 202, 204), "a message signed by standardwebhooks", text)
        ack = json.loads(text)
        if ack.get("duplicate") or ack.get("outcome") != "applied":
            raise Failure(f"expected the order applied: {text}")
        checked.append("an order.created signed by standardwebhooks was applied by the inventory")

        status, _, text = request("POST", f"{inventory}/webhooks/store", body, headers)
        expect(status, (200, 201, 202, 204), "the same message again", text)
        if not json.loads(text).get("duplicate"):
            raise Failure(f"a second copy was not called a duplicate: {text}")
        checked.append("the same webhook-id again: answered as a duplicate")

        tampered = body.replace('"quantity": 2', '"quantity": 3')
        # The same webhook-id: the signature is checked before the inbox.
        status, _, text = request("POST", f"{inventory}/webhooks/store", tampered, headers)
        expect(status, 401, "a tampered body", text)
        checked.append("a tampered body under the library's signature (same webhook-id): 401")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        store.shutdown()
    return checked
