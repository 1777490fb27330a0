"""Errors a user can hit, each with the exit code the CLI turns it into (SPEC §3)."""

from __future__ import annotations


class FaulttestError(Exception):
    """A failure with one clear message for the user (what went wrong, what to do)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(FaulttestError):
    """Bad usage, configuration or catalog (exit 2)."""

    exit_code = 2


class CatalogError(UsageError):
    """A catalog that does not load; `problems` holds every `file:line:col: message`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class SafetyRefusal(FaulttestError):
    """The safety guard refused a target (exit 3)."""

    exit_code = 3


class InjectionFailed(FaulttestError):
    """A fault did not take, or a teardown did not leave the target clean (exit 1)."""

    exit_code = 1
