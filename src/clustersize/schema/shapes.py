"""Shape checks on the raw problem document, before catalog merging and validation.

Merging looks entries up by the ids a document names (`from`, `site`, `accelerator`, `kind`); a
list or mapping written where an id belongs would fail there as a TypeError. These checks turn
every such value into an InputError naming the field.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError

ENTITY_SECTIONS = ("accelerators", "sites", "contracts", "cloud", "custom_programs")
REFERENCE_FIELDS = ("from", "site", "accelerator", "kind", "country")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def check_shapes(raw: dict[str, Any], file: str) -> None:
    """InputError for an entity that is not a mapping, or an id field that is not text."""
    for section in ENTITY_SECTIONS:
        entries = raw.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise InputError(f"expected a mapping of id: fields, found {_kind(entries)}", file=file, path=section,
                             fix=f"write {section}: {{id: {{field: value}}}}")
        for eid, body in entries.items():
            if not isinstance(eid, str):
                raise InputError(f"the id {eid!r} is not text", file=file, path=f"{section}.{eid}",
                                 fix="use ids of lowercase letters, digits, '-' and '_'")
            if body is None:
                continue
            if not isinstance(body, dict):
                raise InputError(f"expected a mapping of fields, found {_kind(body)}", file=file,
                                 path=f"{section}.{eid}", fix="write field: value pairs under the id")
            for field in REFERENCE_FIELDS:
                value = body.get(field)
                if value is not None and not isinstance(value, str):
                    raise InputError(f"expected an id, found {_kind(value)}", file=file,
                                     path=f"{section}.{eid}.{field}", fix="write one id as plain text")
