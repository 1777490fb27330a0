"""Rules about data at rest: bloat, cache hit ratio, missing indexes, sequences and disk."""

from __future__ import annotations

import re
from typing import Any

from helpdesk.agents.database.diagnostician.findings import (
    BLOAT_MIN_DEAD,
    BLOAT_MIN_RATIO,
    CACHE_LOW_RATIO,
    CACHE_MIN_READS,
    CACHE_WARN_RATIO,
    CACHE_WARN_READS,
    DISK_FULL_RECENT_S,
    DISK_FULL_WINDOW_S,
    DISK_TABLE_MIN_BYTES,
    DISK_TABLE_SHARE,
    INDEX_FULL_SCAN_SHARE,
    INDEX_MANY_SEQ_SCANS,
    INDEX_MIN_ROWS,
    INDEX_MIN_SEQ_SCANS,
    INDEX_SELECTIVE_SHARE,
    SEQUENCE_HIGH_PCT,
    SEQUENCE_WARN_PCT,
    TEMP_BYTES_HIGH,
    Finding,
)
from helpdesk.agents.database.diagnostician.investigation import Node
from helpdesk.agents.database.diagnostician.request import Request
from helpdesk.agents.database.tables import cell, size


def _tables(node: Node) -> list[dict[str, Any]]:
    stats = node.data("get_table_stats")
    return stats["tables"] if stats else []


def bloat(node: Node, request: Request) -> list[Finding]:
    vacuum = node.data("get_vacuum_status") or {"tables": [], "xmin_horizon": []}
    triggers = {t["table_name"]: t["autovacuum_trigger"] for t in vacuum["tables"]}
    bloated = [
        t
        for t in _tables(node)
        if t["n_dead_tup"] >= BLOAT_MIN_DEAD
        and t["dead_ratio"] >= BLOAT_MIN_RATIO
        and t["n_dead_tup"] > triggers.get(t["table_name"], 50 + 0.2 * t["n_live_tup"])
    ]
    if not bloated:
        return []
    bloated.sort(key=lambda t: -t["n_dead_tup"])
    worst = bloated[0]
    severity = (
        45
        + int(40 * worst["dead_ratio"])
        + (10 if worst["autovacuum_disabled"] else 0)
        + (5 if worst["n_dead_tup"] >= 50_000 else 0)
    )
    evidence = [
        f"{t['table_name']}: {t['n_dead_tup']} dead / {t['n_live_tup']} live tuples "
        f"({t['dead_ratio']:.0%} dead), {size(t['total_bytes'])} on disk, autovacuum "
        f"{'DISABLED on the table' if t['autovacuum_disabled'] else 'enabled'}, last vacuum "
        f"{t['last_vacuum'] or 'never'}, last autovacuum {t['last_autovacuum'] or 'never'}"
        for t in bloated[:3]
    ]
    holders = [
        h
        for h in vacuum["xmin_horizon"]
        if h["kind"] != "replication slot" or h["state"] == "inactive"
    ]
    if holders:
        h = holders[0]
        evidence.append(
            f"oldest snapshot holding back cleanup: {h['kind']} {h['holder']} "
            f"(xmin age {h['xmin_age']})"
        )
    name = worst["table_name"]
    actions = [
        f"`VACUUM (VERBOSE, ANALYZE) {name};` removes the dead tuples (no long lock).",
        f"`VACUUM (FULL, ANALYZE) {name};` gives the space back to the OS (takes an ACCESS "
        "EXCLUSIVE lock; pg_repack avoids that).",
    ]
    if worst["autovacuum_disabled"]:
        actions.append(
            f"Re-enable autovacuum on it: `ALTER TABLE {name} RESET (autovacuum_enabled);`"
        )
    return [
        Finding(
            "table_bloat",
            min(severity, 95),
            f"Table {name} is bloated: {worst['n_dead_tup']} dead tuples against "
            f"{worst['n_live_tup']} live "
            f"({worst['dead_ratio']:.0%} dead) and vacuum has not cleaned it"
            + (" because autovacuum is disabled on it." if worst["autovacuum_disabled"] else "."),
            evidence,
            actions,
            explains=("disk_pressure",),
        )
    ]


def _shared_buffers_bytes(node: Node) -> int | None:
    cfg = node.data("get_config_parameter") or {"settings": {}}
    sb = cfg["settings"].get("shared_buffers")
    return int(sb["setting"]) * 8192 if sb and sb.get("unit") == "8kB" else None


