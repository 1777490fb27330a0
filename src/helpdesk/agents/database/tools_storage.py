"""Tools about data at rest: tables, vacuum, index use, sequences and disk usage."""

from __future__ import annotations

import psycopg

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.database import tables
from helpdesk.agents.database.execution import one, optional_rows, rows, run


def exclusive_locked(*oids: str) -> str:
    """SQL: someone holds or awaits an ACCESS EXCLUSIVE lock on one of these relations."""
    return (
        f"EXISTS (SELECT 1 FROM pg_locks l WHERE l.relation IN ({', '.join(oids)}) "
        "AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid())"
    )


def sized(func: str, oid: str, *guarded: str) -> str:
    """`func(oid)` unless the relation is ACCESS EXCLUSIVE locked (or that lock is awaited).

    Size functions take an ACCESS SHARE lock and would queue behind such a lock until the
    tool's lock_timeout; then the planner's estimate (relpages) stands in.
    """
    return (
        f"(CASE WHEN {exclusive_locked(oid, *guarded)} "
        f"THEN (SELECT relpages::bigint * current_setting('block_size')::bigint FROM pg_class "
        f"WHERE oid = {oid}) ELSE {func}({oid}) END)"
    )


_TABLE_STATS = f"""
SELECT s.schemaname || '.' || s.relname AS table_name, s.schemaname, s.relname,
       s.n_live_tup, s.n_dead_tup,
       CASE WHEN s.n_live_tup + s.n_dead_tup > 0
            THEN round(s.n_dead_tup::numeric / (s.n_live_tup + s.n_dead_tup), 3)::float8 ELSE 0 END
         AS dead_ratio,
       s.seq_scan, s.seq_tup_read,
       CASE WHEN s.seq_scan > 0 THEN round(s.seq_tup_read::numeric / s.seq_scan)::bigint END
         AS avg_rows_per_seq_scan,
       coalesce(s.idx_scan, 0) AS idx_scan, s.n_tup_ins, s.n_tup_upd, s.n_tup_del,
       s.n_mod_since_analyze,
       io.heap_blks_read, io.heap_blks_hit,
       CASE WHEN io.heap_blks_read + io.heap_blks_hit > 0
            THEN round(io.heap_blks_hit::numeric / (io.heap_blks_read + io.heap_blks_hit),
                4)::float8 END
         AS heap_hit_ratio,
       {sized("pg_total_relation_size", "s.relid")} AS total_bytes,
       {sized("pg_relation_size", "s.relid")} AS table_bytes,
       c.reltuples::bigint AS reltuples,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = s.relid)::int AS index_count,
       coalesce(c.reloptions::text[] && ARRAY['autovacuum_enabled=false', 'autovacuum_enabled=off'],
                false) AS autovacuum_disabled,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
       s.vacuum_count, s.autovacuum_count
FROM pg_stat_user_tables s
JOIN pg_statio_user_tables io ON io.relid = s.relid
JOIN pg_class c ON c.oid = s.relid
"""

_ORDER = {
    "dead": "s.n_dead_tup DESC",
    "size": "total_bytes DESC",
    "seq_scan": "s.seq_tup_read DESC",
    "reads": "io.heap_blks_read DESC",
}


def get_table_stats(
    connection_string: str, table: str = "", order_by: str = "dead", limit: int = 15
) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        where, params = "", None
        if table:
            where = "WHERE s.relname = %(t)s OR s.schemaname || '.' || s.relname = %(t)s"
            params = {"t": table}
        found = rows(conn, f"{_TABLE_STATS} {where} ORDER BY {_ORDER[order_by]} LIMIT 500", params)
        for r in found:
            r["total_size"] = tables.size(r["total_bytes"])
        text = tables.render(
            found,
            [
                "table_name",
                "n_live_tup",
                "n_dead_tup",
                "dead_ratio",
                "seq_scan",
                "avg_rows_per_seq_scan",
                "idx_scan",
                "heap_hit_ratio",
                "total_size",
                "autovacuum_disabled",
                "last_autovacuum",
            ],
            cap=limit,
            title=f"user tables by {order_by} ({len(found)} tables)",
            empty="(no user tables)" if not table else f"(no table {table!r})",
        )
        return ToolOutput(text=text, data={"tables": found})

    return run(connection_string, body)


