"""The injector: run a fault's inject actions, wait until its probes hold; undo and verify clean.

`Injector(target, journal).inject(failure) -> Injection` and `.teardown(failure) ->
TeardownResult` are the library API the CLI and the runner use. Teardown undoes what
the journal recorded *and* what the catalog says the fault owns (tagged sessions, holder
processes, tables, roles, databases, slots, stopped servers, settings), so it is
idempotent and also works when the journal entry is lost. Kubernetes and compound faults
need a cluster (`kube=`, a `ClusterTarget`, or $FAULTTEST_KUBE_CONTEXT); without one they
are skipped with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql as pgsql

from faulttest.catalog.models import (
    Action,
    ConfigAction,
    FailureMode,
    KubernetesAction,
    Node,
    Probe,
    Requirement,
    ServerAction,
    SessionsAction,
    ShellAction,
    SqlAction,
    UnsupportedAction,
)
from faulttest.errors import FaulttestError, InjectionFailed, UsageError
from faulttest.inject import config, kubernetes, server, sessions, shell
from faulttest.inject import sql as sql_action
from faulttest.inject.context import Context
from faulttest.inject.journal import Journal, JournalEntry
from faulttest.inject.probes import ProbeResult, check_all
from faulttest.targets import ClusterTarget, KubeCluster, Target, faulttest_home, kube_cluster
from helpdesk import dsn as dsnlib

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.2

ActionRunner = Callable[[Any, Context], None]

# one runner per action type; `register_action` adds custom injection types
ACTIONS: dict[type, ActionRunner] = {
    SqlAction: sql_action.run,
    SessionsAction: sessions.run,
    ServerAction: server.run,
    ConfigAction: config.run,
    ShellAction: shell.run,
    KubernetesAction: kubernetes.run,
}


def register_action(model: type, runner: ActionRunner) -> None:
    """Plug in a runner for a custom action model (an extension point for plugins)."""
    ACTIONS[model] = runner


@dataclass
class Injection:
    """A fault that is in place: what to hand the agent, and how long injecting took."""

    failure: FailureMode
    target: Target
    agent_dsn: str
    agent_replica_dsn: str | None
    prompt: str
    seconds: float
    observed: str


@dataclass
class TeardownResult:
    failure_id: str
    seconds: float
    clean: bool
    observed: str
    leftovers: list[str]
    was_injected: bool


class Injector:
    """Injects faults into one target and tears them down, journaling as it goes."""

    def __init__(
        self,
        target: Target,
        journal: Journal | None = None,
        *,
        home: Path | None = None,
        safety_override: bool = False,
        kube: KubeCluster | None = None,
    ) -> None:
        self.target = target
        self.home = Path(home) if home else (journal.home if journal else faulttest_home())
        self.journal = journal
        self.safety_override = safety_override
        if kube is None and isinstance(target, ClusterTarget):
            kube = target.cluster
        self.kube = kube or kube_cluster()  # else $FAULTTEST_KUBE_CONTEXT, checked when used

    # ── capability ──
    def unsupported_reason(self, failure: FailureMode) -> str | None:
        """Why this target cannot take the fault (it is then skipped), or None."""
        if failure.unsupported_actions:
            return f"unsupported injection type(s): {', '.join(failure.unsupported_actions)}"
        if not failure.inject:
            external = " (it names an external injection)" if failure.external_inject else ""
            return f"it has no inject actions{external}"
        k8s = uses_kubernetes(failure)
        if k8s and self.kube is None:
            return kubernetes.UNSUPPORTED_REASON
        if Requirement.REPLICA in failure.requires and not self.target.replica_dsn:
            return "needs a replica (pass --replica-conn, or use the lab)"
        if Requirement.SERVER_CONTROL in failure.requires and not self.target.server_control:
            return "needs server control (stop/start the server), which only the lab offers"
        return None

    # ── inject ──
    def inject(self, failure: FailureMode) -> Injection:
        reason = self.unsupported_reason(failure)
        if reason:
            raise UsageError(f"{failure.id} cannot be injected into {self.target.label}: {reason}")
        if self.kube is not None and uses_kubernetes(failure):
            kubernetes.preflight(failure, self.kube, self.safety_override)
        if self.journal and self.journal.find(failure.id, self.target.key):
            raise UsageError(
                f"{failure.id} is already injected into {self.target.label}",
                hint=f"tear it down first: faulttest teardown --id {failure.id}",
            )
        ctx = self._context(failure, self._new_entry(failure))
        ctx.save()
        started = time.monotonic()
        try:
            for action in failure.inject:
                self._run(action, ctx)
            result = self._wait_until(failure, ctx, held=True)
        except BaseException as exc:
            self._abandon(failure, ctx)
            if isinstance(exc, psycopg.Error):
                raise InjectionFailed(f"{failure.id}: {dsnlib.mask(str(exc).strip())}") from None
            raise
        if not result.held:
            self._abandon(failure, ctx)
            raise InjectionFailed(
                f"{failure.id} did not take within {failure.timeout:g}s;"
                f" observed: {result.observed}"
            )
        ctx.entry.state = "injected"
        ctx.save()
        agent_replica = self.target.replica_dsn
        values = {"connection_string": ctx.agent_dsn, "replica_connection_string": agent_replica}
        if ctx.kube is not None:
            values["kube_context"] = ctx.kube.context
        prompt = failure.render_prompt({k: v or "" for k, v in values.items()})
        return Injection(
            failure=failure,
            target=self.target,
            agent_dsn=ctx.agent_dsn,
            agent_replica_dsn=agent_replica,
            prompt=prompt,
            seconds=time.monotonic() - started,
            observed=result.observed,
        )

    def verify(self, failure: FailureMode, agent_dsn: str | None = None) -> ProbeResult:
        """Do the fault's probes hold right now (with `agent_dsn` for connection probes)?"""
        return self.check(failure.verify, agent_dsn)

    def check(self, probes: list[Probe], agent_dsn: str | None = None) -> ProbeResult:
        """Evaluate any probes on this target, e.g. a remediation's `recovery` probes."""
        return check_all(probes, self.target, agent_dsn or self.target.dsn, self.kube)

    # ── teardown ──
    def teardown(self, failure: FailureMode, entry: JournalEntry | None = None) -> TeardownResult:
        """Undo everything the fault did or owns, then wait until the target is clean."""
        started = time.monotonic()
        journaled = entry or (
            self.journal.find(failure.id, self.target.key) if self.journal else None
        )
        entry = journaled or self._new_entry(failure)
        entry.state = "tearing_down"
        ctx = self._context(failure, entry, persist=journaled is not None)
        ctx.save()
        problems = self._undo(failure, ctx)
        result = self._wait_until(failure, ctx, held=False)
        left = problems + self.leftovers(failure, ctx)
        if result.held:
            left.append(f"the fault still holds: {result.observed}")
        clean = not left
        if clean:
            if self.journal and journaled is not None:
                self.journal.remove(entry)
        else:
            entry.state, entry.note = "dirty", "; ".join(left)
            if self.journal:
                self.journal.save(entry)
        return TeardownResult(
            failure_id=failure.id,
            seconds=time.monotonic() - started,
            clean=clean,
            observed=result.observed,
            leftovers=left,
            was_injected=journaled is not None,
        )

    def _undo(self, failure: FailureMode, ctx: Context) -> list[str]:
        problems: list[str] = []
        self._stop_holders(failure, ctx)
        if uses_kubernetes(failure) or ctx.entry.kube is not None:
            kubernetes.stop_forwards(ctx)
        for action in failure.teardown:
            try:
                self._run(action, ctx)
            except (FaulttestError, psycopg.Error, OSError) as exc:
                problems.append(f"teardown action {action.type} failed: {dsnlib.mask(str(exc))}")
        if self.target.server_control:
            problems += server.restore(ctx)
        for node in self._nodes():
            try:
                left = sessions.terminate_tagged(ctx, node)
            except psycopg.Error as exc:
                problems.append(f"cannot reach the {node.value} to end sessions: {_line(exc)}")
                continue
            if left:
                problems.append(f"{len(left)} tagged session(s) on the {node.value} did not end")
        try:
            self._drop_owned(failure)
        except psycopg.Error as exc:
            problems.append(f"cannot drop objects of {failure.id}: {_line(exc)}")
        return problems

    def _stop_holders(self, failure: FailureMode, ctx: Context) -> None:
        pids = {h.pid for h in ctx.entry.holders}
        pids |= set(sessions.find_holders(failure.id, self.target.key))
        for pid in sorted(pids):
            sessions.stop_holder(pid, failure.id)
        ctx.entry.holders = [
            h for h in ctx.entry.holders if sessions.holder_alive(h.pid, failure.id)
        ]
        ctx.save()

    def _drop_owned(self, failure: FailureMode) -> None:
        owns = failure.owns
        if not (owns.tables or owns.roles or owns.databases or owns.replication_slots):
            return
        with self.target.connect(Node.PRIMARY) as conn:
            conn.execute("SET lock_timeout = '10s'")
            for table in owns.tables:
                name = pgsql.Identifier(*table.split("."))
                conn.execute(pgsql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(name))
            for database in owns.databases:
                query = pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(query.format(pgsql.Identifier(database)))
            for role in owns.roles:
                conn.execute(pgsql.SQL("DROP ROLE IF EXISTS {}").format(pgsql.Identifier(role)))
            for slot in owns.replication_slots:
                conn.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    " WHERE slot_name = %s AND NOT active",
                    [slot],
                )

    def leftovers(self, failure: FailureMode, ctx: Context | None = None) -> list[str]:
        """What the fault created that is still there (empty when clean)."""
        left = [
            f"holder process {pid}" for pid in sessions.find_holders(failure.id, self.target.key)
        ]
        if ctx is not None and (uses_kubernetes(failure) or ctx.entry.kube is not None):
            left += kubernetes.leftovers(ctx)
        if ctx is not None:
            left += [f"server {n} still stopped" for n in ctx.entry.stopped_nodes]
            left += [
                f"settings {', '.join(keys)} still changed on the {node}"
                for node, keys in ctx.entry.changed_settings.items()
                if keys
            ]
        for node in self._nodes():
            try:
                with self.target.connect(node) as conn:
                    tagged = sessions.tagged_backends(conn, failure.id)
                    if tagged:
                        left.append(f"{len(tagged)} tagged session(s) on the {node.value}")
                    if node == Node.PRIMARY:
                        left += _owned_objects_left(conn, failure)
            except psycopg.Error as exc:
                left.append(f"cannot check the {node.value}: {_line(exc)}")
        return left

    # ── helpers ──
    def _nodes(self) -> list[Node]:
        return [n for n in (Node.PRIMARY, Node.REPLICA) if self.target.has(n)]

    def _new_entry(self, failure: FailureMode) -> JournalEntry:
        return JournalEntry(
            failure_id=failure.id,
            failure_name=failure.name,
            catalog_source=failure.source,
            target_key=self.target.key,
            target=self.target.reference(),
            safety_override=self.safety_override,
        )

    def _context(self, failure: FailureMode, entry: JournalEntry, persist: bool = True) -> Context:
        journal = self.journal if persist else None
        return Context(
            failure=failure,
            target=self.target,
            entry=entry,
            home=self.home,
            journal=journal,
            kube=self.kube,
        )

    def _run(self, action: Action, ctx: Context) -> None:
        if isinstance(action, UnsupportedAction):
            raise UsageError(f"{ctx.failure.id}: unsupported injection type {action.type!r}")
        runner = ACTIONS.get(type(action))
        if runner is None:
            raise UsageError(f"{ctx.failure.id}: no runner for action type {action.type!r}")
        log.debug("%s: %s action", ctx.failure.id, action.type)
        runner(action, ctx)

    def _wait_until(self, failure: FailureMode, ctx: Context, *, held: bool) -> ProbeResult:
        """Poll the probes until they hold (or no longer hold), bounded by the fault's timeout."""
        if not failure.verify:
            return ProbeResult(held, "no verify probe to wait for")
        deadline = time.monotonic() + failure.timeout
        while True:
            result = check_all(failure.verify, self.target, ctx.agent_dsn, ctx.kube)
            if result.held == held or time.monotonic() >= deadline:
                return result
            if held:
                dead = self._dead_holder(failure, ctx)
                if dead:
                    return ProbeResult(False, f"{result.observed}; {dead}")
            time.sleep(POLL_INTERVAL)

    def _dead_holder(self, failure: FailureMode, ctx: Context) -> str | None:
        for record in ctx.entry.holders:
            if not sessions.holder_alive(record.pid, failure.id):
                tail = sessions.holder_log_tail(record)
                return f"holder process {record.pid} exited ({tail or 'no output'})"
        return None

    def _abandon(self, failure: FailureMode, ctx: Context) -> None:
        """Clean up after a failed injection; the entry stays journaled only if that fails."""
        try:
            result = self.teardown(failure, ctx.entry)
        except Exception as exc:
            log.warning("%s: cleanup after the failed injection failed: %s", failure.id, _line(exc))
            return
        if not result.clean:
            log.warning("%s: cleanup left: %s", failure.id, "; ".join(result.leftovers))


def uses_kubernetes(failure: FailureMode) -> bool:
    return Requirement.KUBERNETES in failure.requires or any(
        isinstance(a, KubernetesAction) for a in (*failure.inject, *failure.teardown)
    )


def _owned_objects_left(conn: psycopg.Connection, failure: FailureMode) -> list[str]:
    owns, left = failure.owns, []
    for table in owns.tables:
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()[0]:  # type: ignore[index]
            left.append(f"table {table}")
    checks = (
        ("role", owns.roles, "SELECT 1 FROM pg_roles WHERE rolname = %s"),
        ("database", owns.databases, "SELECT 1 FROM pg_database WHERE datname = %s"),
        ("replication slot", owns.replication_slots,
         "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s"),
    )  # fmt: skip
    for kind, names, query in checks:
        left += [f"{kind} {name}" for name in names if conn.execute(query, [name]).fetchone()]
    return left


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return dsnlib.mask(text.splitlines()[0] if text else type(exc).__name__)
