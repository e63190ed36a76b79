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

from workloads.errors import InputError

T = TypeVar("T")
_MISSING = object()


class SpecError(InputError):
    """An architecture, energy or mapping spec is invalid."""


def load_yaml(path: Path) -> Any:
    """`yaml.safe_load` of a file, with read and syntax errors as SpecError."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise SpecError(
            str(path), "file", str(path), f"a readable YAML file ({err.strerror})"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SpecError(str(path), "syntax", str(err).splitlines()[0], "valid YAML") from None


class Node:
    def __init__(self, data: Any, source: str, path: str = "") -> None:
        if not isinstance(data, dict):
            raise SpecError(source, path or "<top>", data, "a mapping of keys to values")
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
