"""Text matching for the evaluator: whole-word phrases, prompt echoes, category mentions.

Pure string functions, case-insensitive. Also infers a diagnosis category from free
text by explicit rules, for agents that return text only and no judge is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from helpdesk.taxonomy import CATEGORIES, NAMES

_WORD_CHAR = "0-9A-Za-z_"
_TOKEN = re.compile(r"[0-9a-z_]+")

# Phrases that point at a category in free text. Deliberately specific: a phrase
# that an answer about another category would use too (e.g. "connections") is left out.
INDICATORS: dict[str, tuple[str, ...]] = {
    "connection_exhaustion": (
        "too many clients",
        "connection slots",
        "remaining connection slots",
        "max_connections reached",
        "all connection slots",
    ),
    "role_connection_limit": (
        "connection limit",
        "rolconnlimit",
        "datconnlimit",
        "too many connections for role",
        "too many connections for database",
    ),
    "connection_refused": (
        "connection refused",
        "not accepting connections",
        "server is not running",
        "is the server running",
        "server is down",
    ),
    "authentication_failure": (
        "password authentication failed",
        "authentication failed",
        "wrong password",
        "invalid password",
        "incorrect password",
    ),
    "hba_rejection": ("pg_hba.conf", "pg_hba", "no pg_hba.conf entry"),
    "database_not_found": ("database does not exist", "no such database", "nonexistent database"),
    "connection_not_permitted": (
        "not permitted to log in",
        "nologin",
        "datallowconn",
        "does not allow connections",
    ),
    "lock_blocking": (
        "blocked by",
        "lock wait",
        "waiting for a lock",
        "blocking session",
        "lock contention",
    ),
    "deadlock": ("deadlock", "deadlock detected", "deadlocks"),
    "idle_in_transaction": ("idle in transaction", "idle_in_transaction_session_timeout"),
    "long_running_query": ("long-running query", "long running query", "running for a long time"),
    "table_bloat": ("dead tuples", "n_dead_tup", "bloat", "bloated", "dead rows"),
    "cache_performance": (
        "cache hit ratio",
        "cache miss",
        "buffer cache",
        "hit ratio",
        "blks_read",
    ),
    "missing_index": ("missing index", "sequential scan", "seq scan", "no index"),
    "replication_lag": (
        "replication lag",
        "replay lag",
        "replay is paused",
        "replay paused",
        "standby is behind",
    ),
    "wal_accumulation": ("replication slot", "inactive slot", "retained wal", "wal retained"),
    "disk_pressure": ("disk full", "no space left", "out of disk", "disk space"),
    "read_only": (
        "read-only transaction",
        "default_transaction_read_only",
        "read only",
        "read-only",
    ),
    "statement_timeout": ("statement timeout", "statement_timeout", "canceling statement"),
    "sequence_exhaustion": ("reached maximum value of sequence", "sequence exhaustion", "nextval"),
    "server_crash": ("crashed", "crash recovery", "terminated by signal", "server crash"),
    "bad_configuration": ("invalid value for parameter", "configuration file contains errors"),
    "pod_crash_loop": ("crashloopbackoff", "crash loop", "back-off restarting"),
    "pod_unschedulable": (
        "unschedulable",
        "failedscheduling",
        "insufficient cpu",
        "insufficient memory",
    ),
    "image_pull_failure": ("imagepullbackoff", "errimagepull", "image pull"),
    "no_endpoints": ("no endpoints", "endpoints are empty", "no ready endpoints"),
    "pvc_pending": ("persistentvolumeclaim", "storageclass", "pvc pending", "pvc is pending"),
    "oom_killed": ("oomkilled", "out of memory", "oom killed", "oom-killed"),
    "scaled_to_zero": ("scaled to zero", "replicas: 0", "zero replicas", "0 replicas"),
    "probe_failure": ("readiness probe", "liveness probe", "probe failed"),
    "config_missing": ("createcontainerconfigerror", "configmap not found", "secret not found"),
}

_LABEL = re.compile(
    r"(?:root\s+cause|diagnosis|category)(?:\s+category)?\s*(?:is|was)?\s*[:=\-]?\s*"
    r"(?:an?\s+|the\s+)?[`*\"'_]*([a-z][a-z_ \-]{2,40})",
    re.IGNORECASE,
)


@lru_cache(maxsize=2048)
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A case-insensitive pattern that finds `phrase` as whole words (any whitespace between)."""
    words = phrase.strip().split()
    if not words:
        raise ValueError("empty phrase")
    body = r"\s+".join(re.escape(word) for word in words)
    head = f"(?<![{_WORD_CHAR}])" if re.match(f"[{_WORD_CHAR}]", words[0][0]) else ""
    tail = f"(?![{_WORD_CHAR}])" if re.match(f"[{_WORD_CHAR}]", words[-1][-1]) else ""
    return re.compile(head + body + tail, re.IGNORECASE)


