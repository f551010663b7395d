"""A partner's webhook receiver for the push benchmark, run as its own process:

    BENCH_WEBHOOK_SECRET=whsec_... python -m bench.webhook_receiver --port PORT [--verify all|first]

A threaded ``http.server`` that does what a real receiver must before answering 2xx: reads the raw
body, verifies the Standard Webhooks signature with the partner's secret (written here from the spec
in docs/partners.md, independently of ``blacklist.partners.rules``) and the timestamp tolerance
(5 minutes), parses the JSON and counts the items. A bad signature is answered 401 and counted.
It applies nothing to a database: it stands for the fastest receiver a partner could have, so the
push benchmark measures the sender.

``POST /hook``: a webhook. ``GET /stats``: the counts as JSON. ``POST /reset``: zero the counts.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 300


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
        signatures = headers["webhook-signature"]
        if abs(time.time() - int(ts)) > TOLERANCE:
            return False
    except (KeyError, ValueError):
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1":
            try:
                if hmac.compare_digest(base64.b64decode(value), expected):
                    return True
            except ValueError:
                continue
    return False


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.items = 0
        self.verified = 0
        self.bad_signatures = 0
        self.ids: set[str] = set()
        self.first_seq: int | None = None
        self.last_seq: int | None = None
        self.max_items = 0
        self.max_body = 0

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "items": self.items,
            "verified": self.verified,
            "bad_signatures": self.bad_signatures,
            "unique_webhook_ids": len(self.ids),
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "max_items_per_batch": self.max_items,
            "max_body_bytes": self.max_body,
        }


def make_server(port: int, secret: str, verify_all: bool = True) -> ThreadingHTTPServer:
    stats = Stats()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/stats":
                with stats.lock:
                    self._answer(200, stats.as_dict())
            else:
                self._answer(404, {})

        def do_POST(self) -> None:
            if self.path == "/reset":
                with stats.lock:
                    stats.reset()
                self._answer(200, {})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            check = verify_all or stats.verified == 0
            if check and not verify(secret, headers, body):
                with stats.lock:
                    stats.bad_signatures += 1
                self._answer(401, {"error": "bad signature"})
                return
            items = json.loads(body)["items"]
            with stats.lock:
                stats.requests += 1
                stats.items += len(items)
                stats.verified += check
                stats.ids.add(headers.get("webhook-id", ""))
                stats.max_items = max(stats.max_items, len(items))
                stats.max_body = max(stats.max_body, len(body))
                if items:
                    first, last = items[0]["seq"], items[-1]["seq"]
                    if stats.first_seq is None or first < stats.first_seq:
                        stats.first_seq = first
                    stats.last_seq = max(stats.last_seq or 0, last)
            self._answer(200, {"ok": True})

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--verify", choices=("all", "first"), default="all")
    args = parser.parse_args()
    # From the environment, not the command line: secrets stay out of the process list.
    server = make_server(
        args.port, os.environ["BENCH_WEBHOOK_SECRET"], verify_all=args.verify == "all"
    )
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
