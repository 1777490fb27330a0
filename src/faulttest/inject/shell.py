"""The `shell` action: run a script with the target in its environment.

The script sees FAULTTEST_CONN, FAULTTEST_REPLICA_CONN, PGPASSWORD and
FAULTTEST_KUBE_CONTEXT; its output is logged with passwords masked.
"""

from __future__ import annotations

import logging
import os
import subprocess

from faulttest.catalog.models import ShellAction
from faulttest.errors import InjectionFailed
from faulttest.inject.context import Context
from helpdesk import dsn as dsnlib

log = logging.getLogger(__name__)


def environment(ctx: Context) -> dict[str, str]:
    env = dict(os.environ)
    env["FAULTTEST_CONN"] = ctx.target.dsn
    env["FAULTTEST_REPLICA_CONN"] = ctx.target.replica_dsn or ""
    env["FAULTTEST_FAULT_ID"] = ctx.failure.id
    password = dsnlib.parse(ctx.target.dsn).get("password")
    if password:
        env["PGPASSWORD"] = password
    env.setdefault("FAULTTEST_KUBE_CONTEXT", "")
    return env


def run(action: ShellAction, ctx: Context) -> None:
    if action.script_inline is not None:
        command = ["/bin/sh", "-c", action.script_inline]
    else:
        command = [str(ctx.failure.resolve_path(action.script or ""))]
    try:
        done = subprocess.run(
            command,
            env=environment(ctx),
            capture_output=True,
            text=True,
            timeout=action.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InjectionFailed(
            f"{ctx.failure.id}: shell script timed out after {action.timeout:g}s"
        ) from None
    except OSError as exc:
        raise InjectionFailed(
            f"{ctx.failure.id}: cannot run shell script: {exc.strerror}"
        ) from None
    output = dsnlib.mask((done.stdout + done.stderr).strip())
    if done.returncode != 0:
        raise InjectionFailed(
            f"{ctx.failure.id}: shell script exited {done.returncode}: {output[-500:]}"
        )
    if output:
        log.info("%s: %s", ctx.failure.id, output[-500:])
