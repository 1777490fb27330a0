"""Tools about the server as a whole: connectivity, identity, settings and database statistics."""

from __future__ import annotations

import time

import psycopg

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.database import tables
from helpdesk.agents.database.execution import one, rows, run


def check_connection(connection_string: str) -> ToolOutput:
    started = time.perf_counter()

    def body(conn: psycopg.Connection) -> ToolOutput:
        info = one(
            conn,
            """SELECT current_setting('server_version') AS server_version,
                      current_user AS "user", current_database() AS database,
                      pg_is_in_recovery() AS in_recovery,
                      (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
                      inet_server_addr()::text AS server_addr, inet_server_port() AS server_port,
                      round(extract(epoch FROM now() - pg_postmaster_start_time())::numeric,
                          0)::float8
                        AS uptime_s""",
        )
        info["connect_ms"] = round((time.perf_counter() - started) * 1000, 1)
        info["ok"] = True
        role = "standby (in recovery, read-only)" if info["in_recovery"] else "primary"
        text = (
            f"connection OK in {info['connect_ms']} ms: PostgreSQL {info['server_version']} "
            f"({role}), "
            f"user {info['user']}, database {info['database']}, up "
            f"{tables.cell(info['uptime_s'])} s"
        )
        return ToolOutput(text=text, data=info)

    out = run(connection_string, body)
    error = (out.data or {}).get("error") if not out.ok else None
    if error and error.get("kind") != "query_error":
        # The check itself worked: its answer is the classified reason the connection fails.
        return ToolOutput(text=out.text, data={"ok": False, "error": error}, ok=True)
    return out


def get_database_info(connection_string: str) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        server = one(
            conn,
            """SELECT version() AS version, current_database() AS current_database,
                      current_user AS current_user, pg_is_in_recovery() AS in_recovery,
                      pg_postmaster_start_time() AS started_at,
                      round(extract(epoch FROM now() - pg_postmaster_start_time())::numeric,
                          0)::float8
                        AS uptime_s,
                      pg_database_size(current_database()) AS current_database_bytes,
                      current_setting('data_directory', true) AS data_directory""",
        )
        databases = rows(
            conn,
            """SELECT d.datname, pg_get_userbyid(d.datdba) AS owner,
                      pg_encoding_to_char(d.encoding) AS encoding,
                      CASE WHEN has_database_privilege(d.datname, 'CONNECT')
                           THEN pg_database_size(d.datname) END AS size_bytes,
                      d.datallowconn AS allow_connections, d.datconnlimit AS conn_limit,
                      d.datistemplate AS is_template,
                      (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname)::int
                          AS sessions
               FROM pg_database d ORDER BY d.datname""",
        )
        for d in databases:
            d["size"] = tables.size(d["size_bytes"])
        text = "\n\n".join(
            [
                tables.pairs(server, "server"),
                tables.render(
                    databases,
                    [
                        "datname",
                        "owner",
                        "encoding",
                        "size",
                        "allow_connections",
                        "conn_limit",
                        "is_template",
                        "sessions",
                    ],
                    title="databases",
                ),
            ]
        )
        return ToolOutput(text=text, data={**server, "server": server, "databases": databases})

    return run(connection_string, body)


def get_config_parameter(connection_string: str, name: str = "") -> ToolOutput:
    """One setting, several (comma-separated) or a LIKE pattern (with %); empty: notable ones."""

    def body(conn: psycopg.Connection) -> ToolOutput:
        names = [n.strip() for n in name.split(",") if n.strip()]
        if not names:
            where, params = "name = ANY(%s)", [list(NOTABLE_SETTINGS)]
        elif any("%" in n for n in names):
            where, params = "name LIKE ANY(%s)", [names]
        else:
            where, params = "name = ANY(%s)", [names]
        found = rows(
            conn,
            f"""SELECT name, setting, unit, source, reset_val AS session_default, boot_val,
                       context, pending_restart, short_desc
                FROM pg_settings WHERE {where} ORDER BY name LIMIT 200""",
            params,
        )
        text = tables.render(
            found,
            ["name", "setting", "unit", "source", "session_default", "context", "pending_restart"],
            cap=60,
            title="settings (session_default: what a new session of this role/database gets)",
            empty=f"(no setting matches {name!r})",
        )
        return ToolOutput(text=text, data={"settings": {r["name"]: r for r in found}})

    return run(connection_string, body)


NOTABLE_SETTINGS = (
    "max_connections",
    "superuser_reserved_connections",
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "default_transaction_read_only",
    "autovacuum",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_threshold",
    "max_wal_size",
    "wal_level",
    "max_wal_senders",
    "max_replication_slots",
    "max_slot_wal_keep_size",
    "wal_keep_size",
    "hot_standby",
    "synchronous_commit",
    "synchronous_standby_names",
    "log_min_duration_statement",
    "deadlock_timeout",
    "temp_file_limit",
    "shared_preload_libraries",
    "archive_mode",
)


def get_database_stats(connection_string: str) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        found = rows(
            conn,
            """SELECT s.datname, s.numbackends, s.xact_commit, s.xact_rollback,
                      s.blks_read, s.blks_hit,
                      CASE WHEN s.blks_hit + s.blks_read > 0
                           THEN round(s.blks_hit::numeric / (s.blks_hit + s.blks_read), 4)::float8
                               END
                        AS cache_hit_ratio,
                      s.tup_returned, s.tup_fetched, s.tup_inserted, s.tup_updated, s.tup_deleted,
                      s.temp_files, s.temp_bytes, s.deadlocks, s.conflicts,
                      s.stats_reset,
                      round(extract(epoch FROM now() - coalesce(s.stats_reset,
                          pg_postmaster_start_time()))
                            ::numeric, 0)::float8 AS stats_age_s,
                      CASE WHEN has_database_privilege(s.datname, 'CONNECT')
                           THEN pg_database_size(s.datname) END AS size_bytes,
                      s.datname = current_database() AS is_current
               FROM pg_stat_database s JOIN pg_database d ON d.datname = s.datname
               WHERE NOT d.datistemplate ORDER BY s.datname""",
        )
        for r in found:
            r["size"] = tables.size(r["size_bytes"])
        text = tables.render(
            found,
            [
                "datname",
                "numbackends",
                "xact_commit",
                "xact_rollback",
                "blks_read",
                "blks_hit",
                "cache_hit_ratio",
                "temp_files",
                "deadlocks",
                "conflicts",
                "stats_age_s",
                "size",
            ],
            title="per-database statistics (cumulative since stats_reset / server start)",
        )
        return ToolOutput(text=text, data={"databases": found})

    return run(connection_string, body)
