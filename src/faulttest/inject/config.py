"""The `config` action: change the connection string handed to the agent, not the server.

`override` replaces libpq keywords (a wrong password, a database that does not exist);
the journal keeps only which keywords were overridden. Teardown (`restore: true`, or
simply ending the injection) hands the agent the target's own DSN again.
"""

from __future__ import annotations

from faulttest.catalog.models import ConfigAction
from faulttest.inject.context import Context


def run(action: ConfigAction, ctx: Context) -> None:
    if action.restore:
        ctx.overrides.clear()
        ctx.entry.config_override_keys = []
    else:
        ctx.overrides.update(action.override)
        keys = set(ctx.entry.config_override_keys) | set(action.override)
        ctx.entry.config_override_keys = sorted(keys)
    ctx.save()
