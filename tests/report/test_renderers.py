"""JSON, JUnit, HTML and console renderers: structure, atomic files, no password anywhere."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from faulttest.errors import UsageError
from faulttest.report import console, html, json_report, junit
from faulttest.report.models import FaultResult, RunReport, Status
from tests.report.sample import SECRET, passed_result, sample_report


@pytest.fixture
def report() -> RunReport:
    return sample_report()


def test_json_report_written_atomically_and_reads_back(report, tmp_path: Path) -> None:
    paths = json_report.write_report(report, tmp_path, per_fault=True)
    assert paths[0] == tmp_path / f"faulttest-{report.id}.json"
    assert len(paths) == 1 + len(report.results)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in paths
    )  # no temp files
    loaded = json_report.load_report(paths[0])
    assert loaded.summary == report.summary
    assert [r.failure_id for r in loaded.results] == [r.failure_id for r in report.results]
    per_fault = json.loads(paths[1].read_text())
    assert per_fault["failure_id"] == report.results[0].failure_id


def test_no_password_in_any_report(report, tmp_path: Path) -> None:
    assert SECRET in report.model_dump_json()  # the sample really carries the password
    json_report.write_report(report, tmp_path, per_fault=True)
    junit.write_junit(report, tmp_path / "junit.xml")
    html.write_html(report, tmp_path / "report.html")
    for path in tmp_path.iterdir():
        text = path.read_text()
        assert SECRET not in text, path.name
    assert "password=****" in (tmp_path / f"faulttest-{report.id}.json").read_text()
    lines = [line for r in report.results for line in console.result_lines(r)]
    lines += console.summary_lines(report)
    assert not [line for line in lines if SECRET in line]


def test_masked_json_stays_valid_json(report) -> None:
    data = json.loads(json_report.to_json(report))
    args = data["results"][0]["agent_result"]["tool_calls"][0]["args"]
    assert args["connection_string"].endswith("password=****")


def test_load_report_errors_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such report"):
        json_report.load_report(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"results": "nope"}')
    with pytest.raises(UsageError, match="not a faulttest run report"):
        json_report.load_report(bad)


def test_junit_structure(report) -> None:
    root = ET.fromstring(junit.to_junit_xml(report))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("tests") == "5" and suite.get("failures") == "2"
    assert suite.get("errors") == "1" and suite.get("skipped") == "1"
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["run_id"] == report.id and props["profile"] == "strict"
    assert props["target"].endswith("password=****")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {r.failure_id for r in report.results}
    assert cases["db-table-bloat"].find("failure") is None
    assert cases["db-table-bloat"].find("system-out") is not None
    failure = cases["db-high-cache-miss"].find("failure")
    assert failure is not None and "category" in failure.get("message")
    assert "[FAIL] category" in failure.text
    error = cases["db-connection-refused"].find("error")
    assert error is not None and "did not take" in error.get("message")
    skipped = cases["k8s-crashloop"].find("skipped")
    assert skipped is not None and "requires kubernetes" in skipped.get("message")
    assert all(c.get("classname").startswith("faulttest.") for c in cases.values())
    assert float(cases["db-table-bloat"].get("time")) > 0


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.details = 0

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        for key in ("src", "href", "xlink:href"):
            if values.get(key):
                self.links.append(values[key])
        self.details += tag == "details"


def test_html_is_self_contained_with_all_sections(report) -> None:
    page_text = html.render_html(report)
    page = _Page()
    page.feed(page_text)
    assert {"summary", "categories", "stability", "faults", "details", "fault-table"} <= page.ids
    assert page.details == len(report.results)
    assert page.tags.count("svg") == 2  # category chart + stability chart
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert all(link.startswith("#") for link in page.links), page.links
    assert "@import" not in page_text and "url(" not in page_text
    assert "Pass rate over repeats" in page_text
    for r in report.results:
        assert f'id="fault-{r.failure_id}"' in page_text


def test_html_without_repeats_has_no_stability_section() -> None:
    page = _Page()
    page.feed(html.render_html(RunReport.build([passed_result()])))
    assert "stability" not in page.ids
    assert page.tags.count("svg") == 1


def test_html_escapes_answers() -> None:
    result = passed_result()
    result = result.model_copy(update={"response_text": "<script>alert(1)</script>"})
    text = html.render_html(RunReport.build([result]))
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_console_result_lines(report) -> None:
    by_id = {r.failure_id: r for r in report.results}
    passed = console.result_lines(by_id["db-table-bloat"])
    assert passed == ["[PASS] db-table-bloat  score=100%  (inject 0.4s, agent 0.6s, teardown 0.1s)"]
    failed = console.result_lines(by_id["db-high-cache-miss"])
    assert failed[0].startswith("[FAIL] db-high-cache-miss  score=")
    assert failed[-1].startswith("       reason: category:")
    assert console.result_lines(by_id["db-connection-refused"])[-1].startswith(
        "       reason: fault did not take"
    )
    assert console.result_lines(by_id["k8s-crashloop"]) == [
        "[SKIP] k8s-crashloop  (requires kubernetes: no cluster context given (--context))"
    ]
    repeated = console.result_lines(by_id["db-repeated"])
    assert "repeats 2/3" in repeated[1] and "UNSTABLE" in repeated[1]


def test_console_summary_ends_with_the_total_line(report) -> None:
    lines = console.summary_lines(report)
    assert lines[-1] == "Total: 5 | Passed: 1 | Failed: 3 | Rate: 25%"
    assert any(line.strip().startswith("database") for line in lines)


def test_console_printing_uses_rich(report) -> None:
    out = Console(record=True, width=200, color_system=None)
    for result in report.results:
        console.print_result(out, result)
    console.print_summary(out, report)
    text = out.export_text()
    assert "[PASS] db-table-bloat" in text and "[ERROR] db-connection-refused" in text
    assert text.rstrip().endswith("Rate: 25%")
    assert SECRET not in text


def test_result_reason_for_every_status(report) -> None:
    reasons = {r.status: r.reason for r in report.results if isinstance(r, FaultResult)}
    assert reasons[Status.PASSED] == ""
    assert reasons[Status.SKIPPED].startswith("requires")
