"""Password removal for everything a bundle contains: DSN masking plus known secrets.

`helpdesk.dsn.mask` catches passwords written as DSN keywords, URIs and PGPASSWORD; the
literal passwords we were handed (and PGPASSWORD) are removed wherever else they appear.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from helpdesk import dsn as dsnlib

MIN_SECRET_LENGTH = 4  # shorter literals would blank out ordinary words


class Redactor:
    """Masks passwords in texts and in every string (and key) of JSON-like data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        found = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        self.secrets = sorted(found, key=len, reverse=True)

    def text(self, value: str) -> str:
        masked = dsnlib.mask(value)
        for secret in self.secrets:
            masked = masked.replace(secret, dsnlib.MASK)
        return masked

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.data(k): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value

    def leaks(self, blob: str) -> bool:
        """True when a known secret is still in `blob` (the archive's last check)."""
        return any(secret in blob for secret in self.secrets)


def secrets_of(connection_string: str | None) -> list[str]:
    """The passwords a bundle must not contain: the DSN's (alias resolved) and PGPASSWORD."""
    found = [os.environ.get("PGPASSWORD", "")]
    if connection_string:
        found.append(_password(connection_string))
        found.append(_password(_resolved(connection_string)))
    return [s for s in found if s]


def _password(dsn: str) -> str:
    try:
        return dsnlib.parse(dsn).get("password", "")
    except dsnlib.InvalidDSN:
        return ""


def _resolved(connection_string: str) -> str:
    try:
        from helpdesk.agents.database.connect import resolve

        return resolve(connection_string)
    except Exception:  # an alias we cannot resolve holds no password we could leak
        return ""