def _shared_buffers(node: Node) -> str:
    cfg = node.data("get_config_parameter") or {"settings": {}}
    sb = cfg["settings"].get("shared_buffers")
    if not sb:
        return "?"
    return (
        size(int(sb["setting"]) * 8192)
        if sb.get("unit") == "8kB"
        else f"{sb['setting']}{sb.get('unit') or ''}"
    )


def cache(node: Node, request: Request) -> list[Finding]:
    stats = node.data("get_database_stats")
    current = next((d for d in stats["databases"] if d["is_current"]), None) if stats else None
    if not current or current["cache_hit_ratio"] is None or current["blks_read"] < CACHE_MIN_READS:
        return []
    ratio = current["cache_hit_ratio"]
    if ratio < CACHE_LOW_RATIO:
        severity = 60 + min(30, int((CACHE_LOW_RATIO - ratio) * 100))
    elif ratio < CACHE_WARN_RATIO and current["blks_read"] >= CACHE_WARN_READS:
        severity = 42
    else:
        return []
    readers = sorted(
        (t for t in _tables(node) if t["heap_blks_read"]), key=lambda t: -t["heap_blks_read"]
    )
    evidence = [
        f"database {current['datname']}: cache hit ratio {ratio:.3f} (blks_hit "
        f"{current['blks_hit']}, "
        f"blks_read {current['blks_read']}) over the last {current['stats_age_s']:.0f} s of "
        "statistics",
        f"shared_buffers = {_shared_buffers(node)}",
    ]
    buffers = _shared_buffers_bytes(node)
    evidence += [
        f"{t['table_name']}: {t['heap_blks_read']} blocks read from outside the cache, table hit "
        f"ratio {t['heap_hit_ratio'] if t['heap_hit_ratio'] is not None else '?'}, "
        f"{size(t['total_bytes'])}"
        + (" (larger than shared_buffers)" if buffers and (t["total_bytes"] or 0) > buffers else "")
        + f", {t['seq_scan']} sequential scans"
        for t in readers[:2]
    ]
    heavy = _statements(node)
    if heavy:
        top = max(heavy, key=lambda s: s["shared_blks_read"])
        evidence.append(
            f"statement reading most blocks: `{cell(top['query'], 100)}` ({top['calls']} calls, "
            f"{top['shared_blks_read']} blocks read)"
        )
    where = readers[0]["table_name"] if readers else "the hot tables"
    return [
        Finding(
            "cache_performance",
            severity,
            f"The buffer cache hit ratio of {current['datname']} is {ratio:.1%}: most reads miss "
            f"shared_buffers and go to disk, mainly for {where}.",
            evidence,
            [
                f"Stop the full scans of {where}: add an index that serves the query's filter, or "
                "narrow the query.",
                "If the working set must stay cached, raise shared_buffers (`ALTER SYSTEM SET "
                "shared_buffers = "
                "'<about 25% of RAM>';` then restart) and check effective_cache_size.",
            ],
        )
    ]


def _statements(node: Node) -> list[dict[str, Any]]:
    slow = node.data("get_slow_queries")
    return slow["statements"] if slow and slow.get("available") else []


_FROM = re.compile(r'\bFROM\s+(?:"?(\w+)"?\.)?"?(\w+)"?', re.IGNORECASE)
_PREDICATE = re.compile(
    r'\bWHERE\s+(?:\w+\.)?"?(\w+)"?\s*(?:=|<=?|>=?|\bIN\s*\(|\bBETWEEN\b|\bLIKE\b)\s*(?:\$\d|\'|\d)',
    re.IGNORECASE,
)


def _selective_lookups(
    node: Node, table: dict[str, Any], rows: int
) -> list[tuple[dict[str, Any], str]]:
    schema, name = table["table_name"].split(".", 1)
    found = []
    for stmt in _statements(node):
        refs = {(m.group(1) or schema, m.group(2)) for m in _FROM.finditer(stmt["query"])}
        predicate = _PREDICATE.search(stmt["query"])
        if (schema, name) not in refs or predicate is None or stmt["calls"] < INDEX_MIN_SEQ_SCANS:
            continue
        if stmt["rows_per_call"] <= max(1.0, INDEX_SELECTIVE_SHARE * rows):
            found.append((stmt, predicate.group(1)))
    return found


