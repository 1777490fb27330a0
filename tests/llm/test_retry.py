"""RetryPolicy: exponential backoff, retry-after respected but capped."""

from __future__ import annotations

from helpdesk.llm.client import (
    PermanentModelError,
    TransientModelError,
    classify_status,
    parse_retry_after,
)
from helpdesk.llm.retry import RetryPolicy


def test_backoff_grows_exponentially_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, multiplier=2.0, max_delay=5.0, jitter=0.0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


def test_retry_after_wins_but_is_bounded():
    policy = RetryPolicy(max_delay=10.0)
    assert policy.delay(1, 3.0) == 3.0
    assert policy.delay(1, 3600.0) == 10.0


def test_retry_after_headers():
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None
    assert parse_retry_after(None) is None


def test_status_classification():
    for status in (429, 500, 502, 503, 529):
        assert isinstance(classify_status(status, "x"), TransientModelError)
    for status in (400, 401, 403, 404):
        assert isinstance(classify_status(status, "x"), PermanentModelError)
