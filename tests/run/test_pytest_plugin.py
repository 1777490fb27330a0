"""The pytest route: `pytest --faulttest` in a fresh folder makes one item per fault that
passes, fails or skips like `faulttest run` would (real pytest subprocess, session lab)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from faulttest.lab import Lab
from tests.run.conftest import cli_env, leftovers
from tests.run.test_run_outcomes import CUSTOM


def _pytest(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--junitxml", "out.xml", *args],
        env=cli_env(home),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
    )


def _outcomes(xml: Path) -> dict[str, str]:
    outcomes = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name", "")] = kinds[0] if kinds else "passed"
    return outcomes


def test_one_item_per_fault_with_pass_and_skip(
    lab: Lab, faulttest_home: Path, tmp_path: Path
) -> None:
    done = _pytest(
        "--faulttest", "--faulttest-ids", "db-table-bloat,db-auth-failure,k8s-crashloop", "-v",
        home=faulttest_home, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert _outcomes(tmp_path / "out.xml") == {
        "db-table-bloat": "passed",
        "db-auth-failure": "passed",
        "k8s-crashloop": "skipped",
    }
    assert "no Kubernetes context given" in done.stdout
    assert not leftovers(lab)


def test_a_wrong_answer_fails_its_item_with_the_reason(
    lab: Lab, faulttest_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "custom.yaml").write_text(CUSTOM)
    done = _pytest(
        "--faulttest", "--faulttest-catalog", "custom.yaml",
        "--faulttest-ids", "custom-wrong-expectation,db-not-exist",
        home=faulttest_home, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert _outcomes(tmp_path / "out.xml") == {
        "db-not-exist": "passed",
        "custom-wrong-expectation": "failure",
    }
    assert "[FAILED] custom-wrong-expectation: " in done.stdout
    assert "diagnosis" in done.stdout
    assert not leftovers(lab)


def test_without_the_flag_the_plugin_adds_nothing(faulttest_home: Path, tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_one():\n    pass\n")
    done = _pytest(home=faulttest_home, cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert _outcomes(tmp_path / "out.xml") == {"test_one": "passed"}
