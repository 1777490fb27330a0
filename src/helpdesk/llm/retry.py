"""Retries with exponential backoff for model calls, inside an overall deadline.

Only `TransientModelError`s (429, overload, 5xx, timeouts, dropped connections) are
retried; a server's retry-after is respected but capped, and no wait outlives the deadline.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from helpdesk.llm.client import TransientModelError

log = logging.getLogger(__name__)
T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The overall time budget ran out before the model answered."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.2  # fraction of the delay, added at random

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff = self.base_delay * self.multiplier ** (attempt - 1)
        return min(backoff * (1 + random.uniform(0, self.jitter)), self.max_delay)


@dataclass
class Deadline:
    at: float  # time.monotonic() value

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()


def call_with_retries(
    call: Callable[[float], T],
    *,
    policy: RetryPolicy,
    deadline: Deadline,
    call_timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call(timeout)` until it succeeds, retrying transient errors per `policy`."""
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline.remaining()
        if remaining <= 0:
            raise DeadlineExceeded("the overall time budget is used up")
        try:
            return call(min(call_timeout, remaining))
        except TransientModelError as exc:
            if attempt >= policy.max_attempts:
                raise
            wait = policy.delay(attempt, exc.retry_after)
            if wait >= deadline.remaining():
                raise DeadlineExceeded(f"no time left to retry after: {exc}") from None
            log.warning("model call failed (%s); retry %d in %.1fs", exc, attempt, wait)
            sleep(wait)
