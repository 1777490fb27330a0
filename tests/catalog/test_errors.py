"""Broken catalogs: every problem is reported at once as `file:line:col: message`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.errors import CatalogError, UsageError

WriteCatalog = Callable[[str, str], Path]


def _problems(*paths: Path, builtin: bool = False) -> list[str]:
    with pytest.raises(CatalogError) as exc_info:
        load_catalog(list(paths), builtin=builtin)
    assert isinstance(exc_info.value, UsageError) and exc_info.value.exit_code == 2
    return exc_info.value.problems


def test_yaml_syntax_error_points_at_the_offending_position(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "syntax.yaml",
        """
        failures:
          - id: a
            name: "unterminated
            category: database
        """,
    )
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:5:1: YAML syntax error: ")
    assert "end of stream" in problem or "quoted scalar" in problem


def test_bad_indentation_is_a_syntax_error_with_position(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "indent.yaml",
        """
        failures:
          - id: a
            name: A
           category: database
        """,
    )
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:4:4: YAML syntax error: ")


def test_all_schema_errors_of_a_file_are_reported_in_order(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "many.yaml",
        """
        version: "1"
        failures:
          - id: first
            name: First
            category: databse
            severity: urgent
            timeout: soon
            prompt: "Look at {{connection_string}} and {{cluster}}"
            inject:
              type: sql
              target: standby
              script_inline: "SELECT 1"
            verify:
              type: kubernetes
              kind: Pod
            evaluation:
              expected_tools: get_pods
              expected_diagnosis:
                category: disk_full
              weight: 3
          - id: second
            category: database
            severity: low
            prompt: hi
            requires: [replica, gpu]
          - just a string
        """,
    )
    assert _problems(path) == [
        f"{path}:5:15: [first] category: Input should be 'database', 'kubernetes', 'host' or "
        "'compound' (got 'databse')",
        f"{path}:6:15: [first] severity: Input should be 'low', 'medium', 'high' or 'critical' "
        "(got 'urgent')",
        f"{path}:7:14: [first] timeout: invalid duration 'soon'; use e.g. 60, '60s', '2m', '500ms'",
        f"{path}:8:13: [first] prompt: unknown placeholder '{{{{cluster}}}}'; known: "
        "{{connection_string}}, {{replica_connection_string}}, {{kube_context}}",
        f"{path}:11:15: [first] inject.target: Input should be 'primary' or 'replica' "
        "(got 'standby')",
        f"{path}:14:7: [first] verify: missing required field 'condition'",
        f"{path}:17:23: [first] evaluation.expected_tools: Input should be a valid list "
        "(got 'get_pods')",
        f"{path}:19:19: [first] evaluation.expected_diagnosis.category: unknown diagnosis "
        "category 'disk_full'",
        f"{path}:20:7: [first] evaluation: unknown field 'weight'",
        f"{path}:21:5: [second] missing required field 'name'",
        f"{path}:25:25: [second] requires[1]: Input should be 'replica', 'server_control' or "
        "'kubernetes' (got 'gpu')",
        f"{path}:26:5: failures[2] must be a mapping",
    ]


def test_nested_session_errors_name_the_full_path(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "sessions.yaml",
        """
        failures:
          - id: holders
            name: Holders
            category: database
            severity: high
            prompt: p
            inject:
              - type: sql
                script_inline: "SELECT 1"
              - type: sessions
                sessions:
                  - name: holder
                    count: lots
                    sql: ["SELECT pg_sleep(600)"]
                  - name: Bad Name
                    sql: []
        """,
    )
    problems = _problems(path)
    assert f"{path}:13:20: [holders] inject[1].sessions[0].count: " in problems[0]
    assert any(
        p.startswith(f"{path}:15:19: [holders] inject[1].sessions[1].name: String should match")
        for p in problems
    )
    assert (
        f"{path}:16:18: [holders] inject[1].sessions[1].sql: List should have at least 1 item"
        in (" ".join(problems))
    )


def test_model_level_rules_point_at_the_action(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "action.yaml",
        """
        failures:
          - id: both
            name: Both
            category: database
            severity: high
            prompt: p
            inject:
              type: sql
              script: a.sql
              script_inline: "SELECT 1"
        """,
    )
    assert _problems(path) == [
        f"{path}:8:7: [both] inject: give exactly one of 'script' or 'script_inline'"
    ]


def test_contributing_categories_come_from_the_taxonomy(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "contributing.yaml",
        """
        failures:
          - id: c
            name: C
            category: compound
            severity: high
            prompt: p
            evaluation:
              expected_diagnosis:
                category: compound_crash
                contributing: [connection_refused, network_partition]
        """,
    )
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:10:23: [c] evaluation.expected_diagnosis.contributing: ")
    assert "unknown diagnosis category 'network_partition'" in problem


def test_duplicate_ids_across_files_are_all_reported(write_catalog: WriteCatalog) -> None:
    entry = "  - {id: %s, name: N, category: host, severity: low, prompt: p}\n"
    first = write_catalog("a.yaml", "failures:\n" + entry % "dup-one" + entry % "dup-two")
    second = write_catalog("b.yaml", "failures:\n" + entry % "dup-two" + entry % "unique")
    third = write_catalog("c.yaml", "failures:\n" + entry % "dup-one" + entry % "dup-two")
    assert _problems(first, second, third) == [
        f"{second}:2:10: duplicate id 'dup-two' (also defined at {first}:3:10)",
        f"{third}:2:10: duplicate id 'dup-one' (also defined at {first}:2:10)",
        f"{third}:3:10: duplicate id 'dup-two' (also defined at {first}:3:10)",
    ]


def test_duplicate_ids_are_reported_with_other_errors(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "mixed.yaml",
        """
        failures:
          - {id: same, name: N, category: host, severity: low, prompt: p}
          - {id: same, name: N, category: host, severity: meh, prompt: p}
        """,
    )
    problems = _problems(path)
    assert len(problems) == 2
    assert problems[0].startswith(f"{path}:3:51: [same] severity: ")
    assert problems[1] == f"{path}:3:10: duplicate id 'same' (also defined at {path}:2:10)"


def test_a_custom_id_may_not_shadow_a_builtin_one(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "shadow.yaml",
        "failures:\n  - {id: k8s-pending, name: N, category: host, severity: low, prompt: p}\n",
    )
    (problem,) = _problems(path, builtin=True)
    assert problem.startswith(f"{path}:2:10: duplicate id 'k8s-pending' (also defined at ")
    assert "kubernetes.yaml:" in problem


def test_structural_problems(write_catalog: WriteCatalog, tmp_path: Path) -> None:
    empty = write_catalog("empty.yaml", "# nothing here\n")
    top = write_catalog("top.yaml", "version: '1'\nfaults: []\n")
    scalar = write_catalog("scalar.yaml", "failures: 3\n")
    dup_key = write_catalog(
        "dupkey.yaml",
        "failures:\n  - id: k\n    name: A\n    name: B\n    category: host\n"
        "    severity: low\n    prompt: p\n",
    )
    missing = tmp_path / "missing.yaml"
    assert _problems(empty, top, scalar, dup_key, missing) == [
        f"{empty}:1:1: empty catalog; expected a 'failures:' list",
        f"{top}:2:1: unknown top-level key 'faults'; expected version, failures",
        f"{top}:1:1: missing 'failures:' list",
        f"{scalar}:1:11: 'failures' must be a list of failure modes",
        f"{dup_key}:4:5: duplicate key 'name' (first at {dup_key}:3:5)",
        f"{missing}: cannot read catalog file: No such file or directory",
    ]


def test_a_top_level_list_of_entries_loads(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "list.yaml", "- {id: only, name: Only, category: host, severity: low, prompt: p}\n"
    )
    (failure,) = load_catalog([path], builtin=False).failures
    assert (failure.id, failure.source) == ("only", str(path))
