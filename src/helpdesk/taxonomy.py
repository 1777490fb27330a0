"""The diagnosis taxonomy (SPEC §5): the categories an agent may report.

Agents name one primary category and optional contributing ones. The core of
faulttest scores against the same list, so it lives here, with no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Domain(StrEnum):
    DATABASE = "database"
    KUBERNETES = "kubernetes"
    COMPOUND = "compound"
    NONE = "none"


@dataclass(frozen=True)
class Category:
    name: str
    domain: Domain
    summary: str
    builtin: bool  # the built-in diagnostician must recognise it (marked (B) in the SPEC)


_DB = Domain.DATABASE
_K8S = Domain.KUBERNETES

CATEGORIES: tuple[Category, ...] = (
    Category("connection_exhaustion", _DB, "all connection slots are in use", True),
    Category(
        "role_connection_limit", _DB, "a role's or database's CONNECTION LIMIT is reached", True
    ),
    Category("connection_refused", _DB, "the server is not running or not listening", True),
    Category("authentication_failure", _DB, "the credentials are rejected", True),
    Category("hba_rejection", _DB, "pg_hba.conf rejects the client", True),
    Category("database_not_found", _DB, "the database named does not exist", True),
    Category(
        "connection_not_permitted",
        _DB,
        "the role cannot log in or the database refuses connections",
        True,
    ),
    Category("lock_blocking", _DB, "a lock held by one session blocks others", True),
    Category("deadlock", _DB, "transactions deadlock and PostgreSQL aborts one", True),
    Category(
        "idle_in_transaction",
        _DB,
        "sessions idle inside open transactions hold locks or snapshots",
        True,
    ),
    Category("long_running_query", _DB, "a query has been running for a long time", True),
    Category("table_bloat", _DB, "dead tuples accumulate; vacuum is not keeping up", True),
    Category("cache_performance", _DB, "low buffer cache hit ratio", True),
    Category("missing_index", _DB, "large sequential scans serve selective lookups", True),
    Category("replication_lag", _DB, "a standby is behind its primary", True),
    Category(
        "wal_accumulation", _DB, "WAL is retained, e.g. by an inactive replication slot", True
    ),
    Category("disk_pressure", _DB, "the database is running out of disk", True),
    Category("read_only", _DB, "writes are rejected by read-only settings or recovery", True),
    Category("statement_timeout", _DB, "queries are cancelled by a too-low timeout", True),
    Category("sequence_exhaustion", _DB, "a sequence is near its maximum", True),
    Category("server_crash", _DB, "the server recently crashed or was killed", False),
    Category("bad_configuration", _DB, "a server setting is invalid", False),
    Category("pod_crash_loop", _K8S, "a container keeps crashing and restarting", False),
    Category("pod_unschedulable", _K8S, "a pod cannot be scheduled on any node", False),
    Category("image_pull_failure", _K8S, "a container image cannot be pulled", False),
    Category("no_endpoints", _K8S, "a service selects no ready pods", False),
    Category("pvc_pending", _K8S, "a persistent volume claim cannot be bound", False),
    Category("oom_killed", _K8S, "a container is killed for exceeding its memory limit", False),
    Category("scaled_to_zero", _K8S, "a workload has zero replicas", False),
    Category("probe_failure", _K8S, "a liveness or readiness probe keeps failing", False),
    Category("config_missing", _K8S, "a referenced Secret or ConfigMap is missing", False),
    Category(
        "compound_crash", Domain.COMPOUND, "a database symptom caused by crashing pods", False
    ),
    Category(
        "compound_no_endpoints",
        Domain.COMPOUND,
        "a database symptom caused by a service without endpoints",
        False,
    ),
    Category("healthy", Domain.NONE, "nothing is wrong", True),
)

BY_NAME: dict[str, Category] = {c.name: c for c in CATEGORIES}
NAMES: frozenset[str] = frozenset(BY_NAME)


def is_category(name: str) -> bool:
    return name in BY_NAME


def category(name: str) -> Category:
    """Return the category called `name`; raise KeyError with the valid names otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown diagnosis category {name!r}; valid: {', '.join(sorted(NAMES))}"
        ) from None


def words(name: str) -> list[str]:
    """The words of a category name, as the aiHelpDesk Go scoring compares them."""
    return name.split("_")
