"""Validated reading of YAML specs into typed values.

A `Node` wraps one mapping of a `yaml.safe_load` result with its path
(`pe_array.rows`), so every error names the file, the field, the value and
what is allowed. Unknown keys are errors (`Node.finish`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from workloads.errors import MAX_INT_DIGITS, InputError, shown
from workloads.inputs import read_text

T = TypeVar("T")
_MISSING = object()


class SpecError(InputError):
    """An architecture, energy or mapping spec is invalid."""


MAX_SPEC_BYTES = 4 * 2**20  # an arch, energy or mapping spec is a few kB
MAX_ALIASES = 100  # YAML aliases (*name) per document: a bomb nests them to expand 10^9 times
MAX_DEPTH = 64  # nested collections
MAX_EXPANDED_NODES = 100_000  # values in a document with every alias expanded


class _GuardedLoader(yaml.SafeLoader):
    """safe_load with limits: aliases, nesting depth and integer length (composed
    lazily, so a bomb fails on its 101st alias instead of expanding)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_ALIASES} aliases (a YAML bomb?)", mark
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"collections nested more than {MAX_DEPTH} deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_yaml_int(self, node):
        digits = sum(ch.isdigit() for ch in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of {digits} digits (at most {MAX_INT_DIGITS})",
                node.start_mark,
            )  # fmt: skip
        return super().construct_yaml_int(node)


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it past MAX_EXPANDED_NODES (a "billion
    laughs" bomb: 9 levels of 10 aliases is 10^9 nodes from 90 aliases) or into a
    cycle (`&a [*a]`). Sizes are counted per distinct node, so this is linear."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_EXPANDED_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand the document past {MAX_EXPANDED_NODES:,} "
                    "values (a YAML bomb?)", node.start_mark,
                )  # fmt: skip
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise yaml.composer.ComposerError(
                None, None, "an alias inside its own anchor (a recursive structure)",
                node.start_mark,
            )  # fmt: skip
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


_GuardedLoader.add_constructor("tag:yaml.org,2002:int", _GuardedLoader.construct_yaml_int)


def _yaml_problem(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None) or (str(err).splitlines() or ["?"])[0]
    mark = getattr(err, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def parse_yaml(text: str, source: str) -> Any:
    """YAML text to Python values with the guards above; bad YAML is a SpecError."""
    loader = None
    try:
        loader = _GuardedLoader(text)  # the reader refuses control characters here
        return loader.get_single_data()
    except yaml.YAMLError as err:
        raise SpecError(source, "syntax", _yaml_problem(err), "valid YAML") from None
    except (ValueError, RecursionError) as err:  # a constructor's own conversion failed
        raise SpecError(source, "syntax", str(err), "valid YAML values") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml(path: Path) -> Any:
    """The guarded YAML of a regular UTF-8 file, with read and syntax errors as SpecError."""
    return parse_yaml(read_text(path, "YAML file", SpecError, MAX_SPEC_BYTES), str(path))


class Node:
    def __init__(self, data: Any, source: str, path: str = "") -> None:
        if not isinstance(data, dict):
            raise SpecError(source, path or "<top>", data, "a mapping of keys to values")
        for key in data:
            if not isinstance(key, str):
                where = f"{path}.{shown(key)}" if path else shown(key)
                raise SpecError(source, where, key, "keys that are strings (names of fields)")
        self.data = data
        self.source = source
        self.path = path
        self._used: set[str] = set()

    def _field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, value: object, allowed: str) -> SpecError:
        return SpecError(self.source, self._field(key), value, allowed)

    def has(self, key: str) -> bool:
        return key in self.data

    def get(
        self,
        key: str,
        kind: type[T] | tuple[type, ...],
        default: Any = _MISSING,
        *,
        allowed: str | None = None,
        check: Callable[[Any], bool] | None = None,
    ) -> T:
        """The value at `key`, of type `kind`; `check` must accept it."""
        self._used.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise self.error(key, "<missing>", allowed or f"a required {_kind_name(kind)}")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise self.error(key, value, allowed or _kind_name(kind))
        if check is not None and not check(value):
            raise self.error(key, value, allowed or "a valid value")
        return value

    def positive_int(self, key: str, default: Any = _MISSING) -> int:
        return self.get(key, int, default, allowed="a positive integer", check=lambda v: v > 0)

    def non_negative(self, key: str, default: Any = _MISSING) -> float:
        return self.get(key, float, default, allowed="a number >= 0", check=lambda v: v >= 0)

    def choice(self, key: str, parse: Callable[[str], T], options: Iterable[str], default=_MISSING):
        options = list(options)
        raw = self.get(key, str, default, allowed=", ".join(options))
        if raw is default:
            return raw
        if raw.lower() not in options:  # `parse` may accept more (str accepts anything)
            raise self.error(key, raw, ", ".join(options))
        try:
            return parse(raw.lower())
        except ValueError:
            raise self.error(key, raw, ", ".join(options)) from None

    def child(self, key: str, default: Any = _MISSING) -> Node:
        self._used.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise self.error(key, "<missing>", "a required section")
            return Node(default, self.source, self._field(key))
        return Node(self.data[key], self.source, self._field(key))

    def finish(self) -> None:
        """Reject keys nobody read."""
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            allowed = ", ".join(sorted(self._used)) or "none"
            raise self.error(unknown[0], self.data[unknown[0]], f"known keys here: {allowed}")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "integer", float: "number", str: "string", bool: "true/false", list: "list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
