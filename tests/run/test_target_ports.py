"""Ports of a lab the run starts: explicit, from the environment, or free ones (0)."""

from __future__ import annotations

import pytest

from faulttest.errors import UsageError
from faulttest.lab.ports import port_in_use
from faulttest.run.target import LAB_PORT_ENV, LAB_REPLICA_PORT_ENV, LabPorts


def test_zero_picks_two_different_free_ports() -> None:
    port, replica = LabPorts(port=0).choose()
    assert port != replica
    assert not port_in_use(port) and not port_in_use(replica)
    assert not LabPorts(port=0).pinned


def test_an_explicit_port_puts_the_replica_next_to_it_unless_given() -> None:
    assert LabPorts(port=40100).choose() == (40100, 40101)
    assert LabPorts(port=40100, replica_port=40200).choose() == (40100, 40200)
    assert LabPorts(port=40100).pinned


def test_ports_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LAB_PORT_ENV, "40300")
    monkeypatch.setenv(LAB_REPLICA_PORT_ENV, "40310")
    assert LabPorts.from_env().choose() == (40300, 40310)
    assert LabPorts.from_env(port=0).port == 0, "a flag beats the environment"


def test_a_bad_port_in_the_environment_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LAB_PORT_ENV, "fifteen")
    with pytest.raises(UsageError, match="FAULTTEST_LAB_PORT"):
        LabPorts.from_env()
