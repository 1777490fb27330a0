"""Targets a fault is injected into: the embedded lab, or a user's own PostgreSQL by DSN.

A `Target` runs SQL on its primary and (optional) replica; only the lab can also stop,
start and reconfigure its servers (`server_control`). A `ClusterTarget` is a Kubernetes
context + namespace (Kubernetes and compound faults). Targets are recorded in the
injection journal by *reference* (never with a password) and rebuilt from it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from faulttest.catalog.models import Node
from faulttest.errors import FaulttestError, UsageError
from helpdesk import dsn as dsnlib
from helpdesk import infra as infralib

if TYPE_CHECKING:
    from faulttest.lab import Lab
    from helpdesk.agents.k8s.client import KubeAccess, KubeSession

CONN_ENV = "FAULTTEST_CONN"
REPLICA_CONN_ENV = "FAULTTEST_REPLICA_CONN"
CONTROL_APP_NAME = "faulttest"  # our own short-lived connections; never matches 'faulttest:%'
CONNECT_TIMEOUT = 5
STREAMING_TIMEOUT = 30.0
KUBE_CONTEXT_ENV = "FAULTTEST_KUBE_CONTEXT"
KUBE_NAMESPACE_ENV = "FAULTTEST_KUBE_NAMESPACE"
DEFAULT_KUBE_NAMESPACE = "helpdesk-test"
# the PostgreSQL that catalog/builtin/k8s/base.yaml runs (Service, user, database)
CLUSTER_DB_SERVICE, CLUSTER_DB_PORT, CLUSTER_DB_NAME = "helpdesk-db", 5432, "helpdesk"


def faulttest_home() -> Path:
    """$FAULTTEST_HOME, default ~/.faulttest (state: lab data, journal, holder logs)."""
    return Path(os.environ.get("FAULTTEST_HOME") or "~/.faulttest").expanduser()


class NoServerControl(FaulttestError):
    """The target cannot stop, start or reconfigure its servers (exit 2)."""

    exit_code = 2


class Target:
    """Where faults go: DSNs of the primary and replica, plus optional server control."""

    kind = "dsn"
    server_control = False

    def __init__(self, dsn: str, replica_dsn: str | None = None) -> None:
        self.dsn = dsn
        self.replica_dsn = replica_dsn

    # ── identity ──
    @property
    def key(self) -> str:
        """host:port/dbname of the primary: how the journal tells targets apart."""
        host, port, dbname = dsnlib.endpoint(self.dsn)
        return f"{host}:{port}/{dbname}"

    @property
    def label(self) -> str:
        """host, port and database of the primary, for messages (no user, no password)."""
        host, port, dbname = dsnlib.endpoint(self.dsn)
        return f"host={host} port={port} dbname={dbname}"

    def has(self, node: Node) -> bool:
        return node == Node.PRIMARY or bool(self.replica_dsn)

    def node_dsn(self, node: Node, database: str | None = None) -> str:
        dsn = self.dsn if node == Node.PRIMARY else self.replica_dsn
        if not dsn:
            raise UsageError(
                "this fault needs a replica, but the target has none",
                hint="pass --replica-conn (or FAULTTEST_REPLICA_CONN), or use the lab",
            )
        return dsnlib.replace(dsn, dbname=database) if database else dsn

    def connect(
        self, node: Node = Node.PRIMARY, *, database: str | None = None, **options: Any
    ) -> psycopg.Connection:
        """A short-lived autocommit connection for control queries."""
        return psycopg.connect(
            self.node_dsn(node, database),
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            application_name=CONTROL_APP_NAME,
            **options,
        )

    def reference(self) -> dict[str, Any]:
        """What the journal stores to find this target again (no password)."""
        return {
            "kind": self.kind,
            "dsn": dsnlib.mask(self.dsn),
            "replica_dsn": dsnlib.mask(self.replica_dsn) if self.replica_dsn else None,
        }

    # ── server control (the lab only) ──
    def _no_control(self) -> NoServerControl:
        return NoServerControl(
            f"the target {self.label} offers no server control (stop/start/settings)",
            hint="faults that require server_control run against the lab (`faulttest lab up`)",
        )

    def is_running(self, node: Node) -> bool:
        raise self._no_control()

    def stop(self, node: Node) -> None:
        raise self._no_control()

    def start(self, node: Node) -> None:
        raise self._no_control()

    def kill(self, node: Node) -> None:
        raise self._no_control()

    def restart(self, node: Node) -> None:
        raise self._no_control()

    def set_settings(self, node: Node, settings: Mapping[str, str]) -> None:
        raise self._no_control()

    def reset_settings(self, node: Node, keys: list[str]) -> None:
        raise self._no_control()


class DsnTarget(Target):
    """A user's own server, reached by DSN only: SQL yes, server control no."""


