"""Rules about the server's state and settings: replication, WAL retention, read-only
sessions, timeouts and recent crashes."""

from __future__ import annotations

from helpdesk import dsn as dsnlib
from helpdesk.agents.database.diagnostician import rules_sessions
from helpdesk.agents.database.diagnostician.findings import (
    CANCEL_WINDOW_S,
    LAG_BYTES,
    LAG_SECONDS,
    LOCK_TIMEOUT_LOW_MS,
    SLOT_RETAINED_BYTES,
    SLOT_RETAINED_SEVERE,
    TIMEOUT_LOW_MS,
    TIMEOUT_VERY_LOW_MS,
    WAL_DIR_FACTOR,
    Finding,
)
from helpdesk.agents.database.diagnostician.investigation import Node, Observations
from helpdesk.agents.database.diagnostician.request import Request
from helpdesk.agents.database.tables import size


def _where(node: Node) -> str:
    try:
        host, port, db = dsnlib.endpoint(node.target)
    except dsnlib.InvalidDSN:
        return node.target
    return f"{host}:{port}/{db}"


def replication(obs: Observations, request: Request) -> list[Finding]:
    findings: list[Finding] = []
    replica = obs.replica
    status = replica.data("get_replication_status") if replica else None
    if replica is not None and replica.failure is not None:
        failed = rules_sessions.connection_failure(replica)
        if failed is not None:
            failed.severity = 80
            failed.summary = "The replica cannot be reached. " + failed.summary
            findings.append(failed)
    if replica is not None and status and status["role"] == "standby":
        findings += _standby_lag(replica, status)
    primary = obs.primary
    pstatus = primary.data("get_replication_status") if primary else None
    if pstatus and pstatus["role"] == "primary":
        for standby in pstatus["standbys"]:
            lag_s = standby["replay_lag_s"] or 0
            if (standby["replay_lag_bytes"] or 0) >= LAG_BYTES or lag_s >= LAG_SECONDS:
                findings.append(
                    Finding(
                        "replication_lag",
                        75,
                        f"Standby {standby['application_name']} ({standby['client_addr']}) replays "
                        f"{size(standby['replay_lag_bytes'])} behind the primary.",
                        [
                            f"pg_stat_replication on the primary: {standby['application_name']} "
                            "state "
                            f"{standby['state']}, replay lag {standby['replay_lag_bytes']} bytes, "
                            f"replay_lag {lag_s:.1f} s"
                        ],
                        [
                            "On the replica check `SELECT pg_get_wal_replay_pause_state();` and "
                            "resume with "
                            "`SELECT pg_wal_replay_resume();` if paused; otherwise look for "
                            "replay conflicts, "
                            "I/O saturation or long queries on the replica."
                        ],
                    )
                )
            elif standby["state"] != "streaming":
                findings.append(
                    Finding(
                        "replication_lag",
                        55,
                        f"Standby {standby['application_name']} is in state "
                        f"'{standby['state']}', not streaming.",
                        [f"pg_stat_replication: state {standby['state']}"],
                        ["Check the replica's server log for why it is not streaming."],
                    )
                )
        if (
            request.replica
            and not pstatus["standbys"]
            and replica is not None
            and replica.failure is None
        ):
            findings.append(
                Finding(
                    "replication_lag",
                    60,
                    "No standby is streaming from the primary.",
                    ["pg_stat_replication on the primary is empty"],
                    ["Check primary_conninfo and the WAL receiver on the replica."],
                )
            )
    return findings


