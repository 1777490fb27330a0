"""The detached holder process: keeps a fault's background sessions alive after `inject` exits.

Started as `python -m faulttest.inject.holder --fault ID --node N --target KEY` in its own
session; it reads `{"dsn": ..., "sessions": [SessionSpec...]}` from stdin (so the password
never shows in `ps`), opens the tagged sessions (application_name
`faulttest:<fault id>:<spec name>:<n>`), runs their SQL and holds them until SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from typing import Any

import psycopg

from faulttest.catalog.models import SessionSpec
from faulttest.inject.tags import HOLDER_MODULE, app_name
from helpdesk.dsn import mask

MODULE = HOLDER_MODULE
DEFAULT_MAX_LIFETIME = 12 * 3600.0  # an injection forgotten for half a day ends by itself
FILL_RETRY = 0.5  # "fill" sessions grab slots that free up again, like a real leak
FULL_MARKERS = ("too many clients", "remaining connection slots are reserved")
GIVE_UP_AFTER = 60.0  # e.g. the lab was taken down under an injected fault

_output = threading.Lock()


def _say(message: str) -> None:
    with _output:
        sys.stdout.write(f"{time.strftime('%H:%M:%S')} {mask(message)}\n")
        sys.stdout.flush()


class Holder:
    """Runs every session spec in its own threads until `stop` is set."""

    def __init__(self, fault_id: str, dsn: str, specs: list[SessionSpec]) -> None:
        self.fault_id = fault_id
        self.dsn = dsn
        self.specs = specs
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for spec in self.specs:
            if spec.delay and self.stop.wait(spec.delay):
                return
            if spec.count == "fill":
                self._spawn(self._fill, spec)
            else:
                for index in range(1, int(spec.count) + 1):
                    self._spawn(self._session, spec, index)

    def _spawn(self, func: Any, *args: Any) -> None:
        thread = threading.Thread(target=func, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _connect(self, name: str) -> psycopg.Connection:
        conn = psycopg.connect(self.dsn, autocommit=True, application_name=name, connect_timeout=10)
        # PostgreSQL >= 14: the backend ends by itself within 1 s if this process dies
        with contextlib.suppress(psycopg.Error):
            conn.execute("SET client_connection_check_interval = 1000")
        return conn

    def _session(
        self, spec: SessionSpec, index: int, conn: psycopg.Connection | None = None
    ) -> None:
        name = app_name(self.fault_id, spec.name, index)
        while not self.stop.is_set():
            try:
                conn = conn or self._connect(name)
                _say(f"{name}: connected (backend pid {conn.info.backend_pid})")
                self._run(conn, spec, name)
            except psycopg.Error as exc:
                _say(f"{name}: {type(exc).__name__}: {str(exc).strip()}")
                _rollback(conn)
                if not spec.reconnect:
                    break
                _close(conn)
                conn = None
                self.stop.wait(0.5)
                continue
            break
        self.stop.wait()  # hold the connection (and whatever it holds) until told to stop

    def _run(self, conn: psycopg.Connection, spec: SessionSpec, name: str) -> None:
        while not self.stop.is_set():
            for statement in spec.sql:
                conn.execute(statement)
            if spec.repeat is None or self.stop.wait(spec.repeat):
                return

    def _fill(self, spec: SessionSpec) -> None:
        """Take every free connection slot, and keep taking slots that free up."""
        index, unreachable_since = 0, None
        while not self.stop.is_set():
            name = app_name(self.fault_id, spec.name, index + 1)
            try:
                conn = self._connect(name)
            except psycopg.OperationalError as exc:
                text = str(exc)
                if any(marker in text for marker in FULL_MARKERS):
                    unreachable_since = None
                else:
                    _say(f"{name}: cannot connect: {text.strip()}")
                    unreachable_since = unreachable_since or time.monotonic()
                    if time.monotonic() - unreachable_since > GIVE_UP_AFTER:
                        _say("the server has been unreachable too long: giving up")
                        self.stop.set()
                self.stop.wait(FILL_RETRY)
                continue
            index, unreachable_since = index + 1, None
            self._spawn(self._session, spec, index, conn)
        _say(f"fill: held {index} sessions")


def _rollback(conn: psycopg.Connection | None) -> None:
    """Roll back after an error, and publish the error's statistics (e.g. a deadlock) now
    rather than when the idle backend next flushes them (up to 10 s later)."""
    if conn is None or conn.closed:
        return
    for statement in ("ROLLBACK", "SELECT pg_stat_force_next_flush()"):
        with contextlib.suppress(psycopg.Error):
            conn.execute(statement)


def _close(conn: psycopg.Connection | None) -> None:
    if conn is not None:
        with contextlib.suppress(psycopg.Error):
            conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=MODULE)
    parser.add_argument("--fault", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--target", required=True, help="host:port/dbname, for `ps` readers")
    parser.add_argument("--max-lifetime", type=float, default=DEFAULT_MAX_LIFETIME)
    args = parser.parse_args(argv)
    payload = json.loads(sys.stdin.read())
    specs = [SessionSpec.model_validate(s) for s in payload["sessions"]]
    holder = Holder(args.fault, payload["dsn"], specs)
    signal.signal(signal.SIGTERM, lambda *_: holder.stop.set())
    signal.signal(signal.SIGINT, lambda *_: holder.stop.set())
    _say(f"holder for {args.fault} on {args.node} ({args.target}) started, pid {os.getpid()}")
    threading.Thread(target=holder.start, daemon=True).start()
    holder.stop.wait(args.max_lifetime)
    _say("stopping")
    # Exiting closes every socket; idle backends end at once, busy ones are terminated by
    # teardown (or end by themselves through client_connection_check_interval).
    os._exit(0)


if __name__ == "__main__":
    main()
