"""Shared fixtures: a private FAULTTEST_HOME, the real PostgreSQL lab, and free TCP ports.

The lab runs once per test session on ports the OS picks, so engineers and CI jobs running
tests at the same time never collide, and nothing touches ~/.faulttest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from faulttest.lab import Lab, PortInUse, free_port


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the lab, so `-m "not lab"` runs the pure tests only."""
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session", autouse=True)
def faulttest_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A session-private FAULTTEST_HOME (exported), so no test reads or writes ~/.faulttest."""
    home = tmp_path_factory.mktemp("faulttest-home")
    previous = os.environ.get("FAULTTEST_HOME")
    os.environ["FAULTTEST_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("FAULTTEST_HOME", None)
    else:
        os.environ["FAULTTEST_HOME"] = previous


def distinct_free_ports(count: int) -> list[int]:
    """`count` different free ports on 127.0.0.1."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@pytest.fixture
def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    return free_port()


@pytest.fixture(scope="session")
def lab(faulttest_home: Path) -> Iterator[Lab]:
    """The running lab (primary + streaming replica) for the whole session.

    It lives in the session's FAULTTEST_HOME, so `Lab.load()` and the CLI find it.
    A test that breaks it (stops a node, changes settings) must restore it before returning.
    """
    for attempt in range(3):
        port, replica_port = distinct_free_ports(2)
        instance = Lab(home=faulttest_home, port=port, replica_port=replica_port)
        try:
            instance.up()
            break
        except PortInUse:  # another process took the port between picking and binding
            if attempt == 2:
                raise
    yield instance
    instance.down()
