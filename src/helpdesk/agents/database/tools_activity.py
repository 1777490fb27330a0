"""Tools about sessions: connections, activity, locks, blocking chains and wait events.

The agent's own sessions (application_name `helpdesk:*`) are never reported, so the
diagnosis cannot mistake its own probes for a problem.
"""

from __future__ import annotations

from typing import Any

import psycopg

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.database import tables
from helpdesk.agents.database.execution import not_own, one, rows, run

_SESSION_COLUMNS = f"""
    a.pid, a.usename AS usename, a.datname AS datname, a.application_name,
    host(a.client_addr) AS client_addr, a.state, a.backend_type,
    a.wait_event_type, a.wait_event,
    round(extract(epoch FROM now() - a.backend_start)::numeric, 1)::float8 AS backend_age_s,
    round(extract(epoch FROM now() - a.xact_start)::numeric, 1)::float8 AS xact_age_s,
    round(extract(epoch FROM now() - a.query_start)::numeric, 1)::float8 AS query_age_s,
    round(extract(epoch FROM now() - a.state_change)::numeric, 1)::float8 AS state_age_s,
    a.backend_xid IS NOT NULL AS has_writes,
    a.backend_xid::text AS backend_xid,
    age(a.backend_xmin) AS xmin_age,
    pg_blocking_pids(a.pid) AS blocked_by,
    left(a.query, {600}) AS query
"""


def _clip_query(row: dict[str, Any], width: int = 80) -> dict[str, Any]:
    shown = dict(row)
    shown["query"] = tables.cell(row.get("query"), width)
    return shown


def get_active_connections(
    connection_string: str, include_idle: bool = False, limit: int = 30
) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        found = rows(
            conn,
            f"""SELECT {_SESSION_COLUMNS} FROM pg_stat_activity a
                WHERE a.backend_type = 'client backend' AND {not_own("a")}
                ORDER BY a.xact_start NULLS LAST, a.query_start NULLS LAST""",
        )
        shown = [r for r in found if include_idle or r["state"] != "idle"]
        idle = len(found) - len(shown)
        text = tables.render(
            [_clip_query(r) for r in shown],
            [
                "pid",
                "usename",
                "datname",
                "application_name",
                "state",
                "wait_event",
                "xact_age_s",
                "query_age_s",
                "state_age_s",
                "has_writes",
                "blocked_by",
                "query",
            ],
            cap=limit,
            title=f"client sessions (excluding this agent's): {len(found)} total, {idle} idle not "
            "shown"
            if not include_idle
            else f"client sessions (excluding this agent's): {len(found)}",
            empty="(no non-idle client sessions)",
        )
        return ToolOutput(text=text, data={"sessions": found, "total": len(found)})

    return run(connection_string, body)


def get_connection_stats(connection_string: str) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        limits = one(
            conn,
            """SELECT current_setting('max_connections')::int AS max_connections,
                      current_setting('superuser_reserved_connections')::int AS superuser_reserved,
                      coalesce(current_setting('reserved_connections', true), '0')::int AS reserved,
                      (SELECT count(*) FROM pg_stat_activity WHERE backend_type =
                          'client backend')::int
                        AS client_connections,
                      (SELECT count(*) FROM pg_stat_activity
                        WHERE backend_type = 'client backend' AND (pid = pg_backend_pid()
                          OR coalesce(application_name, '') LIKE 'helpdesk:%%'))::int AS
                              own_connections""",
            (),
        )
        by_state = rows(
            conn,
            f"""SELECT coalesce(state, 'unknown') AS state, count(*)::int AS count,
                       round(max(extract(epoch FROM now() - state_change))::numeric, 1)::float8 AS
                           max_state_age_s
                FROM pg_stat_activity WHERE backend_type = 'client backend' AND {not_own()}
                GROUP BY 1 ORDER BY 2 DESC""",
        )
        by_role_db = rows(
            conn,
            f"""SELECT usename, datname, application_name, count(*)::int AS count
                FROM pg_stat_activity WHERE backend_type = 'client backend' AND {not_own()}
                GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 20""",
        )
        role_limits = rows(
            conn,
            """SELECT r.rolname, r.rolconnlimit AS conn_limit,
                      (SELECT count(*) FROM pg_stat_activity a WHERE a.usename = r.rolname
                         AND a.backend_type = 'client backend')::int AS connections
               FROM pg_roles r WHERE r.rolconnlimit >= 0 ORDER BY 1""",
        )
        db_limits = rows(
            conn,
            """SELECT d.datname, d.datconnlimit AS conn_limit, d.datallowconn AS allow_connections,
                      (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname
                         AND a.backend_type = 'client backend')::int AS connections
               FROM pg_database d WHERE d.datconnlimit >= 0 OR NOT d.datallowconn ORDER BY 1""",
        )
        ordinary = limits["max_connections"] - limits["superuser_reserved"] - limits["reserved"]
        limits["available_to_ordinary_roles"] = ordinary
        limits["used_ratio"] = round(
            limits["client_connections"] / max(limits["max_connections"], 1), 3
        )
        data = {
            **limits,
            "by_state": by_state,
            "by_role_db": by_role_db,
            "role_limits": role_limits,
            "database_limits": db_limits,
        }
        text = "\n\n".join(
            [
                tables.pairs(
                    limits, "connection limits and usage (all client backends, incl. this agent's)"
                ),
                tables.render(by_state, title="sessions by state (excluding this agent's)"),
                tables.render(by_role_db, title="sessions by role / database / application"),
                tables.render(role_limits, title="roles with a CONNECTION LIMIT", empty="(none)"),
                tables.render(
                    db_limits,
                    title="databases with a CONNECTION LIMIT or not allowing connections",
                    empty="(none)",
                ),
            ]
        )
        return ToolOutput(text=text, data=data)

    return run(connection_string, body)


