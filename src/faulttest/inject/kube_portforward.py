"""A TCP stream to a pod's port through the API server's `pods/portforward` (WebSocket).

It speaks the `v4.channel.k8s.io` subprotocol kubectl also uses: every binary message starts
with a channel byte (0 data, 1 error); the first message of each channel carries the port
number (2 bytes, little-endian). Credentials and TLS come from the kubeconfig context via
lightkube's own helpers, so tokens, client certificates and exec plugins all work.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from typing import Any
from urllib.parse import quote

import httpx2
from lightkube.config.client_adapter import user_auth, verify_cluster
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from faulttest.targets import KubeCluster

SUBPROTOCOL = "v4.channel.k8s.io"
DATA, ERROR = 0, 1
OPEN_TIMEOUT = 10.0


class PortForwardError(OSError):
    """The API server refused or broke the forward (the message says why)."""


def portforward_url(server: str, namespace: str, pod: str, port: int) -> str:
    base = server.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return f"{base}/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}/portforward?ports={port}"


def _credentials(cluster: KubeCluster, url: str) -> tuple[dict[str, str], ssl.SSLContext | None]:
    """(headers, TLS context) for the context, as lightkube would send them."""
    single: Any = cluster.access().config().get(cluster.context)
    headers: dict[str, str] = {}
    auth = user_auth(single.user)
    if auth is not None:
        plain = url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
        signed = next(auth.sync_auth_flow(httpx2.Request("GET", plain)))
        if "Authorization" in signed.headers:
            headers["Authorization"] = signed.headers["Authorization"]
    context = None
    if url.startswith("wss://"):
        context = verify_cluster(single.cluster, single.user, single.abs_file)
    return headers, context


def open_stream(cluster: KubeCluster, pod: str, port: int) -> ClientConnection:
    """A WebSocket forwarding to `pod`:`port` (in the cluster's namespace)."""
    single: Any = cluster.access().config().get(cluster.context)
    server = single.cluster.server
    url = portforward_url(server, cluster.namespace, pod, port)
    headers, context = _credentials(cluster, url)
    try:
        return connect(
            url,
            ssl=context,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            additional_headers=headers,
            compression=None,
            open_timeout=OPEN_TIMEOUT,
            max_size=None,
            proxy=None,
        )
    except Exception as exc:  # handshake refused (403, 404), TLS or network failure
        raise PortForwardError(f"port-forward to pod {pod}:{port} failed: {exc}") from None


def relay(client: socket.socket, stream: ClientConnection) -> str | None:
    """Pump bytes both ways until either side ends; the API's error text, if it sent one."""
    error: list[str] = []

    def upstream() -> None:
        with contextlib.suppress(OSError, ConnectionClosed):
            while data := client.recv(65536):
                stream.send(bytes([DATA]) + data)
        with contextlib.suppress(Exception):
            stream.close()

    sender = threading.Thread(target=upstream, daemon=True)
    sender.start()
    seen: set[int] = set()
    with contextlib.suppress(ConnectionClosed, OSError):
        for message in stream:
            if not isinstance(message, bytes) or not message:
                continue
            channel, payload = message[0], message[1:]
            if channel not in seen:  # the first frame of a channel is its port number
                seen.add(channel)
                payload = payload[2:]
            if channel == DATA and payload:
                client.sendall(payload)
            elif channel == ERROR and payload:
                error.append(payload.decode(errors="replace"))
    with contextlib.suppress(OSError):
        client.shutdown(socket.SHUT_RDWR)
    sender.join(timeout=5)
    return "".join(error) or None
