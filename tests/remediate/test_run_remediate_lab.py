"""`faulttest run --remediate` end to end on a lab of its own, with the built-in database agent.

Every database fault with a safe fix must recover (with its time to recover in every
report), the others are reported guidance-only with advice that names the fix, and no
fault's recovery check may hold before the agent changed anything.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.lab import Lab
from tests.run.conftest import faulttest, only_report

pytestmark = pytest.mark.lab  # a real lab (its own, on free ports)

DATABASE = [f for f in load_catalog().failures if f.category.value == "database"]
FIXABLE = {f.id for f in DATABASE if f.remediation and not f.remediation.guidance_only}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("remediate-run")
    done = faulttest(
        "run", "--categories", "database", "--remediate", "--junit", "junit.xml",
        "--html", "report.html", "--report-dir", "reports",
        home=out / "home", cwd=out, env={"FAULTTEST_LAB_PORT": "0"},
    )  # fmt: skip
    leftover = Lab.load(out / "home")
    if leftover is not None:  # only after a failure
        leftover.down()
    return out, done


def test_catalog_splits_fixable_and_guidance_only_faults() -> None:
    assert {
        "db-long-running-query",
        "db-lock-contention",
        "db-table-bloat",
        "db-replication-lag",
    } == FIXABLE
    for failure in DATABASE:
        assert failure.remediation is not None, failure.id
        assert failure.remediation.guidance_only or failure.remediation.recovery, failure.id


def test_fixable_faults_recover_and_the_others_are_guidance_only(run) -> None:  # type: ignore[no-untyped-def]
    out, done = run
    assert done.returncode == 0, done.stdout + done.stderr
    report = only_report(out / "reports")
    by_id = {r["failure_id"]: r for r in report["results"]}
    for failure in DATABASE:
        result = by_id[failure.id]
        rem = result["remediation"]
        assert result["status"] == "passed", (failure.id, result["error"], rem)
        assert result["phases"]["remediate"] > 0
        if failure.id in FIXABLE:
            assert rem["recovered"] and not rem["guidance_only"], (failure.id, rem)
            assert 0 < rem["time_to_recover"] <= failure.remediation.timeout
            assert rem["attempted"] and rem["actions"] and rem["score"] == 1.0
            allowed = failure.remediation.allowed_tools
            assert all(a.split("(")[0] in allowed for a in rem["actions"]), rem["actions"]
            assert all(a.endswith(": done") for a in rem["actions"]), rem["actions"]
        else:
            assert rem["guidance_only"] and rem["advice_ok"] and not rem["recovered"], rem
            assert rem["actions"] == [] and rem["time_to_recover"] is None
        if failure.remediation.recovery:  # the honesty check ran, and the fault was real
            assert rem["recovery_held_before"] is False, failure.id


def test_remediation_is_shown_in_console_junit_and_html(run) -> None:  # type: ignore[no-untyped-def]
    out, done = run
    lines = done.stdout.splitlines()
    bloat = lines.index(next(line for line in lines if line.startswith("[PASS] db-table-bloat")))
    assert lines[bloat + 1].strip().startswith("remediation: recovered in ")
    assert "run_vacuum(table=public.faulttest_bloat): done" in lines[bloat + 1]
    assert any("remediation: guidance-only, advice names the fix" in line for line in lines)
    summary = [line for line in lines if line.startswith("  remediation: recovered")]
    assert summary and summary[0].startswith("  remediation: recovered 4/4 (median ")
    assert summary[0].endswith("| advice ok 5/5 | errors 0"), summary
    suite = ET.parse(out / "junit.xml").getroot()
    case = suite.find(".//testcase[@name='db-replication-lag']")
    assert case is not None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["remediation.recovered"] == "true"
    assert float(props["remediation.time_to_recover"]) > 0
    assert "resume_wal_replay" in props["remediation.actions"]
    html = (out / "report.html").read_text()
    assert "<h4>Remediation</h4>" in html and "time to recover" in html
    assert "testpass" not in done.stdout + done.stderr + html
