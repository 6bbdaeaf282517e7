"""Safe YAML reading: YAML 1.2 scalars, no duplicate keys, no tags, no aliases, bounded size.

PyYAML's SafeLoader follows YAML 1.1, which reads ``1e26`` as a string and ``NO``
(Norway) as ``False``. This loader resolves booleans only from ``true``/``false`` and
floats by the YAML 1.2 core schema, so ``1e26``, ``1E+26`` and ``1.0e26`` are numbers.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode

from ..errors import InputError

MAX_FILE_BYTES = 5_000_000
MAX_NODES = 200_000
MAX_DEPTH = 50          # nesting of mappings and lists; a problem file needs about 5
MAX_INT_DIGITS = 40     # an integer beyond 1e40 means nothing here (and Python refuses 4,300+ digits)

_FLOAT_12 = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"
                       r"|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$")
_INT_12 = re.compile(r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$")
_BOOL_12 = re.compile(r"^(true|True|TRUE|false|False|FALSE)$")
_NULL_12 = re.compile(r"^(~|null|Null|NULL|)$")


class _Strict(Composer, SafeConstructor):
    """Composition that refuses aliases and bounds nodes and depth, and mappings without duplicate
    keys; mixed into a loader ahead of its parser."""

    _node_count: int
    _depth: int

    def _event_mark(self) -> Mark | None:
        """Where the next event starts."""
        # The parser mixed in after this class (Parser or CParser) has peek_event and check_event.
        mark: Mark | None = self.peek_event().start_mark  # type: ignore[attr-defined]
        return mark

    def compose_node(self, parent: Node | None, index: int) -> Node | None:  # noqa: D102 - PyYAML hook
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            raise ConstructorError(None, None, "YAML aliases (*name) are not allowed", self._event_mark())
        self._node_count = getattr(self, "_node_count", 0) + 1
        if self._node_count > MAX_NODES:
            raise ConstructorError(None, None, f"more than {MAX_NODES} YAML nodes", self._event_mark())
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise ConstructorError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                       self._event_mark())
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:  # noqa: D102
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen[key] = True
        return super().construct_mapping(node, deep=deep)


class _Loader(_Strict, yaml.SafeLoader):
    """The rules above with YAML 1.2 core-schema resolvers, on PyYAML's pure-Python parser."""


if yaml.__with_libyaml__:   # PyYAML built without libyaml has no CSafeLoader: the Python parser alone
    class _CLoader(_Strict, yaml.CSafeLoader):
        """The same with libyaml scanning and parsing (about 3x faster on the catalogs); nodes are
        still composed in Python by _Strict, so aliases, node count and depth are checked the same way."""

        def __init__(self, stream: str) -> None:
            yaml.CSafeLoader.__init__(self, stream)
            Composer.__init__(self)  # CSafeLoader composes in C and never sets up Python composition

    LOADERS: tuple[type[yaml.CSafeLoader] | type[yaml.SafeLoader], ...] = (_CLoader, _Loader)
else:
    LOADERS = (_Loader,)
"""The loaders of the same rules, fastest first: `loads` uses the first."""

_RESOLVERS_12 = [
    ("tag:yaml.org,2002:bool", _BOOL_12, list("tTfF")),
    ("tag:yaml.org,2002:int", _INT_12, list("-+0123456789")),
    ("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789.")),
    ("tag:yaml.org,2002:null", _NULL_12, ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:timestamp", re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), list("0123456789")),
]


def _construct_float(loader: _Loader, node: ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.lstrip("+-") == ".inf":
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return float(text)


def _construct_int(loader: _Loader, node: ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if len(text.lstrip("+-")) > MAX_INT_DIGITS:
        raise ConstructorError(None, None, f"integer of {len(text):,} digits (at most {MAX_INT_DIGITS})",
                               node.start_mark)
    return int(text, 0)


def _construct_date(loader: _Loader, node: ScalarNode) -> dt.date:
    text = loader.construct_scalar(node)
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConstructorError(None, None, f"invalid date {text!r} ({exc})", node.start_mark) from None


for _loader in LOADERS:
    _loader.yaml_implicit_resolvers = {}
    for _tag, _regex, _first in _RESOLVERS_12:
        _loader.add_implicit_resolver(_tag, _regex, _first)
    _loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_date)


def loads(text: str, *, source: str = "<string>") -> Any:
    """Parse YAML text safely; raise InputError naming `source` and the line."""
    try:
        return yaml.load(text, Loader=LOADERS[0])  # noqa: S506 - each is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "maximum nesting depth" in problem:  # libyaml's own limit (1,000), met while scanning ahead
            problem = f"nested more than {MAX_DEPTH} levels deep"
        fix = ("write a real date as YYYY-MM-DD" if "invalid date" in str(problem)
               else "flatten the document" if "nested" in str(problem)
               else "write a shorter number, e.g. 1.0e+26" if "digits" in str(problem)
               else "remove the tag: only plain YAML data is read" if "tag" in str(problem)
               else "give each key once" if "duplicate" in str(problem)
               else "write the value out instead of an alias" if "alias" in str(problem)
               else "correct the YAML syntax")
        raise InputError(problem, file=source, path=where, fix=fix) from None
    except yaml.YAMLError as exc:
        raise InputError(str(exc)[:500], file=source, fix="correct the YAML syntax") from None
    except RecursionError:  # flow collections nest in the parser, before any node is composed
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", file=source,
                         fix="flatten the document") from None


def load_file(path: str | Path) -> Any:
    """Read a YAML file safely, refusing files over MAX_FILE_BYTES."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise InputError(f"expected a file path, a mapping or a Problem, found {type(path).__name__} "
                         f"{str(path)[:40]!r}",
                         fix="pass a path to a problem YAML file or a dict of the same shape")
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", file=str(path),
                         fix="check the path") from None
    if size > MAX_FILE_BYTES:
        raise InputError(f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit",
                         file=str(path), fix="split the data or shorten the file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file as UTF-8 text ({exc})", file=str(path),
                         fix="save the file as UTF-8") from None
    return loads(text, source=str(path))
