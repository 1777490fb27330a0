"""A compound fault's port-forward: a local TCP proxy that goes through a Kubernetes Service.

Started detached as `python -m faulttest.inject.kube_forward --fault ID ...`; it listens on
127.0.0.1 (a free port) and, for every connection, looks up the Service's *ready*
endpoints through the API, as kube-proxy would, and connects to the first one: through
the API server's pod port-forward (`--via api`, the default, works wherever the API does)
or straight to the pod IP (`--via direct`, FAULTTEST_KUBE_FORWARD=direct, from inside the
cluster network). A Service with no ready endpoint (wrong selector, crashing pod) gets the
connection closed at once, so the database client sees the Kubernetes cause.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from faulttest.inject.journal import KubeProxyRecord
from faulttest.targets import KubeCluster

MODULE = "faulttest.inject.kube_forward"
START_TIMEOUT = 15.0
CONNECT_TIMEOUT = 5.0
MAX_LIFETIME = 12 * 3600.0
FORWARD_ENV = "FAULTTEST_KUBE_FORWARD"
MODES = ("api", "direct")
_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
_children: dict[int, subprocess.Popen[bytes]] = {}


# ── the parent side ──────────────────────────────────────────────────────────


def start(
    fault_id: str, cluster: KubeCluster, service: str, port: int, home: Path
) -> KubeProxyRecord:
    """Start the proxy and wait (bounded) until it listens; its record for the journal."""
    log_dir = home / "forwards"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{fault_id}-{service}-{int(time.time() * 1000)}.log"
    command = [
        sys.executable, "-m", MODULE, "--fault", fault_id, "--context", cluster.context,
        "--namespace", cluster.namespace, "--service", service, "--port", str(port),
        "--via", forward_mode(),
    ]  # fmt: skip
    kubeconfig = cluster.reference()["kubeconfig"]
    if kubeconfig and os.pathsep not in kubeconfig:  # a list stays in the inherited env
        command += ["--kubeconfig", kubeconfig]
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _children[proc.pid] = proc
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        match = _LISTENING.search(log_path.read_text(errors="replace"))
        if match:
            return KubeProxyRecord(
                pid=proc.pid, port=int(match.group(1)), service=service, log=str(log_path)
            )
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop(proc.pid, fault_id)
    from faulttest.errors import InjectionFailed

    tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
    raise InjectionFailed(f"{fault_id}: the port-forward to {service} did not start: {tail}")


def forward_mode() -> str:
    """$FAULTTEST_KUBE_FORWARD: `api` (default) or `direct`."""
    mode = (os.environ.get(FORWARD_ENV) or "api").strip().lower()
    if mode not in MODES:
        from faulttest.errors import UsageError

        raise UsageError(f"{FORWARD_ENV}={mode!r} is not one of: {', '.join(MODES)}")
    return mode


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _is_forward(pid: int, fault_id: str) -> bool:
    argv = _cmdline(pid)
    if MODULE not in argv or "--fault" not in argv:
        return False
    index = argv.index("--fault") + 1
    return index < len(argv) and argv[index] == fault_id


def alive(pid: int, fault_id: str) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    return _is_forward(pid, fault_id)


def find(fault_id: str) -> list[int]:
    """Running forward processes of `fault_id` on this machine, journaled or not."""
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return [pid for pid in pids if pid != os.getpid() and alive(pid, fault_id)]


def stop(pid: int, fault_id: str, timeout: float = 5.0) -> None:
    """SIGTERM (then SIGKILL) the forward, only if `pid` really is that fault's forward."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
        if not alive(pid, fault_id):
            break
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and alive(pid, fault_id):
            time.sleep(0.05)
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _children.pop(pid, None)


# ── the proxy process ────────────────────────────────────────────────────────


def _say(message: str) -> None:
    sys.stdout.write(f"{time.strftime('%H:%M:%S')} {message}\n")
    sys.stdout.flush()


class ServiceProxy:
    """Accepts local connections and relays each to a ready endpoint of the Service."""

    def __init__(self, cluster: KubeCluster, service: str, port: int, via: str = "api") -> None:
        self.cluster, self.service, self.port, self.via = cluster, service, port, via

    def endpoint(self) -> tuple[str, int, str] | None:
        """(pod IP, target port, pod name) of a ready endpoint, or None; per connection."""
        from lightkube.resources.core_v1 import Endpoints, Service

        client = self.cluster.session().client
        namespace = self.cluster.namespace
        service = client.get(Service, self.service, namespace=namespace)
        ports = [
            p for p in (service.spec.ports if service.spec else None) or [] if p.port == self.port
        ]
        port_name = ports[0].name if ports else None
        try:
            endpoints = client.get(Endpoints, self.service, namespace=namespace)
        except Exception:
            return None
        for subset in endpoints.subsets or []:
            subset_ports = subset.ports or []
            numbers = [p.port for p in subset_ports if p.name == port_name]
            if not numbers and len(subset_ports) == 1:
                numbers = [subset_ports[0].port]
            if subset.addresses and numbers:
                address = subset.addresses[0]
                pod = address.targetRef.name if address.targetRef else ""
                return address.ip, numbers[0], pod or ""
        return None

    def handle(self, client_sock: socket.socket) -> None:
        where = f"Service {self.cluster.namespace}/{self.service}:{self.port}"
        with client_sock:
            try:
                target = self.endpoint()
            except Exception as exc:
                _say(f"{where}: cannot look up endpoints: {exc}; closing the connection")
                return
            if target is None:
                _say(f"{where} has no ready endpoint: closing the connection")
                return
            if self.via == "api":
                self._through_api(client_sock, target, where)
                return
            try:
                upstream = socket.create_connection(target[:2], timeout=CONNECT_TIMEOUT)
            except OSError as exc:
                _say(f"{where}: endpoint {target[0]}:{target[1]} unreachable ({exc})")
                return
            with upstream:
                upstream.settimeout(None)
                _relay(client_sock, upstream)

    def _through_api(self, client_sock: socket.socket, target: tuple, where: str) -> None:
        from faulttest.inject import kube_portforward

        _ip, port, pod = target
        if not pod:
            _say(f"{where}: the ready endpoint names no pod; cannot port-forward")
            return
        try:
            stream = kube_portforward.open_stream(self.cluster, pod, port)
        except kube_portforward.PortForwardError as exc:
            _say(f"{where}: {exc}")
            return
        error = kube_portforward.relay(client_sock, stream)
        if error:
            _say(f"{where}: pod {pod}:{port}: {error}")

    def serve(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        _say(f"forwarding {self.service}:{self.port}, listening on 127.0.0.1:{port}")
        started = time.monotonic()
        listener.settimeout(1.0)
        while time.monotonic() - started < MAX_LIFETIME:
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()


def _relay(a: socket.socket, b: socket.socket) -> None:
    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    other = threading.Thread(target=pump, args=(b, a), daemon=True)
    other.start()
    pump(a, b)
    other.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=MODULE, description=__doc__)
    parser.add_argument("--fault", required=True)
    parser.add_argument("--context", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kubeconfig")
    parser.add_argument("--via", choices=MODES, default="api")
    args: Any = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cluster = KubeCluster(args.context, args.namespace, args.kubeconfig, approved=True)
    ServiceProxy(cluster, args.service, args.port, args.via).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
