"""`faulttest list`, `show` and `validate` through the real entry point: exact layout,
filters, JSON, the show → load round trip, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from faulttest.catalog.loader import builtin_paths, load_catalog
from faulttest.catalog.models import FailureMode
from faulttest.cli.catalog_cmds import render_table
from tests.catalog.conftest import CliResult
from tests.catalog.test_builtin import EXPECTED

Cli = Callable[..., CliResult]
WriteCatalog = Callable[[str, str], Path]

# aiHelpDesk (Go) `faulttest list`, character for character
GO_LIST_OUTPUT = """\
ID                             CATEGORY     SEVERITY   NAME
--------------------------------------------------------------------------------
db-max-connections             database     high       Max connections exhausted
db-long-running-query          database     high       Long-running query blocking
db-lock-contention             database     high       Lock contention / deadlock
db-table-bloat                 database     medium     Table bloat / dead tuples
db-high-cache-miss             database     medium     High cache miss ratio
db-connection-refused          database     critical   Database connection refused
db-auth-failure                database     critical   Authentication failure
db-not-exist                   database     critical   Database does not exist
db-replication-lag             database     high       Replication lag
k8s-crashloop                  kubernetes   critical   CrashLoopBackOff
k8s-pending                    kubernetes   critical   Pending pod (unschedulable)
k8s-image-pull                 kubernetes   critical   ImagePullBackOff
k8s-no-endpoints               kubernetes   high       Service with no endpoints
k8s-pvc-pending                kubernetes   critical   PVC pending (bad StorageClass)
k8s-oomkilled                  kubernetes   critical   OOMKilled
compound-db-pod-crash          compound     critical   DB unreachable + pod crashing
compound-db-no-endpoints       compound     critical   DB timeout + no endpoints

Total: 17 failure modes
"""

CUSTOM = """
version: "1"
failures:
  - id: custom-slow-reports
    name: "Slow monthly report"
    category: database
    severity: low
    prompt: "The monthly report on {{connection_string}} got slow."
    inject:
      type: sql
      script_inline: "SELECT 1"
    evaluation:
      expected_diagnosis:
        category: missing_index
