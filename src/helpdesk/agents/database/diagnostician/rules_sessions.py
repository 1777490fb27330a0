"""Rules about connections and sessions: connectivity, slot use, limits, blocking, open
transactions, long queries and deadlocks."""

from __future__ import annotations

import difflib
import re
from typing import Any

from helpdesk import dsn as dsnlib
from helpdesk.agents.database.diagnostician.findings import (
    CONN_HIGH_RATIO,
    CONN_WARN_RATIO,
    DEADLOCK_CURRENT_S,
    DEADLOCK_WINDOW_MIN,
    IDLE_TX_LONG_S,
    IDLE_TX_MIN_S,
    IDLE_TX_WRITES_MIN_S,
    LONG_BLOCKER_S,
    LONG_QUERY_NOTABLE_S,
    LONG_QUERY_S,
    LONG_QUERY_SEVERE_S,
    Finding,
)
from helpdesk.agents.database.diagnostician.investigation import Node
from helpdesk.agents.database.diagnostician.request import Request
from helpdesk.agents.database.tables import cell


def _q(text: str | None, width: int = 90) -> str:
    return cell(text or "", width)


def _endpoint(target: str) -> tuple[str, str, str]:
    try:
        params = dsnlib.parse(target)
    except dsnlib.InvalidDSN:
        return target, "", ""
    return (
        params.get("host", "localhost") + ":" + params.get("port", "5432"),
        params.get("user", ""),
        params.get("dbname", ""),
    )


_FAILURE_ACTIONS: dict[str, list[str]] = {
    "refused": [
        "Check that PostgreSQL is running on {where} (`pg_ctl status -D <data dir>` or "
        "`systemctl status postgresql`) and start it if it is down.",
        "If it runs, check `listen_addresses` and `port` in postgresql.conf and any firewall in "
        "between.",
        "Read the server log for why it stopped (crash, shutdown, out of disk).",
    ],
    "timeout": [
        "Check the network path to {where} (routing, firewall, security groups) and whether the "
        "server is overloaded; raise `connect_timeout` only after that.",
    ],
    "unknown_host": ["Fix the host name in the connection string or DNS: it does not resolve."],
    "authentication_failed": [
        "Verify the password the application uses for role `{user}`; reset it if it was rotated: "
        "`ALTER ROLE {user} PASSWORD '<new password>';` and update the application's secret.",
        "Check the role exists and its password has not expired: "
        "`SELECT rolname, rolvaliduntil FROM pg_roles WHERE rolname = '{user}';`",
    ],
    "role_missing": [
        "Create the role or fix the user name: `CREATE ROLE {user} LOGIN PASSWORD '...';`"
    ],
    "database_missing": [
        "Fix the dbname in the connection string (list databases: `SELECT datname FROM "
        "pg_database;`) "
        "or create it: `CREATE DATABASE {db};`",
    ],
    "too_many_clients": [
        "Find who holds the slots: `SELECT usename, application_name, state, count(*) FROM "
        "pg_stat_activity GROUP BY 1, 2, 3 ORDER BY 4 DESC;` (a superuser can still use the "
        "reserved slots).",
        "End idle sessions of the offending application: `SELECT pg_terminate_backend(pid) FROM "
        "pg_stat_activity WHERE state = 'idle' AND application_name = '<app>';`",
        "Put a connection pooler (PgBouncer) in front and cap the application's pool; raise "
        "max_connections only with memory headroom (needs a restart).",
    ],
    "role_connection_limit": [
        "See the role's sessions: `SELECT pid, state, application_name FROM pg_stat_activity "
        "WHERE usename = '{user}';` and end stale ones, or raise the limit: "
        "`ALTER ROLE {user} CONNECTION LIMIT <n>;`",
    ],
    "database_connection_limit": [
        "Raise or remove the database limit: `ALTER DATABASE {db} CONNECTION LIMIT -1;` "
        "(or end stale sessions in it).",
    ],
    "hba_rejection": [
        "Add a pg_hba.conf rule for this client above any `reject` line, e.g. "
        "`host {db} {user} <client address>/32 scram-sha-256`, then `SELECT pg_reload_conf();`",
    ],
    "login_not_permitted": ["Allow the role to log in: `ALTER ROLE {user} LOGIN;`"],
    "database_not_accepting": [
        "Allow connections again: `ALTER DATABASE {db} ALLOW_CONNECTIONS true;`"
    ],
    "connect_privilege": ["Grant the privilege: `GRANT CONNECT ON DATABASE {db} TO {user};`"],
    "server_starting": ["Wait for recovery to finish and read the server log for the crash cause."],
}