def _indexed(indexes: str | None, column: str) -> bool:
    return (
        bool(indexes)
        and re.search(rf"\(\s*\"?{re.escape(column)}\"?\s*[,)]", indexes or "") is not None
    )


def missing_index(node: Node, request: Request) -> list[Finding]:
    usage = node.data("get_index_usage")
    if not usage:
        return []
    findings = []
    for table in usage["tables"]:
        # n_live_tup can double count right after a bulk load followed by ANALYZE; the planner's
        # reltuples is the steadier size when there is one.
        rows = (
            min(v for v in (table["n_live_tup"] or 0, table.get("reltuples") or 0) if v)
            if (table["n_live_tup"] or table.get("reltuples"))
            else 0
        )
        full_scans = (table["avg_rows_per_seq_scan"] or 0) >= INDEX_FULL_SCAN_SHARE * rows
        if rows < INDEX_MIN_ROWS or table["seq_scan"] < INDEX_MIN_SEQ_SCANS or not full_scans:
            continue
        lookups = [
            (s, c)
            for s, c in _selective_lookups(node, table, rows)
            if not _indexed(table["indexes"], c)
        ]
        name = table["table_name"]
        scans = (
            f"{name}: {table['seq_scan']} sequential scans reading "
            f"{table['avg_rows_per_seq_scan']} rows "
            f"each ({rows} live rows, {size(table['table_bytes'])}), {table['idx_scan']} index "
            "scans; "
            f"indexes: {table['indexes'] or 'none'}"
        )
        if lookups:
            stmt, column = max(lookups, key=lambda item: item[0]["calls"])
            findings.append(
                Finding(
                    "missing_index",
                    78 + (5 if stmt["calls"] >= 50 else 0),
                    f"Selective lookups on {name} by column {column} have no index: each of the "
                    f"{stmt['calls']} calls scans all {rows} rows to return about "
                    f"{stmt['rows_per_call']:g} row(s).",
                    [
                        scans,
                        f"statement: `{cell(stmt['query'], 120)}`: {stmt['calls']} calls, "
                        f"{stmt['rows_per_call']:g} rows per call, mean {stmt['mean_ms']} ms, "
                        f"{stmt['blocks_per_call']} blocks per call",
                    ],
                    [f"`CREATE INDEX CONCURRENTLY ON {name} ({column});` then `ANALYZE {name};`"],
                    explains=("cache_performance", "long_running_query"),
                )
            )
        elif (
            table["seq_scan"] >= INDEX_MANY_SEQ_SCANS and table["idx_scan"] * 10 < table["seq_scan"]
        ):
            findings.append(
                Finding(
                    "missing_index",
                    50,
                    f"{name} is read almost only by full sequential scans ({table['seq_scan']} of "
                    "them).",
                    [scans],
                    [
                        f"Find the filter columns of the queries on {name} (pg_stat_statements) "
                        "and index them "
                        "with `CREATE INDEX CONCURRENTLY`."
                    ],
                )
            )
    return sorted(findings, key=lambda f: -f.severity)[:1]


def sequences(node: Node, request: Request) -> list[Finding]:
    usage = node.data("get_sequence_usage")
    log = node.data("read_server_log") or {}
    exhausted_log = log.get("counts", {}).get("sequence_max", 0)
    near = [
        s
        for s in (usage["sequences"] if usage else [])
        if (s["pct_used"] or 0) >= SEQUENCE_WARN_PCT
    ]
    if not near:
        return []
    worst = near[0]
    pct = worst["pct_used"]
    severity = 70 + min(22, int((pct - SEQUENCE_HIGH_PCT) * 2)) if pct >= SEQUENCE_HIGH_PCT else 45
    if exhausted_log:
        severity = max(severity, 90)
    evidence = [
        f"{s['sequence_name']} ({s['data_type']}): last_value {s['last_value']} of maximum "
        f"{s['effective_max']} ({s['pct_used']:.2f}% used, {s['remaining']} values left)"
        + (f", feeds {s['owned_by']}" if s["owned_by"] else "")
        for s in near[:3]
    ]
    if exhausted_log:
        evidence.append(
            f"server log: 'reached maximum value of sequence' {exhausted_log} time(s) recently"
        )
    name = worst["sequence_name"]
    actions = [f"Widen it: `ALTER SEQUENCE {name} AS bigint MAXVALUE 9223372036854775807;`"]
    if worst["owned_by"] and worst.get("column_type") in ("integer", "smallint"):
        table_col = worst["owned_by"].rsplit(" ", 1)[0]
        table, column = table_col.rsplit(".", 1)
        actions.append(
            f"The column is {worst['column_type']}: `ALTER TABLE {table} ALTER COLUMN {column} "
            "TYPE bigint;` (rewrites the table; plan a maintenance window)."
        )
    return [
        Finding(
            "sequence_exhaustion",
            severity,
            f"Sequence {name} has used {pct:.2f}% of its range: {worst['remaining']} values left "
            "before "
            "inserts fail with 'reached maximum value of sequence'.",
            evidence,
            actions,
        )
    ]


