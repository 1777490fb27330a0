"""What a person's message says about where to look: kube context, namespace, object names.

Pure text parsing. A context or namespace is taken when it is marked (`--context x`,
"context `x`", "namespace x", "x namespace", `-n x`) or when a known context is named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_NAME = r"[A-Za-z0-9][A-Za-z0-9_.:@/-]*"
_DNS = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_NOT_NAMES = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "the",
        "a",
        "an",
        "and",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "has",
        "have",
        "that",
        "which",
        "where",
        "it",
        "its",
        "this",
        "my",
        "our",
        "your",
        "their",
        "named",
        "called",
        "default",
        "name",
        "any",
        "all",
        "some",
    ]
)

_MARKED_CONTEXT = (
    re.compile(rf"--context[= ]+[`'\"]?({_NAME})"),
    re.compile(rf"\bcontext\s*[:=]?\s*[`'\"]({_NAME})[`'\"]", re.IGNORECASE),
)
_PLAIN_CONTEXT = re.compile(rf"\bcontext\s*[:=]?\s+({_NAME})", re.IGNORECASE)
_NAMESPACE = (
    re.compile(rf"(?:--namespace|\s-n)[= ]+[`'\"]?({_DNS})"),
    re.compile(
        rf"\bnamespace\s*[:=]?\s*(?:(?:named|called)\s+)?[`'\"]?({_DNS})(?![A-Za-z0-9-])",
        re.IGNORECASE,
    ),
    re.compile(rf"[`'\"]?({_DNS})[`'\"]?\s+namespace\b", re.IGNORECASE),
    re.compile(rf"\bns[/ ]({_DNS})\b"),
)


@dataclass(frozen=True)
class K8sRequest:
    """Where the person asks us to look (None = the kubeconfig's defaults)."""

    text: str
    context: str | None = None
    namespace: str | None = None

    def mentions(self, name: str) -> bool:
        """Whether `name` appears in the message as a whole name (not a prefix of a longer one)."""
        if not name:
            return False
        pattern = rf"(?<![A-Za-z0-9_.-]){re.escape(name)}(?![A-Za-z0-9_-])"
        return re.search(pattern, self.text, re.IGNORECASE) is not None

    def mentioned(self, names: Iterable[str]) -> set[str]:
        return {n for n in names if self.mentions(n)}


def parse_request(message: str, known_contexts: Iterable[str] = ()) -> K8sRequest:
    """Find the context and namespace the message names."""
    return K8sRequest(
        text=message,
        context=_context(message, list(known_contexts)),
        namespace=_namespace(message),
    )


def _context(message: str, known: list[str]) -> str | None:
    for pattern in _MARKED_CONTEXT:
        match = pattern.search(message)
        if match:
            return match.group(1).rstrip(".,;:")
    for match in _PLAIN_CONTEXT.finditer(message):
        candidate = match.group(1).rstrip(".,;:")
        if candidate in known:
            return candidate
    for name in sorted(known, key=len, reverse=True):
        if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", message):
            return name
    return None


def _namespace(message: str) -> str | None:
    for pattern in _NAMESPACE:
        for match in pattern.finditer(message):
            candidate = match.group(1)
            if candidate.lower() not in _NOT_NAMES:
                return candidate
    return None