def connection_failure(node: Node) -> Finding | None:
    failure = node.failure
    if failure is None:
        return None
    where, user, db = _endpoint(node.target)
    kind = failure.get("kind", "unknown")
    actions = [
        a.format(where=where, user=user or "<role>", db=db or "<database>")
        for a in _FAILURE_ACTIONS.get(kind, ["Read the server's message above and the server log."])
    ]
    evidence = [f'check_connection: server said "{failure.get("message", "").strip()}"']
    if kind == "database_missing":
        evidence += _existing_databases(node, db)
    return Finding(
        category=failure.get("category", "connection_refused"),
        severity=95,
        summary=f"Connecting to {where} (database {db or '?'}, user {user or '?'}) fails: "
        f"{failure.get('explanation', 'connection failed')}.",
        evidence=evidence,
        actions=actions,
        definitive=True,
    )


def _existing_databases(node: Node, wanted: str) -> list[str]:
    info = node.data("get_database_info")
    if not info:
        return []
    names = [d["datname"] for d in info["databases"] if not d["is_template"]]
    lines = [f"databases that exist on this server: {', '.join(names)}"]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
    if close:
        lines.append(f"closest existing name: {close[0]} (a typo in the database name?)")
    return lines


def connection_usage(node: Node, request: Request) -> list[Finding]:
    stats = node.data("get_connection_stats")
    if not stats:
        return []
    used = stats["client_connections"] - stats["own_connections"]
    total, ordinary = stats["max_connections"], stats["available_to_ordinary_roles"]
    ratio = used / max(total, 1)
    if used >= ordinary:
        severity = 90
    elif ratio >= CONN_HIGH_RATIO:
        severity = 70
    elif ratio >= CONN_WARN_RATIO:
        severity = 45
    else:
        return []
    states = ", ".join(f"{s['state']}: {s['count']}" for s in stats["by_state"])
    top = stats["by_role_db"][0] if stats["by_role_db"] else None
    evidence = [
        f"{used} client connections in use of max_connections={total} "
        f"({stats['superuser_reserved']} reserved for superusers, "
        f"so ordinary roles get {ordinary})",
        f"by state: {states}",
    ]
    if top:
        evidence.append(
            f"largest group: {top['count']} sessions of role {top['usename']} "
            f"in {top['datname']} (application '{top['application_name']}')"
        )
    app = top["application_name"] if top else "<app>"
    return [
        Finding(
            category="connection_exhaustion",
            severity=severity,
            summary=f"{used} of {total} connection slots are in use ({ratio:.0%}); new "
            "connections of "
            "ordinary roles are rejected with 'too many clients' once the non-reserved slots are "
            "gone.",
            evidence=evidence,
            actions=[
                "End idle sessions of the application holding the slots: `SELECT "
                "pg_terminate_backend(pid) "
                f"FROM pg_stat_activity WHERE state = 'idle' AND application_name = '{app}';`",
                "Use a connection pooler (PgBouncer) and cap the application's pool size; set "
                "`idle_session_timeout` for clients that leak connections.",
            ],
            related=("idle_in_transaction",),
        )
    ]


def connection_limits(node: Node, request: Request) -> list[Finding]:
    stats = node.data("get_connection_stats")
    if not stats:
        return []
    _, user, db = _endpoint(node.target)
    findings: list[Finding] = []
    for role in stats["role_limits"]:
        if role["connections"] < role["conn_limit"]:
            continue
        mine = role["rolname"] == user or request.mentions(role["rolname"])
        severity = 80 if mine else (60 if role["conn_limit"] > 0 else 42)
        findings.append(
            Finding(
                "role_connection_limit",
                severity,
                f"Role {role['rolname']} has reached its CONNECTION LIMIT ({role['connections']} "
                "of "
                f"{role['conn_limit']}); its new connections fail with 'too many connections for "
                "role'.",
                [
                    f"pg_roles.rolconnlimit = {role['conn_limit']} for {role['rolname']}, "
                    f"{role['connections']} sessions open"
                ],
                [
                    f"`ALTER ROLE {role['rolname']} CONNECTION LIMIT <higher value or -1>;` or "
                    "end its "
                    "stale sessions with `pg_terminate_backend(pid)`."
                ],
            )
        )
    for database in stats["database_limits"]:
        name = database["datname"]
        if name in ("template0", "template1"):
            continue
        mine = name == db or request.mentions(name)
        if not database["allow_connections"]:
            findings.append(
                Finding(
                    "connection_not_permitted",
                    80 if mine else 45,
                    f"Database {name} does not allow connections (ALLOW_CONNECTIONS false).",
                    [f"pg_database.datallowconn = false for {name}"],
                    [f"`ALTER DATABASE {name} ALLOW_CONNECTIONS true;`"],
                )
            )
        elif database["conn_limit"] >= 0 and database["connections"] >= database["conn_limit"]:
            findings.append(
                Finding(
                    "role_connection_limit",
                    80 if mine else 50,
                    f"Database {name} has reached its CONNECTION LIMIT ({database['connections']} "
                    "of "
                    f"{database['conn_limit']}).",
                    [
                        f"pg_database.datconnlimit = {database['conn_limit']} for {name}, "
                        f"{database['connections']} sessions open"
                    ],
                    [f"`ALTER DATABASE {name} CONNECTION LIMIT <higher value or -1>;`"],
                )
            )
    return findings