def disk(node: Node, request: Request) -> list[Finding]:
    usage = node.data("get_disk_usage")
    log = node.data("read_server_log") or {}
    counts = log.get("counts", {})
    findings = []
    last_full = log.get("last_seen_s", {}).get("disk_full")
    if last_full is not None and (
        last_full <= DISK_FULL_WINDOW_S or "disk_pressure" in request.hints
    ):
        entry = next(
            (e for e in reversed(log.get("entries", [])) if e.get("signature") == "disk_full"), None
        )
        recent = last_full <= DISK_FULL_RECENT_S
        findings.append(
            Finding(
                "disk_pressure",
                93 if recent else 60,
                "The server reports running out of disk space: writes fail with 'No space left on "
                "device'.",
                [
                    f"server log: {counts['disk_full']} disk-full error(s), the last "
                    f"{last_full:.0f} s ago"
                    + (f': "{cell(entry["message"], 160)}"' if entry else "")
                ],
                [
                    "Free space on the full volume now (old logs/backups outside PGDATA; never "
                    "delete files in "
                    "pg_wal), then grow it; get_disk_usage shows which databases and tables hold "
                    "the space."
                ],
                definitive=recent,
            )
        )
    last_spill = log.get("last_seen_s", {}).get("temp_file_limit")
    if counts.get("temp_file_limit") and last_spill is not None:
        # A spill abort is the problem when the person reports disk trouble, or failing
        # statements right after it happened; otherwise it is a side note.
        fresh = last_spill <= DISK_FULL_RECENT_S
        current = "disk_pressure" in request.hints or (fresh and request.reports_failures)
        findings.append(
            Finding(
                "disk_pressure",
                65 if current else 42,
                "Queries fail because their temporary files exceed temp_file_limit.",
                [
                    "server log: 'temporary file size exceeds temp_file_limit' "
                    f"{counts['temp_file_limit']} time(s), the last {last_spill:.0f} s ago"
                ],
                [
                    "Tune the queries that spill (more work_mem for them, better plans) or raise "
                    "temp_file_limit "
                    "if the disk allows."
                ],
            )
        )
    if not usage:
        return findings
    if usage["temp_bytes_written"] >= TEMP_BYTES_HIGH:
        findings.append(
            Finding(
                "disk_pressure",
                45,
                f"Queries wrote {size(usage['temp_bytes_written'])} of temporary files.",
                [f"pg_stat_database.temp_bytes total {usage['temp_bytes_written']}"],
                [
                    "Find the spilling statements (pg_stat_statements temp_blks_written) and give "
                    "them work_mem."
                ],
            )
        )
    if "disk_pressure" in request.hints and usage["relations"] and usage["databases"]:
        biggest = usage["relations"][0]
        db_size = next((d["size_bytes"] for d in usage["databases"]), 0) or 1
        current = max(usage["databases"], key=lambda d: d["size_bytes"])
        share = biggest["total_bytes"] / max(current["size_bytes"], db_size)
        if biggest["total_bytes"] >= DISK_TABLE_MIN_BYTES and share >= DISK_TABLE_SHARE:
            findings.append(
                Finding(
                    "disk_pressure",
                    45,
                    f"{biggest['relation']} holds most of the space: "
                    f"{size(biggest['total_bytes'])} "
                    f"({share:.0%} of the largest database).",
                    [
                        f"{biggest['relation']}: {size(biggest['total_bytes'])} total, indexes "
                        f"{biggest['indexes']}",
                        f"databases total {sum(d['size_bytes'] for d in usage['databases'])} bytes",
                    ],
                    [
                        f"Archive or drop old rows of {biggest['relation']} (partitioning makes "
                        "that cheap) and "
                        "grow the volume before it fills."
                    ],
                )
            )
    return findings
