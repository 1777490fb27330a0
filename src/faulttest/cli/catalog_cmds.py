"""`faulttest list`, `show` and `validate`: thin commands over `faulttest.catalog.loader`.

Also the catalog helpers other commands share: the repeatable `--catalog` option,
loading for the CLI, and `--ids`/`--categories` selection with unknown names rejected.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import typer
import yaml

from faulttest.catalog.loader import builtin_paths, load_catalog, load_catalog_report
from faulttest.catalog.models import Catalog, FailureMode, FaultCategory
from faulttest.errors import CatalogError, UsageError

ID_WIDTH, CATEGORY_WIDTH, SEVERITY_WIDTH, RULE_WIDTH = 30, 12, 10, 80

CATALOG_OPTION_HELP = "A custom catalog file merged after the built-in one (repeatable)."


def register(app: typer.Typer) -> None:
    app.command("list")(list_cmd)
    app.command("show")(show_cmd)
    app.command("validate")(validate_cmd)


# ── helpers shared with other commands ───────────────────────────────────────


def split_csv(value: str | None) -> list[str]:
    """`a,b, c` → ['a', 'b', 'c'] (None or empty → [])."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def select_failures(
    catalog: Catalog, ids: str | None = None, categories: str | None = None
) -> list[FailureMode]:
    """The failures chosen by `--ids`/`--categories` (comma lists), in catalog order.

    Raises UsageError naming any unknown id or category.
    """
    wanted_ids, wanted_categories = split_csv(ids), split_csv(categories)
    unknown_ids = [i for i in wanted_ids if i not in catalog.ids()]
    if unknown_ids:
        raise _unknown_id_error(catalog, unknown_ids)
    valid_categories = [c.value for c in FaultCategory]
    unknown_categories = [c for c in wanted_categories if c not in valid_categories]
    if unknown_categories:
        raise UsageError(
            f"unknown category: {', '.join(unknown_categories)}",
            hint=f"valid categories: {', '.join(valid_categories)}",
        )
    return catalog.select(ids=wanted_ids or None, categories=wanted_categories or None)


def get_failure(catalog: Catalog, failure_id: str) -> FailureMode:
    """One failure by id; UsageError (exit 2) with close matches when it is unknown."""
    try:
        return catalog.get(failure_id)
    except KeyError:
        raise _unknown_id_error(catalog, [failure_id]) from None


def _unknown_id_error(catalog: Catalog, unknown: list[str]) -> UsageError:
    close = difflib.get_close_matches(unknown[0], catalog.ids(), n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    plural = "s" if len(unknown) > 1 else ""
    return UsageError(
        f"unknown failure id{plural}: {', '.join(unknown)}",
        hint=f"{hint}'faulttest list' shows every id",
    )


# ── commands ─────────────────────────────────────────────────────────────────


def list_cmd(
    categories: str | None = typer.Option(
        None, "--categories", help="Only these categories (comma list)."
    ),
    ids: str | None = typer.Option(None, "--ids", help="Only these failure ids (comma list)."),
    catalog: list[Path] = typer.Option([], "--catalog", help=CATALOG_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the merged catalog entries as JSON."),
) -> None:
    """List the failure modes of the catalog."""
    failures = select_failures(load_catalog(catalog), ids, categories)
    if as_json:
        typer.echo(json.dumps([f.model_dump(mode="json") for f in failures], indent=2))
        return
    typer.echo(render_table(failures))


def render_table(failures: list[FailureMode]) -> str:
    """The table aiHelpDesk users know: ID 30, CATEGORY 12, SEVERITY 10, NAME."""
    header = _row("ID", "CATEGORY", "SEVERITY", "NAME")
    rows = [_row(f.id, f.category.value, f.severity.value, f.name) for f in failures]
    footer = f"Total: {len(failures)} failure modes"
    return "\n".join([header, "-" * RULE_WIDTH, *rows, "", footer])


def _row(failure_id: str, category: str, severity: str, name: str) -> str:
    return (
        f"{failure_id:<{ID_WIDTH}} {category:<{CATEGORY_WIDTH}} {severity:<{SEVERITY_WIDTH}} {name}"
    )


def show_cmd(
    failure_id: str = typer.Option(..., "--id", help="The failure id (see 'faulttest list')."),
    catalog: list[Path] = typer.Option([], "--catalog", help=CATALOG_OPTION_HELP),
) -> None:
    """Print one failure mode as a YAML catalog file (copy it into a custom catalog)."""
    failure = get_failure(load_catalog(catalog), failure_id)
    typer.echo(render_yaml(failure), nl=False)


def render_yaml(failure: FailureMode) -> str:
    """A one-entry catalog document for `failure` that loads back to the same entry."""
    entry = failure.model_dump(mode="json", exclude_defaults=True)
    document = {"version": "1", "failures": [entry]}
    body = yaml.dump(document, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=88)
    return f"# {failure.id}: {failure.name} (from {failure.source})\n{body}"


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line text as `|` blocks, long lines as folded `>` blocks, and
    indents lists under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> Any:
    if "\n" in value.rstrip("\n"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if len(value) > 80 and value.endswith("\n"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=">")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _represent_str)


def validate_cmd(
    catalog: list[Path] = typer.Option(
        [], "--catalog", help="Catalog file to check (repeatable; default: the built-in files)."
    ),
) -> None:
    """Check catalogs (with the built-in one, so duplicate ids are caught); exit 2 on errors."""
    builtin = {path.resolve(): path for path in builtin_paths()}
    files = [builtin.get(path.resolve(), path) for path in catalog] or list(builtin.values())
    try:
        report = load_catalog_report(files)
    except CatalogError as exc:
        for problem in exc.problems:
            typer.echo(problem)
        count = len(exc.problems)
        raise UsageError(
            f"{count} problem{'s' if count != 1 else ''} found in the catalog",
            hint="each line above is file:line:col: message",
        ) from None
    prefixes = tuple(f"{path}:" for path in files)
    for warning in report.warnings:
        if warning.startswith(prefixes):
            typer.echo(f"warning: {warning}")
    for path in files:
        count = sum(1 for f in report.catalog.failures if f.source == str(path))
        typer.echo(f"ok: {count} failure modes in {path}")
