"""Tools about who may do what: roles, per-role/database settings, read-only state and timeouts.

pg_settings.reset_val is what a new session of the connecting role in this database
gets (server, database and role settings combined), so it answers "what does the
application see?" even though the tool's own session overrides the values.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.database import tables
from helpdesk.agents.database.execution import one, optional_rows, rows, run

TIMEOUT_SETTINGS = (
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "idle_session_timeout",
    "transaction_timeout",
)
_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(value: str) -> float | None:
    """A PostgreSQL duration ('250ms', '5s', '1min', '100' = ms) in milliseconds."""
    match = re.fullmatch(r"\s*'?(\d+(?:\.\d+)?)\s*([a-z]*)'?\s*", value or "", re.IGNORECASE)
    if not match:
        return None
    unit = match.group(2).lower() or "ms"
    return float(match.group(1)) * _UNITS_MS[unit] if unit in _UNITS_MS else None


def ident(name: str) -> str:
    """An SQL identifier, quoted when PostgreSQL would need it."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def role_database_settings(
    conn: psycopg.Connection, names: tuple[str, ...] | None = None
) -> list[dict]:
    """Settings stored with ALTER ROLE / ALTER DATABASE ... SET, one row per setting."""
    found = rows(
        conn,
        """SELECT r.rolname AS role, d.datname AS database, unnest(s.setconfig) AS entry
           FROM pg_db_role_setting s
           LEFT JOIN pg_roles r ON r.oid = s.setrole
           LEFT JOIN pg_database d ON d.oid = s.setdatabase""",
    )
    result = []
    for r in found:
        name, _, value = r["entry"].partition("=")
        if names and name not in names:
            continue
        role, database = ident(r["role"] or ""), ident(r["database"] or "")
        if r["role"] and r["database"]:
            scope, statement = (
                f"role {r['role']} in database {r['database']}",
                f"ALTER ROLE {role} IN DATABASE {database} RESET {name};",
            )
        elif r["role"]:
            scope, statement = f"role {r['role']}", f"ALTER ROLE {role} RESET {name};"
        else:
            scope, statement = (
                f"database {r['database']}",
                f"ALTER DATABASE {database} RESET {name};",
            )
        result.append(
            {
                "scope": scope,
                "role": r["role"],
                "database": r["database"],
                "name": name,
                "value": value,
                "reset_statement": statement,
            }
        )
    return result


def _file_settings(conn: psycopg.Connection, names: tuple[str, ...]) -> list[dict] | None:
    return optional_rows(
        conn,
        """SELECT sourcefile, sourceline, name, setting, applied, error
           FROM pg_file_settings WHERE name = ANY(%s)""",
        (list(names),),
    )


def get_role_info(connection_string: str, role: str = "") -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        where = "r.rolname = %(role)s" if role else "r.rolname !~ '^pg_'"
        found = rows(
            conn,
            f"""SELECT r.rolname, r.rolcanlogin AS can_login, r.rolsuper AS superuser,
                       r.rolreplication AS replication, r.rolconnlimit AS conn_limit,
                       (SELECT count(*) FROM pg_stat_activity a WHERE a.usename = r.rolname
                          AND a.backend_type = 'client backend')::int AS connections,
                       r.rolvaliduntil AS valid_until,
                       coalesce(r.rolvaliduntil < now(), false) AS password_expired,
                       ARRAY(SELECT b.rolname::text FROM pg_auth_members m JOIN pg_roles b
                               ON b.oid = m.roleid WHERE m.member = r.oid) AS member_of
                FROM pg_roles r WHERE {where} ORDER BY r.rolname LIMIT 200""",
            {"role": role},
        )
        settings = role_database_settings(conn)
        for r in found:
            r["settings"] = "; ".join(
                f"{s['scope']}: {s['name']}={s['value']}"
                for s in settings
                if s["role"] == r["rolname"]
            )
        db_settings = [s for s in settings if s["role"] is None]
        text = "\n\n".join(
            [
                tables.render(
                    found,
                    [
                        "rolname",
                        "can_login",
                        "superuser",
                        "conn_limit",
                        "connections",
                        "valid_until",
                        "password_expired",
                        "member_of",
                        "settings",
                    ],
                    cap=40,
                    title="roles",
                    empty=f"(no role {role!r})" if role else "(no roles)",
                ),
                tables.render(
                    db_settings,
                    ["scope", "name", "value"],
                    title="database-level settings",
                    empty="(none)",
                ),
            ]
        )
        return ToolOutput(text=text, data={"roles": found, "settings": settings})

    return run(connection_string, body)