def role_access(node: Node, request: Request) -> list[Finding]:
    """Roles named in the message that cannot log in or whose password expired."""
    info = node.data("get_role_info")
    if not info:
        return []
    connected_as = (node.data("check_connection") or {}).get("user")
    findings = []
    for role in info["roles"]:
        # the role this agent is connected as can evidently log in
        if not request.mentions(role["rolname"]) or role["rolname"] == connected_as:
            continue
        if not role["can_login"]:
            findings.append(
                Finding(
                    "connection_not_permitted",
                    80,
                    f"Role {role['rolname']} is NOLOGIN: it cannot open sessions.",
                    [f"pg_roles.rolcanlogin = false for {role['rolname']}"],
                    [f"`ALTER ROLE {role['rolname']} LOGIN;`"],
                )
            )
        elif role["password_expired"]:
            findings.append(
                Finding(
                    "authentication_failure",
                    80,
                    f"The password of role {role['rolname']} expired at {role['valid_until']}.",
                    [f"pg_roles.rolvaliduntil = {role['valid_until']} for {role['rolname']}"],
                    [
                        f"`ALTER ROLE {role['rolname']} VALID UNTIL 'infinity';` (or set a new "
                        "password)"
                    ],
                )
            )
    return findings


def _held_locks(node: Node, pid: int) -> list[str]:
    info = node.outputs.get("get_session_info")
    if info is None or not info.ok or info.data.get("pid") != pid:
        return []
    return [
        f"{lock['mode']} on {lock['relation']}"
        for lock in info.data.get("locks", [])
        if lock["granted"]
        and lock["locktype"] == "relation"
        and not str(lock["relation"]).startswith(("pg_catalog.", "information_schema."))
    ]


def blocking(node: Node, request: Request) -> list[Finding]:
    """Blocked sessions, classified by what their root blocker is doing."""
    tree = node.data("get_blocking_queries")
    if not tree or not tree["roots"]:
        return []
    findings = []
    for root in tree["roots"][:3]:
        relations = ", ".join(root["relations"]) or "rows it has locked"
        held = _held_locks(node, root["pid"])
        waited = (
            f"{root['blocked_sessions']} session(s) wait behind it "
            f"(longest {root['longest_wait_s']:.0f} s)"
        )
        who = (
            f"pid {root['pid']} (role {root['usename']}, application '{root['application_name']}')"
        )
        evidence = [
            f"{who}: state '{root['state']}', transaction open {root['xact_age_s']:.0f} s, "
            f"has written: {'yes' if root['has_writes'] else 'no'}; {waited}",
            f"contended relation(s): {relations}",
        ]
        if held:
            evidence.append(f"pid {root['pid']} holds: {', '.join(held[:4])}")
        evidence.append(f"blocker's last statement: `{_q(root['query'])}`")
        terminate = f"`SELECT pg_terminate_backend({root['pid']});`"
        if str(root["state"]).startswith("idle in transaction"):
            findings.append(
                Finding(
                    "idle_in_transaction",
                    86 + min(root["blocked_sessions"], 5),
                    f"Session {root['pid']} sits idle inside an open transaction "
                    f"({root['state_age_s']:.0f} s idle) and keeps its locks on {relations}; "
                    f"{root['blocked_sessions']} session(s) are blocked behind it.",
                    evidence,
                    [
                        f"End the stuck transaction: {terminate} (its uncommitted work is rolled "
                        "back).",
                        "Fix the application path that leaves transactions open; set a guard rail: "
                        "`ALTER DATABASE <db> SET idle_in_transaction_session_timeout = '60s';`",
                    ],
                    related=("lock_blocking",),
                )
            )
            findings.append(
                Finding(
                    "lock_blocking", 60, f"Sessions wait for locks on {relations}.", evidence[:2]
                )
            )
        else:
            long_running = (root["query_age_s"] or 0) >= LONG_BLOCKER_S
            findings.append(
                Finding(
                    "lock_blocking",
                    78 + 2 * min(root["blocked_sessions"], 5),
                    f"Session {root['pid']} holds locks on {relations} while it runs a statement "
                    "for "
                    f"{root['query_age_s']:.0f} s; {root['blocked_sessions']} session(s) queue "
                    "behind it.",
                    evidence,
                    [
                        f"Cancel its statement: `SELECT pg_cancel_backend({root['pid']});` or end "
                        "the session: "
                        f"{terminate}.",
                        "Keep long jobs from holding strong locks: shorter transactions, and "
                        "`SET lock_timeout = '5s'` in sessions that take them.",
                    ],
                    related=("long_running_query",) if long_running else (),
                )
            )
            if long_running:
                findings.append(
                    Finding(
                        "long_running_query",
                        55,
                        f"The blocking statement of pid {root['pid']} has run for "
                        f"{root['query_age_s']:.0f} s.",
                        [
                            f"pid {root['pid']} running `{_q(root['query'])}` for "
                            f"{root['query_age_s']:.0f} s"
                        ],
                    )
                )
    return findings


