"""Fixtures for catalog tests: run the real `faulttest` entry point in-process, and write
catalog files into a temporary folder."""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faulttest.cli.main import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., CliResult]]:
    """Call `faulttest.cli.main:main` with arguments; return exit code, stdout, stderr."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["faulttest", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        captured = capsys.readouterr()
        code = exit_info.value.code
        return CliResult(code if isinstance(code, int) else 1, captured.out, captured.err)

    yield run
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


@pytest.fixture
def write_catalog(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write dedented YAML text to tmp_path/<name> and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write