def get_vacuum_status(connection_string: str, limit: int = 15) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        settings = one(
            conn,
            """SELECT current_setting('autovacuum') AS autovacuum,
                      current_setting('autovacuum_naptime') AS naptime,
                      current_setting('autovacuum_vacuum_threshold')::int AS vacuum_threshold,
                      current_setting('autovacuum_vacuum_scale_factor')::float8 AS
                          vacuum_scale_factor,
                      current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age,
                      current_setting('autovacuum_max_workers')::int AS max_workers""",
        )
        overdue = rows(
            conn,
            """SELECT s.schemaname || '.' || s.relname AS table_name, s.n_live_tup, s.n_dead_tup,
                      round(current_setting('autovacuum_vacuum_threshold')::int
                            + current_setting('autovacuum_vacuum_scale_factor')::float8
                              * greatest(c.reltuples, 0))::bigint AS autovacuum_trigger,
                      coalesce(c.reloptions::text[] && ARRAY['autovacuum_enabled=false',
                               'autovacuum_enabled=off'], false) AS autovacuum_disabled,
                      s.last_vacuum, s.last_autovacuum, s.autovacuum_count,
                      age(c.relfrozenxid) AS xid_age
               FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
               WHERE s.n_dead_tup > 0 OR c.reloptions::text[] && ARRAY['autovacuum_enabled=false',
                                                                      'autovacuum_enabled=off']
               ORDER BY s.n_dead_tup DESC LIMIT 100""",
        )
        running = rows(
            conn,
            """SELECT p.pid, p.datname, p.relid::regclass::text AS table_name, p.phase,
                      p.heap_blks_total, p.heap_blks_scanned,
                      round(extract(epoch FROM now() - a.xact_start)::numeric, 1)::float8 AS
                          running_s
               FROM pg_stat_progress_vacuum p LEFT JOIN pg_stat_activity a ON a.pid = p.pid""",
        )
        horizon = rows(
            conn,
            """SELECT 'session' AS kind, pid::text AS holder, state,
                      age(backend_xmin) AS xmin_age,
                      round(extract(epoch FROM now() - xact_start)::numeric, 1)::float8 AS age_s
               FROM pg_stat_activity WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid()
                 AND backend_type = 'client backend'
               UNION ALL
               SELECT 'replication slot', slot_name, CASE WHEN active THEN 'active' ELSE
                   'inactive' END,
                      greatest(age(xmin), age(catalog_xmin)), NULL
               FROM pg_replication_slots WHERE xmin IS NOT NULL OR catalog_xmin IS NOT NULL
               UNION ALL
               SELECT 'prepared transaction', gid, 'prepared', age(transaction),
                      round(extract(epoch FROM now() - prepared)::numeric, 1)::float8
               FROM pg_prepared_xacts
               ORDER BY xmin_age DESC NULLS LAST LIMIT 10""",
        )
        wraparound = rows(
            conn,
            """SELECT datname, age(datfrozenxid) AS xid_age,
                      round(100.0 * age(datfrozenxid) / 2147483647, 1)::float8 AS pct_to_wraparound
               FROM pg_database ORDER BY 2 DESC""",
        )
        for r in overdue:
            r["needs_vacuum"] = r["n_dead_tup"] > r["autovacuum_trigger"]
        data = {
            "settings": settings,
            "tables": overdue,
            "running": running,
            "xmin_horizon": horizon,
            "wraparound": wraparound,
        }
        text = "\n\n".join(
            [
                tables.pairs(settings, "autovacuum settings"),
                tables.render(
                    overdue,
                    [
                        "table_name",
                        "n_live_tup",
                        "n_dead_tup",
                        "autovacuum_trigger",
                        "needs_vacuum",
                        "autovacuum_disabled",
                        "last_vacuum",
                        "last_autovacuum",
                        "xid_age",
                    ],
                    cap=limit,
                    title="tables with dead tuples",
                    empty="(no dead tuples)",
                ),
                tables.render(running, title="vacuums running now", empty="(none)"),
                tables.render(
                    horizon,
                    title="oldest snapshots holding back cleanup (xmin horizon)",
                    empty="(none)",
                ),
                tables.render(wraparound[:5], title="transaction ID age per database"),
            ]
        )
        return ToolOutput(text=text, data=data)

    return run(connection_string, body)