def get_session_info(connection_string: str, pid: int) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        session = one(
            conn, f"SELECT {_SESSION_COLUMNS} FROM pg_stat_activity a WHERE a.pid = %s", (pid,)
        )
        if not session:
            return ToolOutput(text=f"no session with pid {pid}", data={"pid": pid, "found": False})
        locks = rows(
            conn,
            """SELECT l.locktype, l.mode, l.granted,
                      coalesce(n.nspname || '.' || c.relname, l.relation::text) AS relation,
                      l.transactionid::text AS transactionid
               FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
               LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE l.pid = %s AND l.locktype <> 'virtualxid'
               ORDER BY l.granted, l.locktype""",
            (pid,),
        )
        blocking = [
            r["pid"]
            for r in rows(
                conn,
                "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                (pid,),
            )
        ]
        session.update(found=True, locks=locks, blocking=blocking)
        summary = {
            k: session[k]
            for k in (
                "pid",
                "usename",
                "datname",
                "application_name",
                "client_addr",
                "state",
                "wait_event_type",
                "wait_event",
                "xact_age_s",
                "query_age_s",
                "state_age_s",
                "has_writes",
                "backend_xid",
                "blocked_by",
                "query",
            )
        }
        summary["sessions_it_blocks"] = blocking
        text = "\n\n".join(
            [
                tables.pairs(summary, f"session {pid}"),
                tables.render(locks, title="locks held or awaited", empty="(no locks)"),
            ]
        )
        return ToolOutput(text=text, data=session)

    return run(connection_string, body)


def get_lock_info(connection_string: str, limit: int = 30) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        found = rows(
            conn,
            f"""SELECT l.pid, l.locktype, l.mode, l.granted,
                       coalesce(n.nspname || '.' || c.relname, l.relation::text) AS relation,
                       l.transactionid::text AS transactionid, a.state, a.usename,
                       round(extract(epoch FROM now() - coalesce(l.waitstart,
                           a.query_start))::numeric,
                             1)::float8 AS age_s,
                       left(a.query, 300) AS query
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                LEFT JOIN pg_class c ON c.oid = l.relation
                LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE {not_own("a")}
                  AND l.locktype NOT IN ('virtualxid')
                  AND (NOT l.granted OR l.mode IN ('ExclusiveLock', 'AccessExclusiveLock',
                       'ShareRowExclusiveLock', 'ShareLock', 'RowExclusiveLock',
                           'ShareUpdateExclusiveLock')
                       OR l.locktype = 'transactionid')
                  AND coalesce(n.nspname, '') NOT IN ('pg_catalog', 'information_schema')
                ORDER BY l.granted, age_s DESC NULLS LAST LIMIT 200""",
        )
        waiting = [r for r in found if not r["granted"]]
        text = "\n\n".join(
            [
                tables.render(
                    [_clip_query(r, 60) for r in waiting],
                    title=f"lock requests waiting: {len(waiting)}",
                    empty="(no session is waiting for a lock)",
                ),
                tables.render(
                    [_clip_query(r, 60) for r in found if r["granted"]],
                    cap=limit,
                    title="notable locks held (write and exclusive modes)",
                    empty="(none)",
                ),
            ]
        )
        return ToolOutput(text=text, data={"locks": found, "waiting": waiting})

    return run(connection_string, body)


