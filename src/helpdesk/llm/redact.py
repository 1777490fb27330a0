"""Keep database passwords away from the model while tools still get working DSNs.

Before anything reaches the model (the person's message, every tool output) the
`SecretVault` finds connection strings, remembers each password with its endpoint
(host, port, user) and replaces it by `****`. When the model later calls a tool with a
DSN whose password is `****` (or missing), the vault puts the real password back for
the same endpoint only, so a password is never sent to a server it was not given for.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from helpdesk import dsn as dsnlib
from helpdesk.dsn import MASK

_KEYWORDS = (
    "host|hostaddr|port|dbname|user|password|passfile|connect_timeout|client_encoding|options|"
    "application_name|fallback_application_name|keepalives|keepalives_idle|keepalives_interval|"
    "keepalives_count|tcp_user_timeout|replication|gssencmode|sslmode|sslcert|sslkey|sslrootcert|"
    "sslcrl|target_session_attrs|load_balance_hosts|service|channel_binding"
)
# A value ends before sentence punctuation, so "password=x." in prose means "x".
_PAIR = re.compile(
    rf"\b({_KEYWORDS})\s*=\s*('(?:[^'\\]|\\.)*'|[^\s'\"]*[^\s'\".,;:)\]}}])", re.IGNORECASE
)
_URI = re.compile(r"\bpostgres(?:ql)?://[^\s'\"<>]+", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"(//[^:/@\s]*:)([^@\s]+)(@)")
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&\s]+)", re.IGNORECASE)
_SQL_PASSWORD = re.compile(r"(\bpassword\s+)('(?:[^']|'')*')", re.IGNORECASE)
# The safety net, as helpdesk.dsn.mask but leaving values that are already masked intact
# (so "password=****." keeps its full stop).
_MASKED = r"\*{4}(?![^\s'\".,;:)\]}&@])"
_ANY_KV_PASSWORD = re.compile(
    rf"(\bpassword\s*=\s*)(?!{_MASKED})('(?:[^'\\]|\\.)*'|\"[^\"]*\"|\S+)", re.IGNORECASE
)
_ANY_URI_PASSWORD = re.compile(
    rf"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?!{_MASKED})([^@\s]+)(@)", re.IGNORECASE
)
_ANY_QUERY_PASSWORD = re.compile(rf"([?&]password=)(?!{_MASKED})([^&\s]+)", re.IGNORECASE)
_ENV_PASSWORD = re.compile(rf"(\bPGPASSWORD\s*=\s*)(?!{_MASKED})(\S+)")
_LOOPBACK = {"", "localhost", "127.0.0.1", "::1"}
_MIN_LITERAL = 4  # shorter passwords are only masked where they stand as a password


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: str
    user: str

    @classmethod
    def of(cls, params: dict[str, str]) -> Endpoint:
        host = (params.get("host") or params.get("hostaddr") or "").split(",")[0].strip()
        if host in _LOOPBACK or host.startswith("/"):
            host = "localhost"
        port = (params.get("port") or "5432").split(",")[0].strip()
        return cls(host.lower(), port, params.get("user", ""))

    def matches(self, other: Endpoint) -> bool:
        users_agree = not self.user or not other.user or self.user == other.user
        return self.host == other.host and self.port == other.port and users_agree


@dataclass(frozen=True)
class _Secret:
    endpoint: Endpoint
    password: str


class SecretVault:
    """Hides DSN passwords from the model and restores them in the model's tool arguments."""

    def __init__(self) -> None:
        self._secrets: list[_Secret] = []
        self._identifiers: set[str] = set()  # users and dbnames seen next to a password
        self._lock = threading.RLock()  # tools of one turn run in parallel threads

    def hide(self, text: str) -> str:
        """`text` with every password replaced by `****` (remembering the real ones)."""
        with self._lock:
            return self._hide(text)

    def _hide(self, text: str) -> str:
        text = _URI.sub(self._hide_uri, text)
        text = self._hide_keyword_runs(text)
        text = _SQL_PASSWORD.sub(lambda m: f"{m.group(1)}'{MASK}'", text)
        for secret in self._secrets:
            literal = secret.password
            if len(literal) >= _MIN_LITERAL and literal not in self._identifiers:
                text = text.replace(literal, MASK)
        return _safety_net(text)

    def restore(self, value: str) -> str:
        """A DSN from the model with the real password of its endpoint; other text unchanged."""
        if "=" not in value and "://" not in value:
            return value
        try:
            params = dsnlib.parse(value)
        except dsnlib.InvalidDSN:
            return value
        if params.get("password") not in (None, MASK):
            return value
        endpoint = Endpoint.of(params)
        with self._lock:
            secret = next((s for s in self._secrets if s.endpoint.matches(endpoint)), None)
        return value if secret is None else _with_password(value, secret.password)

    def restore_args(self, args: dict[str, Any]) -> dict[str, Any]:
        return {key: self._restore_value(value) for key, value in args.items()}

    def _restore_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.restore(value)
        if isinstance(value, list):
            return [self._restore_value(v) for v in value]
        return value

    def _remember(self, params: dict[str, str]) -> None:
        password = params.get("password")
        if not password or password == MASK:
            return
        secret = _Secret(Endpoint.of(params), password)
        if secret not in self._secrets:
            self._secrets.append(secret)
        self._identifiers.update(v for k, v in params.items() if k in ("user", "dbname") and v)

    def _hide_uri(self, match: re.Match[str]) -> str:
        uri = match.group(0)
        stripped = uri.rstrip(".,;:)]}")
        tail = uri[len(stripped) :]
        parts = urlsplit(stripped)
        params = {
            "host": parts.hostname or "",
            "port": str(parts.port or ""),
            "user": unquote(parts.username or ""),
            "dbname": unquote(parts.path.lstrip("/")),
        }
        if parts.password:
            self._remember({**params, "password": unquote(parts.password)})
        for query_password in _QUERY_PASSWORD.finditer(stripped):
            self._remember({**params, "password": unquote(query_password.group(2))})
        stripped = _URI_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), stripped)
        return _QUERY_PASSWORD.sub(lambda m: m.group(1) + MASK, stripped) + tail

    def _hide_keyword_runs(self, text: str) -> str:
        out: list[str] = []
        position = 0
        for run in _keyword_runs(text):
            params = {m.group(1).lower(): _unquote_value(m.group(2)) for m in run}
            self._remember(params)
            for pair in run:
                if pair.group(1).lower() == "password":
                    out.append(text[position : pair.start(2)])
                    out.append(MASK)
                    position = pair.end(2)
        out.append(text[position:])
        return "".join(out)


