"""Optional API-key authentication for the gateway (`Authorization: Bearer <key>`).

The key comes from `--api-key-file` or $HELPDESK_GATEWAY_API_KEY; with neither, the API is
open. Keys are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from pathlib import Path

API_KEY_VAR = "HELPDESK_GATEWAY_API_KEY"


class GatewayConfigError(ValueError):
    """The gateway's settings cannot be used (e.g. an unreadable or empty key file)."""


def load_api_key(key_file: Path | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The API key from `key_file` (first line) or $HELPDESK_GATEWAY_API_KEY; None = no auth."""
    if key_file is not None:
        try:
            lines = key_file.read_text(encoding="utf-8").strip().splitlines()
        except OSError as exc:
            raise GatewayConfigError(
                f"cannot read API key file {key_file}: {exc.strerror}"
            ) from None
        if not lines or not lines[0].strip():
            raise GatewayConfigError(f"API key file {key_file} is empty")
        return lines[0].strip()
    value = (os.environ if env is None else env).get(API_KEY_VAR, "").strip()
    return value or None


def authorized(header: str | None, api_key: str | None) -> bool:
    """Whether an Authorization header carries the key (always true when auth is off)."""
    if api_key is None:
        return True
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return hmac.compare_digest(token.strip().encode(), api_key.encode())
