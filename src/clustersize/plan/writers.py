"""Write a plan: plan.json plus one CSV or Parquet file per table, atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .plan import Plan


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_table(frame, path: str | Path) -> Path:
    """Write one table as CSV or Parquet (by suffix), atomically; returns the path."""
    path = Path(path)
    if path.suffix == ".parquet":
        _atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        _atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    return path


def write_plan(plan: Plan, out_dir: str | Path, table_format: str = "csv") -> list[Path]:
    """Write plan.json and tables/<name>.<csv|parquet>; returns the paths written."""
    if table_format not in ("csv", "parquet"):
        raise ValueError("table_format must be csv or parquet")
    out = Path(out_dir)
    written = []
    target = out / "plan.json"
    text = plan.to_json()
    _atomic_write(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    written.append(target)
    for name, frame in plan.tables.items():
        written.append(write_table(frame, out / "tables" / f"{name}.{table_format}"))
    return written