def get_index_usage(connection_string: str, limit: int = 15) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        scanned = rows(
            conn,
            f"""SELECT s.schemaname || '.' || s.relname AS table_name, s.n_live_tup, s.seq_scan,
                      s.seq_tup_read,
                      CASE WHEN s.seq_scan > 0 THEN round(s.seq_tup_read::numeric /
                          s.seq_scan)::bigint END
                        AS avg_rows_per_seq_scan,
                      coalesce(s.idx_scan, 0) AS idx_scan,
                      {sized("pg_relation_size", "s.relid")} AS table_bytes,
                      (SELECT greatest(c.reltuples, 0)::bigint FROM pg_class c WHERE c.oid =
                          s.relid)
                        AS reltuples,
                      CASE WHEN {exclusive_locked("s.relid")} THEN '(table locked: not read)'
                           ELSE (SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ')
                                   FROM pg_index i WHERE i.indrelid = s.relid) END AS indexes
               FROM pg_stat_user_tables s WHERE s.seq_scan > 0
               ORDER BY s.seq_tup_read DESC LIMIT 50""",
        )
        unused = rows(
            conn,
            f"""SELECT s.schemaname || '.' || s.relname AS table_name, s.indexrelname AS index_name,
                      s.idx_scan, {sized("pg_relation_size", "s.indexrelid", "s.relid")} AS
                          index_bytes
               FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
               WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
               ORDER BY index_bytes DESC LIMIT 20""",
        )
        for r in scanned:
            r["table_size"] = tables.size(r["table_bytes"])
        text = "\n\n".join(
            [
                tables.render(
                    scanned,
                    [
                        "table_name",
                        "n_live_tup",
                        "seq_scan",
                        "avg_rows_per_seq_scan",
                        "idx_scan",
                        "table_size",
                        "indexes",
                    ],
                    cap=limit,
                    title="tables read by sequential scans (most rows read first)",
                    empty="(none)",
                ),
                tables.render(unused, title="indexes never used (not unique)", empty="(none)"),
            ]
        )
        return ToolOutput(text=text, data={"tables": scanned, "unused_indexes": unused})

    return run(connection_string, body)


def get_sequence_usage(connection_string: str, limit: int = 15) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        found = rows(
            conn,
            """WITH seq AS (
                 SELECT s.schemaname || '.' || s.sequencename AS sequence_name, s.data_type::text,
                        s.last_value, s.min_value, s.max_value, s.increment_by, s.cycle,
                        (SELECT a.attrelid::regclass::text || '.' || a.attname || ' ' ||
                                format_type(a.atttypid, a.atttypmod)
                           FROM pg_depend d JOIN pg_attribute a
                             ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                          WHERE d.objid = (quote_ident(s.schemaname) || '.' ||
                                           quote_ident(s.sequencename))::regclass
                            AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                          LIMIT 1) AS owned_by,
                        (SELECT a.atttypid::regtype::text
                           FROM pg_depend d JOIN pg_attribute a
                             ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                          WHERE d.objid = (quote_ident(s.schemaname) || '.' ||
                                           quote_ident(s.sequencename))::regclass
                            AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                          LIMIT 1) AS column_type
                 FROM pg_sequences s)
               SELECT *, least(max_value, CASE column_type WHEN 'smallint' THEN 32767
                                                           WHEN 'integer' THEN 2147483647
                                                           ELSE max_value END) AS effective_max
               FROM seq""",
        )
        for r in found:
            r["pct_used"] = _pct_used(r)
            r["remaining"] = _remaining(r)
        found.sort(key=lambda r: -(r["pct_used"] or 0))
        text = tables.render(
            found,
            [
                "sequence_name",
                "data_type",
                "last_value",
                "effective_max",
                "increment_by",
                "cycle",
                "pct_used",
                "remaining",
                "owned_by",
            ],
            cap=limit,
            title="sequences by share of their range used",
            empty="(no sequences)",
        )
        return ToolOutput(text=text, data={"sequences": found})

    return run(connection_string, body)