_MASKED_KV = re.compile(r"(\bpassword\s*=\s*)\*{4}(?=\s|$)", re.IGNORECASE)
_MASKED_URI = re.compile(r"(://[^:/@\s]*:)\*{4}(@)")


def _with_password(value: str, password: str) -> str:
    """`value` with its masked (or missing) password replaced, keeping the model's layout."""
    if _MASKED_KV.search(value):
        return _MASKED_KV.sub(lambda m: m.group(1) + _kv_quote(password), value, count=1)
    if _MASKED_URI.search(value):
        return _MASKED_URI.sub(
            lambda m: m.group(1) + quote(password, safe="") + m.group(2), value, count=1
        )
    return dsnlib.replace(value, password=password)


def _kv_quote(value: str) -> str:
    if value and re.fullmatch(r"[^\s'\\]+", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _safety_net(text: str) -> str:
    """Mask any password the DSN scan did not recognise (odd quoting, other URI schemes)."""
    text = _ANY_KV_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    text = _ANY_URI_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _ANY_QUERY_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return _ENV_PASSWORD.sub(lambda m: m.group(1) + MASK, text)


def _keyword_runs(text: str) -> list[list[re.Match[str]]]:
    """Groups of key=value pairs separated only by whitespace: one DSN each."""
    runs: list[list[re.Match[str]]] = []
    for pair in _PAIR.finditer(text):
        if runs and not text[runs[-1][-1].end() : pair.start()].strip():
            runs[-1].append(pair)
        else:
            runs.append([pair])
    return runs


def _unquote_value(value: str) -> str:
    if len(value) >= 2 and value.startswith("'") and value.endswith("'"):
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