def _standby_lag(replica: Node, status: dict) -> list[Finding]:
    lag_bytes, lag_s, paused = (
        status["replay_lag_bytes"],
        status["replay_lag_s"] or 0,
        status["replay_paused"],
    )
    receiver = status.get("wal_receiver")
    evidence = [
        f"replica {_where(replica)}: received up to {status['receive_lsn']}, replayed up to "
        f"{status['replay_lsn']} ({size(lag_bytes)} not yet replayed), last replayed transaction "
        f"{status['last_replayed_xact_time']} ({lag_s:.0f} s behind)",
        f"pg_get_wal_replay_pause_state() = '{status['replay_pause_state']}'",
    ]
    if receiver:
        evidence.append(
            f"WAL receiver: {receiver['status']} from "
            f"{receiver['sender_host']}:{receiver['sender_port']}"
        )
    delay = status.get("recovery_min_apply_delay") or "0"
    if delay not in ("0", "0ms"):
        evidence.append(
            f"recovery_min_apply_delay = {delay} on the replica: replay is held back on purpose"
        )
    if paused:
        return [
            Finding(
                "replication_lag",
                90,
                f"WAL replay is paused on the replica ({status['replay_pause_state']}): it keeps "
                "receiving "
                f"WAL but applies none of it, so it is {size(lag_bytes)} and {lag_s:.0f} s behind "
                "and "
                "readers see stale data.",
                evidence,
                [
                    "On the replica: `SELECT pg_wal_replay_resume();` then watch it catch up "
                    "(`SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), "
                    "pg_last_wal_replay_lsn());`)."
                ],
            )
        ]
    if lag_bytes >= LAG_BYTES or lag_s >= LAG_SECONDS:
        return [
            Finding(
                "replication_lag",
                80,
                f"The replica is {size(lag_bytes)} / {lag_s:.0f} s behind in replaying WAL.",
                evidence,
                (
                    [
                        "On the replica: `ALTER SYSTEM RESET recovery_min_apply_delay;` then "
                        "`SELECT pg_reload_conf();` (a delayed standby is always this far behind)."
                    ]
                    if delay not in ("0", "0ms")
                    else []
                )
                + [
                    "Look for replay conflicts or long queries on the replica "
                    "(`max_standby_streaming_delay`, "
                    "hot_standby_feedback) and for I/O saturation."
                ],
            )
        ]
    if receiver is None:
        return [
            Finding(
                "replication_lag",
                60,
                "The replica has no WAL receiver: it is not streaming from a primary.",
                evidence,
                ["Check primary_conninfo and the replica's server log."],
            )
        ]
    return []


def wal_retention(node: Node, request: Request) -> list[Finding]:
    status = node.data("get_replication_status")
    if not status:
        return []
    findings = []
    for slot in status["slots"]:
        if slot["active"] or slot["retained_bytes"] is None:
            continue
        retained = slot["retained_bytes"]
        lost = slot["wal_status"] in ("unreserved", "lost")
        if retained >= SLOT_RETAINED_BYTES or lost:
            severity = 72 + (15 if retained >= SLOT_RETAINED_SEVERE or lost else 0)
        else:
            severity = 45  # an unused slot retains WAL from now on
        findings.append(
            Finding(
                "wal_accumulation",
                severity,
                f"Replication slot {slot['slot_name']} is inactive and keeps {size(retained)} of "
                "WAL "
                "from being removed; pg_wal grows for as long as nobody consumes the slot.",
                [
                    f"pg_replication_slots: {slot['slot_name']} ({slot['slot_type']}), active = "
                    "false, "
                    f"restart_lsn {slot['restart_lsn']}, retained {retained} bytes, wal_status "
                    f"{slot['wal_status']}"
                ],
                [
                    "If its consumer is gone: `SELECT "
                    f"pg_drop_replication_slot('{slot['slot_name']}');`",
                    "Otherwise reconnect the consumer, and cap retention with "
                    "`max_slot_wal_keep_size`.",
                ],
                explains=("disk_pressure",),
            )
        )
    archiver = status.get("archiver")
    if archiver and archiver.get("failing"):
        findings.append(
            Finding(
                "wal_accumulation",
                72,
                "WAL archiving fails, so completed WAL segments pile up in pg_wal.",
                [
                    f"pg_stat_archiver: failed_count {archiver['failed_count']}, last failed "
                    f"{archiver['last_failed_wal']} "
                    f"at {archiver['last_failed_time']}"
                ],
                ["Fix archive_command (see the server log for its error)."],
                explains=("disk_pressure",),
            )
        )
    usage = node.data("get_disk_usage")
    if (
        usage
        and usage.get("wal")
        and usage["wal"]["bytes"] > WAL_DIR_FACTOR * usage["max_wal_size_bytes"]
    ):
        findings.append(
            Finding(
                "wal_accumulation",
                55,
                f"pg_wal holds {size(usage['wal']['bytes'])}, more than {WAL_DIR_FACTOR:g}x "
                "max_wal_size.",
                [
                    f"pg_ls_waldir(): {usage['wal']['files']} files, {usage['wal']['bytes']} "
                    "bytes; "
                    f"max_wal_size {usage['max_wal_size_bytes']} bytes"
                ],
                ["Check slots, archiving and wal_keep_size."],
                explains=("disk_pressure",),
            )
        )
    return findings


