"""Per-field digests of a plan document, so that an edit names the field it touched.

A digest is not a signature: whoever edits a plan can recompute them. They catch accidental
and careless edits of fields verify cannot recompute (solver name, messages, model statistics,
the binding table); every figure verify can recompute is checked against the problem instead.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

DIGEST_KEY = "digests"
DIGEST_HEX = 16  # 64 bits: ample against accidental collisions, short enough to read


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_HEX]


def field_digests(doc: dict[str, Any]) -> dict[str, str]:
    """Digest of every top-level field and of every table column of a JSON-ready plan document.

    Keys are field paths: "objective_usd", "tables.purchases.units", "tables.binding" (the table's
    list of columns and its length, so added or removed rows and columns show too).
    """
    found: dict[str, str] = {}
    for key, value in doc.items():
        if key == DIGEST_KEY:
            continue
        if key == "tables" and isinstance(value, dict):
            for name, rows in value.items():
                rows = rows if isinstance(rows, list) else []
                columns = sorted({c for row in rows if isinstance(row, dict) for c in row})
                found[f"tables.{name}"] = _digest([len(rows), columns])
                for column in columns:
                    found[f"tables.{name}.{column}"] = _digest(
                        [row.get(column) if isinstance(row, dict) else None for row in rows])
            continue
        found[key] = _digest(value)
    return found
