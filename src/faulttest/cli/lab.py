"""`faulttest lab up|down|status|env`: thin commands over `faulttest.lab.Lab`."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import typer

from faulttest.lab import DEFAULT_PORT, DEFAULT_REPLICA_PORT, Lab, LabInfo, LabNotRunning
from faulttest.lab.lab import LabStatus

lab_app = typer.Typer(help="Manage the embedded PostgreSQL lab (primary + streaming replica).")


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")


def _recorded(home: Path | None) -> Lab:
    lab = Lab.load(home)
    if lab is None:
        raise LabNotRunning(home or Lab().home)
    return lab


@lab_app.command("up")
def up(
    port: int = typer.Option(DEFAULT_PORT, "--port", help="Primary port on 127.0.0.1."),
    replica_port: int = typer.Option(DEFAULT_REPLICA_PORT, "--replica-port"),
    no_replica: bool = typer.Option(False, "--no-replica", help="Start the primary only."),
    pg_bin: str | None = typer.Option(
        None, "--pg-bin", help="PostgreSQL bin folder (default: FAULTTEST_PG_BIN, else the wheel)."
    ),
) -> None:
    """Start the lab (an already running lab is reported, not restarted)."""
    lab = Lab(port=port, replica_port=replica_port, replica=not no_replica, pg_bin=pg_bin)
    started = time.monotonic()
    info = lab.up(progress=lambda msg: typer.echo(f"  {msg} ...", err=True))
    elapsed = time.monotonic() - started
    if info.already_running:
        typer.echo(f"Lab already running (FAULTTEST_HOME={info.home}); not restarted.")
    else:
        typer.echo(f"Lab is up in {elapsed:.1f}s (PostgreSQL {info.server_version}).")
    _print_status(lab.status(), info)
    typer.echo('\nExport the connection strings: eval "$(faulttest lab env)"')


@lab_app.command("down")
def down(keep: bool = typer.Option(False, "--keep", help="Keep the data for the next up.")) -> None:
    """Stop the primary and replica and delete their data (unless --keep)."""
    lab = Lab.load()
    if lab is None:
        typer.echo("No lab recorded; nothing to stop.")
        return
    started = time.monotonic()
    lab.down(keep=keep)
    kept = f"; data kept in {lab.info.data_dir.parent}" if keep else "; data deleted"
    typer.echo(f"Lab stopped in {time.monotonic() - started:.1f}s{kept}.")


@lab_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Whether primary and replica run, their ports and DSNs, and the replication state."""
    lab = Lab.load()
    if lab is None:
        if as_json:
            typer.echo(json.dumps({"recorded": False, "home": str(Lab().home)}))
        else:
            typer.echo(f"No lab recorded in {Lab().home}. Start one: faulttest lab up")
        raise typer.Exit(1)
    result = lab.status()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print_status(result, lab.info)
    if not result.primary_running:
        raise typer.Exit(1)


@lab_app.command("env")
def env() -> None:
    """Print FAULTTEST_CONN=... and FAULTTEST_REPLICA_CONN=... lines for `eval`."""
    lab = _recorded(None)
    if not lab.is_running("primary"):
        raise LabNotRunning(lab.home)
    info = lab.info
    typer.echo(f"FAULTTEST_CONN={shlex.quote(info.dsn)}")
    if info.replica_dsn:
        typer.echo(f"FAULTTEST_REPLICA_CONN={shlex.quote(info.replica_dsn)}")


def _print_status(result: LabStatus, info: LabInfo) -> None:
    def running(flag: bool | None) -> str:
        return "running" if flag else "stopped"

    typer.echo(f"  primary  {running(result.primary_running):8} {info.host}:{result.port}")
    typer.echo(f"           {result.dsn}")
    if result.replica_port is None:
        typer.echo("  replica  none (--no-replica)")
    else:
        typer.echo(
            f"  replica  {running(result.replica_running):8} {info.host}:{result.replica_port}"
        )
        typer.echo(f"           {result.replica_dsn}")
        typer.echo(f"  replication: {_replication_line(result)}")
    typer.echo(f"  server log: {info.log_dir} (SQL: pg_ls_logdir(), pg_read_file)")


def _replication_line(result: LabStatus) -> str:
    rep = result.replication
    if rep is None:
        return "unknown (primary not running)"
    text = rep.state or "not connected"
    if rep.lag_bytes is not None:
        text += f", replay lag {rep.lag_bytes} bytes"
    if rep.replay_paused:
        text += ", replay PAUSED"
    return text
