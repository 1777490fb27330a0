"""Action types the built-in faults do not use, through custom catalog entries on the lab:
`server set` (reset by teardown from the journal) and `shell` (with the target in its env)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from faulttest.catalog.models import Catalog, FailureMode
from faulttest.inject import Injector, Journal
from faulttest.lab import Lab
from faulttest.targets import LabTarget
from tests.inject.conftest import leftovers

pytestmark = pytest.mark.lab


def failure(entry: dict) -> FailureMode:
    base = {"category": "database", "severity": "low", "prompt": "Look at {{connection_string}}."}
    return Catalog.model_validate({"failures": [{**base, **entry}]}).failures[0]


def setting(lab: Lab, name: str) -> str:
    with lab.connect() as conn:
        return conn.execute("SELECT current_setting(%s)", [name]).fetchone()[0]


def test_server_set_is_reset_by_teardown_even_without_a_teardown_action(
    clean_lab: Lab, tmp_path: Path
) -> None:
    before = setting(clean_lab, "log_min_duration_statement")
    fault = failure(
        {
            "id": "custom-slow-log",
            "name": "Slow query log threshold changed",
            "requires": ["server_control"],
            "inject": {
                "type": "server",
                "action": "set",
                "settings": {"log_min_duration_statement": "1234"},
            },
            "verify": {
                "type": "sql",
                "query": "SELECT current_setting('log_min_duration_statement') = '1234ms'",
            },
            "timeout": "10s",
        }
    )
    journal = Journal(tmp_path)
    injector = Injector(LabTarget(clean_lab), journal)
    injector.inject(fault)
    assert setting(clean_lab, "log_min_duration_statement") == "1234ms"
    assert journal.find(fault.id).changed_settings == {"primary": ["log_min_duration_statement"]}  # type: ignore[union-attr]
    result = injector.teardown(fault)
    assert result.clean, result.leftovers
    assert setting(clean_lab, "log_min_duration_statement") == before
    assert journal.entries() == []


def test_shell_action_sees_the_target_and_owned_table_is_dropped(
    clean_lab: Lab, tmp_path: Path
) -> None:
    create = (
        "import os, psycopg; "
        "assert os.environ['PGPASSWORD']; "
        "psycopg.connect(os.environ['FAULTTEST_CONN'], autocommit=True)"
        ".execute('CREATE TABLE faulttest_shell (id int)')"
    )
    fault = failure(
        {
            "id": "custom-shell",
            "name": "Made by a shell script",
            "owns": {"tables": ["faulttest_shell"]},
            "inject": {"type": "shell", "script_inline": f'{sys.executable} -c "{create}"'},
            "verify": {"type": "sql", "query": "SELECT to_regclass('faulttest_shell') IS NOT NULL"},
            "timeout": "10s",
        }
    )
    injector = Injector(LabTarget(clean_lab), Journal(tmp_path))
    injector.inject(fault)
    result = injector.teardown(fault)
    assert result.clean, result.leftovers
    assert leftovers(clean_lab) == []


def test_a_failing_shell_script_fails_the_injection_with_its_output(
    clean_lab: Lab, tmp_path: Path
) -> None:
    fault = failure(
        {
            "id": "custom-shell-fails",
            "name": "Broken script",
            "inject": {"type": "shell", "script_inline": "echo PGPASSWORD=$PGPASSWORD; exit 7"},
        }
    )
    injector = Injector(LabTarget(clean_lab), Journal(tmp_path))
    with pytest.raises(Exception, match="exited 7") as failed:
        injector.inject(fault)
    assert clean_lab.info.password not in str(failed.value)
    assert Journal(tmp_path).entries() == []
