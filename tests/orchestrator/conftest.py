"""Fixtures: the three experts served over A2A once per module, and log capture in logfmt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from faulttest.lab import Lab, free_port
from helpdesk.logfmt import LogfmtFormatter
from tests.orchestrator.experts import Experts, serve_experts


@pytest.fixture(scope="module")
def experts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Experts]:
    with serve_experts(tmp_path_factory.mktemp("experts")) as served:
        yield served


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def refused_dsn(lab: Lab) -> str:
    """A DSN for a port where no PostgreSQL listens (the lab's password, for leak checks)."""
    return (
        f"host=127.0.0.1 port={free_port()} dbname=testdb user=postgres "
        f"password={lab.info.password}"
    )


def logfmt_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = LogfmtFormatter()
    return [formatter.format(record) for record in caplog.records]


@pytest.fixture
def tmp_infra(tmp_path: Path) -> Path:
    return tmp_path / "infrastructure.json"
