"""Fixtures for the database agent tests: an admin connection, unique names, held sessions.

Conditions are created for real on the shared lab with this file's own objects (names
start with `hdt_`) and are removed after each test, whatever its outcome.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from helpdesk import dsn as dsnlib
from helpdesk.agents.database.registry import build_registry

TEST_APP = "hdtest:database"


@pytest.fixture(scope="session")
def registry():
    return build_registry()


@pytest.fixture
def admin(lab) -> Iterator[psycopg.Connection]:
    conn = psycopg.connect(lab.info.dsn, autocommit=True, application_name=f"{TEST_APP}:admin")
    yield conn
    conn.close()


@pytest.fixture
def name() -> str:
    """A unique object name for this test."""
    return f"hdt_{uuid.uuid4().hex[:8]}"


class Sessions:
    """Background sessions a test holds open (transactions, locks, waiters); closed at the end."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conns: list[psycopg.Connection] = []
        self.threads: list[threading.Thread] = []
        self.busy: list[psycopg.Connection] = []

    def open(self, dsn: str | None = None, autocommit: bool = False) -> psycopg.Connection:
        conn = psycopg.connect(dsn or self.dsn, autocommit=autocommit, application_name=TEST_APP)
        self.conns.append(conn)
        return conn

    def in_background(self, conn: psycopg.Connection, sql: str) -> threading.Thread:
        """Run `sql` on `conn` in a thread (it may block on a lock until the test ends)."""

        def work() -> None:
            with contextlib.suppress(psycopg.Error):
                conn.execute(sql)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        self.threads.append(thread)
        self.busy.append(conn)
        return thread

    def close(self, admin_dsn: str) -> None:
        """Close idle connections first (frees slots), then terminate the busy ones server-side."""
        for conn in self.conns:
            if conn not in self.busy:
                _quietly_close(conn)
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (TEST_APP,),
            )
        for thread in self.threads:
            thread.join(timeout=10)
        for conn in self.busy:
            _quietly_close(conn)
        self.conns, self.busy, self.threads = [], [], []


def _quietly_close(conn: psycopg.Connection) -> None:
    with contextlib.suppress(psycopg.Error):
        conn.close()


@pytest.fixture
def sessions(lab) -> Iterator[Sessions]:
    held = Sessions(lab.info.dsn)
    yield held
    held.close(lab.info.dsn)


def execute(dsn: str, *statements: str) -> None:
    """Run statements in a short-lived session; closing it flushes its statistics at once."""
    with psycopg.connect(dsn, autocommit=True, application_name=f"{TEST_APP}:sql") as conn:
        for statement in statements:
            conn.execute(statement)


def with_params(dsn: str, **params: object) -> str:
    return dsnlib.replace(dsn, **params)