_NEGATIONS = frozenset(
    {"not", "no", "never", "isn", "wasn", "nor", "without", "ruled", "rule", "unlikely", "than"}
)


def affirmed(text: str, phrase: str, window: int = 4) -> bool:
    """True when `phrase` occurs at least once without a negation among the words just before.

    "not a deadlock", "ruled out replication lag", "rather than table bloat" are not affirmed.
    """
    if not phrase.strip():
        return False
    for match in phrase_pattern(phrase).finditer(text):
        before = tokens(text[: match.start()])[-window:]
        if not _NEGATIONS.intersection(before):
            return True
    return False


def contains(text: str, phrase: str) -> bool:
    """True when `phrase` occurs in `text` as whole words, ignoring case."""
    return bool(phrase.strip()) and phrase_pattern(phrase).search(text) is not None


def found(text: str, phrases: Iterable[str]) -> list[str]:
    """The phrases (in the order given) that occur in `text` as whole words."""
    return [p for p in phrases if contains(text, p)]


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _shingles(words: list[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def echo_ratio(answer: str, prompt: str, size: int = 3) -> float:
    """Share of the answer's word sequences (3 words) that are copied from the prompt.

    1.0 for a verbatim echo, near 0 for an answer in its own words. Very short answers
    are compared word by word.
    """
    answer_words, prompt_words = tokens(answer), tokens(prompt)
    if not answer_words or not prompt_words:
        return 0.0
    if len(answer_words) < size or len(prompt_words) < size:
        return sum(w in set(prompt_words) for w in answer_words) / len(answer_words)
    mine = _shingles(answer_words, size)
    return len(mine & _shingles(prompt_words, size)) / len(mine)


def category_forms(name: str) -> tuple[str, ...]:
    """How a category name is written in prose: `table_bloat`, `table bloat`, `table-bloat`."""
    spaced = name.replace("_", " ")
    return tuple(dict.fromkeys((name, spaced, name.replace("_", "-"))))


def named_categories(text: str, *, affirmed_only: bool = False) -> set[str]:
    """Taxonomy categories that `text` names explicitly (in any of their written forms)."""
    match = affirmed if affirmed_only else contains
    return {c.name for c in CATEGORIES if any(match(text, f) for f in category_forms(c.name))}


def indicated_categories(text: str, *, affirmed_only: bool = False) -> dict[str, int]:
    """Per category, how many of its indicator phrases `text` contains (zero counts omitted)."""
    match = affirmed if affirmed_only else contains
    hits = {name: sum(match(text, p) for p in phrases) for name, phrases in INDICATORS.items()}
    return {name: n for name, n in hits.items() if n}


def labelled_categories(text: str) -> set[str]:
    """Categories given after a label such as `Root cause: table_bloat` or `Category: deadlock`."""
    labelled = set()
    for match in _LABEL.finditer(text):
        candidate = match.group(1).strip().lower()
        for name in NAMES:
            if any(candidate.startswith(form) for form in category_forms(name)):
                labelled.add(name)
    return labelled


def infer_category(text: str, max_candidates: int = 3) -> tuple[str | None, str]:
    """The one category a text-only answer commits to, by rule, and why (or None and why).

    Conservative: a text naming more than `max_candidates` categories commits to none; a
    labelled root cause wins if it names exactly one category; else affirmed (not negated)
    explicit names (2 points each) and indicator phrases (1 point each) are counted and the
    top category must lead strictly.
    """
    named = named_categories(text)
    if len(named) > max_candidates:
        return None, f"the text names {len(named)} categories, not one"
    labelled = labelled_categories(text)
    if len(labelled) == 1:
        name = next(iter(labelled))
        return name, f"labelled root cause {name!r}"
    points = dict(indicated_categories(text, affirmed_only=True))
    for name in named_categories(text, affirmed_only=True):
        points[name] = points.get(name, 0) + 2
    if not points:
        return None, "the text names no diagnosis category"
    if len(points) > max_candidates:
        return None, f"the text points at {len(points)} categories, not one"
    ranked = sorted(points.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None, f"no clear category: {ranked[0][0]} and {ranked[1][0]} tie"
    return ranked[0][0], f"inferred from the text by rule ({ranked[0][1]} point(s))"
