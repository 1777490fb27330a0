"""Typed schema of a failure mode (SPEC §4), a superset of aiHelpDesk's Go catalog.

Pure data, no I/O. Actions (`inject`/`teardown`) and probes (`verify`) are
discriminated unions on `type`; a type we cannot run (e.g. Go's `docker_exec`)
loads as `UnsupportedAction` so that existing catalogs still load.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from helpdesk.taxonomy import NAMES as CATEGORY_NAMES

PLACEHOLDERS = ("connection_string", "replica_connection_string", "kube_context")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: object) -> float:
    """Seconds from 30, 1.5, "30s", "2m", "500ms" (the Go catalog writes "60s")."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 60 or '60s'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"invalid duration {value!r}; use e.g. 60, '60s', '2m', '500ms'")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


Seconds = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FaultCategory(StrEnum):
    DATABASE = "database"
    KUBERNETES = "kubernetes"
    HOST = "host"
    COMPOUND = "compound"


class Requirement(StrEnum):
    REPLICA = "replica"
    SERVER_CONTROL = "server_control"
    KUBERNETES = "kubernetes"


class Node(StrEnum):
    """Which server of the target an action or probe addresses."""

    PRIMARY = "primary"
    REPLICA = "replica"


# ── actions ──────────────────────────────────────────────────────────────────


class SqlAction(_Strict):
    """Run SQL once, synchronously, on the primary or the replica (autocommit per statement)."""

    type: Literal["sql"]
    target: Node = Node.PRIMARY
    script: str | None = None  # file path, relative to the catalog file
    script_inline: str | None = None
    database: str | None = None  # connect to another database than the target's
    ignore_errors: bool = False
    detach: bool = False  # Go catalog compat: run in the background (treated as `sessions`)

    @model_validator(mode="after")
    def _one_source(self) -> SqlAction:
        if (self.script is None) == (self.script_inline is None):
            raise ValueError("give exactly one of 'script' or 'script_inline'")
        return self


class SessionSpec(_Strict):
    """One kind of background session: `count` connections that each run `sql` in order.

    The last statement usually blocks (pg_sleep, a lock wait) and the session stays
    alive after the inject command returns, held by a detached holder process.
    """

    name: str = Field(pattern=r"^[a-z0-9_-]+$")
    count: int | Literal["fill"] = 1  # "fill": every connection slot still free
    sql: list[str] = Field(min_length=1)
    delay: Seconds | None = None  # start this spec's sessions after the previous ones
    reconnect: bool = False  # re-run `sql` when the session ends (e.g. killed by deadlock)
    repeat: Seconds | None = None  # run `sql` again every `repeat` seconds until torn down


class SessionsAction(_Strict):
    """Background sessions tagged application_name='faulttest:<fault id>:<name>'."""

    type: Literal["sessions"]
    target: Node = Node.PRIMARY
    sessions: list[SessionSpec] = Field(min_length=1)


class ServerAction(_Strict):
    """Control the target server process (only targets with server control: the lab)."""

    type: Literal["server"]
    action: Literal["stop", "start", "kill", "restart", "set", "reset"]
    target: Node = Node.PRIMARY
    settings: dict[str, str] = Field(default_factory=dict)  # for set / reset

    @model_validator(mode="after")
    def _settings_for_set(self) -> ServerAction:
        if self.action in ("set", "reset") and not self.settings:
            raise ValueError(f"action '{self.action}' needs 'settings'")
        return self


class ConfigAction(_Strict):
    """Change the connection string handed to the agent; nothing on the server changes.

    `override` replaces libpq keywords (password, dbname, user, port, host) of the
    target's DSN; Go catalogs write a whole `connection_string` instead.
    """

    type: Literal["config"]
    override: dict[str, str] = Field(default_factory=dict)
    restore: bool = False  # teardown form, as the Go catalog writes it


