"""POST a bundle's result to a callback URL: bounded in time, never fatal.

The outcome (HTTP status or the error) is returned so the caller can record it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from helpdesk.dsn import mask
from helpdesk.logfmt import fields

log = logging.getLogger(__name__)

CALLBACK_TIMEOUT_S = 10.0


def post_result(
    url: str, payload: dict[str, Any], timeout: float = CALLBACK_TIMEOUT_S
) -> dict[str, Any]:
    """{"url", "ok", "status", "error"} of one POST of `payload` as JSON to `url`."""
    shown = mask(url)
    if urlsplit(url).scheme not in ("http", "https"):
        return {"url": shown, "ok": False, "status": None, "error": "callback URL must be http(s)"}
    try:
        response = httpx.post(url, json=payload, timeout=timeout)
    except httpx.HTTPError as exc:
        error = mask(f"{type(exc).__name__}: {exc}".rstrip(": "))
        log.warning("incident callback failed", extra=fields(url=shown, error=error))
        return {"url": shown, "ok": False, "status": None, "error": error}
    ok = response.is_success
    log.info("incident callback sent", extra=fields(url=shown, status=response.status_code))
    return {
        "url": shown,
        "ok": ok,
        "status": response.status_code,
        "error": None if ok else f"HTTP {response.status_code}",
    }
