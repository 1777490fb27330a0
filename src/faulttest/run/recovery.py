"""Before a run starts: undo what an earlier, crashed run left injected in this target.

The journal records every injection before its first action runs, so a SIGKILLed run
leaves a precise list; the work is `faulttest.inject.recovery.recover`, the same function
behind `faulttest teardown --all`.
"""

from __future__ import annotations

from collections.abc import Callable

from faulttest.errors import InjectionFailed
from faulttest.inject.journal import Journal, JournalEntry
from faulttest.inject.recovery import recover
from faulttest.targets import Target


def recover_leftovers(journal: Journal, target: Target, say: Callable[[str], None]) -> int:
    """Tear down the journaled faults of `target` (and of labs that are gone); return how many.

    Raises InjectionFailed when one cannot be undone: a run on a dirty target would
    measure the leftovers, not the agent.
    """

    def ours(entry: JournalEntry) -> bool:
        return entry.target_key == target.key or entry.target.get("kind") == "lab"

    pending = [e for e in journal.entries() if ours(e)]
    if not pending:
        return 0
    say(f"Cleaning up {len(pending)} fault(s) left injected by an earlier run ...")
    report = recover(journal, select=ours, say=lambda line: say(f"  {line}"))
    if not report.clean:
        raise InjectionFailed(
            "faults left by an earlier run could not be undone:\n  " + "\n  ".join(report.problems),
            hint="fix the target by hand or with `faulttest teardown --all`, then run again",
        )
    return len(report.lines)
