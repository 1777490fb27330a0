"""A cached, ready-made primary data directory, so `lab up` copies instead of running initdb.

The template is initdb'd, configured, started once to create `testdb` and pg_stat_statements,
and stopped cleanly. It is keyed by binaries, server version and settings, so changing any
of them builds a new one. Each lab then gets a private copy (`cp -a`, ~40 MB).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from faulttest.lab import binaries
from faulttest.lab.binaries import RunAs
from faulttest.lab.cluster import BASE_SETTINGS, DBNAME, PASSWORD, PgNode, lab_dsn
from faulttest.lab.errors import LabError
from helpdesk.dsn import mask

TEMPLATE_FORMAT = 1


def template_root(user: RunAs) -> Path:
    """Shared cache when switching users (root), else the user's own cache folder."""
    if user.switch:
        return binaries.SHARED_ROOT / "templates"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "faulttest" / "templates"


def template_key(bin_dir: Path) -> str:
    """Changes whenever the binaries, their version or the lab's settings change."""
    facts = [TEMPLATE_FORMAT, str(bin_dir), binaries.server_version(bin_dir), BASE_SETTINGS]
    facts += [DBNAME, PASSWORD]
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


def ensure_template(
    bin_dir: Path, user: RunAs, port: int, say: Callable[[str], None] = lambda _m: None
) -> Path:
    """The template data dir for these binaries, built first (on `port`) if missing."""
    root = template_root(user)
    target = root / template_key(bin_dir)
    if (target / "PG_VERSION").exists():
        return target
    say(f"building the cluster template with initdb (first run only; {bin_dir})")
    _prepare_root(root, user)
    staging = root / f".build-{target.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    (staging / "socket").mkdir(mode=0o700)
    for path in (staging, staging / "socket"):
        user.own(path)
    try:
        node = PgNode("template", staging / "data", port, bin_dir, user, staging / "socket")
        _build(node)
        try:
            (staging / "data").rename(target)
        except OSError:  # another process finished the same template first
            if not (target / "PG_VERSION").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _prepare_root(root: Path, user: RunAs) -> None:
    root.mkdir(parents=True, exist_ok=True)
    if user.switch:
        binaries.SHARED_ROOT.chmod(0o755)
        root.chmod(0o755)


def _build(node: PgNode) -> None:
    node.initdb(PASSWORD)
    node.write_settings(BASE_SETTINGS)
    node.write_node_settings()
    node.start()
    try:
        _bootstrap(node.port)
    finally:
        node.stop("fast")
    (node.data_dir / "faulttest.node.conf").unlink(missing_ok=True)
    node.clear_server_log()


def _bootstrap(port: int) -> None:
    """Create the test database and pg_stat_statements in it."""
    try:
        with psycopg.connect(lab_dsn(port, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))
        with psycopg.connect(lab_dsn(port), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    except psycopg.Error as exc:
        raise LabError(f"preparing the cluster template failed: {mask(str(exc))}") from None
