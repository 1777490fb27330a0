"""Exit codes and per-fault outcomes of `faulttest run`: failures, faults that do not take,
dead and hanging agents, usage and safety errors (real CLI, real lab, real A2A agents)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from faulttest.lab import Lab, free_port
from tests.run.conftest import SlowAgent, faulttest, leftovers, only_report

CUSTOM = """\
version: "1"
failures:
  - id: custom-wrong-expectation
    name: "Bloat, but the catalog expects a deadlock"
    category: database
    severity: low
    owns:
      tables: [faulttest_custom_bloat]
    inject:
      type: sql
      script_inline: |
        CREATE TABLE faulttest_custom_bloat (id integer) WITH (autovacuum_enabled = false);
        INSERT INTO faulttest_custom_bloat SELECT g FROM generate_series(1, 50000) g;
        DELETE FROM faulttest_custom_bloat WHERE id % 10 <> 0;
    verify:
      type: sql
      query: SELECT to_regclass('faulttest_custom_bloat') IS NOT NULL
    prompt: The database at {{connection_string}} is slow. Please investigate.
    evaluation:
      expected_tools: [get_table_stats]
      expected_keywords: {any_of: [deadlock]}
      expected_diagnosis: {category: deadlock}
    timeout: 20s
  - id: custom-never-takes
    name: "A fault whose probe never holds"
    category: database
    severity: low
    owns:
      tables: [faulttest_never]
    inject:
      type: sql
      script_inline: CREATE TABLE faulttest_never (id integer);
    verify:
      type: sql
      query: SELECT false
    prompt: The database at {{connection_string}} is slow.
    evaluation:
      expected_diagnosis: {category: healthy}
    timeout: 2s
"""


@pytest.fixture
def custom_catalog(tmp_path: Path) -> Path:
    path = tmp_path / "custom.yaml"
    path.write_text(CUSTOM)
    return path


def test_unknown_id_is_exit_2(faulttest_home: Path, tmp_path: Path) -> None:
    done = faulttest("run", "--ids", "db-no-such-fault", home=faulttest_home, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "db-no-such-fault" in done.stderr
    assert not list(tmp_path.glob("faulttest-*.json"))


def test_unregistered_conn_is_refused_with_exit_3(faulttest_home: Path, tmp_path: Path) -> None:
    conn = f"host=127.0.0.1 port={free_port()} dbname=prod user=app password=hunter2"
    done = faulttest("run", "--conn", conn, home=faulttest_home, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "refusing" in done.stderr and "hunter2" not in done.stderr


def test_judge_without_an_llm_is_exit_2_with_a_clear_message(
    faulttest_home: Path, tmp_path: Path
) -> None:
    done = faulttest("run", "--ids", "db-table-bloat", "--judge", home=faulttest_home, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--judge needs an LLM" in done.stderr and "HELPDESK_MODEL_VENDOR" in done.stderr


def test_a_wrong_answer_fails_and_a_fault_that_does_not_take_errors(
    lab: Lab, faulttest_home: Path, tmp_path: Path, custom_catalog: Path
) -> None:
    done = faulttest(
        "run", "--source", "custom", "--catalog", str(custom_catalog), "--junit", "j.xml",
        home=faulttest_home, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    results = {r["failure_id"]: r for r in only_report(tmp_path)["results"]}
    wrong = results["custom-wrong-expectation"]
    assert wrong["status"] == "failed" and not wrong["diagnosis_pass"]
    never = results["custom-never-takes"]
    assert never["status"] == "error"
    assert never["error"].startswith("fault did not take"), never["error"]
    assert "[FAIL] custom-wrong-expectation" in done.stdout
    assert (
        "[ERROR] custom-never-takes" in done.stdout and "reason: fault did not take" in done.stdout
    )
    assert "Total: 2 | Passed: 0 | Failed: 2 | Rate: 0%" in done.stdout
    junit = (tmp_path / "j.xml").read_text()
    assert "<failure" in junit and "<error" in junit
    assert not leftovers(lab)


def test_a_dead_agent_url_is_an_error_for_the_fault_not_a_hang(
    lab: Lab, faulttest_home: Path, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = faulttest(
        "run", "--ids", "db-table-bloat,db-auth-failure", "--db-agent", dead,
        home=faulttest_home, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert time.monotonic() - started < 60
    for result in only_report(tmp_path)["results"]:
        assert result["status"] == "error"
        assert result["error"].startswith("agent error: no A2A agent at"), result["error"]
        assert result["phases"]["teardown"] > 0
    assert not leftovers(lab)


def test_a_hanging_agent_times_out_as_an_error_and_the_run_goes_on(
    lab: Lab, faulttest_home: Path, tmp_path: Path, slow_agent: tuple[SlowAgent, object]
) -> None:
    agent, served = slow_agent
    started = time.monotonic()
    done = faulttest(
        "run", "--ids", "db-lock-contention,db-table-bloat", "--agent-timeout", "3",
        "--db-agent", served.url,  # type: ignore[attr-defined]
        home=faulttest_home, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    assert agent.asked.is_set()
    results = only_report(tmp_path)["results"]
    assert [r["status"] for r in results] == ["error", "error"]
    for result in results:
        assert "did not answer within 3s" in result["error"], result["error"]
        assert 2.5 < result["phases"]["agent"] < 10
    assert elapsed < 60, elapsed
    assert not leftovers(lab)


def test_a_bad_model_setting_is_exit_2_before_anything_is_injected(
    lab: Lab, faulttest_home: Path, tmp_path: Path
) -> None:
    done = faulttest(
        "run", "--ids", "db-table-bloat", home=faulttest_home, cwd=tmp_path,
        env={"HELPDESK_MODEL_VENDOR": "acme-llm"},
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot start the in-process agent" in done.stderr and "acme-llm" in done.stderr
    assert "[" not in done.stdout, "no fault ran"
    assert not leftovers(lab)
