"""Strict YAML: safe loading that refuses repeated keys, and typed conversion of parsed YAML into
dataclasses: unknown, repeated or missing keys and wrong types raise InputError naming the file
and the dotted field.

    config = build(ExperimentConfig, read_yaml(path), str(path), "")
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import InputError


class DuplicateKeyError(yaml.YAMLError):
    def __init__(self, dotted: str, line: int):
        self.dotted, self.line = dotted, line
        super().__init__(f"duplicated key {dotted!r} (line {line})")


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader (plain data only: no Python objects are ever built), refusing a
    mapping that repeats a key; PyYAML alone keeps the last value silently."""

    def compose_document(self):
        node = super().compose_document()
        _check_unique_keys(node, "", set())
        return node


def _check_unique_keys(node: yaml.Node, dotted: str, seen_nodes: set[int]) -> None:
    if id(node) in seen_nodes:  # an alias to a node already checked (or to an ancestor)
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[tuple[str, str]] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            path = _join(dotted, key_node.value)
            if (key_node.tag, key_node.value) in keys:
                raise DuplicateKeyError(path, key_node.start_mark.line + 1)
            keys.add((key_node.tag, key_node.value))
            _check_unique_keys(value_node, path, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_unique_keys(item, f"{dotted}[{i}]", seen_nodes)


def load_yaml_text(text: str) -> Any:
    """Parse YAML text safely; a repeated key raises DuplicateKeyError (a yaml.YAMLError)."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputError(path, None, "no such file")
    if not path.is_file():
        raise InputError(path, None, "not a file")
    try:
        raw = load_yaml_text(path.read_text(encoding="utf-8-sig"))
    except DuplicateKeyError as err:
        raise InputError(path, err.dotted, f"duplicated key (line {err.line}); each key may "
                                           "appear once") from None
    except UnicodeDecodeError:
        raise InputError(path, None, "not UTF-8 text") from None
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as err:
        # ValueError: e.g. a date like 2020-13-45; RecursionError: absurdly deep nesting
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise InputError(path, None, f"not valid YAML ({first})") from None
    if not isinstance(raw, dict):
        raise InputError(path, None, "expected a mapping at the top level")
    return raw


_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def build(tp: Any, value: Any, where: str, dotted: str) -> Any:
    """Convert parsed YAML `value` to type `tp`, or raise InputError at `where`/`dotted`."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, value, where, dotted)
    if origin in (typing.Union, types.UnionType):
        arms = typing.get_args(tp)
        if value is None and type(None) in arms:
            return None
        exact = [a for a in arms if a is type(value)]  # prefer the arm of the value's own type
        for arm in exact + [a for a in arms if a is not type(None) and a not in exact]:
            try:
                return build(arm, value, where, dotted)
            except InputError:
                continue
        names = " or ".join(_describe(a) for a in arms if a is not type(None))
        raise InputError(where, dotted, f"expected {names}, got {value!r}")
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise InputError(where, dotted, f"must be one of {', '.join(map(str, choices))}; "
                                            f"got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise InputError(where, dotted, f"expected a list, got {value!r}")
        (item,) = typing.get_args(tp)
        return [build(item, v, where, f"{dotted}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise InputError(where, dotted, f"expected a mapping, got {value!r}")
        key_tp, value_tp = typing.get_args(tp)
        return {build(key_tp, str(k), where, dotted): build(value_tp, v, where, f"{dotted}.{k}")
                for k, v in value.items()}
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise InputError(where, dotted, f"number too large: {value}") from None
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp in (str, bool) and isinstance(value, tp):
        return value
    raise InputError(where, dotted, f"expected {_describe(tp)}, got {value!r}")


def _build_dataclass(cls: Any, value: Any, where: str, dotted: str) -> Any:
    if not isinstance(value, dict):
        raise InputError(where, dotted or None, f"expected a mapping, got {value!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in value:
        if key not in known:
            raise InputError(where, _join(dotted, str(key)),
                             f"unknown key (expected one of: {', '.join(known)})")
    kwargs = {}
    for name, f in known.items():
        if name in value:
            kwargs[name] = build(hints[name], value[name], where, _join(dotted, name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InputError(where, _join(dotted, name), "is required")
    return cls(**kwargs)


def _join(dotted: str, name: str) -> str:
    return f"{dotted}.{name}" if dotted else name


def _describe(tp: Any) -> str:
    if typing.get_origin(tp) is list:
        return "a list"
    if typing.get_origin(tp) is dict:
        return "a mapping"
    return _TYPE_WORDS.get(tp, getattr(tp, "__name__", str(tp)))