def _open_sessions(node: Node) -> list[dict[str, Any]]:
    active = node.data("get_active_connections")
    return active["sessions"] if active else []


def _root_pids(node: Node) -> set[int]:
    tree = node.data("get_blocking_queries")
    return {r["pid"] for r in tree["roots"]} if tree else set()


def idle_transactions(node: Node, request: Request) -> list[Finding]:
    roots = _root_pids(node)
    idle = [
        s
        for s in _open_sessions(node)
        if str(s["state"]).startswith("idle in transaction")
        and s["pid"] not in roots
        and (s["state_age_s"] or 0) >= (IDLE_TX_WRITES_MIN_S if s["has_writes"] else IDLE_TX_MIN_S)
    ]
    if not idle:
        return []
    idle.sort(key=lambda s: (not s["has_writes"], -(s["xact_age_s"] or 0)))
    worst = idle[0]
    severity = (
        52
        + (15 if worst["has_writes"] else 0)
        + (10 if worst["state_age_s"] >= IDLE_TX_LONG_S else 0)
    )
    evidence = [
        f"pid {s['pid']} (role {s['usename']}, application '{s['application_name']}'): "
        f"{s['state']} for "
        f"{s['state_age_s']:.0f} s, transaction open {s['xact_age_s']:.0f} s, has written: "
        f"{'yes' if s['has_writes'] else 'no'}, last statement `{_q(s['query'], 70)}`"
        for s in idle[:3]
    ]
    return [
        Finding(
            "idle_in_transaction",
            min(severity, 80),
            f"{len(idle)} session(s) sit idle inside open transactions (longest "
            f"{worst['state_age_s']:.0f} s)"
            + (", holding uncommitted writes and their row locks" if worst["has_writes"] else "")
            + "; they also hold back vacuum's cleanup horizon.",
            evidence,
            [
                f"End the stuck transaction: `SELECT pg_terminate_backend({worst['pid']});`",
                "Find why the application does not COMMIT/ROLLBACK; set "
                "`idle_in_transaction_session_timeout` (e.g. '60s') as a guard rail.",
            ],
            explains=("table_bloat",),
        )
    ]


