"""A real HTTP receiver for webhook tests: a threaded server on 127.0.0.1 that records every request
and answers as the test scripts it (a status, a slow answer, a redirect, a dropped connection).

Signatures are checked here with an implementation of the Standard Webhooks spec written
independently of ``blacklist.partners.rules``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks, symmetric: ``v1,`` + base64(HMAC-SHA256(base64-decoded secret after
    ``whsec_``, ``"{id}.{timestamp}.{body}"``)); the header may carry several space-separated
    signatures."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = b".".join(
        [headers["webhook-id"].encode(), headers["webhook-timestamp"].encode(), body]
    )
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    started: float
    finished: float = 0.0
    answered: int | str | None = None

    @property
    def items(self) -> list[dict]:
        return json.loads(self.body)["items"]


@dataclass
class Receiver:
    """Scripted answers are taken in order; when none is left, ``default`` is used. An answer is
    an int status, ``("slow", seconds, status)``, ``("redirect", location)``, ``"drop"`` (close the
    connection without answering) or ``("hold", threading.Event, status)`` (wait for the event)."""

    url: str = ""
    default: object = 200
    script: deque = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    other_paths: list[str] = field(default_factory=list)

    def answer(self, *answers: object) -> None:
        self.script.extend(answers)

    def next_answer(self) -> object:
        with self.lock:
            return self.script.popleft() if self.script else self.default

    @property
    def delivered(self) -> list[Received]:
        """Requests answered with a 2xx."""
        return [r for r in self.received if isinstance(r.answered, int) and 200 <= r.answered < 300]


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            if self.path.split("?")[0] != "/hook":
                receiver.other_paths.append(self.path)
                self.send_response(200)
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            record = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
            )
            with receiver.lock:
                receiver.received.append(record)
                receiver.in_flight += 1
                receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
            try:
                self._answer(record, receiver.next_answer())
            finally:
                record.finished = time.monotonic()
                with receiver.lock:
                    receiver.in_flight -= 1

        def _answer(self, record: Received, answer: object) -> None:
            if answer == "drop":
                record.answered = "drop"
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if isinstance(answer, tuple) and answer[0] == "slow":
                time.sleep(answer[1])
                answer = answer[2]
            elif isinstance(answer, tuple) and answer[0] == "hold":
                answer[1].wait(30)
                answer = answer[2]
            elif isinstance(answer, tuple) and answer[0] == "redirect":
                record.answered = 302
                self.send_response(302)
                self.send_header("Location", answer[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            record.answered = answer
            payload = b'{"ok": true}'
            self.send_response(int(answer))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return receiver, server