def read_only(node: Node, request: Request, is_main: bool) -> list[Finding]:
    state = node.data("get_read_only_status")
    if not state:
        return []
    findings = []
    log = node.data("read_server_log") or {}
    rejected = log.get("counts", {}).get("read_only", 0)
    log_note = (
        [f"server log: {rejected} write(s) rejected in a read-only transaction recently"]
        if rejected
        else []
    )
    if state["in_recovery"] and is_main:
        findings.append(
            Finding(
                "read_only",
                85 if "read_only" in request.hints or rejected else 35,
                f"{_where(node)} is a standby in recovery: it rejects every write.",
                ["pg_is_in_recovery() = true", *log_note],
                [
                    "Point writers at the primary; if this server should be the primary, promote "
                    "it: "
                    "`SELECT pg_promote();`"
                ],
            )
        )
    if state["default_read_only"]:
        overrides = state["overrides"]
        where = "; ".join(f"{o['scope']}: {o['name']}={o['value']}" for o in overrides) or (
            "server configuration (postgresql.conf / ALTER SYSTEM)"
        )
        actions = [o["reset_statement"] for o in overrides] or [
            "`ALTER SYSTEM RESET default_transaction_read_only;` then `SELECT pg_reload_conf();`"
        ]
        findings.append(
            Finding(
                "read_only",
                88,
                f"New sessions of {state['user']} in {state['database']} start read-only "
                f"(default_transaction_read_only = on, set at {where}): INSERT/UPDATE/DELETE fail "
                "with "
                "'cannot execute ... in a read-only transaction'.",
                [
                    f"default_transaction_read_only for a new session of {state['user']} in "
                    f"{state['database']}: on",
                    f"set by: {where}",
                    *log_note,
                ],
                [f"`{a}`" if not a.startswith("`") else a for a in actions],
            )
        )
    return findings


