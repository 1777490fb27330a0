"""History file: one line per run under FAULTTEST_HOME, newest first, robust to torn lines."""

from __future__ import annotations

import threading
from pathlib import Path

from faulttest.report import history
from faulttest.report.models import RunReport
from tests.report.sample import SECRET, passed_result, sample_report


def test_append_and_read_newest_first(tmp_path: Path) -> None:
    first, second = sample_report(), RunReport.build([passed_result()])
    history.append(first, tmp_path / "r1.json", home=tmp_path)
    path = history.append(second, home=tmp_path)
    assert path == tmp_path / "history.jsonl"
    assert len(path.read_text().splitlines()) == 2
    entries = history.recent(home=tmp_path)
    assert [e.id for e in entries] == [second.id, first.id]
    assert entries[1].report == str(tmp_path / "r1.json")
    assert entries[1].pass_rate == 0.25 and entries[0].pass_rate == 1.0
    assert [e.id for e in history.recent(limit=1, home=tmp_path)] == [second.id]
    assert SECRET not in path.read_text()  # the target DSN is masked


def test_missing_file_and_torn_lines(tmp_path: Path) -> None:
    assert history.recent(home=tmp_path) == []
    history.append(RunReport.build([passed_result()]), home=tmp_path)
    with history.history_path(tmp_path).open("a") as handle:
        handle.write('{"id": "torn", "timest\n')
    assert len(history.recent(home=tmp_path)) == 1


def test_concurrent_appends_do_not_interleave(tmp_path: Path) -> None:
    report = sample_report()

    def writer() -> None:
        for _ in range(20):
            history.append(report, home=tmp_path)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(history.recent(limit=1000, home=tmp_path)) == 80


def test_default_home_is_faulttest_home(faulttest_home: Path) -> None:
    assert history.history_path() == faulttest_home / "history.jsonl"
