"""The `kubernetes` action: arrives with the Kubernetes issue; until then a clear refusal."""

from __future__ import annotations

from faulttest.catalog.models import KubernetesAction
from faulttest.errors import UsageError
from faulttest.inject.context import Context

UNSUPPORTED_REASON = "Kubernetes injection arrives with the Kubernetes issue"


def run(action: KubernetesAction, ctx: Context) -> None:
    raise UsageError(
        f"{ctx.failure.id}: {UNSUPPORTED_REASON}; it cannot be injected yet",
        hint="run the database faults: faulttest inject --id db-...",
    )
