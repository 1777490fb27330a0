"""Errors the embedded lab raises; the CLI turns each into one clear line."""

from __future__ import annotations

from faulttest.errors import FaulttestError


class LabError(FaulttestError):
    """The lab could not be set up, started, stopped or queried (exit 1)."""

    exit_code = 1


class PortInUse(LabError):
    """A port the lab needs is taken by another process (exit 2: fix the flags)."""

    exit_code = 2

    def __init__(self, port: int, flag: str = "--port") -> None:
        super().__init__(f"port {port} is in use by another process; pass {flag} N or stop it")
        self.port = port


class LabNotRunning(LabError):
    """An operation needs a running lab and there is none."""

    def __init__(self, home: object) -> None:
        super().__init__(f"no lab is running for FAULTTEST_HOME={home}; run: faulttest lab up")
