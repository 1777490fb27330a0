"""`helpdesk incident create|list` and `helpdesk agent incident`, run as a person runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from faulttest.lab import free_port


def helpdesk(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "helpdesk.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_create_and_list_from_the_command_line(incidents: Path) -> None:
    created = helpdesk("incident", "create", "--description", "disk alarms on db1", "--json")
    assert created.returncode == 0, created.stderr
    result = json.loads(created.stdout)
    assert Path(result["path"]).parent == incidents and Path(result["path"]).is_file()

    listed = helpdesk("incident", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "TIME", "SIZE", "LAYERS", "DESCRIPTION"]
    assert lines[1].startswith(result["id"]) and "disk alarms on db1" in lines[1]
    assert lines[-1] == f"Total: 1 bundles in {incidents}"


def test_create_into_an_unwritable_dir_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    run = helpdesk("incident", "create", "--dir", str(blocker / "sub"))
    assert run.returncode == 1
    assert (
        run.stderr.strip()
        .splitlines()[-1]
        .startswith("error: the incident bundle could not be written")
    )


def test_agent_incident_serves_a2a(incidents: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk.cli.main", "agent", "incident", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        card = None
        deadline = time.monotonic() + 30
        while card is None and time.monotonic() < deadline and process.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/.well-known/agent-card.json"
                card = httpx.get(url, timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert card is not None, process.stderr.read() if process.poll() is not None else ""
        assert card["name"] == "incident_agent"
        listed = httpx.post(f"http://127.0.0.1:{port}/tool/list_incidents", json={}, timeout=10)
        assert listed.status_code == 200 and listed.json()["data"] == []
    finally:
        process.terminate()
        process.wait(timeout=15)