def get_blocking_queries(connection_string: str) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        edges = rows(
            conn,
            f"""SELECT w.pid AS waiter_pid, w.usename AS waiter_user,
                       round(extract(epoch FROM now() - w.query_start)::numeric, 1)::float8 AS
                           waiter_wait_s,
                       left(w.query, 300) AS waiter_query,
                       w.wait_event_type AS waiter_wait_type,
                       b.pid AS blocker_pid, b.usename AS blocker_user, b.state AS blocker_state,
                       b.application_name AS blocker_application,
                       round(extract(epoch FROM now() - b.xact_start)::numeric, 1)::float8 AS
                           blocker_xact_age_s,
                       round(extract(epoch FROM now() - b.query_start)::numeric, 1)::float8 AS
                           blocker_query_age_s,
                       round(extract(epoch FROM now() - b.state_change)::numeric, 1)::float8 AS
                           blocker_state_age_s,
                       b.backend_xid IS NOT NULL AS blocker_has_writes,
                       b.wait_event AS blocker_wait_event,
                       cardinality(pg_blocking_pids(b.pid)) > 0 AS blocker_is_waiting,
                       left(b.query, 300) AS blocker_query,
                       (SELECT coalesce(n.nspname || '.' || c.relname, l.locktype) || ' ' || l.mode
                          FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
                          LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE l.pid = w.pid AND NOT l.granted LIMIT 1) AS waits_for,
                       (SELECT string_agg(DISTINCT n.nspname || '.' || c.relname || ' (' ||
                           lb.mode || ')',
                                          ', ')
                          FROM pg_locks lw JOIN pg_locks lb
                            ON lb.pid = b.pid AND lb.relation = lw.relation AND lb.granted
                          JOIN pg_class c ON c.oid = lw.relation
                          JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE lw.pid = w.pid AND c.relkind IN ('r', 'p', 'm')
                           AND n.nspname NOT IN ('pg_catalog', 'information_schema'))
                         AS contended_relations
                FROM pg_stat_activity w
                JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid) ON true
                JOIN pg_stat_activity b ON b.pid = bp.pid
                WHERE {not_own("w")}
                ORDER BY b.xact_start NULLS LAST, w.pid""",
        )
        roots = _root_blockers(edges)
        text = "\n\n".join(
            [
                tables.render(
                    roots,
                    [
                        "pid",
                        "state",
                        "usename",
                        "xact_age_s",
                        "state_age_s",
                        "has_writes",
                        "blocked_sessions",
                        "relations",
                        "query",
                    ],
                    title=f"root blockers: {len(roots)}",
                    empty="(no session is blocked by another)",
                ),
                tables.render(
                    [
                        {
                            **e,
                            "waiter_query": tables.cell(e["waiter_query"], 50),
                            "blocker_query": tables.cell(e["blocker_query"], 50),
                        }
                        for e in edges
                    ],
                    [
                        "waiter_pid",
                        "waiter_wait_s",
                        "waits_for",
                        "blocker_pid",
                        "blocker_state",
                        "blocker_xact_age_s",
                        "waiter_query",
                        "blocker_query",
                    ],
                    title="blocker -> waiter edges",
                    empty="(none)",
                ),
            ]
        )
        return ToolOutput(text=text, data={"edges": edges, "roots": roots})

    return run(connection_string, body)


def _root_blockers(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blockers that are not themselves waiting, with the number of sessions behind them."""
    children: dict[int, set[int]] = {}
    info: dict[int, dict[str, Any]] = {}
    for e in edges:
        children.setdefault(e["blocker_pid"], set()).add(e["waiter_pid"])
        info[e["blocker_pid"]] = e
    waiting = {e["waiter_pid"] for e in edges}
    roots = [pid for pid in children if pid not in waiting or not info[pid]["blocker_is_waiting"]]

    def behind(pid: int, seen: set[int]) -> set[int]:
        for child in children.get(pid, set()) - seen:
            seen.add(child)
            behind(child, seen)
        return seen

    result = []
    for pid in roots:
        e = info[pid]
        result.append(
            {
                "pid": pid,
                "state": e["blocker_state"],
                "usename": e["blocker_user"],
                "application_name": e["blocker_application"],
                "xact_age_s": e["blocker_xact_age_s"],
                "query_age_s": e["blocker_query_age_s"],
                "state_age_s": e["blocker_state_age_s"],
                "has_writes": e["blocker_has_writes"],
                "wait_event": e["blocker_wait_event"],
                "blocked_sessions": len(behind(pid, set()) - {pid}),
                "query": e["blocker_query"],
                "relations": sorted(
                    {
                        r
                        for x in edges
                        if x["blocker_pid"] == pid
                        for r in (x["contended_relations"] or "").split(", ")
                        if r
                    }
                ),
                "longest_wait_s": max(
                    (x["waiter_wait_s"] or 0) for x in edges if x["blocker_pid"] == pid
                ),
            }
        )
    return sorted(result, key=lambda r: -r["blocked_sessions"])


def get_wait_events(connection_string: str) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        found = rows(
            conn,
            f"""SELECT coalesce(state, '') AS state,
                       coalesce(wait_event_type, 'CPU/none') AS wait_event_type,
                       coalesce(wait_event, '') AS wait_event, count(*)::int AS sessions,
                       round(max(extract(epoch FROM now() - query_start))::numeric, 1)::float8 AS
                           max_query_age_s
                FROM pg_stat_activity
                WHERE backend_type = 'client backend' AND state <> 'idle' AND {not_own()}
                GROUP BY 1, 2, 3 ORDER BY 4 DESC""",
        )
        text = tables.render(
            found,
            title="what non-idle client sessions are waiting on",
            empty="(no non-idle client sessions)",
        )
        return ToolOutput(text=text, data={"waits": found})

    return run(connection_string, body)
