"""The infrastructure config (`infrastructure.json`, SPEC §10): known servers and clusters.

Aliases resolve to DSNs, so prompts can name "faulttest-db" instead of carrying a
password; tags (`test`, `chaos`) tell the safety guards what may be broken or changed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helpdesk import dsn as dsnlib

ENV_VAR = "HELPDESK_INFRA_CONFIG"
MUTABLE_TAGS = frozenset({"test", "chaos"})


class InfraConfigError(ValueError):
    """The infrastructure config cannot be read or does not validate."""


class DbServer(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    connection_string: str
    password_env: str | None = None  # the password comes from this variable, not the file
    tags: list[str] = Field(default_factory=list)
    description: str = ""
    k8s_cluster: str | None = None
    k8s_namespace: str | None = None

    def dsn(self) -> str:
        """The usable DSN, with the password from `password_env` when one is named."""
        if self.password_env and os.environ.get(self.password_env):
            return dsnlib.replace(self.connection_string, password=os.environ[self.password_env])
        return self.connection_string

    @property
    def mutable(self) -> bool:
        return bool(MUTABLE_TAGS & set(self.tags))


class K8sCluster(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    context: str
    tags: list[str] = Field(default_factory=list)
    namespace: str | None = None
    description: str = ""

    @property
    def mutable(self) -> bool:
        return bool(MUTABLE_TAGS & set(self.tags))


class Vm(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    host: str = ""
    tags: list[str] = Field(default_factory=list)


def _keyed(entries: object) -> object:
    """The Go config writes maps keyed by name; accept those as well as lists."""
    if isinstance(entries, dict):
        return [{"name": name, **value} for name, value in entries.items()]
    return entries


class InfraConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    db_servers: list[DbServer] = Field(default_factory=list)
    k8s_clusters: list[K8sCluster] = Field(default_factory=list)
    vms: list[Vm] = Field(default_factory=list)

    @classmethod
    def from_dict(cls, raw: dict) -> InfraConfig:
        raw = {
            k: _keyed(v) if k in ("db_servers", "k8s_clusters", "vms") else v
            for k, v in raw.items()
        }
        return cls.model_validate(raw)

    def db_server(self, alias: str) -> DbServer | None:
        return next((s for s in self.db_servers if s.name == alias), None)

    def resolve_dsn(self, value: str) -> str:
        """A DSN given as-is, or the DSN of the db_server called `value`."""
        server = self.db_server(value.strip())
        return server.dsn() if server else value

    def find_db_server(self, dsn: str) -> DbServer | None:
        """The registered server with the same host, port and database as `dsn`."""
        host, port, dbname = dsnlib.endpoint(dsn)
        for server in self.db_servers:
            s_host, s_port, s_db = dsnlib.endpoint(server.connection_string)
            if dsnlib.same_host(host, s_host) and port == s_port and dbname == s_db:
                return server
        return None

    def k8s_cluster(self, name_or_context: str) -> K8sCluster | None:
        return next((c for c in self.k8s_clusters if name_or_context in (c.name, c.context)), None)


def load(path: str | Path | None = None) -> InfraConfig | None:
    """Load the config from `path` or $HELPDESK_INFRA_CONFIG; None when neither is set."""
    path = path or os.environ.get(ENV_VAR)
    if not path:
        return None
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InfraConfigError(f"infrastructure config {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise InfraConfigError(f"{path}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
    try:
        return InfraConfig.from_dict(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InfraConfigError(f"{path}: {dsnlib.mask(problems)}") from None
