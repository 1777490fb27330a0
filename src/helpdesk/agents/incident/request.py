"""What a person's message asks the incident agent for: a new bundle (and of what) or the list.

Targets are found the way the database and k8s agents find them (DSNs and aliases; marked
contexts and namespaces); a callback URL is an http(s) URL named as callback or webhook.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_LIST = re.compile(
    r"\b(?:list|show|which|what|existing|previous|recent)\b[^.?!\n]{0,40}\b(?:incidents?|bundles?)\b",
    re.IGNORECASE,
)
_CREATE = re.compile(
    r"\b(?:create|collect|make|gather|build|capture|record|take|grab|generate|new)\b",
    re.IGNORECASE,
)
_CALLBACK = re.compile(
    r"\b(?:callback|call ?back|webhook|notify|post (?:it|the result|them)? ?to)\b"
    r"[^\n]{0,40}?(https?://[^\s`'\"<>]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class IncidentRequest:
    message: str
    wants_list: bool = False
    connection_string: str | None = None
    kube_context: str | None = None
    namespace: str | None = None
    callback_url: str | None = None


def parse_incident_request(message: str, known_contexts: Iterable[str] = ()) -> IncidentRequest:
    callback = _CALLBACK.search(message)
    callback_url = callback.group(1).rstrip(".,;:)") if callback else None
    text = message.replace(callback_url, " ") if callback_url else message
    context, namespace = _kube_target(text, known_contexts)
    return IncidentRequest(
        message=message,
        wants_list=bool(_LIST.search(message)) and not _CREATE.search(message),
        connection_string=_database_target(text),
        kube_context=context,
        namespace=namespace,
        callback_url=callback_url,
    )


def _database_target(message: str) -> str | None:
    try:
        from helpdesk.agents.database.diagnostician.request import parse
    except ImportError:
        return None
    found = parse(message)
    return found.primary or found.replica


def _kube_target(message: str, known_contexts: Iterable[str]) -> tuple[str | None, str | None]:
    try:
        from helpdesk.agents.k8s.request import parse_request
    except ImportError:
        return None, None
    found = parse_request(message, known_contexts)
    return found.context, found.namespace
