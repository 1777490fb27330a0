"""The fake API server plus the `pods/{name}/portforward` WebSocket a real API server offers.

Test double only. REST requests go to `FakeKubeApi`'s own handler; a WebSocket upgrade on
a portforward path is answered with the `v4.channel.k8s.io` protocol (port frames on the
data and error channels, then data frames), relayed to 127.0.0.1:<port> on this machine,
so the fake cluster's pods can "be" local servers such as the lab PostgreSQL.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

from tests.fakes.kube_api import FakeKubeApi, _handler_for

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUBPROTOCOL = "v4.channel.k8s.io"


def read_frame(stream: BinaryIO) -> tuple[int, bytes]:
    """(opcode, payload) of one client frame (clients always mask)."""
    head = stream.read(2)
    if len(head) < 2:
        return 8, b""
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", stream.read(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", stream.read(8))
    mask = stream.read(4) if head[1] & 0x80 else b"\0\0\0\0"
    data = stream.read(length)
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def frame(opcode: int, payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


@contextmanager
def serve_with_portforward(api: FakeKubeApi, forwards: list[tuple[str, int]]) -> Iterator[str]:
    """Serve `api` plus portforward on 127.0.0.1; `forwards` records (pod, port) per tunnel."""
    base = _handler_for(api)

    class Handler(base):  # type: ignore[misc, valid-type]
        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            upgrade = self.headers.get("Upgrade", "").lower() == "websocket"
            if url.path.endswith("/portforward") and upgrade:
                self._portforward(url.path, parse_qs(url.query))
                return
            super().do_GET()

        def _refuse(self, code: int, text: str) -> None:
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _portforward(self, path: str, query: dict[str, list[str]]) -> None:
            if api.token and self.headers.get("Authorization") != f"Bearer {api.token}":
                self._refuse(401, "Unauthorized")
                return
            parts = path.strip("/").split("/")  # api/v1/namespaces/NS/pods/POD/portforward
            namespace, pod = parts[3], parts[5]
            if api.get("Pod", pod, namespace) is None:
                self._refuse(404, f'pods "{pod}" not found')
                return
            if SUBPROTOCOL not in self.headers.get("Sec-WebSocket-Protocol", ""):
                self._refuse(400, "unsupported subprotocol")
                return
            port = int(query["ports"][0])
            forwards.append((pod, port))
            key = self.headers["Sec-WebSocket-Key"] + GUID
            accept = base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.send_header("Sec-WebSocket-Protocol", SUBPROTOCOL)
            self.end_headers()
            self.close_connection = True
            self._tunnel(port)

        def _tunnel(self, port: int) -> None:
            lock = threading.Lock()

            def send(opcode: int, payload: bytes) -> None:
                with lock, contextlib.suppress(OSError):
                    self.wfile.write(frame(opcode, payload))

            number = struct.pack("<H", port)
            send(2, b"\x00" + number)
            send(2, b"\x01" + number)
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
            except OSError as exc:
                send(2, b"\x01" + f"error forwarding port {port}: {exc}".encode())
                send(8, b"")
                return

            def downstream() -> None:
                with contextlib.suppress(OSError):
                    while data := upstream.recv(65536):
                        send(2, b"\x00" + data)
                send(8, b"")

            reader = threading.Thread(target=downstream, daemon=True)
            reader.start()
            with upstream:
                while True:
                    opcode, payload = read_frame(self.rfile)
                    if opcode == 8:
                        break
                    if opcode == 2 and payload[:1] == b"\x00":
                        with contextlib.suppress(OSError):
                            upstream.sendall(payload[1:])
                with contextlib.suppress(OSError):
                    upstream.shutdown(socket.SHUT_RDWR)
            reader.join(timeout=5)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