def _pct_used(seq: dict) -> float | None:
    last = seq["last_value"]
    if last is None:
        return 0.0
    if seq["increment_by"] > 0:
        span = seq["effective_max"] - seq["min_value"]
        return round(100.0 * (last - seq["min_value"]) / span, 2) if span > 0 else 100.0
    span = seq["max_value"] - seq["min_value"]
    return round(100.0 * (seq["max_value"] - last) / span, 2) if span > 0 else 100.0


def _remaining(seq: dict) -> int | None:
    last = seq["last_value"]
    if last is None:
        return None
    step = abs(seq["increment_by"]) or 1
    gap = seq["effective_max"] - last if seq["increment_by"] > 0 else last - seq["min_value"]
    return max(int(gap // step), 0)


def get_disk_usage(connection_string: str, limit: int = 10) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        databases = rows(
            conn,
            """SELECT datname, pg_database_size(datname) AS size_bytes FROM pg_database
               WHERE datallowconn AND has_database_privilege(datname, 'CONNECT') ORDER BY 2 DESC""",
        )
        relations = rows(
            conn,
            f"""SELECT n.nspname || '.' || c.relname AS relation, c.relkind::text AS kind,
                      {sized("pg_total_relation_size", "c.oid")} AS total_bytes,
                      {sized("pg_relation_size", "c.oid")} AS table_bytes,
                      {sized("pg_indexes_size", "c.oid")} AS index_bytes, c.reltuples::bigint AS
                          reltuples
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog',
                   'information_schema')
                 AND n.nspname NOT LIKE 'pg_toast%%'
               ORDER BY total_bytes DESC LIMIT %s""",
            (limit,),
        )
        wal = optional_rows(
            conn,
            "SELECT count(*)::int AS files, coalesce(sum(size), 0)::bigint AS bytes "
            "FROM pg_ls_waldir()",
        )
        temp = one(
            conn,
            """SELECT coalesce(sum(temp_bytes), 0)::bigint AS temp_bytes_written,
                      coalesce(sum(temp_files), 0)::bigint AS temp_files_written,
                      pg_size_bytes(current_setting('max_wal_size')) AS max_wal_size_bytes,
                      current_setting('temp_file_limit') AS temp_file_limit
               FROM pg_stat_database""",
        )
        spaces = rows(
            conn,
            """SELECT spcname, pg_tablespace_location(oid) AS location,
                      pg_tablespace_size(oid) AS size_bytes FROM pg_tablespace
               WHERE has_tablespace_privilege(oid, 'CREATE') OR spcname IN ('pg_default',
                   'pg_global')""",
        )
        summary = {
            "databases_total": tables.size(sum(d["size_bytes"] for d in databases)),
            "wal_dir": f"{wal[0]['files']} files, {tables.size(wal[0]['bytes'])}"
            if wal
            else "not readable",
            "max_wal_size": tables.size(temp["max_wal_size_bytes"]),
            "temp_written_since_reset": tables.size(temp["temp_bytes_written"]),
            "temp_file_limit": temp["temp_file_limit"],
        }
        for r in databases + spaces:
            r["size"] = tables.size(r["size_bytes"])
        for r in relations:
            r["total"], r["indexes"] = tables.size(r["total_bytes"]), tables.size(r["index_bytes"])
        text = "\n\n".join(
            [
                tables.pairs(
                    summary, "disk usage (PostgreSQL cannot see free space on the volume)"
                ),
                tables.render(databases, ["datname", "size"], cap=limit, title="databases"),
                tables.render(
                    relations,
                    ["relation", "kind", "total", "indexes", "reltuples"],
                    cap=limit,
                    title=f"largest relations in {conn.info.dbname}",
                ),
                tables.render(spaces, ["spcname", "location", "size"], title="tablespaces"),
            ]
        )
        data = {
            "databases": databases,
            "relations": relations,
            "tablespaces": spaces,
            "wal": wal[0] if wal else None,
            **temp,
        }
        return ToolOutput(text=text, data=data)

    return run(connection_string, body)