class LabTarget(Target):
    """The embedded lab: SQL plus stop/start/kill/restart/settings through `faulttest.lab`."""

    kind = "lab"
    server_control = True

    def __init__(self, lab: Lab, dsn: str | None = None, replica_dsn: str | None = None) -> None:
        info = lab.info
        super().__init__(dsn or info.dsn, replica_dsn or getattr(info, "replica_dsn", None))
        self.lab = lab

    def reference(self) -> dict[str, Any]:
        return {**super().reference(), "home": str(self.lab.home)}

    def is_running(self, node: Node) -> bool:
        return bool(self.lab.is_running(node.value))

    def stop(self, node: Node) -> None:
        self.lab.stop(node.value)

    def start(self, node: Node) -> None:
        if not self.lab.is_running(node.value):
            self.lab.start(node.value)
        self._wait_streaming()

    def _wait_streaming(self) -> None:
        """Restored means the replica streams again, not just "the primary accepts"."""
        if self.lab.info.replica_port and self.lab.is_running(Node.REPLICA.value):
            self.lab.wait_streaming(STREAMING_TIMEOUT)

    def kill(self, node: Node) -> None:
        self.lab.kill(node.value)

    def restart(self, node: Node) -> None:
        self.lab.restart(node.value)
        self._wait_streaming()

    def set_settings(self, node: Node, settings: Mapping[str, str]) -> None:
        self.lab.set_settings(node.value, dict(settings))

    def reset_settings(self, node: Node, keys: list[str]) -> None:
        self.lab.reset_settings(node.value, list(keys))


@dataclass
class KubeCluster:
    """A Kubernetes context and the one namespace faults may modify in it.

    `approved` is set once the safety guard accepted the context (`safety.check_cluster`).
    """

    context: str
    namespace: str = DEFAULT_KUBE_NAMESPACE
    kubeconfig: str | None = None
    approved: bool = False
    _access: KubeAccess | None = field(default=None, repr=False, compare=False)

    def access(self) -> KubeAccess:
        if self._access is None:
            from helpdesk.agents.k8s.client import KubeAccess

            self._access = KubeAccess(kubeconfig=_single_kubeconfig(self.kubeconfig))
        return self._access

    def session(self) -> KubeSession:
        """A lightkube session on this context and namespace (kubeconfig loaded like kubectl)."""
        return self.access().session(self.context, self.namespace)

    def close(self) -> None:
        if self._access is not None:
            self._access.close()

    def reference(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "namespace": self.namespace,
            "kubeconfig": self.kubeconfig or os.environ.get("KUBECONFIG") or None,
        }


def _single_kubeconfig(value: str | None) -> str | None:
    """KubeAccess takes one file; a `$KUBECONFIG`-style list (a:b) is left to $KUBECONFIG
    when it is that list, else its first existing file is used."""
    if not value or os.pathsep not in value:
        return value
    if value == os.environ.get("KUBECONFIG"):
        return None
    return next((p for p in value.split(os.pathsep) if p and Path(p).is_file()), None)


def kube_cluster(
    context: str | None = None,
    *,
    infra: infralib.InfraConfig | None = None,
    namespace: str | None = None,
    kubeconfig: str | None = None,
) -> KubeCluster | None:
    """--context (else $FAULTTEST_KUBE_CONTEXT) as a `KubeCluster`, None when neither is set.

    A `k8s_clusters` name of the infrastructure config stands for its context. The namespace
    is `namespace`, else $FAULTTEST_KUBE_NAMESPACE, else helpdesk-test.
    """
    wanted = (context or os.environ.get(KUBE_CONTEXT_ENV) or "").strip()
    if not wanted:
        return None
    registered = infra.k8s_cluster(wanted) if infra else None
    return KubeCluster(
        context=registered.context if registered else wanted,
        namespace=namespace or os.environ.get(KUBE_NAMESPACE_ENV) or DEFAULT_KUBE_NAMESPACE,
        kubeconfig=kubeconfig,
    )


class ClusterTarget(Target):
    """Kubernetes and compound faults: a context + namespace, no PostgreSQL of ours to touch.

    Its DSN names the database that k8s/base.yaml runs in the cluster; a compound fault's
    port-forward replaces host and port with the local end of the forward.
    """

    kind = "kube"

    def __init__(self, cluster: KubeCluster) -> None:
        host = f"{CLUSTER_DB_SERVICE}.{cluster.namespace}.svc"
        dsn = dsnlib.build(
            host=host, port=CLUSTER_DB_PORT, dbname=CLUSTER_DB_NAME, user=CLUSTER_DB_NAME
        )
        super().__init__(dsn)
        self.cluster = cluster

    @property
    def key(self) -> str:
        return f"kube:{self.cluster.context}/{self.cluster.namespace}"

    @property
    def label(self) -> str:
        return f"Kubernetes context {self.cluster.context}, namespace {self.cluster.namespace}"

    def has(self, node: Node) -> bool:
        return False  # nothing of ours to connect to: the engine skips its SQL cleanup

    def reference(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.cluster.reference(), "dsn": dsnlib.mask(self.dsn)}