class KubernetesAction(_Strict):
    """Manifests applied with server-side apply (field manager `faulttest`), deleted, or
    re-applied as the base (`restore_base`, which also deletes what the fault's overlay
    added and waits until the base is ready); `port_forward` opens a local port that
    forwards to `service`:`port` (the agent's DSN then names it).

    `namespace` defaults to the cluster's fault namespace (helpdesk-test)."""

    type: Literal["kubernetes"]
    action: Literal["apply", "delete", "restore_base", "port_forward"]
    manifests: list[str] = Field(default_factory=list)
    namespace: str | None = None
    wait: bool = True
    service: str | None = None  # port_forward
    port: int | None = Field(default=None, gt=0, lt=65536)  # port_forward

    @model_validator(mode="after")
    def _forward_target(self) -> KubernetesAction:
        if self.action == "port_forward" and not (self.service and self.port):
            raise ValueError("action 'port_forward' needs 'service' and 'port'")
        if self.action in ("apply", "delete", "restore_base") and not self.manifests:
            raise ValueError(f"action '{self.action}' needs 'manifests'")
        return self


class ShellAction(_Strict):
    """A script run with FAULTTEST_CONN, FAULTTEST_REPLICA_CONN, PGPASSWORD and
    FAULTTEST_KUBE_CONTEXT in its environment."""

    type: Literal["shell"]
    script: str | None = None
    script_inline: str | None = None
    timeout: Seconds = 60.0

    @model_validator(mode="after")
    def _one_source(self) -> ShellAction:
        if (self.script is None) == (self.script_inline is None):
            raise ValueError("give exactly one of 'script' or 'script_inline'")
        return self


class UnsupportedAction(BaseModel):
    """An action type this framework cannot run (kept so that Go catalogs load)."""

    model_config = ConfigDict(extra="allow")
    type: str


KNOWN_ACTION_TYPES = ("sql", "sessions", "server", "config", "kubernetes", "shell")


def _action_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in KNOWN_ACTION_TYPES else "unsupported"


Action = Annotated[
    Annotated[SqlAction, Tag("sql")]
    | Annotated[SessionsAction, Tag("sessions")]
    | Annotated[ServerAction, Tag("server")]
    | Annotated[ConfigAction, Tag("config")]
    | Annotated[KubernetesAction, Tag("kubernetes")]
    | Annotated[ShellAction, Tag("shell")]
    | Annotated[UnsupportedAction, Tag("unsupported")],
    Discriminator(_action_tag),
]


# ── probes ───────────────────────────────────────────────────────────────────


class SqlProbe(_Strict):
    """Holds when `query` returns a single true value on the given node."""

    type: Literal["sql"]
    target: Node = Node.PRIMARY
    query: str
    database: str | None = None


class ConnectionFailsProbe(_Strict):
    """Holds when a new connection fails with an error containing `contains`.

    `dsn: agent` uses the connection string handed to the agent (after config
    overrides); `dsn: target` the unmodified target DSN.
    """

    type: Literal["connection_fails"]
    dsn: Literal["agent", "target"] = "agent"
    target: Node = Node.PRIMARY
    contains: str
    # other wordings of the same failure (e.g. a non-superuser role sees "remaining
    # connection slots are reserved" where a superuser sees "too many clients")
    contains_any: list[str] = Field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [self.contains, *self.contains_any]


class KubernetesProbe(_Strict):
    type: Literal["kubernetes"]
    kind: str
    name: str | None = None
    selector: str | None = None
    condition: str  # e.g. "waiting_reason=CrashLoopBackOff", "phase=Pending", "endpoints=0"
    namespace: str | None = None


Probe = Annotated[SqlProbe | ConnectionFailsProbe | KubernetesProbe, Field(discriminator="type")]


# ── evaluation and remediation ──────────────────────────────────────────────


class ExpectedKeywords(_Strict):
    any_of: list[str] = Field(default_factory=list)
    all_of: list[str] = Field(default_factory=list)


# Categories the aiHelpDesk Go catalog uses, mapped to this taxonomy so Go catalogs load.
GO_CATEGORY_ALIASES = {
    "uncommitted_transaction": "idle_in_transaction",
    "vacuum_needed": "table_bloat",
    "process_crash": "server_crash",
    "config_error": "bad_configuration",
    "shutdown": "connection_refused",
    "container_killed": "oom_killed",
}


def _taxonomy_category(value: str) -> str:
    value = GO_CATEGORY_ALIASES.get(value, value)
    if value not in CATEGORY_NAMES:
        raise ValueError(f"unknown diagnosis category {value!r}")
    return value


class ExpectedDiagnosis(_Strict):
    category: str
    contributing: list[str] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _known(cls, value: str) -> str:
        return _taxonomy_category(value)

    @field_validator("contributing")
    @classmethod
    def _known_contributing(cls, values: list[str]) -> list[str]:
        return [_taxonomy_category(v) for v in values]


