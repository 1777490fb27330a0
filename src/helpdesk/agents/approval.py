"""Who may change what: the approval policy every mutation tool asks before it acts.

A change is allowed on a target registered in the infrastructure config with a `test`
or `chaos` tag; anywhere else only with an explicit approval: a grant for that target
(`grant()`, or `HELPDESK_APPROVE`), blanket approval for automation, or a person's
confirmation through an approver callback (the REPL). The default refuses. See
docs/REMEDIATION.md.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from helpdesk import dsn as dsnlib
from helpdesk import infra

ENV_VAR = "HELPDESK_APPROVE"
# HELPDESK_APPROVE: "none" (no change anywhere, not even on tagged targets), "tagged"
# (the default: only test/chaos-tagged targets), "all" (automation that approves every
# change), or a comma list of endpoints `host:port[/dbname]` / `k8s:<context>` approved
# in addition to the tagged ones.
MODES = ("none", "tagged", "all")


@dataclass(frozen=True)
class ApprovalRequest:
    """What an approver is asked: which agent wants to run which change where."""

    agent: str
    tool: str
    target: str  # masked DSN or kube context/namespace
    summary: str  # one line: what will change, from the inspection


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str  # "tag:test", "grant", "approve=all", "approver", "refused", ...
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "basis": self.basis, "reason": self.reason}


Approver = Callable[[ApprovalRequest], bool]


@dataclass
class _State:
    grants: list[str] = field(default_factory=list)
    approver: Approver | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATE = _State()


def set_approver(approver: Approver | None) -> None:
    """Install (or remove) the callback asked about changes on untagged targets."""
    _STATE.approver = approver


def console_approver(
    read: Callable[[str], str] = input, write: Callable[[str], object] = print
) -> Approver:
    """An approver that asks a person at the terminal (for an in-process REPL or CLI)."""

    def ask(request: ApprovalRequest) -> bool:
        write(f"{request.agent} wants to run {request.tool} on {request.target}:")
        write(f"  {request.summary}")
        try:
            return read("Approve this change? [y/N] ").strip().lower() in ("y", "yes")
        except EOFError:
            return False

    return ask


@contextlib.contextmanager
def grant(*endpoints: str) -> Iterator[None]:
    """Approve changes on these endpoints (DSNs, `host:port[/db]`, `k8s:<context>`) for a while.

    Used by automation that owns the target, e.g. a test harness that created it; the
    grant is process-wide and removed on exit.
    """
    keys = [endpoint_key(e) for e in endpoints if e]
    with _STATE.lock:
        _STATE.grants.extend(keys)
    try:
        yield
    finally:
        with _STATE.lock:
            for key in keys:
                _STATE.grants.remove(key)


def endpoint_key(value: str) -> str:
    """`host:port/dbname` of a DSN (dbname optional), or the value itself (`k8s:ctx`)."""
    value = value.strip()
    if value.startswith("k8s:") or ("=" not in value and "://" not in value):
        return value.lower()
    host, port, dbname = dsnlib.endpoint(value)
    return f"{_host(host)}:{port}/{dbname}".lower()


def _host(host: str) -> str:
    return "127.0.0.1" if host in ("localhost", "::1", "") else host


def _granted(key: str, entries: list[str]) -> bool:
    for entry in entries:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == key or ("/" not in entry and key.startswith(entry.rstrip("/") + "/")):
            return True
    return False


def _mode_and_list() -> tuple[str, list[str]]:
    raw = os.environ.get(ENV_VAR, "").strip()
    if raw.lower() in MODES:
        return raw.lower(), []
    if not raw:
        return "tagged", []
    return "tagged", [endpoint_key(e) for e in raw.split(",") if e.strip()]


def _tagged_db(dsn: str) -> tuple[bool, str]:
    try:
        config = infra.load()
    except infra.InfraConfigError:
        return False, ""
    server = config.find_db_server(dsn) if config else None
    if server is not None and server.mutable:
        tag = sorted(infra.MUTABLE_TAGS & set(server.tags))[0]
        return True, f"tag:{tag} ({server.name})"
    return False, ""


def _tagged_k8s(context: str) -> tuple[bool, str]:
    try:
        config = infra.load()
    except infra.InfraConfigError:
        return False, ""
    cluster = config.k8s_cluster(context) if config else None
    if cluster is not None and cluster.mutable:
        tag = sorted(infra.MUTABLE_TAGS & set(cluster.tags))[0]
        return True, f"tag:{tag} ({cluster.name})"
    return False, ""


def decide_db(dsn: str, agent: str, tool: str, summary: str) -> Decision:
    """May `tool` change the PostgreSQL server behind `dsn`?"""
    tagged, basis = _tagged_db(dsn)
    return _decide(
        endpoint_key(dsn), tagged, basis, ApprovalRequest(agent, tool, dsnlib.mask(dsn), summary)
    )


def decide_k8s(context: str, agent: str, tool: str, summary: str) -> Decision:
    """May `tool` change objects in the Kubernetes cluster of `context`?"""
    tagged, basis = _tagged_k8s(context)
    key = f"k8s:{context}".lower()
    return _decide(key, tagged, basis, ApprovalRequest(agent, tool, f"k8s:{context}", summary))


def _decide(key: str, tagged: bool, tag_basis: str, request: ApprovalRequest) -> Decision:
    mode, listed = _mode_and_list()
    if mode == "none":
        return Decision(False, "refused", f"{ENV_VAR}=none: this agent makes no changes")
    if tagged:
        return Decision(True, tag_basis, "the target is registered as a test/chaos system")
    with _STATE.lock:
        grants = list(_STATE.grants)
    if _granted(key, grants) or _granted(key, listed):
        return Decision(True, "grant", f"changes on {request.target} were approved in advance")
    if mode == "all":
        return Decision(True, "approve=all", f"{ENV_VAR}=all approves every change")
    approver = _STATE.approver
    if approver is not None:
        if approver(request):
            return Decision(True, "approver", "a person approved this change")
        return Decision(False, "refused", "the change was not approved")
    return Decision(
        False,
        "refused",
        f"{request.target} is not registered as a test/chaos system in the infrastructure "
        f"config and the change was not approved; tag it `test` or `chaos` "
        f"({infra.ENV_VAR}), approve it ({ENV_VAR}=all or a list of endpoints), or run the "
        "action yourself",
    )
