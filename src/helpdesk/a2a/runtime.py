"""Run an agent's A2A app with uvicorn: in a background thread or in the foreground (CLI).

The faulttest runner and the tests use the thread. The socket is bound before the app is
built, so the agent card always advertises the real port, also when port 0 picks one.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from helpdesk.a2a.server import build_app
from helpdesk.agents.base import Agent
from helpdesk.logfmt import fields

log = logging.getLogger(__name__)

_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


class ServeError(Exception):
    """The agent could not be served (port taken, bad host, did not start in time)."""


@dataclass
class ServedAgent:
    """An agent being served in a background thread; `stop()` shuts it down (idempotent)."""

    name: str
    url: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)

    def __enter__(self) -> ServedAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free port chosen by the kernel)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url(host: str, port: int) -> str:
    """The URL clients should use; a wildcard host is advertised as this machine's name."""
    shown = socket.gethostname() if host in _WILDCARD_HOSTS else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _server_for(agent: Agent, sock: socket.socket) -> tuple[uvicorn.Server, str, int]:
    host, port = sock.getsockname()[:2]
    url = base_url(host, port)
    config = uvicorn.Config(
        build_app(agent, url),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config), url, port


def serve_in_thread(
    agent: Agent, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 10.0
) -> ServedAgent:
    """Serve `agent` on host:port (default: a free loopback port) until `stop()`."""
    sock = bind(host, port)
    server, url, real_port = _server_for(agent, sock)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"a2a-{agent.name}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ServeError(f"{agent.name} did not start on {url} within {start_timeout:g}s")
        time.sleep(0.01)
    log.info("agent serving", extra=fields(agent=agent.name, url=url))
    return ServedAgent(name=agent.name, url=url, port=real_port, _server=server, _thread=thread)


def serve(agent: Agent, host: str = "127.0.0.1", port: int = 1100) -> None:
    """Serve `agent` in the foreground until Ctrl-C or SIGTERM (uvicorn shuts down cleanly)."""
    sock = bind(host, port)
    server, url, _ = _server_for(agent, sock)
    log.info("agent serving", extra=fields(agent=agent.name, url=url, tools=len(agent.tools.tools)))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn already shut down gracefully, then re-raised the captured Ctrl-C
    finally:
        sock.close()
    log.info("agent stopped", extra=fields(agent=agent.name))
