"""The safety guard (SPEC §9): faults only go into the lab or registered test systems.

A target passes when it is the running lab, or when every server it names (primary and
replica) is registered in the infrastructure config with a `test` or `chaos` tag,
matched on host, port and database. A Kubernetes context passes when it is registered in
the config's `k8s_clusters` with a `test` or `chaos` tag. Anything else is a
`SafetyRefusal` (exit 3) unless the loudly-named override flag is given.
"""

from __future__ import annotations

import logging
from pathlib import Path

from faulttest.errors import SafetyRefusal, UsageError
from faulttest.targets import ClusterTarget, KubeCluster, LabTarget, Target
from helpdesk import dsn as dsnlib
from helpdesk import infra as infralib

OVERRIDE_FLAG = "--i-know-this-is-not-a-test-system"

log = logging.getLogger(__name__)


def load_infra(path: str | Path | None = None) -> infralib.InfraConfig | None:
    """The infrastructure config from `path` or $HELPDESK_INFRA_CONFIG (bad file: exit 2)."""
    try:
        return infralib.load(path)
    except infralib.InfraConfigError as exc:
        raise UsageError(str(exc)) from None


def _problem(dsn: str, infra: infralib.InfraConfig | None) -> str | None:
    """Why `dsn` may not be broken, or None when it is registered as a test system."""
    host, port, dbname = dsnlib.endpoint(dsn)
    where = f"host={host} port={port} dbname={dbname}"
    if infra is None:
        return f"{where} is not the running lab, and no infrastructure config is given"
    server = infra.find_db_server(dsn)
    if server is None:
        return f"{where} is not the running lab and is not registered in the infrastructure config"
    if not server.mutable:
        tags = ", ".join(server.tags) or "none"
        return (
            f"{where} is registered as '{server.name}' without a test or chaos tag (tags: {tags})"
        )
    return None


def _endpoint(dsn: str) -> tuple[str, int, str]:
    host, port, dbname = dsnlib.endpoint(dsn)
    return ("127.0.0.1" if dsnlib.same_host(host, "127.0.0.1") else host), port, dbname


def _lab_endpoints(target: Target) -> set[tuple[str, int, str]]:
    """Endpoints of the running lab's servers (a lab target may still name another replica)."""
    if not isinstance(target, LabTarget):
        return set()
    info = target.lab.info
    dsns = [info.dsn, *([info.replica_dsn] if info.replica_dsn else [])]
    return {_endpoint(d) for d in dsns}


def check_target(
    target: Target,
    infra: infralib.InfraConfig | None,
    *,
    override: bool = False,
) -> None:
    """Refuse (SafetyRefusal) a target that is neither the lab nor a registered test system."""
    if isinstance(target, ClusterTarget):
        check_cluster(target.cluster, infra, override=override)
        return
    dsns = [target.dsn, *([target.replica_dsn] if target.replica_dsn else [])]
    lab = _lab_endpoints(target)
    problems = [p for p in (_problem(d, infra) for d in dsns if _endpoint(d) not in lab) if p]
    if not problems:
        return
    if override:
        for problem in problems:
            log.warning("SAFETY OVERRIDE (%s): breaking %s", OVERRIDE_FLAG, problem)
        return
    raise SafetyRefusal(
        "refusing to touch " + "; ".join(problems),
        hint=(
            "register it in the infrastructure config (--infra-config or HELPDESK_INFRA_CONFIG) "
            f'with "tags": ["test"], use the lab (`faulttest lab up`), or pass {OVERRIDE_FLAG}'
        ),
    )


def _cluster_problem(cluster: KubeCluster, infra: infralib.InfraConfig | None) -> str | None:
    where = f"Kubernetes context {cluster.context!r}"
    if infra is None:
        return f"{where}: no infrastructure config is given to say it is a test cluster"
    registered = infra.k8s_cluster(cluster.context)
    if registered is None:
        return f"{where} is not registered in the infrastructure config's k8s_clusters"
    if not registered.mutable:
        tags = ", ".join(registered.tags) or "none"
        name = registered.name
        return f"{where} is registered as '{name}' without a test or chaos tag (tags: {tags})"
    return None


def check_cluster(
    cluster: KubeCluster, infra: infralib.InfraConfig | None, *, override: bool = False
) -> None:
    """Refuse a Kubernetes context that is not a registered test/chaos cluster; mark it approved."""
    problem = _cluster_problem(cluster, infra)
    if problem and not override:
        raise SafetyRefusal(
            f"refusing to touch {problem}",
            hint=(
                "register the context in the infrastructure config's k8s_clusters (--infra-config"
                f' or HELPDESK_INFRA_CONFIG) with "tags": ["test"], or pass {OVERRIDE_FLAG}'
            ),
        )
    if problem:
        log.warning("SAFETY OVERRIDE (%s): breaking %s", OVERRIDE_FLAG, problem)
    cluster.approved = True


def check_namespace(cluster: KubeCluster, namespace: str | None, what: str) -> None:
    """Only the cluster's fault namespace (helpdesk-test by default) may be modified."""
    if namespace and namespace != cluster.namespace:
        raise SafetyRefusal(
            f"refusing to modify namespace {namespace!r} ({what}): faults only modify"
            f" namespace {cluster.namespace!r}",
            hint="set FAULTTEST_KUBE_NAMESPACE to choose the one namespace faults may modify",
        )
