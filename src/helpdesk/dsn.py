"""Connection strings: parse, build and mask libpq DSNs (key=value or URI form).

Masking is the one place that decides what a password looks like in output;
everything that logs, reports or traces a DSN goes through `mask`.
"""

from __future__ import annotations

import re

from psycopg.conninfo import conninfo_to_dict, make_conninfo

MASK = "****"

# An unquoted value ends at white space or a closing backtick (prompts quote DSNs in `...`).
_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s`]+)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)([^@\s]+)(@)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&\s]+)", re.IGNORECASE)
_ENV_PASSWORD = re.compile(r"(\bPGPASSWORD\s*=\s*)(\S+)")


class InvalidDSN(ValueError):
    """A connection string that libpq cannot parse."""


def parse(dsn: str) -> dict[str, str]:
    """Split a DSN into its libpq keywords (raises InvalidDSN with the password masked)."""
    try:
        return {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    except Exception as exc:  # psycopg raises ProgrammingError for bad syntax
        raise InvalidDSN(f"invalid connection string {mask(dsn)!r}: {mask(str(exc))}") from None


def build(**params: object) -> str:
    """Build a key=value DSN from keywords, skipping None values."""
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


def replace(dsn: str, **params: object) -> str:
    """Return `dsn` with some keywords replaced (e.g. a different password or dbname)."""
    return make_conninfo(dsn, **params)


def mask(text: str) -> str:
    """Mask every password in `text`: DSN keywords, URIs, query strings and PGPASSWORD."""
    text = _KV_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    text = _URI_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _QUERY_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return _ENV_PASSWORD.sub(lambda m: m.group(1) + MASK, text)


def endpoint(dsn: str) -> tuple[str, int, str]:
    """(host, port, dbname) of a DSN, with libpq's defaults filled in."""
    params = parse(dsn)
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = int(params.get("port") or 5432)
    dbname = params.get("dbname") or params.get("user") or "postgres"
    return host, port, dbname


def same_host(a: str, b: str) -> bool:
    """True when two host names denote the same machine for our purposes (loopback aliases)."""
    loopback = {"localhost", "127.0.0.1", "::1", ""}
    return a == b or (a in loopback and b in loopback)
