"""`faulttest run` end to end with the built-in agents (real CLI).

The full run is the default of SPEC §2: it starts its own lab (in its own FAULTTEST_HOME,
on free ports), runs every fault and takes the lab down. A fresh lab also keeps the run
independent of what earlier tests did to the session lab: the server log and
pg_stat_database still show the deadlocks of an earlier db-lock-contention, which the
built-in agent then reports as contributing to db-long-running-query (forbidden there).
Smaller runs use the session lab, found through FAULTTEST_HOME, and leave it running.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.lab import Lab
from faulttest.lab.ports import port_in_use
from tests.run.conftest import faulttest, leftovers, only_report, wait_for

DATABASE_IDS = [f.id for f in load_catalog().failures if f.category.value == "database"]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One default `faulttest run` over the whole built-in catalog, with every report."""
    out = tmp_path_factory.mktemp("full-run")
    done = faulttest(
        "run", "--junit", "junit.xml", "--html", "report.html", "--report-dir", "reports",
        home=out / "home", cwd=out, env={"FAULTTEST_LAB_PORT": "0"},
    )  # fmt: skip
    leftover = Lab.load(out / "home")
    if leftover is not None:  # only after a failure
        leftover.down()
    return out, done


def test_every_database_fault_passes_in_a_lab_of_its_own(full_run) -> None:  # type: ignore[no-untyped-def]
    out, done = full_run
    assert done.returncode == 0, done.stdout + done.stderr
    report = only_report(out / "reports")
    by_id = {r["failure_id"]: r for r in report["results"]}
    assert len(DATABASE_IDS) == 9
    for failure_id in DATABASE_IDS:
        result = by_id[failure_id]
        assert result["status"] == "passed", (failure_id, result["error"], result["evaluation"])
        assert result["phases"]["inject"] > 0 and result["phases"]["agent"] > 0
        assert result["agent_result"]["tool_calls"], failure_id
        assert result["compat"] is not None
    skipped = [r for r in report["results"] if r["status"] == "skipped"]
    assert skipped and all(r["category"] in ("kubernetes", "compound") for r in skipped)
    assert all("--context" in r["skip_reason"] for r in skipped)
    assert "Lab up on 127.0.0.1:" in done.stdout and "Lab down in" in done.stdout
    assert Lab.load(out / "home") is None, "the lab the run started is gone"
    target = report["environment"]["target"]
    port = int(target.split("port=")[1].split()[0])
    assert wait_for(lambda: not port_in_use(port), 10)


def test_console_shows_result_lines_summary_and_report_paths(full_run) -> None:  # type: ignore[no-untyped-def]
    _, done = full_run
    lines = done.stdout.splitlines()
    assert any(line.startswith("[PASS] db-table-bloat  score=100%  (inject ") for line in lines)
    assert any(line.startswith("[SKIP] k8s-crashloop  (no Kubernetes context") for line in lines)
    summary = [line for line in lines if line.startswith("Total: ")]
    assert summary == ["Total: 17 | Passed: 9 | Failed: 0 | Rate: 100%"], done.stdout
    assert "Report: reports/faulttest-" in done.stdout
    assert "Report: junit.xml" in done.stdout and "Report: report.html" in done.stdout
    assert "testpass" not in done.stdout + done.stderr


def test_json_report_has_the_spec_keys(full_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = full_run
    report = only_report(out / "reports")
    assert {"id", "timestamp", "results", "summary", "environment"} <= report.keys()
    summary = report["summary"]
    assert (summary["total"], summary["passed"], summary["skipped"]) == (17, 9, 8)
    assert summary["categories"]["database"]["rate"] == 1.0
    env = report["environment"]
    assert env["target"].startswith("host=127.0.0.1 port=") and "dbname=testdb" in env["target"]
    assert env["agent"].startswith("database=http://127.0.0.1:")
    assert env["model"] == "builtin/rules" or env["model"].startswith("builtin")
    assert {"faulttest", "python", "postgresql", "a2a-sdk"} <= env["versions"].keys()
    result = report["results"][0]
    for key in (
        "failure_id", "failure_name", "category", "status", "passed", "score", "keyword_pass",
        "diagnosis_pass", "tool_evidence", "response_text", "duration", "phases", "error",
        "skip_reason", "agent_result", "compat",
    ):  # fmt: skip
        assert key in result, key
    assert "testpass" not in json.dumps(report)


def test_junit_has_the_common_schema_shape(full_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = full_run
    root = ET.parse(out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert suites
    cases = [case for suite in suites for case in suite.findall("testcase")]
    assert len(cases) == 17
    for suite in suites:
        for attribute in ("name", "tests", "failures", "errors", "skipped", "time"):
            assert attribute in suite.attrib, attribute
        assert int(suite.get("tests", "0")) == len(suite.findall("testcase"))
        float(suite.get("time", "x"))
    for case in cases:
        assert {"name", "classname", "time"} <= case.attrib.keys()
        float(case.get("time", "x"))
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(skipped) == 8 and all(c.find("skipped").get("message") for c in skipped)  # type: ignore[union-attr]
    assert not [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    total_skipped = sum(int(s.get("skipped", "0")) for s in suites)
    assert total_skipped == 8


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.ids += [v for k, v in attrs if k == "id" and v]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_renders_self_contained_with_its_sections(full_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = full_run
    page = (out / "report.html").read_text()
    parser = _Sections()
    parser.feed(page)
    text = " ".join(parser.text)
    assert "svg" in parser.tags, "the category chart is an inline SVG"
    assert "details" in parser.tags, "per-fault details are collapsible"
    assert "script" not in parser.tags and "link" not in parser.tags, "works offline"
    assert 'src="http' not in page and 'href="http' not in page
    for failure_id in (*DATABASE_IDS, "k8s-crashloop"):
        assert failure_id in text, failure_id
    assert parser.ids, "sections carry ids"
    assert "testpass" not in page


def test_repeat_two_reports_stability_everywhere(
    lab: Lab, faulttest_home: Path, tmp_path: Path
) -> None:
    done = faulttest(
        "run", "--ids", "db-table-bloat,db-auth-failure", "--repeat", "2", "--html", "r.html",
        home=faulttest_home, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("repeats 2/2  rate=100%") == 2, done.stdout
    assert "stable" in done.stdout
    report = only_report(tmp_path)
    for result in report["results"]:
        stability = result["repeats"]["stability"]
        assert len(result["repeats"]["runs"]) == 2
        assert (stability["runs"], stability["passes"], stability["stable"]) == (2, 2, True)
        assert stability["category_agreement"] == 1.0
        assert 0 < stability["ci_low"] < stability["ci_high"] == 1.0
    assert 'id="stability"' in (tmp_path / "r.html").read_text()
    assert not leftovers(lab)
