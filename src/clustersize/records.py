"""Typed results (verification, diagnosis, explanation) share these manners."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd


class Record:
    """A dataclass result with `.to_dict()`, `.to_frame()` and read-only dict-style access.

    Dict-style access (`result["ok"]`, `result.get("violations")`) keeps callers of the earlier
    dict results working; new code reads the attributes.
    """

    frame_field: str = ""
    frame_columns: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The result as plain nested data (dataclasses become dicts)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload, no-any-return]

    def to_frame(self) -> pd.DataFrame:
        """The result's main list (violations, findings) as a table."""
        rows = self.to_dict()[self.frame_field] if self.frame_field else []
        return pd.DataFrame(rows, columns=list(self.frame_columns))

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style read with a default."""
        return self.to_dict().get(key, default)
