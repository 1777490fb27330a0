"""Fixtures: the real experts over A2A, an orchestrator over them, and the gateway app
(in-process through TestClient, or served by uvicorn on a free port)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from helpdesk.a2a.runtime import bind
from helpdesk.gateway import create_app
from helpdesk.orchestrator import Orchestrator, build_orchestrator
from tests.orchestrator.experts import Experts, serve_experts

API_KEY = "gw-test-key-0123456789"


@pytest.fixture(scope="module")
def experts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Experts]:
    with serve_experts(tmp_path_factory.mktemp("gateway-experts")) as served:
        yield served


@pytest.fixture(scope="module")
def orchestrator(experts: Experts) -> Orchestrator:
    return build_orchestrator(env={}, urls=experts.urls, timeout=60)


@pytest.fixture(scope="module")
def client(orchestrator: Orchestrator) -> Iterator[TestClient]:
    with TestClient(create_app(orchestrator)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def secured(orchestrator: Orchestrator) -> Iterator[TestClient]:
    with TestClient(create_app(orchestrator, api_key=API_KEY)) as test_client:
        yield test_client


class ServedApp:
    def __init__(self, app: FastAPI) -> None:
        sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def served_gateway(orchestrator: Orchestrator) -> Iterator[str]:
    app = ServedApp(create_app(orchestrator))
    yield app.url
    app.stop()


@pytest.fixture(scope="module")
def served_secured_gateway(orchestrator: Orchestrator) -> Iterator[str]:
    app = ServedApp(create_app(orchestrator, api_key=API_KEY))
    yield app.url
    app.stop()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens."""
    from faulttest.lab import free_port

    return f"http://127.0.0.1:{free_port()}"
