"""Ctrl-C and SIGTERM during a run: stop between steps, never in the middle of a teardown.

`stop_signals_interrupt()` turns SIGTERM (CI cancelling a job) into the same
KeyboardInterrupt as Ctrl-C; `deferred_interrupts()` holds both back while a teardown
runs, so the target is restored before the run stops.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

log = logging.getLogger(__name__)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Deferred:
    pending: bool = False


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt like Ctrl-C does."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def deferred_interrupts(what: str) -> Iterator[Deferred]:
    """Hold Ctrl-C/SIGTERM back during the block; `.pending` tells whether one came."""
    state = Deferred()
    if not _main_thread():
        yield state
        return

    def remember(signum: int, frame: FrameType | None) -> None:
        state.pending = True
        log.warning("interrupt received: finishing %s first, then stopping", what)

    previous = {s: signal.signal(s, remember) for s in _SIGNALS}
    try:
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
