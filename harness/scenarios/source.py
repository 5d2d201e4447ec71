"""Scenario files as data with provenance: every value knows the file and line it came from.

`read_yaml` parses one file into plain Python data plus a `Provenance` map (key path → (file, line)), so a
check made later, on the merged and expanded data, can still point at `scenarios/x.yaml:14`. Timestamps
stay strings (the scenario layer reads them), duplicate keys are errors, and `include` merges keep each
value's own origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

Key = str | int
KeyPath = tuple[Key, ...]
Provenance = dict[KeyPath, tuple[str, int]]


class ScenarioError(ValueError):
    """A scenario file that cannot be used: `file:line: key.path: what is wrong`, on one line."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: KeyPath = ()) -> None:
        self.file, self.line, self.path, self.detail = file, line, path, message
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        key = f"{format_path(path)}: " if path else ""
        super().__init__(f"{where}{key}{message}")


def format_path(path: KeyPath) -> str:
    """`steps[2].advance` from `("steps", 2, "advance")`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_SAFE_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
"""libyaml's parser where PyYAML has it: the same nodes and line marks, several times faster (a library of
scenarios with long id lists parses in a fraction of the time)."""


class _Loader(_SAFE_LOADER):  # type: ignore[valid-type,misc]
    """SafeLoader without the timestamp resolver: times stay strings, read by `timespec`."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def display_path(path: Path) -> str:
    """The path as a user typed it where possible: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> tuple[Any, Provenance]:
    """Parse `path`; a missing file or bad YAML is a `ScenarioError` with the file and line."""
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("no such file", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the file ({exc})", file=name) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[Any, Provenance]:
    provenance: Provenance = {}
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError("the file is empty", file=name)
        data = _build(loader, node, (), name, provenance)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ScenarioError(f"invalid YAML: {problem}", file=name, line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"invalid YAML: {exc}", file=name) from None
    finally:
        loader.dispose()
    return data, provenance


MAX_VALUES = 500_000
"""Values one file may expand to. YAML aliases repeat a node without repeating its text: a few lines of nested
aliases (the "billion laughs") would otherwise expand into more values than memory holds."""


def _build(loader: _Loader, node: yaml.Node, path: KeyPath, name: str, provenance: Provenance) -> Any:
    provenance.setdefault(path, (name, node.start_mark.line + 1))
    if len(provenance) > MAX_VALUES:
        raise ScenarioError(f"the file expands to more than {MAX_VALUES:,} values (nested YAML aliases?); put "
                            "large event lists in an events file", file=name, line=node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):  # JSON keys are strings: `{model: iPhone15,2}` makes a key 2
                raise ScenarioError(f"keys must be strings, got {key!r} (quote it; a comma inside {{...}} starts a "
                                    "new key)", file=name, line=key_node.start_mark.line + 1, path=path)
            if key in out:
                raise ScenarioError(f"duplicate key {key!r}", file=name, line=key_node.start_mark.line + 1, path=path)
            provenance[path + (key,)] = (name, key_node.start_mark.line + 1)
            out[key] = _build(loader, value_node, (*path, key), name, provenance)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), name, provenance) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def where(provenance: Provenance, path: KeyPath) -> tuple[str | None, int | None]:
    """The file and line of `path`, or of its nearest ancestor that has one."""
    for cut in range(len(path), -1, -1):
        found = provenance.get(path[:cut])
        if found is not None:
            return found
    return None, None


def merge(base: tuple[Any, Provenance], over: tuple[Any, Provenance]) -> tuple[Any, Provenance]:
    """`over` on top of `base` (an `include`): mappings merge key by key, lists concatenate (the base's
    items first), any other value of `over` wins. Provenance follows every value to its own file."""
    provenance: Provenance = {}
    data = _merge(base[0], base[1], over[0], over[1], (), provenance)
    return data, provenance


def _copy(value: Any, source: Provenance, src: KeyPath, dst: KeyPath, out: Provenance) -> Any:
    for path, origin in source.items():
        if path[:len(src)] == src:
            out[dst + path[len(src):]] = origin
    return value


def _merge(a: Any, pa: Provenance, b: Any, pb: Provenance, path: KeyPath, out: Provenance) -> Any:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if path in pb:
            out[path] = pb[path]
        merged: dict[Any, Any] = {}
        for key in list(a) + [k for k in b if k not in a]:
            if key in a and key in b:
                merged[key] = _merge(a[key], pa, b[key], pb, (*path, key), out)
            elif key in a:
                merged[key] = _copy(a[key], pa, (*path, key), (*path, key), out)
            else:
                merged[key] = _copy(b[key], pb, (*path, key), (*path, key), out)
        return merged
    if isinstance(a, list) and isinstance(b, list):
        if path in pb:
            out[path] = pb[path]
        for i, item in enumerate(a):
            _copy(item, pa, (*path, i), (*path, i), out)
        for j, item in enumerate(b):
            _copy(item, pb, (*path, j), (*path, len(a) + j), out)
        return list(a) + list(b)
    return _copy(b, pb, path, path, out)