def timeouts(node: Node, request: Request) -> list[Finding]:
    data = node.data("get_timeout_settings")
    if not data:
        return []
    log = node.data("read_server_log") or {}
    cancelled = log.get("counts", {}).get("statement_timeout", 0)
    findings = []
    effective = data["effective_ms"]
    overrides = {(o["name"], o["scope"]): o for o in data["overrides"]}
    for name, limit in (
        ("statement_timeout", TIMEOUT_LOW_MS),
        ("transaction_timeout", TIMEOUT_LOW_MS),
        ("lock_timeout", LOCK_TIMEOUT_LOW_MS),
    ):
        value = effective.get(name) or 0
        if not 0 < value < limit:
            continue
        source = [o for (n, _), o in overrides.items() if n == name and _applies(o, data)]
        where = (
            "; ".join(f"{o['scope']}: {o['name']}={o['value']}" for o in source)
            or "server configuration"
        )
        severity = 88 if value <= TIMEOUT_VERY_LOW_MS or cancelled else 68
        actions = [f"`{o['reset_statement']}`" for o in source] or [
            f"`ALTER SYSTEM SET {name} = '30s';` then `SELECT pg_reload_conf();`"
        ]
        findings.append(
            Finding(
                "statement_timeout",
                severity if name != "lock_timeout" else severity - 10,
                f"{name} is {value:g} ms for new sessions of {data['user']} in {data['database']} "
                f"(set at {where}): "
                "ordinary statements are cancelled with 'canceling statement due to "
                f"{'lock' if name == 'lock_timeout' else 'statement'} timeout'.",
                [
                    f"{name} a new session of {data['user']} in {data['database']} gets: "
                    f"{value:g} ms",
                    f"set by: {where}",
                ]
                + (
                    [
                        f"server log: {cancelled} statement(s) cancelled by statement timeout "
                        "recently"
                    ]
                    if cancelled
                    else []
                ),
                actions
                + [
                    "Set a timeout that fits the workload (e.g. 30s for OLTP) per role, not a few "
                    "ms."
                ],
            )
        )
    if not findings:
        biting = _biting_timeout(data, log)
        findings += [biting] if biting else []
    for o in data["overrides"]:
        value = o.get("value_ms") or 0
        if (
            o["name"] == "statement_timeout"
            and 0 < value < TIMEOUT_LOW_MS
            and not _applies(o, data)
        ):
            findings.append(
                Finding(
                    "statement_timeout",
                    50 + (10 if cancelled else 0),
                    f"{o['scope']} has statement_timeout = {o['value']}: its queries are "
                    "cancelled almost at once.",
                    [f"pg_db_role_setting: {o['scope']}: statement_timeout={o['value']}"]
                    + (
                        [
                            f"server log: {cancelled} statement(s) cancelled by statement timeout "
                            "recently"
                        ]
                        if cancelled
                        else []
                    ),
                    [f"`{o['reset_statement']}`"],
                )
            )
    return findings


def _biting_timeout(data: dict, log: dict) -> Finding | None:
    """A normal-looking timeout that nevertheless cancels statements right now."""
    value = data["effective_ms"].get("statement_timeout") or 0
    last = log.get("last_seen_s", {}).get("statement_timeout")
    if not value or last is None or last > CANCEL_WINDOW_S:
        return None
    count = log["counts"]["statement_timeout"]
    return Finding(
        "statement_timeout",
        60,
        f"Statements are being cancelled by statement_timeout = {value:g} ms ({count} in the "
        "server log, "
        f"the last {last:.0f} s ago): the limit is below what the workload needs.",
        [
            f"statement_timeout a new session of {data['user']} in {data['database']} gets: "
            f"{value:g} ms",
            f"server log: 'canceling statement due to statement timeout' {count} time(s), last "
            f"{last:.0f} s ago",
        ],
        [
            "Find the cancelled statements (the server log's STATEMENT lines) and either speed "
            "them up or "
            "raise the timeout for that role: `ALTER ROLE <role> SET statement_timeout = "
            "'<limit>';`"
        ],
    )


def _applies(override: dict, data: dict) -> bool:
    return override["role"] in (None, data["user"]) and override["database"] in (
        None,
        data["database"],
    )


def crash(node: Node, request: Request) -> list[Finding]:
    log = node.data("read_server_log") or {}
    count = log.get("counts", {}).get("crash", 0)
    if not count:
        return []
    info = node.data("check_connection") or {}
    uptime = info.get("uptime_s") or 0
    recent = uptime < 600
    return [
        Finding(
            "server_crash",
            70 if recent else 35,
            "The server crashed or was killed recently and went through crash recovery.",
            [f"server log: {count} crash/recovery message(s) recently; server up {uptime:.0f} s"],
            [
                "Read the server log around the crash (signal, out of memory killer, PANIC) and "
                "the OS log."
            ],
        )
    ]
