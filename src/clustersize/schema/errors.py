"""Turn pydantic validation errors into InputErrors that name the field and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..errors import InputError


@lru_cache(maxsize=1)
def _known_fields() -> tuple[str, ...]:
    from . import problem, rules

    names: set[str] = set()
    for module in (problem, rules):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel):
                for name, info in obj.model_fields.items():
                    names.add(info.alias or name)
    return tuple(sorted(names))


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """' (did you mean X?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fix_for(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "remove the key or correct its spelling" + did_you_mean(error["loc"][-1], _known_fields())
    if kind == "missing":
        return "add this field: no catalog gives it, so the problem file must"
    if error.get("input") is None and kind in ("float_type", "int_type", "string_type"):
        return "give a value: the catalog has none for this entry (see the catalog note)"
    if kind in ("finite_number",):
        return "give a finite number (NaN and inf are not accepted)"
    if kind.startswith("greater_than") or kind.startswith("less_than"):
        return "give a value within the stated range"
    if kind in ("float_type", "int_type") and isinstance(error.get("input"), str):
        return "write a number without quotes, e.g. 1e26"
    if kind == "value_error" and "ISO 3166" in error.get("msg", ""):
        return "use the two-letter ISO 3166 code"
    if kind == "string_pattern_mismatch":
        return "use the documented form (country: two capital letters, e.g. NO; quarter: 2027Q3)"
    return "correct the value"


def input_error_from_validation(exc: ValidationError, *, file: str, prefix: str = "") -> InputError:
    """One InputError listing every validation problem, the first one structured."""
    lines: list[str] = []
    first: tuple[str, str, str] | None = None
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-after"))
        path = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        fix = _fix_for(error)
        lines.append(f"{path or '(top level)'}: {message} (fix: {fix})")
        first = first or (path, message, fix)
    assert first is not None, "a ValidationError lists at least one error"
    if len(lines) == 1:
        return InputError(first[1], file=file, path=first[0] or None, fix=first[2])
    err = InputError(f"{len(lines)} problems:\n  " + "\n  ".join(lines), file=file)
    err.path, err.fix = first[0], first[2]
    return err