def long_queries(node: Node, request: Request) -> list[Finding]:
    roots = _root_pids(node)
    running = [
        s
        for s in _open_sessions(node)
        if s["state"] == "active"
        and not s["blocked_by"]
        and s["pid"] not in roots
        and (s["query_age_s"] or 0) >= LONG_QUERY_S
    ]
    if not running:
        return []
    running.sort(key=lambda s: -(s["query_age_s"] or 0))
    worst = running[0]
    age = worst["query_age_s"]
    severity = 75 if age >= LONG_QUERY_SEVERE_S else (60 if age >= LONG_QUERY_NOTABLE_S else 50)
    evidence = [
        f"pid {s['pid']} (role {s['usename']}, application '{s['application_name']}'): running "
        f"{s['query_age_s']:.0f} s, wait event {s['wait_event'] or 'none'}: `{_q(s['query'], 80)}`"
        for s in running[:3]
    ]
    return [
        Finding(
            "long_running_query",
            severity,
            f"{len(running)} statement(s) have been running for a long time "
            f"(longest: pid {worst['pid']}, {worst['query_age_s']:.0f} s).",
            evidence,
            [
                f"Cancel it if it is not expected: `SELECT pg_cancel_backend({worst['pid']});` "
                f"(or `SELECT pg_terminate_backend({worst['pid']});`)",
                "Look at its plan (`EXPLAIN`) and set a `statement_timeout` for the application "
                "role.",
            ],
        )
    ]


_LOG_RELATION = re.compile(r'relation "(?:[^"]+\.)?([^".]+)"')


def _relname(qualified: str) -> str:
    """`public.orders (AccessExclusiveLock)` → `orders`."""
    return qualified.split(" (", 1)[0].rsplit(".", 1)[-1]


def _deadlock_elsewhere(log: dict, tree: dict | None) -> bool:
    """True when the logged deadlocks name relations and none of them is contended now."""
    logged = {
        name
        for entry in log.get("entries", [])
        if entry.get("signature") == "deadlock"
        for name in _LOG_RELATION.findall(entry.get("detail") or "")
    }
    contended = {_relname(r) for root in (tree or {}).get("roots", []) for r in root["relations"]}
    return bool(logged and contended and not logged & contended)


def deadlocks(node: Node, request: Request) -> list[Finding]:
    log = node.data("read_server_log") or {}
    stats = node.data("get_database_stats") or {"databases": []}
    current = next((d for d in stats["databases"] if d.get("is_current")), None)
    counter = current["deadlocks"] if current else 0
    logged = log.get("counts", {}).get("deadlock", 0)
    last_seen = log.get("last_seen_s", {}).get("deadlock")
    tree = node.data("get_blocking_queries")
    waiting = bool(tree and tree["roots"])
    oldest = max((r["xact_age_s"] or 0 for r in tree["roots"]), default=0) if tree else 0
    hinted = "deadlock" in request.hints
    named = request.mentions("deadlock") or request.mentions("deadlocks")
    if logged and last_seen is not None:
        # Part of the present incident: logged while today's blocked sessions were already
        # queued, or just now while the person reports failing / rolled-back transactions.
        # An older deadlock counts only when the person asks about deadlocks by name.
        # Timing alone is weak: a deadlock on other tables, seconds before an unrelated lock
        # queue formed, is history -- unless the person also reports what deadlocks cause.
        elsewhere = _deadlock_elsewhere(log, tree)
        during_episode = waiting and last_seen <= oldest + 30 and (hinted or not elsewhere)
        fresh = last_seen <= DEADLOCK_CURRENT_S
        if during_episode or (fresh and named):
            severity = 92
        elif fresh and hinted:
            severity = 54  # reported, yet never listed beside a present finding of another kind
        elif named:
            severity = 75
        else:
            severity = 30
    elif counter and not log.get("available", False):
        severity = 75 if named else (60 if hinted else 25)
    elif counter:
        severity = 55 if named else 20
    else:
        return []
    evidence = [
        f"pg_stat_database.deadlocks = {counter} for {current['datname'] if current else '?'}"
    ]
    if logged:
        evidence.append(
            f"server log: 'deadlock detected' {logged} time(s) in the last "
            f"{DEADLOCK_WINDOW_MIN} min, last {last_seen:.0f} s ago"
        )
        entry = next(
            (e for e in reversed(log.get("entries", [])) if e.get("signature") == "deadlock"), None
        )
        if entry and entry.get("detail"):
            evidence.append(f"deadlock detail: {_q(entry['detail'], 400)}")
    return [
        Finding(
            "deadlock",
            severity,
            "Transactions deadlock: PostgreSQL detected a lock cycle and aborted one transaction "
            "(its client got 'deadlock detected' and a rollback)"
            + (", while other sessions are still queued on row locks." if waiting else "."),
            evidence,
            [
                "Make every transaction lock rows in the same order (e.g. update accounts ordered "
                "by id, or "
                "`SELECT ... ORDER BY id FOR UPDATE` first) and keep transactions short.",
                "Retry transactions that fail with SQLSTATE 40P01 in the application.",
            ],
            related=("lock_blocking",) if waiting else (),
        )
    ]
