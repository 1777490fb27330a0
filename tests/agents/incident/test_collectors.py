"""The collectors and the redaction on their own: what each records when things go wrong."""

from __future__ import annotations

from pathlib import Path

from helpdesk.agents.base import Tool, ToolOutput, ToolRegistry
from helpdesk.agents.incident.collect_database import collect_database, read_tools
from helpdesk.agents.incident.collect_kubernetes import collect_kubernetes
from helpdesk.agents.incident.collect_os import collect_os
from helpdesk.agents.incident.collect_storage import collect_storage, directory_size
from helpdesk.agents.incident.redact import Redactor, secrets_of

_DSN_ONLY = {
    "type": "object",
    "properties": {"connection_string": {"type": "string"}},
    "required": ["connection_string"],
}


def _registry(*tools: Tool) -> ToolRegistry:
    registry = ToolRegistry(agent="test")
    for tool in tools:
        registry.add(tool)
    return registry


def test_redactor_masks_dsns_and_known_secrets_everywhere() -> None:
    redactor = Redactor(["Sup3r-Secret", "ab"])
    data = {
        "conninfo": "host=db password=Sup3r-Secret user=x",
        "note": ["the password is Sup3r-Secret"],
        "Sup3r-Secret": 1,
        "uri": "postgresql://u:other-pw@h/db",
        "n": 3,
    }
    masked = redactor.data(data)
    assert masked == {
        "conninfo": "host=db password=**** user=x",
        "note": ["the password is ****"],
        "****": 1,
        "uri": "postgresql://u:****@h/db",
        "n": 3,
    }
    assert redactor.secrets == ["Sup3r-Secret"]  # too-short literals are left to `mask`
    assert redactor.leaks("x Sup3r-Secret") and not redactor.leaks(str(masked))
    assert "Pw-9999" in secrets_of("host=a password=Pw-9999")


def test_database_layer_runs_only_read_tools_that_need_just_a_dsn() -> None:
    calls: list[str] = []

    def tool(name: str, mutating: bool = False, params: dict | None = None) -> Tool:
        def run(**_: object) -> ToolOutput:
            calls.append(name)
            return ToolOutput(text=f"{name} ran", data={"ok": True})

        return Tool(name, name, params or _DSN_ONLY, run, mutating=mutating)

    with_pid = {**_DSN_ONLY, "required": ["connection_string", "pid"]}
    registry = _registry(
        tool("check_connection"),
        tool("get_lock_info"),
        tool("terminate_session", mutating=True),
        tool("get_session_info", params=with_pid),
    )
    assert [t.name for t in read_tools(registry)] == ["check_connection", "get_lock_info"]

    layer = collect_database("host=x", registry)

    assert calls == ["check_connection", "get_lock_info"]
    assert layer.collected and layer.errors == []
    assert layer.files == [
        "database/check_connection.json",
        "database/check_connection.txt",
        "database/get_lock_info.json",
        "database/get_lock_info.txt",
    ]


def test_a_crashing_tool_is_recorded_and_the_others_still_run() -> None:
    def boom(**_: object) -> ToolOutput:
        raise RuntimeError("bug with password=Leaky-123")

    def fine(**_: object) -> ToolOutput:
        return ToolOutput(text="fine")

    layer = collect_database(
        "host=x", _registry(Tool("get_a", "", _DSN_ONLY, boom), Tool("get_b", "", _DSN_ONLY, fine))
    )
    assert layer.errors == ["get_a: RuntimeError: bug with password=****"]
    assert layer.files == ["database/get_b.txt"]


def test_kubernetes_layer_stops_after_a_failing_first_call() -> None:
    calls: list[str] = []

    def failing(**_: object) -> ToolOutput:
        calls.append("get_pods")
        return ToolOutput(text="error: cannot reach the Kubernetes API server", ok=False)

    props = {"limit": {"type": "integer"}, "context": {}, "namespace": {}}
    schema = {"type": "object", "properties": props}
    registry = _registry(
        Tool("get_pods", "", schema, failing), Tool("get_events", "", schema, failing)
    )

    layer = collect_kubernetes("ctx", "ns", registry)

    assert calls == ["get_pods"] and not layer.collected
    assert layer.errors[0] == "pods: error: cannot reach the Kubernetes API server"
    assert "not collected" in layer.errors[1]


def test_os_layer_without_proc_records_errors_and_keeps_what_it_can(tmp_path: Path) -> None:
    layer = collect_os(proc=tmp_path / "no-proc")
    assert layer.collected and "os/system.json" in layer.documents
    assert layer.documents["os/system.json"]["uptime_s"] is None
    assert [e.split(":")[0] for e in layer.errors] == ["memory", "processes"]


def test_storage_layer(tmp_path: Path) -> None:
    data_dir = tmp_path / "pgdata"
    (data_dir / "pg_wal").mkdir(parents=True)
    (data_dir / "PG_VERSION").write_text("18\n")
    (data_dir / "pg_wal" / "000000010000000000000001").write_bytes(b"\0" * 4096)
    assert directory_size(data_dir) == (4099, 2, False)
    assert directory_size(data_dir, limit=1)[2] is True

    local = collect_storage(str(data_dir), mounts=tmp_path / "no-mounts")
    assert local.errors == []
    [root] = local.documents["storage/filesystems.json"]
    assert root["mountpoint"] == "/" and root["size_bytes"] > 0
    measured = local.documents["storage/postgres_data_directory.json"]
    assert measured["size_bytes"] == 4099 and measured["pg_wal_bytes"] == 4096

    remote = collect_storage("/nonexistent/pgdata")
    assert remote.documents["storage/postgres_data_directory.json"]["local"] is False
