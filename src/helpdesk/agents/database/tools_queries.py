"""The query-statistics tool: the heaviest statements from pg_stat_statements.

Degrades to a plain explanation when the extension is not installed in the database
or not preloaded. Statements that only read the system catalogs (monitoring, this
agent's own probes) are left out.
"""

from __future__ import annotations

import psycopg

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.database import tables
from helpdesk.agents.database.execution import one, optional_rows, run

_ORDER = {
    "total_time": "total_exec_time DESC",
    "mean_time": "mean_exec_time DESC",
    "calls": "calls DESC",
    "reads": "shared_blks_read DESC",
}
_CATALOG_ONLY = (
    r"\m(pg_stat_|pg_statio_|pg_settings|pg_locks|pg_class|pg_namespace|pg_database|pg_roles|"
    r"pg_sequences|pg_replication_slots|pg_ls_|pg_read_file|pg_current_|pg_is_in_recovery|"
    r"pg_db_role_setting|pg_file_settings|pg_extension|pg_index|pg_tablespace|pg_prepared_xacts|"
    r"pg_backend_pid|pg_postmaster_start_time|information_schema|pg_get_wal_replay|pg_last_wal)"
)


def get_slow_queries(
    connection_string: str, order_by: str = "total_time", limit: int = 10
) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        installed = one(
            conn,
            """SELECT (SELECT extnamespace::regnamespace::text FROM pg_extension
                        WHERE extname = 'pg_stat_statements') AS schema,
                      current_setting('shared_preload_libraries') LIKE '%%pg_stat_statements%%' AS
                          preloaded""",
            (),
        )
        if not installed["schema"] or not installed["preloaded"]:
            why = (
                "the extension is not created in this database (CREATE EXTENSION "
                "pg_stat_statements)"
                if installed["preloaded"]
                else "pg_stat_statements is not in shared_preload_libraries"
            )
            return ToolOutput(
                text=f"query statistics unavailable: {why}",
                data={"available": False, "reason": why, "statements": []},
            )
        found = optional_rows(
            conn,
            f"""SELECT queryid::text, calls, round(total_exec_time::numeric, 1)::float8 AS total_ms,
                       round(mean_exec_time::numeric, 2)::float8 AS mean_ms,
                       round(max_exec_time::numeric, 1)::float8 AS max_ms, rows,
                       round(rows::numeric / greatest(calls, 1), 1)::float8 AS rows_per_call,
                       shared_blks_hit, shared_blks_read,
                       round((shared_blks_hit + shared_blks_read)::numeric / greatest(calls,
                           1))::bigint
                         AS blocks_per_call,
                       temp_blks_written, left(query, 500) AS query
                FROM {installed["schema"]}.pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND query !~* %s AND query !~*
                      '^\\s*(SET|SHOW|RESET|BEGIN|COMMIT|ROLLBACK|DISCARD)\\M'
                ORDER BY {_ORDER[order_by]} LIMIT %s""",
            (_CATALOG_ONLY, max(limit, 25)),
        )
        if found is None:
            return ToolOutput(
                text="query statistics unavailable: this role may not read pg_stat_statements",
                data={"available": False, "reason": "privilege", "statements": []},
            )
        text = tables.render(
            [{**r, "query": tables.cell(r["query"], 70)} for r in found],
            [
                "calls",
                "total_ms",
                "mean_ms",
                "max_ms",
                "rows_per_call",
                "blocks_per_call",
                "shared_blks_read",
                "query",
            ],
            cap=limit,
            title=f"top statements by {order_by} (pg_stat_statements, this database)",
            empty="(no application statements recorded yet)",
        )
        return ToolOutput(text=text, data={"available": True, "statements": found})

    return run(connection_string, body)
