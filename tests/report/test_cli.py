"""`faulttest score`, `report` and `history` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from faulttest.report import history
from faulttest.report.json_report import write_report
from tests.evaluate import answers
from tests.report.sample import SECRET, sample_report


def faulttest(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    code = "from faulttest.cli.main import main; main()"
    env = {"FAULTTEST_HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.fixture
def catalog_fault():
    from faulttest.catalog.loader import load_catalog

    return next(f for f in load_catalog().failures if f.evaluation.expected_diagnosis)


def test_score_a_correct_structured_result(tmp_path: Path, catalog_fault) -> None:
    saved = tmp_path / "result.json"
    saved.write_text(answers.correct(catalog_fault).model_dump_json())
    done = faulttest("score", "--id", catalog_fault.id, "--result-file", str(saved), home=tmp_path)
    assert done.returncode == 0, done.stderr
    evaluation = json.loads(done.stdout)
    assert evaluation["passed"] is True and evaluation["score"] == 1.0
    assert {c["name"] for c in evaluation["components"]} >= {
        "category",
        "keywords",
        "tool_evidence",
    }
    assert all(c["reason"] for c in evaluation["components"])


def test_score_a_plain_text_echo_fails(tmp_path: Path, catalog_fault) -> None:
    saved = tmp_path / "answer.txt"
    saved.write_text(answers.rendered_prompt(catalog_fault))
    done = faulttest("score", "--id", catalog_fault.id, "--result-file", str(saved), home=tmp_path)
    assert done.returncode == 1
    evaluation = json.loads(done.stdout)
    assert evaluation["passed"] is False and evaluation["profile"] == "strict"
    assert SECRET not in done.stdout


def test_score_compat_profile_and_bad_input(tmp_path: Path, catalog_fault) -> None:
    saved = tmp_path / "result.json"
    saved.write_text(answers.correct(catalog_fault).model_dump_json())
    done = faulttest(
        "score",
        "--id",
        catalog_fault.id,
        "--result-file",
        str(saved),
        "--profile",
        "compat",
        home=tmp_path,
    )
    assert json.loads(done.stdout)["profile"] == "compat"
    bad = tmp_path / "bad.json"
    bad.write_text('{"diagnosis": {"category": "no_such_category"}}')
    done = faulttest("score", "--id", catalog_fault.id, "--result-file", str(bad), home=tmp_path)
    assert done.returncode == 2 and "not an agent result" in done.stderr
    done = faulttest("score", "--id", "nope", "--result-file", str(saved), home=tmp_path)
    assert done.returncode == 2
    done = faulttest(
        "score",
        "--id",
        catalog_fault.id,
        "--result-file",
        str(saved),
        "--profile",
        "lax",
        home=tmp_path,
    )
    assert done.returncode == 2


def test_report_renders_html_and_junit(tmp_path: Path) -> None:
    report = sample_report()
    [saved] = write_report(report, tmp_path)
    html_file, junit_file = tmp_path / "out" / "r.html", tmp_path / "out" / "r.xml"
    done = faulttest(
        "report", str(saved), "--html", str(html_file), "--junit", str(junit_file), home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "Total: 5 | Passed: 1 | Failed: 3 | Rate: 25%" in done.stdout
    assert "[SKIP] k8s-crashloop" in done.stdout
    assert html_file.read_text().startswith("<!DOCTYPE html>")
    assert "<testsuites" in junit_file.read_text()
    assert SECRET not in done.stdout
    assert faulttest("report", str(tmp_path / "none.json"), home=tmp_path).returncode == 2


def test_history_lists_runs(tmp_path: Path) -> None:
    done = faulttest("history", home=tmp_path)
    assert done.returncode == 0 and "No runs recorded yet" in done.stdout
    report = sample_report()
    history.append(report, home=tmp_path)
    done = faulttest("history", "--limit", "5", home=tmp_path)
    assert done.returncode == 0
    assert report.id in done.stdout and "1/4" in done.stdout and "25%" in done.stdout
