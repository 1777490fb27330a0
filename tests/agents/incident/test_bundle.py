"""Incident bundles built for real: against the lab PostgreSQL, the fake cluster and this host.

Each bundle is unpacked and checked file by file; no lab password may appear anywhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from faulttest.lab import PASSWORD, free_port
from helpdesk import dsn as dsnlib
from helpdesk.agents.database.registry import build_registry as database_registry
from helpdesk.agents.incident import create_incident_bundle, list_incidents
from helpdesk.agents.incident.collect_database import read_tools
from tests.agents.incident.conftest import CONTEXT, manifest_of, unpack

NAME = re.compile(r"^incident-([0-9a-f]{12})-(\d{8}T\d{6}Z)\.tar\.gz$")


def assert_no_password(files: dict[str, bytes], password: str = PASSWORD) -> None:
    leaking = [p for p, blob in files.items() if password.encode() in blob]
    assert not leaking, f"password found in {leaking}"


def test_bundle_of_the_lab_file_by_file(lab, incidents: Path) -> None:
    info = lab.info
    result = create_incident_bundle(
        info.dsn, description=f"checkout fails on `{info.dsn}` since 10:02"
    )

    path = Path(result.path)
    assert path.parent == incidents and path.is_file()
    match = NAME.match(path.name)
    assert match and match.group(1) == result.id
    assert path.stat().st_mode & 0o077 == 0  # owner only
    assert result.size == path.stat().st_size

    files = unpack(path)
    assert_no_password(files)
    manifest = manifest_of(files)
    assert manifest["id"] == result.id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["time"])
    assert manifest["description"].startswith("checkout fails on")
    assert "password=****" in manifest["description"]
    assert manifest["layers"] == ["database", "os", "storage"]
    assert manifest["skipped"] == {"kubernetes": "no kube context given and no kubeconfig found"}
    assert [e for e in manifest["errors"] if e["layer"] == "database"] == []
    assert manifest["targets"]["database"] == dsnlib.mask(info.dsn)

    # database/: every read tool that needs only a DSN, as .txt (and .json when it has data)
    expected = {t.name for t in read_tools(database_registry())}
    assert "get_session_info" not in expected and "check_connection" in expected
    written = {Path(p).stem for p in files if p.startswith("database/") and p.endswith(".txt")}
    assert written == expected
    check = files["database/check_connection.txt"].decode()
    assert check.startswith("connection OK") and f"database {info.dbname}" in check
    assert info.dbname in files["database/get_database_info.txt"].decode()
    stats = json.loads(files["database/check_connection.json"])
    assert stats["database"] == info.dbname and stats["server_port"] == info.port

    # os/: this machine
    system = json.loads(files["os/system.json"])
    assert system["hostname"] == manifest["host"] and len(system["loadavg"]) == 3
    memory = json.loads(files["os/memory.json"])
    assert memory["bytes"]["MemTotal"] > 0
    processes = json.loads(files["os/processes.json"])
    assert any("postgres" in p["command"] for p in processes["top_by_memory"])
    assert "top 25 by resident memory" in files["os/processes.txt"].decode()

    # storage/: filesystems and the lab's own data directory, measured on disk
    filesystems = json.loads(files["storage/filesystems.json"])
    assert any(fs["mountpoint"] == "/" for fs in filesystems)
    data_dir = json.loads(files["storage/postgres_data_directory.json"])
    assert Path(data_dir["path"]).resolve() == Path(info.data_dir).resolve()
    assert data_dir["local"] is True and data_dir["size_bytes"] > 10 * 1024 * 1024
    assert 0 < data_dir["pg_wal_bytes"] < data_dir["size_bytes"]

    assert sorted(files) == result.files
    assert manifest["files"]["database"] == sorted(p for p in files if p.startswith("database/"))


def test_unreachable_database_is_recorded_and_bundle_still_written(incidents: Path) -> None:
    secret = "Unreachable-Secret-42"
    dsn = f"host=127.0.0.1 port={free_port()} dbname=shop user=app password={secret}"

    result = create_incident_bundle(dsn, description="shop is down")

    files = unpack(result.path)
    assert_no_password(files, secret)
    manifest = manifest_of(files)
    database_errors = [e["error"] for e in manifest["errors"] if e["layer"] == "database"]
    assert any(e.startswith("cannot connect: refused") for e in database_errors), database_errors
    assert "database" in manifest["layers"]  # the classified connection check is kept
    assert [p for p in files if p.startswith("database/")] == [
        "database/check_connection.json",
        "database/check_connection.txt",
    ]
    assert "refused" in files["database/check_connection.txt"].decode().lower()
    assert {"os", "storage"} <= set(manifest["layers"])
    assert "postgres_data_directory" not in " ".join(files)  # unknown without a server


def test_invalid_dsn_is_an_error_not_a_crash(incidents: Path) -> None:
    result = create_incident_bundle("host=x port=notaport password='Secret-Bad-DSN", "", "")
    files = unpack(result.path)
    assert_no_password(files, "Secret-Bad-DSN")
    assert any(e["layer"] == "database" for e in manifest_of(files)["errors"])


def test_kubernetes_layer_from_the_fake_cluster(cluster, incidents: Path) -> None:
    result = create_incident_bundle(
        kube_context=CONTEXT, namespace="shop", kube_tools=cluster.registry
    )

    files = unpack(result.path)
    manifest = manifest_of(files)
    assert manifest["layers"] == ["kubernetes", "os", "storage"]
    assert manifest["errors"] == []
    assert manifest["targets"]["kube_context"] == CONTEXT
    for item in ("pods", "events", "services", "endpoints", "nodes", "pvcs", "workloads"):
        assert f"kubernetes/{item}.txt" in files, item
    pods = files["kubernetes/pods.txt"].decode()
    assert "catalog-" in pods and "Running" in pods
    assert "worker-1" in files["kubernetes/nodes.txt"].decode()
    assert "catalog" in files["kubernetes/services.txt"].decode()
    assert "ScalingReplicaSet" in files["kubernetes/events.txt"].decode()
    assert "catalog-cache" in files["kubernetes/pvcs.txt"].decode()
    # the tools really went to the API: namespaced lists in `shop`, nodes cluster-wide
    paths = {r.path for r in cluster.api.requests}
    assert "/api/v1/namespaces/shop/pods" in paths and "/api/v1/nodes" in paths


def test_unreachable_cluster_is_recorded(incidents: Path) -> None:
    result = create_incident_bundle(kube_context="prod-east", namespace="db")

    manifest = manifest_of(unpack(result.path))
    errors = [e["error"] for e in manifest["errors"] if e["layer"] == "kubernetes"]
    assert errors and "kubeconfig" in errors[0]
    assert "kubernetes" not in manifest["layers"]
    assert {"os", "storage"} <= set(manifest["layers"])


def test_callback_receives_the_result(lab, callback, incidents: Path) -> None:
    result = create_incident_bundle(lab.info.dsn, callback_url=callback.url)

    assert result.callback == {"url": callback.url, "ok": True, "status": 200, "error": None}
    assert callback.paths == ["/hooks/incident"]
    [posted] = callback.received
    assert posted["id"] == result.id and posted["path"] == result.path
    assert posted["size"] == Path(result.path).stat().st_size
    assert posted["layers"] == ["database", "os", "storage"]
    assert posted["errors"] == result.errors
    assert PASSWORD not in json.dumps(posted)


def test_failing_callback_is_recorded_not_fatal(callback, incidents: Path) -> None:
    callback.status = 503
    served = create_incident_bundle(callback_url=callback.url)
    assert served.callback is not None and served.callback["ok"] is False
    assert served.callback["error"] == "HTTP 503"

    closed = f"http://127.0.0.1:{free_port()}/hook"
    refused = create_incident_bundle(callback_url=closed)
    assert refused.callback is not None and refused.callback["ok"] is False
    assert "Connect" in refused.callback["error"]
    assert Path(refused.path).is_file()


def test_list_incidents(incidents: Path) -> None:
    assert list_incidents() == []
    first = create_incident_bundle(description="first")
    second = create_incident_bundle(description="second password=Listed-Secret")
    broken = incidents / "incident-0123456789ab-20200101T000000Z.tar.gz"
    broken.write_bytes(b"not a tarball")
    (incidents / "notes.txt").write_text("not a bundle")

    found = list_incidents()

    assert [s.path for s in found][-1] == str(broken)  # oldest (by its name's time) last
    by_id = {s.id: s for s in found}
    assert set(by_id) == {first.id, second.id, "0123456789ab"}
    assert by_id[second.id].description == "second password=****"
    assert by_id[first.id].layers == ["os", "storage"]
    assert by_id[first.id].size == Path(first.path).stat().st_size
    assert by_id[first.id].time == first.time
    assert by_id["0123456789ab"].unreadable and by_id["0123456789ab"].time == "2020-01-01T00:00:00Z"
    assert list_incidents(incidents / "missing") == []
