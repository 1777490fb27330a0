"""What an action needs while it runs: the fault, the target, and the journal entry to update.

Each action module (`sql`, `sessions`, `server`, `config`, `shell`, `kubernetes`) exposes
`run(action, ctx)`; recording what it did in `ctx.entry` is what makes teardown possible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from faulttest.catalog.models import FailureMode
from faulttest.inject.journal import Journal, JournalEntry
from faulttest.targets import KubeCluster, Target
from helpdesk import dsn as dsnlib


@dataclass
class Context:
    failure: FailureMode
    target: Target
    entry: JournalEntry
    home: Path
    journal: Journal | None = None
    overrides: dict[str, str] = field(default_factory=dict)  # libpq keywords for the agent DSN
    kube: KubeCluster | None = None  # the Kubernetes context of k8s and compound faults

    def save(self) -> None:
        """Persist the entry now, so a crash right after this point can still be undone."""
        if self.journal is not None:
            self.journal.save(self.entry)

    @property
    def agent_dsn(self) -> str:
        """The DSN handed to the agent: the target's, with config overrides applied."""
        if not self.overrides:
            return self.target.dsn
        return dsnlib.replace(self.target.dsn, **self.overrides)