def get_read_only_status(connection_string: str) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        state = one(
            conn,
            """SELECT pg_is_in_recovery() AS in_recovery, current_user AS "user",
                      current_database() AS database,
                      (SELECT reset_val FROM pg_settings WHERE name =
                          'default_transaction_read_only')
                        AS default_transaction_read_only""",
        )
        state["default_read_only"] = state["default_transaction_read_only"] == "on"
        names = ("default_transaction_read_only",)
        overrides = [
            s
            for s in role_database_settings(conn, names)
            if s["value"].lower() in ("on", "true", "1", "yes")
        ]
        files = [
            f
            for f in _file_settings(conn, names) or []
            if f["setting"] in ("on", "true", "1", "yes")
        ]
        state["overrides"] = overrides
        state["file_settings"] = files
        state["writes_rejected"] = state["in_recovery"] or state["default_read_only"]
        text = "\n\n".join(
            [
                tables.pairs(
                    {
                        k: state[k]
                        for k in (
                            "user",
                            "database",
                            "in_recovery",
                            "default_transaction_read_only",
                            "writes_rejected",
                        )
                    },
                    "read-only state for a new session of this role in this database",
                ),
                tables.render(
                    overrides,
                    ["scope", "name", "value"],
                    title="ALTER ROLE / DATABASE settings that make sessions read-only",
                    empty="(none)",
                ),
                tables.render(
                    files,
                    title="configuration files setting it (postgresql.conf / ALTER SYSTEM)",
                    empty="(none)",
                ),
            ]
        )
        return ToolOutput(text=text, data=state)

    return run(connection_string, body)


def get_timeout_settings(connection_string: str) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        current = rows(
            conn,
            """SELECT name, reset_val AS session_default, unit
               FROM pg_settings WHERE name = ANY(%s)""",
            (list(TIMEOUT_SETTINGS),),
        )
        effective: dict[str, Any] = {}
        for r in current:
            value = float(r["session_default"])
            effective[r["name"]] = value * 1000 if r["unit"] == "s" else value
        overrides = role_database_settings(conn, TIMEOUT_SETTINGS)
        for o in overrides:
            o["value_ms"] = duration_ms(o["value"])
        files = _file_settings(conn, TIMEOUT_SETTINGS) or []
        for f in files:
            f["value_ms"] = duration_ms(f["setting"])
        who = one(conn, 'SELECT current_user AS "user", current_database() AS database')
        text = "\n\n".join(
            [
                tables.pairs(
                    {k: f"{v:g} ms" if v else "0 (disabled)" for k, v in effective.items()},
                    f"timeouts a new session of {who['user']} in {who['database']} gets",
                ),
                tables.render(
                    overrides,
                    ["scope", "name", "value"],
                    title="ALTER ROLE / DATABASE timeouts",
                    empty="(none)",
                ),
                tables.render(
                    files,
                    ["sourcefile", "name", "setting", "applied"],
                    title="timeouts in configuration files",
                    empty="(none)",
                ),
            ]
        )
        return ToolOutput(
            text=text,
            data={"effective_ms": effective, "overrides": overrides, "file_settings": files, **who},
        )

    return run(connection_string, body)
