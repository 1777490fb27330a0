"""`faulttest lab ...` as a user runs it: a real subprocess, exit codes, one-line errors."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

from faulttest.lab import Lab


def faulttest(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAULTTEST_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "faulttest.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_up_on_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        done = faulttest("lab", "up", "--port", str(port), "--no-replica", home=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: port {port} is in use by another process; pass --port N or stop it"
    ]
    assert "Traceback" not in done.stderr


def test_status_shows_both_nodes_and_replication(lab: Lab) -> None:
    done = faulttest("lab", "status", home=lab.home)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"primary  running  127.0.0.1:{lab.port}" in out
    assert f"replica  running  127.0.0.1:{lab.replica_port}" in out
    assert "replication: streaming" in out
    assert "password=****" in out and "testpass" not in out


def test_env_prints_eval_ready_lines(lab: Lab) -> None:
    done = faulttest("lab", "env", home=lab.home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["FAULTTEST_CONN", "FAULTTEST_REPLICA_CONN"]
    values = dict(shlex.split(line)[0].split("=", 1) for line in lines)
    assert values["FAULTTEST_CONN"] == lab.info.dsn
    assert values["FAULTTEST_REPLICA_CONN"] == lab.info.replica_dsn


def test_up_reports_a_running_lab_without_restarting(lab: Lab) -> None:
    pid = lab.node("primary").pid()
    done = faulttest("lab", "up", home=lab.home)
    assert done.returncode == 0, done.stderr
    assert "already running" in done.stdout
    assert lab.node("primary").pid() == pid


def test_commands_without_a_lab(tmp_path: Path) -> None:
    status = faulttest("lab", "status", home=tmp_path)
    assert status.returncode == 1 and "No lab recorded" in status.stdout
    env = faulttest("lab", "env", home=tmp_path)
    assert env.returncode == 1 and env.stderr.startswith("error: no lab is running")
    down = faulttest("lab", "down", home=tmp_path)
    assert down.returncode == 0 and "nothing to stop" in down.stdout
