"""Fixtures for the incident agent tests: a private incident dir, a fake cluster, a callback.

No test reads the machine's own kubeconfig (KUBECONFIG points nowhere unless a test gives
the fake cluster's), and every bundle goes to the test's own temporary directory.
"""

from __future__ import annotations

import json
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.agents.k8s.conftest import FakeCluster, serve_cluster

CONTEXT = "kind-incident"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No kubeconfig, no infra config, no PGPASSWORD, and bundles in the test's own dir."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("HELPDESK_INFRA_CONFIG", raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("HELPDESK_INCIDENT_DIR", str(tmp_path / "incidents"))


@pytest.fixture
def incidents(tmp_path: Path) -> Path:
    return tmp_path / "incidents"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    """The fake Kubernetes API holding the healthy `shop` namespace, and tools bound to it."""
    with serve_cluster(tmp_path, CONTEXT, token="incident-token") as fake:
        yield fake


@dataclass
class CallbackServer:
    url: str
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def callback() -> Iterator[CallbackServer]:
    """An HTTP server on 127.0.0.1 (free port) recording every JSON POST it receives."""
    state = CallbackServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(json.loads(body))
            state.paths.append(self.path)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/incident"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def unpack(path: str | Path) -> dict[str, bytes]:
    """Every file of a bundle by its path below the top folder."""
    with tarfile.open(path, "r:gz") as tar:
        tops = {m.name.split("/", 1)[0] for m in tar.getmembers()}
        assert len(tops) == 1, f"one top folder expected, got {tops}"
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def manifest_of(files: dict[str, bytes]) -> dict[str, Any]:
    return json.loads(files["manifest.json"])