"""


def _rows(output: str) -> list[list[str]]:
    lines = output.splitlines()
    assert lines[1] == "-" * 80
    body = lines[2 : lines.index("")]
    return [line.split(None, 3) for line in body]


def test_list_prints_the_aihelpdesk_table_exactly(cli: Cli) -> None:
    result = cli("list")
    assert result.code == 0, result.err
    assert result.out == GO_LIST_OUTPUT


def test_list_through_the_console_script() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "faulttest.cli.main", "list", "--categories", "compound"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "Total: 2 failure modes"


def test_table_columns_are_30_12_10_wide() -> None:
    failure = FailureMode.model_validate(
        {"id": "x", "name": "N", "category": "host", "severity": "low", "prompt": "p"}
    )
    header, rule, row, blank, total = render_table([failure]).splitlines()
    assert header == "ID" + " " * 29 + "CATEGORY" + " " * 5 + "SEVERITY" + " " * 3 + "NAME"
    assert row == "x" + " " * 30 + "host" + " " * 9 + "low" + " " * 8 + "N"
    assert (rule, blank, total) == ("-" * 80, "", "Total: 1 failure modes")


def test_list_filters_by_category_and_id(cli: Cli) -> None:
    result = cli("list", "--categories", "kubernetes,compound")
    assert result.code == 0
    assert [r[0] for r in _rows(result.out)] == [row[0] for row in EXPECTED[9:]]
    assert result.out.endswith("\nTotal: 8 failure modes\n")

    result = cli("list", "--ids", "k8s-oomkilled, k8s-crashloop")
    assert [r[0] for r in _rows(result.out)] == ["k8s-crashloop", "k8s-oomkilled"]

    result = cli("list", "--ids", "k8s-oomkilled,compound-db-pod-crash", "--categories", "compound")
    assert [r[0] for r in _rows(result.out)] == ["compound-db-pod-crash"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ids", "k8s-crashloop,k8s-crashlop"], "unknown failure id: k8s-crashlop"),
        (["--categories", "network"], "unknown category: network"),
    ],
)
def test_list_rejects_unknown_filters(cli: Cli, args: list[str], message: str) -> None:
    result = cli("list", *args)
    assert result.code == 2
    assert message in result.err
    assert result.out == ""


def test_list_merges_custom_catalogs(cli: Cli, write_catalog: WriteCatalog) -> None:
    path = write_catalog("custom.yaml", CUSTOM)
    result = cli("list", "--catalog", str(path), "--categories", "database")
    assert result.code == 0, result.err
    rows = _rows(result.out)
    assert rows[-1] == ["custom-slow-reports", "database", "low", "Slow monthly report"]


def test_list_json_prints_the_merged_entries(cli: Cli, write_catalog: WriteCatalog) -> None:
    path = write_catalog("custom.yaml", CUSTOM)
    result = cli("list", "--json", "--catalog", str(path), "--categories", "kubernetes,database")
    assert result.code == 0, result.err
    entries = json.loads(result.out)
    ids = [e["id"] for e in entries]
    assert ids[-1] == "custom-slow-reports"
    assert "k8s-pvc-pending" in ids and "compound-db-pod-crash" not in ids
    loaded = {f.id: f for f in load_catalog([path]).failures}
    for entry in entries:
        assert FailureMode.model_validate(entry).model_dump() == loaded[entry["id"]].model_dump()


@pytest.mark.parametrize("failure_id", [row[0] for row in EXPECTED])
def test_show_round_trips_through_the_loader(cli: Cli, tmp_path: Path, failure_id: str) -> None:
    original = load_catalog().get(failure_id)
    result = cli("show", "--id", failure_id)
    assert result.code == 0, result.err
    assert result.out.startswith(f"# {failure_id}: {original.name}")
    copy = tmp_path / "elsewhere" / "mine.yaml"
    copy.parent.mkdir()
    copy.write_text(result.out, encoding="utf-8")
    (reloaded,) = load_catalog([copy], builtin=False).failures
    assert reloaded.model_dump() == original.model_dump()


def test_show_unknown_id_is_a_usage_error(cli: Cli) -> None:
    result = cli("show", "--id", "k8s-oomkiled")
    assert result.code == 2
    assert "unknown failure id: k8s-oomkiled" in result.err
    assert "k8s-oomkilled" in result.err  # the close match is suggested


def test_validate_reports_ok_per_file(cli: Cli, write_catalog: WriteCatalog) -> None:
    path = write_catalog("custom.yaml", CUSTOM)
    result = cli("validate", "--catalog", str(path))
    assert result.code == 0, result.err
    assert result.out == f"ok: 1 failure modes in {path}\n"


def test_validate_lists_every_error_and_exits_2(cli: Cli, write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "broken.yaml",
        """
        failures:
          - id: broken-one
            name: Broken
            category: network
            severity: urgent
            prompt: "x"
        """,
    )
    result = cli("validate", "--catalog", str(path))
    assert result.code == 2
    assert result.out.splitlines() == [
        f"{path}:4:15: [broken-one] category: Input should be 'database', 'kubernetes', "
        "'host' or 'compound' (got 'network')",
        f"{path}:5:15: [broken-one] severity: Input should be 'low', 'medium', 'high' "
        "or 'critical' (got 'urgent')",
    ]
    assert "2 problems found" in result.err


def test_validate_catches_ids_that_clash_with_the_builtin_catalog(
    cli: Cli, write_catalog: WriteCatalog
) -> None:
    path = write_catalog(
        "clash.yaml",
        """
        failures:
          - {id: k8s-oomkilled, name: Mine, category: kubernetes, severity: low, prompt: p}
        """,
    )
    result = cli("validate", "--catalog", str(path))
    assert result.code == 2
    assert f"{path}:2:10: duplicate id 'k8s-oomkilled' (also defined at " in result.out
    assert "kubernetes.yaml:" in result.out


def test_validate_without_files_checks_the_builtin_catalog(cli: Cli) -> None:
    result = cli("validate")
    assert result.code == 0, result.err
    assert "ok: 6 failure modes in " in result.out
    assert "ok: 2 failure modes in " in result.out


def test_validate_a_builtin_file_by_another_path(cli: Cli) -> None:
    (compound,) = [p for p in builtin_paths() if p.name == "compound.yaml"]
    roundabout = compound.parent / ".." / "builtin" / "compound.yaml"
    result = cli("validate", "--catalog", str(roundabout))
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == f"ok: 2 failure modes in {compound}"


def test_list_with_a_broken_catalog_exits_2(cli: Cli, write_catalog: WriteCatalog) -> None:
    path = write_catalog("bad.yaml", "failures:\n  - id: x\n    name: [\n")
    result = cli("list", "--catalog", str(path))
    assert result.code == 2
    assert result.out == ""
    assert f"{path}:4:1: YAML syntax error: " in result.err
