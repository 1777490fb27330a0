"""The replication tool: on a primary (standbys, slots, archiver) and on a standby (replay)."""

from __future__ import annotations

from typing import Any

import psycopg

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.database import tables
from helpdesk.agents.database.execution import one, optional_rows, rows, run

# Received-but-unreplayed WAL below this is the tail of the last record on an idle
# primary, not lag (a few kB are normal between two WAL records).
PENDING_WAL_BYTES = 16 * 1024


def get_replication_status(connection_string: str) -> ToolOutput:
    def body(conn: psycopg.Connection) -> ToolOutput:
        in_recovery = one(conn, "SELECT pg_is_in_recovery() AS r")["r"]
        data = _standby_side(conn) if in_recovery else _primary_side(conn)
        data["slots"] = _slots(conn, in_recovery)
        data["role"] = "standby" if in_recovery else "primary"
        return ToolOutput(text=_render(data), data=data)

    return run(connection_string, body)


def _primary_side(conn: psycopg.Connection) -> dict[str, Any]:
    standbys = rows(
        conn,
        """SELECT application_name, host(client_addr) AS client_addr, state, sync_state,
                  sent_lsn::text, replay_lsn::text,
                  pg_wal_lsn_diff(pg_current_wal_lsn(), sent_lsn)::bigint AS send_lag_bytes,
                  pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS replay_lag_bytes,
                  extract(epoch FROM write_lag)::float8 AS write_lag_s,
                  extract(epoch FROM flush_lag)::float8 AS flush_lag_s,
                  extract(epoch FROM replay_lag)::float8 AS replay_lag_s,
                  round(extract(epoch FROM now() - reply_time)::numeric, 1)::float8 AS
                      last_reply_age_s
           FROM pg_stat_replication ORDER BY application_name""",
    )
    archiver = optional_rows(
        conn,
        """SELECT current_setting('archive_mode') AS archive_mode, archived_count, failed_count,
                  last_failed_wal, last_failed_time, last_archived_time,
                  (last_failed_time IS NOT NULL AND (last_archived_time IS NULL
                     OR last_failed_time > last_archived_time)) AS failing
           FROM pg_stat_archiver""",
    )
    info = one(conn, "SELECT pg_current_wal_lsn()::text AS current_lsn")
    return {
        "current_lsn": info["current_lsn"],
        "standbys": standbys,
        "archiver": archiver[0] if archiver else None,
    }


def _standby_side(conn: psycopg.Connection) -> dict[str, Any]:
    replay = one(
        conn,
        """SELECT pg_last_wal_receive_lsn()::text AS receive_lsn,
                  pg_last_wal_replay_lsn()::text AS replay_lsn,
                  coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()),
                      0)::bigint
                    AS replay_lag_bytes,
                  pg_last_xact_replay_timestamp() AS last_replayed_xact_time,
                  round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::numeric,
                      1)::float8
                    AS since_last_replayed_xact_s,
                  current_setting('recovery_min_apply_delay') AS recovery_min_apply_delay""",
    )
    paused = optional_rows(conn, "SELECT pg_get_wal_replay_pause_state() AS state")
    if paused is None:
        paused = rows(
            conn,
            "SELECT CASE WHEN pg_is_wal_replay_paused() THEN 'paused' "
            "ELSE 'not paused' END AS state",
        )
    replay["replay_pause_state"] = paused[0]["state"]
    replay["replay_paused"] = paused[0]["state"] != "not paused"
    # Time lag only means something while WAL is waiting to be replayed; an idle primary
    # makes "time since last replayed transaction" grow without any lag.
    behind = replay["replay_lag_bytes"] > PENDING_WAL_BYTES or replay["replay_paused"]
    replay["replay_lag_s"] = replay["since_last_replayed_xact_s"] if behind else 0.0
    receiver = optional_rows(
        conn,
        """SELECT status, sender_host, sender_port, slot_name,
                  round(extract(epoch FROM now() - last_msg_receipt_time)::numeric, 1)::float8
                    AS last_message_age_s
           FROM pg_stat_wal_receiver""",
    )
    replay["wal_receiver"] = receiver[0] if receiver else None
    return replay


def _slots(conn: psycopg.Connection, in_recovery: bool) -> list[dict[str, Any]]:
    position = "pg_last_wal_replay_lsn()" if in_recovery else "pg_current_wal_lsn()"
    return rows(
        conn,
        f"""SELECT slot_name, slot_type, database, active, active_pid, temporary,
                   restart_lsn::text, wal_status,
                   pg_wal_lsn_diff({position}, restart_lsn)::bigint AS retained_bytes,
                   safe_wal_size
            FROM pg_replication_slots ORDER BY retained_bytes DESC NULLS LAST""",
    )


def _render(data: dict[str, Any]) -> str:
    parts: list[str] = []
    if data["role"] == "primary":
        parts.append(f"role: primary (current WAL position {data['current_lsn']})")
        standbys = [
            {**s, "replay_lag": tables.size(s["replay_lag_bytes"])} for s in data["standbys"]
        ]
        parts.append(
            tables.render(
                standbys,
                [
                    "application_name",
                    "client_addr",
                    "state",
                    "sync_state",
                    "replay_lag",
                    "replay_lag_bytes",
                    "replay_lag_s",
                    "last_reply_age_s",
                ],
                title="connected standbys",
                empty="(no standby connected)",
            )
        )
        if data["archiver"] and data["archiver"]["archive_mode"] != "off":
            parts.append(tables.pairs(data["archiver"], "WAL archiver"))
    else:
        summary = {
            k: data[k]
            for k in (
                "receive_lsn",
                "replay_lsn",
                "replay_lag_bytes",
                "replay_lag_s",
                "replay_pause_state",
                "last_replayed_xact_time",
                "recovery_min_apply_delay",
            )
        }
        summary["replay_lag"] = tables.size(data["replay_lag_bytes"])
        parts.append(tables.pairs(summary, "role: standby (in recovery)"))
        if data["wal_receiver"]:
            parts.append(tables.pairs(data["wal_receiver"], "WAL receiver"))
        else:
            parts.append("WAL receiver: not running (not streaming from a primary)")
    slots = [{**s, "retained": tables.size(s["retained_bytes"])} for s in data["slots"]]
    parts.append(
        tables.render(
            slots,
            ["slot_name", "slot_type", "active", "restart_lsn", "wal_status", "retained"],
            title="replication slots",
            empty="(no replication slots)",
        )
    )
    return "\n\n".join(parts)
