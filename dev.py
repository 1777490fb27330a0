#!/usr/bin/env python3
"""Set up the project's virtualenv and run the main job or the tests (needs only Python 3.11+).

    python3 dev.py run      # set up, then the main job (faulttest's full pipeline)
    python3 dev.py test     # set up, then the test suite
    python3 dev.py lint | bench | setup
Extra arguments are passed through, e.g. `python3 dev.py test -k catalog`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("FAULTTEST_VENV", ROOT / ".venv"))
BIN = VENV / "bin"
STAMP = VENV / ".installed"


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11+ is required (this is {sys.version.split()[0]})")
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not (BIN / "python").exists():
        print(f"creating virtualenv in {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    print("installing the project and its dependencies", file=sys.stderr)
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    command, extra = (argv[0], argv[1:]) if argv else ("help", [])
    commands = {
        "run": [str(BIN / "faulttest"), "run"],
        "test": [str(BIN / "python"), "-m", "pytest"],
        "lint": [str(BIN / "ruff"), "check", "src", "tests", "benchmarks"],
        "bench": [str(BIN / "python"), "benchmarks/run_all.py"],
        "setup": None,
    }
    if command not in commands:
        print(__doc__)
        return 0 if command == "help" else 2
    setup()
    cmd = commands[command]
    if cmd is None:
        return 0
    os.chdir(ROOT)
    return subprocess.run([*cmd, *extra]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
