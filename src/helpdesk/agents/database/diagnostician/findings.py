"""Findings (what a rule concluded) and the thresholds the rules use.

Every number a rule compares against lives here, with its reason, so that
docs/DIAGNOSTICIAN.md and the code cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Severity scale: 0-100. A finding below REPORT_MIN is ignored; the highest-ranked finding
# (severity + SYMPTOM_BOOST when the message points at its category) is the primary one.
REPORT_MIN = 40
SYMPTOM_BOOST = 15
CAUSE_MIN = 50  # a finding that explains the top one is promoted when at least this severe

# Connections
CONN_WARN_RATIO = 0.8  # share of max_connections in use: worth mentioning
CONN_HIGH_RATIO = 0.9  # nearly exhausted

# Sessions and locks
IDLE_TX_MIN_S = (
    1.0  # idle inside a transaction this long (applications idle there for milliseconds)
)
IDLE_TX_WRITES_MIN_S = 0.5  # ... or this long while holding uncommitted writes
IDLE_TX_LONG_S = 60.0
LONG_QUERY_S = 1.0  # an active statement running this long at the moment of diagnosis is noted
LONG_QUERY_NOTABLE_S = 5.0  # ... and from this age on it is a problem of its own
LONG_QUERY_SEVERE_S = 300.0
LONG_BLOCKER_S = 1.0  # a statement that holds others' locks this long counts as long-running
DEADLOCK_CURRENT_S = 120.0  # a deadlock logged this recently is part of the present incident
DEADLOCK_WINDOW_MIN = 60  # server log window read for deadlocks and other signatures
CANCEL_WINDOW_S = 900.0  # statement-timeout cancellations this recent show the timeout bites

# Tables
BLOAT_MIN_DEAD = 1_000
BLOAT_MIN_RATIO = 0.2  # autovacuum's default scale factor: beyond it, vacuum is not keeping up
CACHE_MIN_READS = 1_000  # below this many block reads a hit ratio means nothing (fresh start)
CACHE_LOW_RATIO = 0.90
CACHE_WARN_RATIO = 0.95
CACHE_WARN_READS = 10_000
INDEX_MIN_ROWS = 10_000  # a table smaller than this is fine to scan
INDEX_MIN_SEQ_SCANS = 3
INDEX_FULL_SCAN_SHARE = 0.5  # a seq scan reading at least half the table is a full scan
INDEX_SELECTIVE_SHARE = 0.01  # a lookup returning at most 1% of the rows is selective
INDEX_MANY_SEQ_SCANS = 100  # without pg_stat_statements: this many full scans and few index scans

# Replication and WAL
LAG_BYTES = 1024 * 1024
LAG_SECONDS = 30.0
SLOT_RETAINED_BYTES = 1024 * 1024
SLOT_RETAINED_SEVERE = 1024 * 1024 * 1024
WAL_DIR_FACTOR = 2.0  # pg_wal more than this times max_wal_size

# Settings
TIMEOUT_LOW_MS = 1000  # statement_timeout / transaction_timeout below 1 s cancels normal work
TIMEOUT_VERY_LOW_MS = 100
LOCK_TIMEOUT_LOW_MS = 100
SEQUENCE_WARN_PCT = 75.0
SEQUENCE_HIGH_PCT = 90.0

# Disk
DISK_TABLE_SHARE = 0.5  # one relation holding half the database
DISK_TABLE_MIN_BYTES = 8 * 1024 * 1024
TEMP_BYTES_HIGH = 1024 * 1024 * 1024
DISK_FULL_RECENT_S = 120.0  # an ENOSPC error this recent is the present incident
DISK_FULL_WINDOW_S = (
    900.0  # older ones (up to 15 min) still matter when the person reports disk trouble
)


@dataclass
class Finding:
    """One conclusion of one rule, with the values that support it and what to do."""

    category: str
    severity: int
    summary: str
    evidence: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    explains: tuple[str, ...] = ()  # categories this finding is the cause of
    related: tuple[str, ...] = ()  # categories to report as contributing when this one is primary
    definitive: bool = False  # proven by the server's own words: never displaced by a "cause"

    def score(self, hints: set[str]) -> int:
        return self.severity + (SYMPTOM_BOOST if self.category in hints else 0)
