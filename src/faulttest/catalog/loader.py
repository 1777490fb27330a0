"""Load failure catalogs from YAML, reporting every problem as `file:line:col: message`.

The built-in files (package data) load first, then custom `--catalog` files in order.
Relative `script`/`manifests` paths are rewritten to absolute paths (against the catalog
file's folder, kept in `FailureMode.base_dir`), so injectors can open them directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from faulttest.catalog.models import (
    PLACEHOLDERS,
    Catalog,
    FailureMode,
    KubernetesAction,
    ShellAction,
    SqlAction,
    UnsupportedAction,
)
from faulttest.errors import CatalogError

BUILTIN_PACKAGE = "faulttest.catalog"
BUILTIN_FILES: tuple[str, ...] = ("database.yaml", "kubernetes.yaml", "compound.yaml")
TOP_LEVEL_KEYS = ("version", "failures")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_UNION_TAGS = frozenset(
    {"sql", "sessions", "server", "config", "kubernetes", "shell", "connection_fails"}
)


@dataclass
class LoadResult:
    """A loaded catalog plus the warnings `validate` shows (e.g. unsupported action types)."""

    catalog: Catalog
    warnings: list[str] = field(default_factory=list)


@dataclass
class _FileResult:
    failures: list[FailureMode] = field(default_factory=list)
    ids: list[tuple[str, str]] = field(default_factory=list)  # (id, "file:line:col")
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def builtin_paths() -> list[Path]:
    """The built-in catalog files that exist, in load order."""
    folder = resources.files(BUILTIN_PACKAGE).joinpath("builtin")
    paths = [Path(str(folder.joinpath(name))) for name in BUILTIN_FILES]
    return [p for p in paths if p.is_file()]


def load_catalog(paths: Sequence[Path] = (), *, builtin: bool = True) -> Catalog:
    """Load and merge catalogs; raise CatalogError listing every problem found."""
    return load_catalog_report(paths, builtin=builtin).catalog


def load_catalog_report(paths: Sequence[Path] = (), *, builtin: bool = True) -> LoadResult:
    """Like `load_catalog`, also returning warnings (things that load but cannot run)."""
    files = _unique([*(builtin_paths() if builtin else []), *(Path(p) for p in paths)])
    results = [_load_file(path) for path in files]
    problems = [p for r in results for p in r.problems]
    problems += _duplicate_problems(pair for r in results for pair in r.ids)
    if problems:
        raise CatalogError(problems)
    failures = [f for r in results for f in r.failures]
    return LoadResult(Catalog(failures=failures), [w for r in results for w in r.warnings])


def _unique(paths: list[Path]) -> list[Path]:
    """Each file once (naming a built-in file with --catalog must not duplicate its ids)."""
    seen: set[Path] = set()
    unique = []
    for path in paths:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


# ── one file ─────────────────────────────────────────────────────────────────


def _where(path: Path, node_or_mark: Any) -> str:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return f"{path}:{mark.line + 1}:{mark.column + 1}"


def _load_file(path: Path) -> _FileResult:
    result = _FileResult()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        result.problems.append(f"{path}: cannot read catalog file: {reason}")
        return result
    parsed = _parse_yaml(path, text, result)
    if parsed is None:
        return result
    root, data = parsed
    for item_node, item_data, index in _entries(path, root, data, result):
        _load_entry(path, item_node, item_data, index, result)
    return result


def _parse_yaml(path: Path, text: str, result: _FileResult) -> tuple[Node, Any] | None:
    loader = yaml.SafeLoader(text)
    loader.name = str(path)
    try:
        root = loader.get_single_node()
        if root is None:
            result.problems.append(f"{path}:1:1: empty catalog; expected a 'failures:' list")
            return None
        duplicates = list(_duplicate_keys(path, root))
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _where(path, mark) if mark else f"{path}:1:1"
        message = ": ".join(str(part) for part in (exc.context, exc.problem) if part)
        result.problems.append(f"{where}: YAML syntax error: {message}")
        return None
    except yaml.YAMLError as exc:
        result.problems.append(f"{path}:1:1: YAML error: {exc}")
        return None
    finally:
        loader.dispose()
    result.problems.extend(duplicates)
    return root, data


def _duplicate_keys(path: Path, node: Node) -> Iterable[str]:
    if isinstance(node, MappingNode):
        seen: dict[str, Node] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                if key.value in seen:
                    first = _where(path, seen[key.value])
                    yield f"{_where(path, key)}: duplicate key '{key.value}' (first at {first})"
                seen.setdefault(key.value, key)
            yield from _duplicate_keys(path, value)
    elif isinstance(node, SequenceNode):
        for child in node.value:
            yield from _duplicate_keys(path, child)


def _entries(
    path: Path, root: Node, data: Any, result: _FileResult
) -> Iterable[tuple[MappingNode, dict[str, Any], int]]:
    """The failure-mode mappings of a file: `failures:` of a mapping, or a top-level list."""
    if isinstance(root, MappingNode):
        for key, _value in root.value:
            if key.value not in TOP_LEVEL_KEYS:
                result.problems.append(
                    f"{_where(path, key)}: unknown top-level key '{key.value}'; "
                    f"expected {', '.join(TOP_LEVEL_KEYS)}"
                )
        seq = _mapping_value(root, "failures")
        if seq is None:
            result.problems.append(f"{_where(path, root)}: missing 'failures:' list")
            return
        items = data.get("failures")
    else:
        seq, items = root, data
    if not isinstance(seq, SequenceNode) or not isinstance(items, list):
        result.problems.append(f"{_where(path, seq)}: 'failures' must be a list of failure modes")
        return
    for index, (node, item) in enumerate(zip(seq.value, items, strict=True)):
        if isinstance(node, MappingNode) and isinstance(item, dict):
            yield node, item, index
        else:
            result.problems.append(f"{_where(path, node)}: failures[{index}] must be a mapping")


def _mapping_value(node: MappingNode, key: str) -> Node | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node
    return None


def _load_entry(
    path: Path, node: MappingNode, data: dict[str, Any], index: int, result: _FileResult
) -> None:
    raw_id = data.get("id")
    label = raw_id if isinstance(raw_id, str) and raw_id else f"failures[{index}]"
    if isinstance(raw_id, str) and raw_id:
        result.ids.append((raw_id, _where(path, _mapping_value(node, "id") or node)))
    problems = list(_placeholder_problems(path, node, data, label))
    try:
        failure = FailureMode.model_validate(data)
    except ValidationError as exc:
        problems += _merge_union_errors(_format_error(path, node, e, label) for e in exc.errors())
        failure = None
    result.problems += sorted(problems, key=lambda p: _position(path, p))
    if failure is None or problems:
        return
    failure.source = str(path)
    failure.base_dir = str(path.resolve().parent)
    _resolve_paths(failure)
    result.failures.append(failure)
    result.warnings += _warnings(path, node, failure)


def _position(path: Path, problem: str) -> tuple[int, int]:
    line, col, _rest = problem[len(str(path)) + 1 :].split(":", 2)
    return int(line), int(col)


def _placeholder_problems(
    path: Path, node: MappingNode, data: dict[str, Any], label: str
) -> Iterable[str]:
    prompt = data.get("prompt")
    if not isinstance(prompt, str):
        return
    where = _where(path, _mapping_value(node, "prompt") or node)
    for match in _PLACEHOLDER.finditer(prompt):
        if match.group(1) not in PLACEHOLDERS:
            known = ", ".join("{{" + p + "}}" for p in PLACEHOLDERS)
            placeholder = match.group(0)
            yield f"{where}: [{label}] prompt: unknown placeholder '{placeholder}'; known: {known}"


def _resolve_paths(failure: FailureMode) -> None:
    for action in (*failure.inject, *failure.teardown):
        if isinstance(action, SqlAction | ShellAction) and action.script:
            action.script = str(failure.resolve_path(action.script))
        elif isinstance(action, KubernetesAction):
            action.manifests = [str(failure.resolve_path(m)) for m in action.manifests]


def _warnings(path: Path, node: MappingNode, failure: FailureMode) -> Iterable[str]:
    for phase in ("inject", "teardown"):
        phase_node = _mapping_value(node, phase)
        for index, action in enumerate(getattr(failure, phase)):
            where = _where(path, _node_at(phase_node, (index,))[0] if phase_node else node)
            if isinstance(action, UnsupportedAction):
                yield (
                    f"{where}: [{failure.id}] {phase}[{index}]: action type '{action.type}' "
                    "is not supported by faulttest; this fault loads but cannot be injected"
                )
            for script in _scripts(action):
                if not Path(script).is_file():
                    yield f"{where}: [{failure.id}] {phase}[{index}]: file not found: {script}"


def _scripts(action: Any) -> list[str]:
    if isinstance(action, SqlAction | ShellAction) and action.script:
        return [action.script]
    if isinstance(action, KubernetesAction):
        return list(action.manifests)
    return []


# ── pydantic errors → YAML positions ─────────────────────────────────────────


def _node_at(node: Node, loc: Sequence[int | str]) -> tuple[Node, list[str], bool]:
    """Follow a pydantic `loc` through the node tree.

    Returns the deepest node reached, the path actually walked (tags of discriminated
    unions and single-item-as-list promotions are skipped) and whether the last element
    was found (False: e.g. a missing field, reported at its parent mapping).
    """
    walked: list[str] = []
    found = True
    tag_skipped_at: Node | None = None
    for element in loc:
        if isinstance(node, MappingNode) and isinstance(element, str):
            if tag_skipped_at is not node and _is_union_tag(node, element):
                tag_skipped_at = node
                continue
            child = _mapping_value(node, element)
            walked.append(element)
            if child is None:
                found = False
                continue
            node, found = child, True
        elif isinstance(node, SequenceNode) and isinstance(element, int):
            if element < len(node.value):
                node, found = node.value[element], True
            walked.append(f"[{element}]")
        elif isinstance(element, int):
            continue  # a single mapping promoted to a one-item list
        elif isinstance(node, ScalarNode) and found:
            continue  # the member of a union (e.g. 'int') that the scalar did not match
        else:
            walked.append(str(element))
            found = False
    return node, walked, found


def _is_union_tag(node: MappingNode, element: str) -> bool:
    """True when `element` is the discriminator tag pydantic puts in `loc`, not a key."""
    if element == "unsupported":
        return True
    type_node = _mapping_value(node, "type")
    return element in _UNION_TAGS and getattr(type_node, "value", None) == element


def _key_node(parent: MappingNode, key: str) -> Node | None:
    for key_node, _value in parent.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node
    return None


def _merge_union_errors(errors: Iterable[tuple[str, str, str]]) -> list[str]:
    """One line per position: a value that fits no member of a union (e.g. `count: lots`
    for `int | "fill"`) yields one error per member; join them with "or"."""
    merged: dict[str, tuple[list[str], str]] = {}
    for head, message, got in errors:
        messages, _ = merged.setdefault(head, ([], got))
        messages.append(message)
    return [f"{head}{' or '.join(messages)}{got}" for head, (messages, got) in merged.items()]


def _format_error(path: Path, entry: MappingNode, error: Any, label: str) -> tuple[str, str, str]:
    """(`file:line:col: [id] path: `, message, ` (got value)` or "") for a pydantic error."""
    loc = tuple(error["loc"])
    node, walked, found = _node_at(entry, loc)
    dotted = ".".join(walked).replace(".[", "[")
    kind, got = error["type"], ""
    if kind == "missing":
        message = f"missing required field '{walked[-1] if walked else '?'}'"
        dotted = ".".join(walked[:-1]).replace(".[", "[")
    elif kind == "extra_forbidden":
        parent, _, _ = _node_at(entry, loc[:-1])
        key = _key_node(parent, str(loc[-1])) if isinstance(parent, MappingNode) else None
        node = key or node
        message = f"unknown field '{loc[-1]}'"
        dotted = ".".join(walked[:-1]).replace(".[", "[")
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
        value = error.get("input")
        scalar = isinstance(value, str | int | float | bool)
        if found and scalar and not isinstance(node, MappingNode) and repr(value) not in message:
            got = f" (got {value!r})"
    prefix = f"[{label}] {dotted}: " if dotted else f"[{label}] "
    return f"{_where(path, node)}: {prefix}", message, got


# ── across files ─────────────────────────────────────────────────────────────


def _duplicate_problems(ids: Iterable[tuple[str, str]]) -> list[str]:
    first: dict[str, str] = {}
    problems = []
    for failure_id, where in ids:
        if failure_id in first:
            also = first[failure_id]
            problems.append(f"{where}: duplicate id '{failure_id}' (also defined at {also})")
        else:
            first[failure_id] = where
    return problems
