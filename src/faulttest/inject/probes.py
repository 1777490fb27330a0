"""Probes: does the fault hold right now? Each returns what it observed, for messages.

`sql` holds when its query returns a single true value; `connection_fails` holds when a
new connection fails with the expected text (case-insensitive). A probe that cannot be
evaluated (server down, missing table) does not hold, and says why. `kubernetes` probes
(`kube_probes`) read the cluster of the injection, and do not hold without one.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from faulttest.catalog.models import ConnectionFailsProbe, KubernetesProbe, Node, Probe, SqlProbe
from faulttest.targets import CONNECT_TIMEOUT, CONTROL_APP_NAME, KubeCluster, Target
from helpdesk import dsn as dsnlib

PROBE_STATEMENT_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class ProbeResult:
    held: bool
    observed: str

    @staticmethod
    def combine(results: list[ProbeResult]) -> ProbeResult:
        """All must hold; `observed` lists each probe's observation."""
        if not results:
            return ProbeResult(True, "no verify probe")
        return ProbeResult(all(r.held for r in results), "; ".join(r.observed for r in results))


def _first_line(exc: BaseException) -> str:
    return dsnlib.mask(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)


def check_sql(probe: SqlProbe, target: Target) -> ProbeResult:
    try:
        with target.connect(probe.target, database=probe.database) as conn:
            conn.execute(f"SET statement_timeout = {PROBE_STATEMENT_TIMEOUT_MS}")
            rows = conn.execute(probe.query.encode()).fetchall()
    except psycopg.Error as exc:
        return ProbeResult(False, f"query on the {probe.target.value} failed: {_first_line(exc)}")
    value = rows[0][0] if rows and rows[0] else None
    return ProbeResult(value is True, f"query on the {probe.target.value} returned {value!r}")


def check_connection_fails(
    probe: ConnectionFailsProbe, target: Target, agent_dsn: str
) -> ProbeResult:
    if probe.dsn == "agent" and probe.target == Node.PRIMARY:
        dsn = agent_dsn
    else:
        dsn = target.node_dsn(probe.target)
    try:
        conn = psycopg.connect(
            dsn, connect_timeout=CONNECT_TIMEOUT, application_name=CONTROL_APP_NAME
        )
    except psycopg.OperationalError as exc:
        text = str(exc)
        matched = next((t for t in probe.texts if t.lower() in text.lower()), None)
        return ProbeResult(
            matched is not None,
            f"connecting failed: {_first_line_with(text, matched or probe.contains)}",
        )
    conn.close()
    return ProbeResult(False, f"a new connection to the {probe.target.value} succeeded")


def _first_line_with(text: str, wanted: str) -> str:
    """The error line that mentions `wanted`, else the first: libpq prefixes a generic line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    chosen = next((ln for ln in lines if wanted.lower() in ln.lower()), lines[0] if lines else "")
    return dsnlib.mask(chosen)


def check_kubernetes(probe: KubernetesProbe, kube: KubeCluster | None) -> ProbeResult:
    if kube is None:
        return ProbeResult(False, "no Kubernetes context to check the probe against")
    from faulttest.inject import kube_probes

    return ProbeResult(*kube_probes.evaluate(probe, kube))


def check(
    probe: Probe, target: Target, agent_dsn: str, kube: KubeCluster | None = None
) -> ProbeResult:
    if isinstance(probe, SqlProbe):
        return check_sql(probe, target)
    if isinstance(probe, ConnectionFailsProbe):
        return check_connection_fails(probe, target, agent_dsn)
    if isinstance(probe, KubernetesProbe):
        return check_kubernetes(probe, kube)
    return ProbeResult(False, f"unknown probe type {getattr(probe, 'type', '?')}")


def check_all(
    probes: list[Probe], target: Target, agent_dsn: str, kube: KubeCluster | None = None
) -> ProbeResult:
    return ProbeResult.combine([check(p, target, agent_dsn, kube) for p in probes])
