"""A scripted HTTP server for faking an LLM vendor's API on 127.0.0.1 (test double).

Each POST takes the next scripted `Reply` (optionally after a delay). Every request is
recorded, checked by the vendor's validator (a real API rejects a malformed conversation
with 400, so does the fake) and searched for forbidden strings such as passwords: a hit is
recorded as a violation and answered with 400, so a leak can never pass unnoticed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw: str

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


Validator = Callable[[str, dict[str, Any]], str | None]  # (path, body) -> problem or None


class ScriptedLLMServer:
    """Serve `replies` in order; `validator` and `forbidden` guard every request."""

    def __init__(
        self,
        replies: list[Reply],
        validator: Validator | None = None,
        forbidden: tuple[str, ...] = (),
        error_body: Callable[[int, str], dict[str, Any]] | None = None,
    ) -> None:
        self.replies = list(replies)
        self.validator = validator
        self.forbidden = forbidden
        self.error_body = error_body or (
            lambda status, msg: {"error": {"code": status, "message": msg}}
        )
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ScriptedLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def model_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def _next(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            leaked = [s for s in self.forbidden if s and s in recorded.raw]
            if leaked:
                self.violations.append(f"{recorded.path}: request body contains a forbidden string")
                return Reply(self.error_body(400, "forbidden content in request"), status=400)
            problem = self._validate(recorded)
            if problem:
                self.problems.append(problem)
                return Reply(self.error_body(400, problem), status=400)
            if not self.replies:
                self.problems.append("script exhausted: the client asked more than scripted")
                return Reply(self.error_body(500, "script exhausted"), status=500)
            return self.replies.pop(0)

    def _validate(self, recorded: Recorded) -> str | None:
        if self.validator is None:
            return None
        try:
            body = recorded.json
        except json.JSONDecodeError:
            return "request body is not JSON"
        return self.validator(recorded.path, body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                reply = server._next(Recorded("POST", self.path, dict(self.headers), raw))
                if reply.delay:
                    time.sleep(reply.delay)
                payload = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler
