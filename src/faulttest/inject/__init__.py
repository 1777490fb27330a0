"""Injection and teardown of faults: the engine, one module per action type, probes, journal.

Library API (the runner uses it): `Injector(target, journal).inject(failure) -> Injection`,
`.teardown(failure) -> TeardownResult`, `.verify(failure) -> ProbeResult`.
"""

from faulttest.inject.engine import Injection, Injector, TeardownResult, register_action
from faulttest.inject.journal import Journal, JournalEntry
from faulttest.inject.probes import ProbeResult

__all__ = [
    "Injection",
    "Injector",
    "Journal",
    "JournalEntry",
    "ProbeResult",
    "TeardownResult",
    "register_action",
]
