"""Log lines in aiHelpDesk's style: `time=... level=INFO msg="..." key=value`, passwords masked.

Code logs with `log.info("answer sent", extra=fields(agent=..., task=...))`; `configure`
installs the formatter on stderr (the CLI edges call it once).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

from helpdesk.dsn import mask

_FIELDS = "logfmt_fields"


def fields(**values: Any) -> dict[str, Any]:
    """The `extra=` argument that attaches key=value pairs to a log record."""
    return {_FIELDS: values}


def _value(value: Any) -> str:
    text = mask(str(value))
    if text == "" or any(c in text for c in ' "=\n\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class LogfmtFormatter(logging.Formatter):
    """Formats records as one masked key=value line."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        parts = [
            f"time={stamp.replace('+00:00', 'Z')}",
            f"level={record.levelname.replace('WARNING', 'WARN')}",
            f"msg={_value(record.getMessage())}",
        ]
        extra: dict[str, Any] = getattr(record, _FIELDS, None) or {}
        parts += [f"{key}={_value(val)}" for key, val in extra.items()]
        if record.exc_info and record.levelno >= logging.ERROR:
            parts.append(f"error={_value(repr(record.exc_info[1]))}")
        return " ".join(parts)


def configure(level: int = logging.INFO) -> None:
    """Send all logs to stderr in logfmt; quiet the chatty HTTP libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "a2a"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
