"""The `server` action: stop / start / kill / restart a server, or change its settings.

Only targets with server control (the lab) can do this. What was stopped or changed is
journaled, so teardown restarts stopped servers and resets changed settings even when
the catalog's own teardown actions do not say so.
"""

from __future__ import annotations

import logging

from faulttest.catalog.models import Node, ServerAction
from faulttest.inject.context import Context

log = logging.getLogger(__name__)


def run(action: ServerAction, ctx: Context) -> None:
    target, node = ctx.target, action.target
    if action.action == "stop":
        _record_stop(ctx, node)
        target.stop(node)
    elif action.action == "kill":
        _record_stop(ctx, node)
        target.kill(node)
    elif action.action == "start":
        target.start(node)
        _forget_stop(ctx, node)
    elif action.action == "restart":
        target.restart(node)
    elif action.action == "set":
        changed = ctx.entry.changed_settings.setdefault(node.value, [])
        changed.extend(k for k in action.settings if k not in changed)
        ctx.save()
        target.set_settings(node, action.settings)
    elif action.action == "reset":
        target.reset_settings(node, list(action.settings))
        keys = ctx.entry.changed_settings.get(node.value, [])
        ctx.entry.changed_settings[node.value] = [k for k in keys if k not in action.settings]
        ctx.save()
    log.info("%s: server %s %s", ctx.failure.id, action.action, node.value)


def _record_stop(ctx: Context, node: Node) -> None:
    if node.value not in ctx.entry.stopped_nodes:
        ctx.entry.stopped_nodes.append(node.value)
        ctx.save()


def _forget_stop(ctx: Context, node: Node) -> None:
    if node.value in ctx.entry.stopped_nodes:
        ctx.entry.stopped_nodes.remove(node.value)
        ctx.save()


def restore(ctx: Context) -> list[str]:
    """Start what the injection stopped and reset what it changed; returns problems."""
    problems = []
    for name in list(ctx.entry.stopped_nodes):
        node = Node(name)
        try:
            ctx.target.start(node)
            _forget_stop(ctx, node)
        except Exception as exc:  # the lab's own errors; reported, teardown goes on
            problems.append(f"could not start the {name}: {exc}")
    for name, keys in list(ctx.entry.changed_settings.items()):
        if not keys:
            continue
        try:
            ctx.target.reset_settings(Node(name), keys)
            ctx.entry.changed_settings[name] = []
            ctx.save()
        except Exception as exc:
            problems.append(f"could not reset {', '.join(keys)} on the {name}: {exc}")
    return problems