# ── resolution ───────────────────────────────────────────────────────────────


def recorded_lab(home: Path | None = None) -> Lab | None:
    """The lab whose state FAULTTEST_HOME records (running or not), else None."""
    from faulttest.lab import Lab

    try:
        return Lab.load(home or faulttest_home())
    except Exception:  # a half-written state file is "no lab", not a crash
        return None


def running_lab(home: Path | None = None) -> Lab | None:
    """The recorded lab when at least one of its servers runs (the primary may be stopped
    by db-connection-refused), else None."""
    lab = recorded_lab(home)
    if lab is None:
        return None
    try:
        nodes = [Node.PRIMARY, Node.REPLICA] if lab.info.replica_port else [Node.PRIMARY]
        return lab if any(lab.is_running(n.value) for n in nodes) else None
    except Exception:
        return None


def _lab_matches(lab: Lab, dsn: str) -> bool:
    host, port, dbname = dsnlib.endpoint(dsn)
    info = lab.info
    return dsnlib.same_host(host, info.host) and port == int(info.port) and dbname == info.dbname


def _resolve_alias(value: str | None, infra: infralib.InfraConfig | None) -> str | None:
    if not value:
        return None
    return infra.resolve_dsn(value) if infra else value


def resolve_target(
    conn: str | None = None,
    replica_conn: str | None = None,
    *,
    home: Path | None = None,
    infra: infralib.InfraConfig | None = None,
) -> Target:
    """--conn/--replica-conn (or FAULTTEST_CONN/FAULTTEST_REPLICA_CONN), else the running lab.

    A DSN that points at the running lab's primary is the lab (with server control).
    Values may also be db_server aliases of the infrastructure config.
    """
    conn = _resolve_alias(conn or os.environ.get(CONN_ENV), infra)
    replica_conn = _resolve_alias(replica_conn or os.environ.get(REPLICA_CONN_ENV), infra)
    lab = running_lab(home)
    if not conn:
        if lab is None:
            raise UsageError(
                "no lab running: run `faulttest lab up` or pass --conn",
                hint="--conn takes a libpq DSN such as 'host=db port=5432 dbname=app user=u'",
            )
        return LabTarget(lab, replica_dsn=replica_conn)
    try:
        dsnlib.parse(conn)
        if replica_conn:
            dsnlib.parse(replica_conn)
    except dsnlib.InvalidDSN as exc:
        raise UsageError(str(exc)) from None
    if lab is not None and _lab_matches(lab, conn):
        return LabTarget(lab, dsn=conn, replica_dsn=replica_conn)
    return DsnTarget(conn, replica_conn)


def _password_for(masked: str, candidates: list[str | None]) -> str:
    """The first candidate DSN with the same endpoint as `masked`, else `masked` sans password."""
    wanted = dsnlib.endpoint(masked)
    for candidate in candidates:
        if candidate:
            try:
                if dsnlib.endpoint(candidate) == wanted:
                    return candidate
            except dsnlib.InvalidDSN:
                continue
    params = dsnlib.parse(masked)
    params.pop("password", None)  # libpq then falls back to PGPASSWORD / ~/.pgpass
    return dsnlib.build(**params)


def target_from_reference(
    ref: Mapping[str, Any],
    *,
    conn: str | None = None,
    replica_conn: str | None = None,
    infra: infralib.InfraConfig | None = None,
) -> Target | None:
    """Rebuild a journal's target. None when it was a lab that no longer runs.

    Passwords are never journaled: a lab's comes from its home; a DSN target's from
    --conn, FAULTTEST_CONN or the infrastructure config (same host/port/db), else from
    PGPASSWORD / ~/.pgpass.
    """
    if ref.get("kind") == "kube":
        cluster = KubeCluster(
            context=ref["context"],
            namespace=ref.get("namespace") or DEFAULT_KUBE_NAMESPACE,
            kubeconfig=ref.get("kubeconfig"),
            approved=True,  # it was approved when the fault went in; undoing it is allowed
        )
        return ClusterTarget(cluster)
    if ref.get("kind") == "lab":
        lab = recorded_lab(Path(ref["home"]))
        if lab is None:
            return None
        return LabTarget(lab)
    servers = [s.dsn() for s in infra.db_servers] if infra else []
    primary = _password_for(ref["dsn"], [conn, os.environ.get(CONN_ENV), *servers])
    replica = None
    if ref.get("replica_dsn"):
        replica = _password_for(
            ref["replica_dsn"], [replica_conn, os.environ.get(REPLICA_CONN_ENV), *servers]
        )
    return DsnTarget(primary, replica)
