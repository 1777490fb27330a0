"""Database mutation tools: end sessions, vacuum, resume replay, drop slots, reset settings.

Each one inspects what it is about to change, asks the approval policy, acts in a
writable session and verifies twice: the call's own result and the resulting state
(`helpdesk.agents.database.mutation`). The agent's own sessions are never touched.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.database.execution import not_own, one, rows
from helpdesk.agents.database.mutation import Conn, Plan, Stop, execute

_SESSION = """
    SELECT a.pid, a.usename, a.datname, a.application_name, a.backend_type, a.state,
           round(extract(epoch FROM now() - a.xact_start)::numeric, 1)::float8 AS xact_age_s,
           round(extract(epoch FROM now() - a.query_start)::numeric, 1)::float8 AS query_age_s,
           round(extract(epoch FROM now() - a.state_change)::numeric, 1)::float8 AS state_age_s,
           a.query_start::text AS query_start,
           a.backend_xid IS NOT NULL AS has_writes,
           left(a.query, 200) AS query,
           (a.pid = pg_backend_pid()
            OR coalesce(a.application_name, '') LIKE 'helpdesk:%%') AS own,
           (SELECT count(*) FROM pg_stat_activity w
             WHERE a.pid = ANY(pg_blocking_pids(w.pid)))::int AS blocking
    FROM pg_stat_activity a WHERE a.pid = %s"""

_LOCKS = """
    SELECT c.relname AS relation, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE l.pid = %s AND l.granted AND l.locktype = 'relation'
      AND c.relnamespace <> 'pg_catalog'::regnamespace
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY 1"""


# ── sessions ─────────────────────────────────────────────────────────────────


def _inspect_session(conn: Conn, pid: int) -> dict[str, Any]:
    session = one(conn, _SESSION, (pid,))
    if not session:
        raise Stop("not_found", f"no session with pid {pid} (it may have ended already)")
    if session.pop("own"):
        raise Stop("refused", f"pid {pid} is one of this agent's own sessions; left alone")
    session["details_visible"] = session["backend_type"] is not None  # else: no pg_read_all_stats
    if session["details_visible"] and session["backend_type"] != "client backend":
        raise Stop(
            "refused",
            f"pid {pid} is a {session['backend_type']}, not a client session; "
            "ending server processes is for a person to decide",
        )
    session["locks"] = [f"{r['relation']}:{r['mode']}" for r in rows(conn, _LOCKS, (pid,))]
    return session


def _describe(s: dict[str, Any]) -> str:
    writes = "with uncommitted writes" if s["has_writes"] else "without writes"
    tx = f", transaction open {s['xact_age_s']}s {writes}" if s["xact_age_s"] is not None else ""
    locks = f", holds {', '.join(s['locks'][:4])}" if s["locks"] else ""
    blocking = f", blocks {s['blocking']} session(s)" if s["blocking"] else ""
    return (
        f"pid {s['pid']} ({s['usename']}@{s['datname']}, app {s['application_name']!r}, "
        f"{s['state']}{tx}{locks}{blocking})"
    )


def terminate_connection(connection_string: str, pid: int) -> ToolOutput:
    def act(conn: Conn, s: dict[str, Any]) -> dict[str, Any]:
        returned = one(conn, "SELECT pg_terminate_backend(%s) AS r", (pid,)).get("r")
        return {"sql": "SELECT pg_terminate_backend(pid)", "returned": returned, "ok": returned}

    def check(conn: Conn, s: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        alive = bool(one(conn, "SELECT 1 AS x FROM pg_stat_activity WHERE pid = %s", (pid,)))
        return not alive, {"session_gone": not alive}

    plan = Plan(
        "terminate_connection",
        lambda c: _inspect_session(c, pid),
        lambda s: f"terminate {_describe(s)}",
        act,
        check,
    )
    return execute(connection_string, plan)


def cancel_query(connection_string: str, pid: int) -> ToolOutput:
    def inspect(conn: Conn) -> dict[str, Any]:
        s = _inspect_session(conn, pid)
        if s["state"] != "active":
            raise Stop(
                "nothing_to_do",
                f"pid {pid} runs no statement (state {s['state']}); cancelling does nothing. "
                + (
                    "Terminate it to end its open transaction."
                    if s["xact_age_s"] is not None
                    else ""
                ),
            )
        return s

    def act(conn: Conn, s: dict[str, Any]) -> dict[str, Any]:
        returned = one(conn, "SELECT pg_cancel_backend(%s) AS r", (pid,)).get("r")
        return {"sql": "SELECT pg_cancel_backend(pid)", "returned": returned, "ok": returned}

    def check(conn: Conn, s: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        now = one(conn, _SESSION, (pid,))
        ended = not now or now["state"] != "active" or now["query_start"] != s["query_start"]
        observed: dict[str, Any] = {"statement_ended": ended}
        if now and ended:
            observed["state_now"] = now["state"]
            observed["still_blocking"] = now["blocking"]
            if now["xact_age_s"] is not None:
                observed["note"] = "its transaction is still open and keeps its locks"
        return ended, observed

    plan = Plan(
        "cancel_query",
        inspect,
        lambda s: f"cancel the statement of {_describe(s)}: {s['query'][:80]!r}",
        act,
        check,
    )
    return execute(connection_string, plan)


def terminate_idle_connections(
    connection_string: str,
    dry_run: bool = True,
    min_idle_seconds: int = 60,
    application_name: str = "",
    usename: str = "",
) -> ToolOutput:
    where = f"""
        FROM pg_stat_activity a
        WHERE a.backend_type = 'client backend' AND a.state = 'idle' AND {not_own("a")}
          AND a.state_change < now() - make_interval(secs => %(idle)s)
          AND (%(app)s = '' OR a.application_name = %(app)s)
          AND (%(user)s = '' OR a.usename = %(user)s)"""
    match = (
        "SELECT a.pid, a.usename, a.application_name, round(extract(epoch FROM now() - "
        "a.state_change)::numeric, 1)::float8 AS idle_s" + where
    )
    params: dict[str, Any] = {"idle": min_idle_seconds, "app": application_name, "user": usename}

    def inspect(conn: Conn) -> dict[str, Any]:
        found = rows(conn, match + " ORDER BY a.state_change", params)
        usage = one(
            conn,
            """SELECT current_setting('max_connections')::int AS max_connections,
                      (SELECT count(*) FROM pg_stat_activity
                        WHERE backend_type = 'client backend')::int AS client_sessions""",
        )
        if not found:
            raise Stop("nothing_to_do", "no idle session matches; nothing to end", ok=True)
        return {
            **usage,
            "matched": len(found),
            "pids": [r["pid"] for r in found],
            "by_application": _count(found, "application_name"),
        }

    def act(conn: Conn, found: dict[str, Any]) -> dict[str, Any]:
        # only sessions still idle now: one that became active since the inspection is kept
        results = rows(
            conn,
            "SELECT a.pid, pg_terminate_backend(a.pid) AS r" + where + " AND a.pid = ANY(%(pids)s)",
            {**params, "pids": found["pids"]},
        )
        refused = [r["pid"] for r in results if not r["r"]]
        return {
            "sql": "SELECT pg_terminate_backend(pid) for each still-idle matched session",
            "returned": {"terminated": len(results) - len(refused), "returned_false": refused},
            "ok": bool(results) and not refused,
            "pids": [r["pid"] for r in results],
        }

    def check(conn: Conn, found: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        pids = found.get("_acted", found["pids"])
        left = [
            r["pid"]
            for r in rows(conn, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,))
        ]
        return not left, {"still_present": left}

    def act_and_remember(conn: Conn, found: dict[str, Any]) -> dict[str, Any]:
        action = act(conn, found)
        found["_acted"] = action.pop("pids")
        return action

    plan = Plan(
        "terminate_idle_connections",
        inspect,
        lambda f: (
            f"terminate {f['matched']} idle session(s) idle ≥ {min_idle_seconds}s "
            f"({f['client_sessions']} of max_connections {f['max_connections']} in use; "
            f"by application: {f['by_application']})"
        ),
        act_and_remember,
        check,
        dry_run=dry_run,
    )
    return execute(connection_string, plan)


def _count(found: list[dict[str, Any]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in found:
        counts[r[key] or ""] = counts.get(r[key] or "", 0) + 1
    return counts


# ── tables ───────────────────────────────────────────────────────────────────

_TABLE = """
    SELECT s.schemaname, s.relname, s.n_live_tup::bigint AS live, s.n_dead_tup::bigint AS dead,
           pg_total_relation_size(s.relid)::bigint AS bytes,
           coalesce(s.last_vacuum, s.last_autovacuum)::text AS last_vacuum,
           coalesce(c.reloptions::text, '') LIKE '%%autovacuum_enabled=false%%' AS autovacuum_off,
           (SELECT max(age(backend_xmin)) FROM pg_stat_activity
             WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid())::int AS oldest_xmin_age,
           (SELECT array_agg(DISTINCT l.pid) FROM pg_locks l
             WHERE l.relation = s.relid AND l.pid <> pg_backend_pid() AND l.granted) AS lockers
    FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.relid = to_regclass(%s)"""


def run_vacuum(
    connection_string: str, table: str, full: bool = False, analyze: bool = True
) -> ToolOutput:
    def inspect(conn: Conn) -> dict[str, Any]:
        found = one(conn, _TABLE, (table,))
        if not found:
            raise Stop("not_found", f"no user table {table!r} in this database")
        found["lockers"] = found["lockers"] or []
        return found

    def act(conn: Conn, t: dict[str, Any]) -> dict[str, Any]:
        options = sql.SQL("FULL {}, ANALYZE {}").format(
            sql.SQL("true" if full else "false"), sql.SQL("true" if analyze else "false")
        )
        statement = sql.SQL("VACUUM ({}) {}").format(
            options, sql.Identifier(t["schemaname"], t["relname"])
        )
        cursor = conn.execute(statement)
        status = cursor.statusmessage
        return {"sql": statement.as_string(conn), "returned": status, "ok": status == "VACUUM"}

    def check(conn: Conn, t: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        now = one(conn, _TABLE, (table,))
        dead = now.get("dead", t["dead"])
        ok = dead == 0 or dead <= t["dead"] // 2
        observed = {
            "dead_before": t["dead"],
            "dead_after": dead,
            "bytes_before": t["bytes"],
            "bytes_after": now.get("bytes"),
        }
        if not ok:
            observed["why"] = (
                "dead tuples remain: an older open transaction (xmin horizon) still needs them"
            )
        return ok, observed

    kind = "VACUUM FULL" if full else "VACUUM"
    plan = Plan(
        "run_vacuum",
        inspect,
        lambda t: (
            f"{kind}{' ANALYZE' if analyze else ''} {t['schemaname']}.{t['relname']} "
            f"({t['dead']} dead / {t['live']} live tuples, {t['bytes'] // 1024} kB"
            + (", autovacuum disabled on it" if t["autovacuum_off"] else "")
            + (f", locked by pid(s) {t['lockers']}" if t["lockers"] else "")
            + ")"
        ),
        act,
        check,
    )
    return execute(connection_string, plan)


# ── replication ──────────────────────────────────────────────────────────────

_REPLAY = """
    SELECT pg_is_in_recovery() AS in_recovery,
           CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() END AS pause_state,
           pg_last_wal_receive_lsn()::text AS receive_lsn,
           pg_last_wal_replay_lsn()::text AS replay_lsn,
           pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint
             AS replay_lag_bytes"""


def resume_wal_replay(connection_string: str) -> ToolOutput:
    def inspect(conn: Conn) -> dict[str, Any]:
        state = one(conn, _REPLAY)
        if not state["in_recovery"]:
            raise Stop("refused", "this server is not a standby: there is no WAL replay to resume")
        if state["pause_state"] == "not paused":
            raise Stop("nothing_to_do", "WAL replay is not paused", ok=True)
        return state

    def act(conn: Conn, state: dict[str, Any]) -> dict[str, Any]:
        conn.execute("SELECT pg_wal_replay_resume()")
        return {"sql": "SELECT pg_wal_replay_resume()", "returned": "void", "ok": True}

    def check(conn: Conn, before: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        now = one(conn, _REPLAY)
        return now["pause_state"] == "not paused", {
            "pause_state": now["pause_state"],
            "replay_lag_bytes_before": before["replay_lag_bytes"],
            "replay_lag_bytes_now": now["replay_lag_bytes"],
        }

    plan = Plan(
        "resume_wal_replay",
        inspect,
        lambda s: (
            f"resume WAL replay (state {s['pause_state']}, "
            f"{s['replay_lag_bytes']} bytes received but not replayed)"
        ),
        act,
        check,
    )
    return execute(connection_string, plan)


_SLOT = """
    SELECT slot_name, slot_type, database, active, active_pid, wal_status,
           pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()
                                ELSE pg_current_wal_lsn() END, restart_lsn)::bigint
             AS retained_bytes
    FROM pg_replication_slots WHERE slot_name = %s"""


def drop_replication_slot(connection_string: str, slot_name: str) -> ToolOutput:
    def inspect(conn: Conn) -> dict[str, Any]:
        slot = one(conn, _SLOT, (slot_name,))
        if not slot:
            raise Stop("not_found", f"no replication slot {slot_name!r}")
        if slot["active"]:
            raise Stop(
                "refused",
                f"slot {slot_name!r} is in use by pid {slot['active_pid']}: dropping it would "
                "break its consumer; stop the consumer first",
            )
        return slot

    def act(conn: Conn, slot: dict[str, Any]) -> dict[str, Any]:
        conn.execute("SELECT pg_drop_replication_slot(%s)", (slot_name,))
        return {"sql": "SELECT pg_drop_replication_slot(name)", "returned": "void", "ok": True}

    def check(conn: Conn, slot: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        gone = not one(conn, _SLOT, (slot_name,))
        return gone, {"slot_gone": gone}

    plan = Plan(
        "drop_replication_slot",
        inspect,
        lambda s: (
            f"drop the inactive {s['slot_type']} slot {slot_name!r} "
            f"(retains {s['retained_bytes']} bytes of WAL, wal_status {s['wal_status']})"
        ),
        act,
        check,
    )
    return execute(connection_string, plan)


# ── settings ─────────────────────────────────────────────────────────────────


def _setting_ident(name: str) -> sql.Identifier:
    return sql.Identifier(*name.split("."))


def _overrides(conn: Conn, name: str, scope: str, role: str, database: str) -> list[str]:
    if scope == "system":
        found = rows(
            conn,
            "SELECT setting FROM pg_file_settings WHERE name = %s "
            "AND sourcefile LIKE '%%postgresql.auto.conf'",
            (name,),
        )
        return [f"{name}={r['setting']} (postgresql.auto.conf)" for r in found]
    found = rows(
        conn,
        """SELECT coalesce(d.datname, '*') AS db, coalesce(r.rolname, '*') AS role, cfg
           FROM pg_db_role_setting s
           LEFT JOIN pg_database d ON d.oid = s.setdatabase
           LEFT JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) cfg
           WHERE split_part(cfg, '=', 1) = %(name)s
             AND CASE WHEN %(scope)s = 'role' THEN r.rolname = %(role)s
                        AND (%(db)s = '' AND s.setdatabase = 0 OR d.datname = %(db)s)
                      ELSE s.setrole = 0 AND d.datname = %(db)s END""",
        {"name": name, "scope": scope, "role": role, "db": database},
    )
    return [f"{r['cfg']} (role {r['role']}, database {r['db']})" for r in found]


def reset_setting(
    connection_string: str, name: str, scope: str, role: str = "", database: str = ""
) -> ToolOutput:
    def inspect(conn: Conn) -> dict[str, Any]:
        if scope == "role" and not role:
            raise Stop("invalid", "scope 'role' needs the role")
        if scope == "database" and not database:
            raise Stop("invalid", "scope 'database' needs the database")
        known = one(conn, "SELECT setting, source FROM pg_settings WHERE name = %s", (name,))
        if not known and "." not in name:
            raise Stop("not_found", f"{name!r} is not a server setting")
        found = _overrides(conn, name, scope, role, database)
        if not found:
            raise Stop("nothing_to_do", f"no {scope}-level value of {name} to reset", ok=True)
        return {"setting": name, "scope": scope, "overrides": found, "current": known}

    def act(conn: Conn, info: dict[str, Any]) -> dict[str, Any]:
        ident = _setting_ident(name)
        if scope == "system":
            statement = sql.SQL("ALTER SYSTEM RESET {}").format(ident)
            conn.execute(statement)
            reloaded = one(conn, "SELECT pg_reload_conf() AS r").get("r")
            return {
                "sql": statement.as_string(conn),
                "returned": {"reload": reloaded},
                "ok": bool(reloaded),
            }
        if scope == "role":
            where = (
                sql.SQL(" IN DATABASE {}").format(sql.Identifier(database))
                if database
                else sql.SQL("")
            )
            statement = sql.SQL("ALTER ROLE {}{} RESET {}").format(
                sql.Identifier(role), where, ident
            )
        else:
            statement = sql.SQL("ALTER DATABASE {} RESET {}").format(
                sql.Identifier(database), ident
            )
        status = conn.execute(statement).statusmessage
        return {"sql": statement.as_string(conn), "returned": status, "ok": bool(status)}

    def check(conn: Conn, info: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        left = _overrides(conn, name, scope, role, database)
        return not left, {"remaining": left}

    plan = Plan(
        "reset_setting",
        inspect,
        lambda i: f"reset {name} at {scope} level: {', '.join(i['overrides'])}",
        act,
        check,
    )
    return execute(connection_string, plan)
