"""JUnit XML for CI: one testsuite, one testcase per fault, failure/error/skipped with messages.

Follows the common (Jenkins/Surefire) shape that CI systems render: run-level properties on
the testsuite, the answer and score components in each testcase's system-out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from faulttest.report.console import remediation_line
from faulttest.report.json_report import write_atomic
from faulttest.report.models import FaultResult, RunReport, Status
from helpdesk.dsn import mask

MAX_OUTPUT_CHARS = 20_000


def _properties(report: RunReport) -> dict[str, str]:
    env = report.environment
    props = {
        "run_id": report.id,
        "profile": report.profile,
        "target": env.target,
        "agent": env.agent,
        "model": env.model,
        "pass_rate": f"{report.summary.pass_rate:.4f}",
    }
    props.update({f"version.{k}": v for k, v in env.versions.items()})
    return props


def _details(result: FaultResult) -> str:
    lines = [f"status: {result.status.value}  score: {result.score:.2f}"]
    if result.evaluation is not None:
        for c in result.evaluation.components:
            lines.append(f"  [{'ok' if c.passed else 'FAIL'}] {c.name}: {c.reason}")
    if result.compat is not None:
        lines.append(f"compat (Go) score: {result.compat.score:.2f} passed={result.compat.passed}")
    phases = result.phases.model_dump()
    lines.append("phases: " + ", ".join(f"{k} {v:.2f}s" for k, v in phases.items() if v))
    if result.repeats is not None:
        s = result.repeats.stability
        lines.append(
            f"repeats: {s.passes}/{s.runs} passed, rate {s.pass_rate:.0%} "
            f"[{s.ci_low:.0%}, {s.ci_high:.0%}], {'stable' if s.stable else 'UNSTABLE'}"
        )
    if result.remediation is not None:
        lines.append(remediation_line(result.remediation))
    if result.response_text:
        lines += ["", "answer:", result.response_text[:MAX_OUTPUT_CHARS]]
    if result.remediation is not None and result.remediation.response_text:
        lines += ["", "remediation answer:", result.remediation.response_text[:MAX_OUTPUT_CHARS]]
    return "\n".join(lines)


def _remediation_properties(case: ET.Element, result: FaultResult) -> None:
    r = result.remediation
    if r is None:
        return
    values = {
        "remediation.attempted": str(r.attempted).lower(),
        "remediation.recovered": str(r.recovered).lower(),
        "remediation.time_to_recover": ""
        if r.time_to_recover is None
        else f"{r.time_to_recover:.3f}",
        "remediation.score": f"{r.score:.2f}",
        "remediation.guidance_only": str(r.guidance_only).lower(),
        "remediation.actions": "; ".join(r.actions),
    }
    if r.error:
        values["remediation.error"] = r.error
    properties = ET.SubElement(case, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=mask(value))


def _testcase(suite: ET.Element, result: FaultResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=result.failure_id,
        classname=f"faulttest.{result.category}",
        time=f"{result.duration:.3f}",
    )
    _remediation_properties(case, result)
    message = mask(result.reason)
    if result.status is Status.FAILED:
        node = ET.SubElement(case, "failure", message=message, type="DiagnosisFailed")
        node.text = mask(_details(result))
    elif result.status is Status.ERROR:
        node = ET.SubElement(case, "error", message=message, type="FaultError")
        node.text = mask(result.error or "")
    elif result.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", message=message)
    if result.status is not Status.SKIPPED:
        ET.SubElement(case, "system-out").text = mask(_details(result))


def to_junit_xml(report: RunReport) -> str:
    summary = report.summary
    counts = {
        "name": "faulttest",
        "tests": str(summary.total),
        "failures": str(summary.failed),
        "errors": str(summary.errored),
        "skipped": str(summary.skipped),
        "time": f"{report.duration:.3f}",
    }
    suites = ET.Element("testsuites", counts)
    suite = ET.SubElement(
        suites,
        "testsuite",
        counts,
        timestamp=report.timestamp.strftime("%Y-%m-%dT%H:%M:%S"),
        hostname="localhost",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(report).items():
        ET.SubElement(properties, "property", name=name, value=mask(value))
    for result in report.results:
        _testcase(suite, result)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def write_junit(report: RunReport, path: Path) -> Path:
    return write_atomic(Path(path), to_junit_xml(report))
