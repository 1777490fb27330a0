"""Undo what the injection journal says is still injected (e.g. after a crashed run).

One library function, `recover(journal, ...)`, behind both `faulttest teardown --all` and
the start of every `faulttest run`: entries are undone servers-first, newest first; an
entry whose lab is gone only has its holder processes stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from faulttest.catalog.loader import builtin_paths, load_catalog
from faulttest.catalog.models import Catalog, FailureMode, FaultCategory, Severity
from faulttest.errors import FaulttestError, InjectionFailed
from faulttest.inject import sessions as session_control
from faulttest.inject.engine import Injector
from faulttest.inject.journal import Journal, JournalEntry
from faulttest.targets import target_from_reference
from helpdesk.infra import InfraConfig


@dataclass
class RecoveryReport:
    """One line per undone entry, and the entries that could not be undone."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def recover(
    journal: Journal,
    *,
    select: Callable[[JournalEntry], bool] | None = None,
    extra_catalogs: Iterable[Path] = (),
    conn: str | None = None,
    replica_conn: str | None = None,
    infra: InfraConfig | None = None,
    say: Callable[[str], None] = lambda _line: None,
) -> RecoveryReport:
    """Tear down every journaled fault (those `select` accepts, when given); say each outcome."""
    entries = [e for e in journal.entries() if select is None or select(e)]
    # servers that must be started again first, then newest first
    entries.sort(key=lambda e: (not e.stopped_nodes, -e.injected_at))
    report = RecoveryReport()
    catalog = catalog_for(entries, list(extra_catalogs)) if entries else None
    for entry in entries:
        assert catalog is not None
        try:
            line = teardown_entry(
                entry, journal, catalog, conn=conn, replica_conn=replica_conn, infra=infra
            )
        except FaulttestError as exc:
            report.problems.append(f"{entry.failure_id} on {entry.target_key}: {exc}")
            continue
        report.lines.append(line)
        say(line)
    return report


def teardown_entry(
    entry: JournalEntry,
    journal: Journal,
    catalog: Catalog,
    *,
    conn: str | None = None,
    replica_conn: str | None = None,
    infra: InfraConfig | None = None,
) -> str:
    """Undo one journal entry where it was injected; InjectionFailed when not clean."""
    failure = failure_for(entry, catalog)
    target = target_from_reference(entry.target, conn=conn, replica_conn=replica_conn, infra=infra)
    if target is None:  # the lab is gone, and with it everything the fault did to it
        for record in entry.holders:
            session_control.stop_holder(record.pid, entry.failure_id)
        journal.remove(entry)
        return f"{entry.failure_id}: its lab no longer runs; holders stopped, entry dropped"
    result = Injector(target, journal).teardown(failure, entry)
    if not result.clean:
        raise InjectionFailed("; ".join(result.leftovers))
    return f"{failure.name} torn down on {target.label}: clean ({result.seconds:.1f}s)"


def catalog_for(entries: Iterable[JournalEntry], extra: Iterable[Path] = ()) -> Catalog:
    """The built-in catalog plus the custom files the entries were injected from."""
    sources = [Path(e.catalog_source) for e in entries if e.catalog_source]
    builtin = {p.resolve() for p in builtin_paths()}
    custom = [
        p for p in dict.fromkeys([*extra, *sources]) if p.exists() and p.resolve() not in builtin
    ]
    return load_catalog(custom)


def failure_for(entry: JournalEntry, catalog: Catalog) -> FailureMode:
    """The entry's fault; a minimal stand-in when its catalog is gone (generic cleanup only)."""
    try:
        return catalog.get(entry.failure_id)
    except KeyError:
        return FailureMode(
            id=entry.failure_id,
            name=entry.failure_name or entry.failure_id,
            category=FaultCategory.DATABASE,
            severity=Severity.LOW,
            prompt="(catalog entry not found)",
        )
