"""What the diagnostician reads from the person's message: targets and symptom hints.

Connection strings come as libpq key=value runs (plain or in backticks), URIs, or
aliases from the infrastructure config; words around each one tell a replica from a
primary. Symptom phrases become hints that only re-rank findings the tools confirm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from helpdesk import infra

_KEYS = (
    "host|hostaddr|port|dbname|user|password|sslmode|connect_timeout|application_name|"
    "target_session_attrs|options|sslrootcert|passfile|service"
)
_KV_RUN = re.compile(
    rf"(?:\b(?:{_KEYS})\s*=\s*(?:'(?:[^'\\]|\\.)*'|[^\s`'\"]+)\s*)+", re.IGNORECASE
)
_URI = re.compile(r"\bpostgres(?:ql)?://[^\s`'\"<>]+", re.IGNORECASE)
_NAMED = re.compile(r"connection[_ ]string\s*(?:is|=|:)\s*`?([A-Za-z0-9_.:-]+)`?", re.IGNORECASE)
_REPLICA_WORDS = re.compile(
    r"replica|standby|secondary|follower|read[- ]only copy|hot standby", re.I
)
_PRIMARY_WORDS = re.compile(r"primary|master|leader|main database|written through", re.I)

# Symptom phrase -> categories it points at. Hints re-rank confirmed findings; they never
# create one (docs/DIAGNOSTICIAN.md, "Symptom hints").
SYMPTOM_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"too many clients|connection slots|max_connections|connection pool|new connections|"
        r"connections? (?:are |get )?(?:rejected|refused)",
        ("connection_exhaustion", "role_connection_limit"),
    ),
    (r"connection limit|too many connections for", ("role_connection_limit",)),
    (
        r"deadlock|rolled back|roll(?:ed)? back|retry|retrying|aborted|40P01|\berrors?\b|\bfail|"
        r"fail(?:s|ed)? with (?:an? )?(?:database |db |sql )?error|transactions? (?:fail|error)",
        ("deadlock",),
    ),
    (
        r"\blocks?\b|locked|blocked|blocking|hang|hanging|hung|stuck|waiting|queue|never finish",
        ("lock_blocking", "idle_in_transaction", "long_running_query"),
    ),
    (
        r"idle in transaction|uncommitted|open transaction|forgot to commit|never commit",
        ("idle_in_transaction",),
    ),
    (r"long[- ]running|for hours|never finish|running forever|slow quer", ("long_running_query",)),
    (
        r"bloat|dead (?:tuples|rows)|vacuum|table health|more disk|keeps growing|grows?",
        ("table_bloat",),
    ),
    (
        r"disk(?! reads?\b| read activity| i/?o)|space|storage|\bfull\b|volume|filesystem",
        ("disk_pressure", "wal_accumulation", "table_bloat"),
    ),
    (r"\bwal\b|pg_wal|replication slot|archiv", ("wal_accumulation",)),
    (
        r"replica|standby|stale|\blag|behind|replication|out of date|missing there",
        ("replication_lag",),
    ),
    (
        r"read[- ]only|cannot execute (?:insert|update|delete)|writes? (?:fail|are "
        r"rejected)|cannot write|"
        r"inserts? fail|updates? fail",
        ("read_only",),
    ),
    (r"time ?outs?|timed out|cancel|canceling|cancelled|canceled", ("statement_timeout",)),
    (
        r"sequence|nextval|maximum value|out of range|new (?:ids|rows|orders)|inserts? fail",
        ("sequence_exhaustion",),
    ),
    (r"cache|hit ratio|disk read|\bi/?o\b|read activity|reads? from disk", ("cache_performance",)),
    (r"seq(?:uential)? scans?|full (?:table )?scans?|\bindex|lookups?", ("missing_index",)),
    (
        r"\bslow|slower|sluggish|takes? (?:several times )?longer",
        ("cache_performance", "missing_index", "long_running_query", "table_bloat"),
    ),
)


@dataclass
class Request:
    """The person's message, its connection targets and the symptom hints found in it."""

    message: str
    primary: str | None = None
    replica: str | None = None
    others: list[str] = field(default_factory=list)
    hints: set[str] = field(default_factory=set)

    def mentions(self, word: str) -> bool:
        return (
            bool(word)
            and re.search(rf"\b{re.escape(word)}\b", self.message, re.IGNORECASE) is not None
        )

    @property
    def reports_failures(self) -> bool:
        """The person reports statements or jobs failing with errors (not merely slow)."""
        return _FAILURE_WORDS.search(self.message) is not None


_FAILURE_WORDS = re.compile(
    r"\berrors?\b|\bfail(?:s|ed|ing|ures?)?\b|\babort(?:s|ed)?\b|\bcrash(?:es|ed)?\b",
    re.IGNORECASE,
)


def _clean(candidate: str) -> str:
    return candidate.strip().rstrip(".,;:!?)`'\"").strip()


def find_targets(message: str) -> list[tuple[str, int]]:
    """(connection string or alias, position) in order of appearance."""
    found: list[tuple[str, int]] = []
    for match in _KV_RUN.finditer(message):
        run = _clean(match.group(0))
        if re.search(r"\b(host|dbname|port|user|service)\s*=", run, re.IGNORECASE):
            found.append((run, match.start()))
    for match in _URI.finditer(message):
        found.append((_clean(match.group(0)), match.start()))
    config = _infra_config()
    known = {s.name for s in config.db_servers} if config else set()
    for match in _NAMED.finditer(message):
        value = _clean(match.group(1))
        if "=" not in value and not any(value in t for t, _ in found):
            found.append((value, match.start(1)))
    for alias in known:
        for match in re.finditer(rf"(?<![\w=-]){re.escape(alias)}(?![\w-])", message):
            if not any(alias == t for t, _ in found):
                found.append((alias, match.start()))
    return sorted(found, key=lambda item: item[1])


def _infra_config() -> infra.InfraConfig | None:
    try:
        return infra.load()
    except infra.InfraConfigError:
        return None


def parse(message: str) -> Request:
    """Extract the targets (primary first, a labelled replica apart) and the symptom hints."""
    request = Request(message=message)
    targets = find_targets(message)
    unlabelled: list[str] = []
    for target, position in targets:
        before = message[max(0, position - 80) : position]
        last_replica = max((m.end() for m in _REPLICA_WORDS.finditer(before)), default=-1)
        last_primary = max((m.end() for m in _PRIMARY_WORDS.finditer(before)), default=-1)
        if last_replica > last_primary and request.replica is None:
            request.replica = target
        elif last_primary > last_replica and request.primary is None:
            request.primary = target
        else:
            unlabelled.append(target)
    for target in unlabelled:
        if request.primary is None:
            request.primary = target
        elif target not in (request.primary, request.replica):
            request.others.append(target)
    lowered = message.lower()
    for target, _ in targets:
        lowered = lowered.replace(target.lower(), " ")
    for pattern, categories in SYMPTOM_HINTS:
        if re.search(pattern, lowered):
            request.hints.update(categories)
    return request