class Evaluation(_Strict):
    expected_tools: list[str] = Field(default_factory=list)
    expected_keywords: ExpectedKeywords = Field(default_factory=ExpectedKeywords)
    expected_diagnosis: ExpectedDiagnosis | None = None
    must_cite: list[str] = Field(default_factory=list)
    # categories or claims that make an answer wrong
    forbidden: list[str] = Field(default_factory=list)
    narrative: str = ""


class Remediation(_Strict):
    """What an agent may do to fix the fault, and how faulttest sees it recovered."""

    description: str = ""
    allowed_tools: list[str] = Field(default_factory=list)
    guidance_only: bool = False  # no agent tool can fix it; the advice is judged instead
    recovery: list[Probe] = Field(default_factory=list)  # all hold once recovered
    timeout: Seconds = 60.0
    # Go catalog compat
    playbook_id: str | None = None
    verify_sql: str | None = None
    verify_timeout: Seconds | None = None

    @field_validator("recovery", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @field_validator("timeout", "verify_timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)


class Owns(_Strict):
    """Objects a fault creates; teardown removes them and verifies they are gone."""

    tables: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    databases: list[str] = Field(default_factory=list)
    replication_slots: list[str] = Field(default_factory=list)


# ── the failure mode ─────────────────────────────────────────────────────────


class FailureMode(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str = Field(min_length=1)
    category: FaultCategory
    severity: Severity
    description: str = ""
    inject: list[Action] = Field(default_factory=list)
    teardown: list[Action] = Field(default_factory=list)
    verify: list[Probe] = Field(default_factory=list)
    requires: list[Requirement] = Field(default_factory=list)
    owns: Owns = Field(default_factory=Owns)
    prompt: str = Field(min_length=1)
    evaluation: Evaluation = Field(default_factory=Evaluation)
    remediation: Remediation | None = None
    timeout: Seconds = 60.0
    tags: list[str] = Field(default_factory=list)
    # aiHelpDesk Go catalog fields we accept and keep but do not act on
    external_compat: bool | None = None
    external_inject: dict[str, Any] | None = None
    external_teardown: dict[str, Any] | None = None
    governance_gap: bool | None = None

    # where it was loaded from (set by the loader, not part of the YAML): the catalog
    # file, and its folder, against which relative `script`/`manifests` paths resolve
    source: str = Field(default="", exclude=True)
    base_dir: str = Field(default="", exclude=True)

    @field_validator("inject", "teardown", "verify", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, dict) else value

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    def resolve_path(self, path: str) -> Path:
        """A `script`/`manifests` path as a file path (relative ones against `base_dir`)."""
        candidate = Path(path)
        if candidate.is_absolute() or not self.base_dir:
            return candidate
        return Path(self.base_dir) / candidate

    @property
    def unsupported_actions(self) -> list[str]:
        actions = (*self.inject, *self.teardown)
        return sorted({a.type for a in actions if isinstance(a, UnsupportedAction)})

    def render_prompt(self, values: dict[str, str]) -> str:
        """The prompt with {{placeholders}} filled in (unknown ones are left as they are)."""
        text = self.prompt
        for key in PLACEHOLDERS:
            if key in values:
                text = re.sub(r"\{\{\s*" + key + r"\s*\}\}", lambda _m, v=values[key]: v, text)
        return text.strip()


class Catalog(_Strict):
    """The merged set of failure modes, in file order."""

    version: str = "1"
    failures: list[FailureMode] = Field(default_factory=list)

    def get(self, failure_id: str) -> FailureMode:
        for failure in self.failures:
            if failure.id == failure_id:
                return failure
        raise KeyError(failure_id)

    def ids(self) -> list[str]:
        return [f.id for f in self.failures]

    def select(
        self,
        ids: list[str] | None = None,
        categories: list[str] | None = None,
        exclude_ids: list[str] | None = None,
    ) -> list[FailureMode]:
        chosen = self.failures
        if ids:
            chosen = [f for f in chosen if f.id in set(ids)]
        if categories:
            chosen = [f for f in chosen if f.category.value in set(categories)]
        if exclude_ids:
            chosen = [f for f in chosen if f.id not in set(exclude_ids)]
        return list(chosen)
