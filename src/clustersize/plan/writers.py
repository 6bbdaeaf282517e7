"""Write a plan: plan.json plus one CSV or Parquet file per table, all or nothing.

Every output directory is filled as a hidden temporary directory beside the target and then renamed
into place, so a reader (or a second solve into the same `--out`) sees either the old directory
whole, the new one whole, or none: never old and new tables mixed, never a half-written file.
Written files and directories get the usual permissions under the caller's umask.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from ..errors import InputError
from .plan import Plan

TABLE_FORMATS = ("csv", "parquet")
PLAN_ENTRIES = frozenset({"plan.json", "tables"})
SWAP_ATTEMPTS = 100


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_table_format(table_format: str, option: str = "--format") -> str:
    """`table_format` if it is csv or parquet; InputError naming the option otherwise."""
    if table_format not in TABLE_FORMATS:
        raise InputError(f"unknown table format {table_format!r}", path=option, fix="use csv or parquet")
    return table_format


def check_out_dir(out: str | Path | None, allowed: Collection[str], option: str = "--out") -> Path:
    """The output directory, checked before any work is done.

    It must be a non-empty path; if it exists it must be a directory holding nothing but a previous
    output of the same kind (`allowed` names its entries), since it is replaced as a whole.
    """
    if out is None or not str(out).strip():
        raise InputError("the output directory is empty", path=option, fix="name a directory, e.g. --out out/plan")
    path = Path(out)
    # One stat, and a vanished directory read as absent: a concurrent writer of the same output
    # moves it aside for an instant (_swap_in), and exists() then is_dir() would see a non-directory.
    try:
        is_dir: bool | None = stat.S_ISDIR(path.stat().st_mode)
    except FileNotFoundError:
        is_dir = None
    if is_dir is False:
        raise InputError(f"{path} exists and is not a directory", path=option, fix="name a new directory")
    if is_dir:
        try:
            foreign = sorted(e.name for e in path.iterdir() if e.name not in allowed)
        except FileNotFoundError:
            foreign = []
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise InputError(f"{path} holds files this command did not write ({shown}); it would be replaced "
                             "as a whole", path=option, fix="name a new or empty directory")
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"cannot create {path}: {ancestor} is not a writable directory", path=option,
                         fix="choose a directory you can write to")
    return path


def _swap_in(tmp: Path, out: Path, allowed: Collection[str]) -> None:
    """Rename `tmp` to `out`, first moving aside a previous output (renames are atomic)."""
    for _ in range(SWAP_ATTEMPTS):
        try:
            os.rename(tmp, out)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        check_out_dir(out, allowed)  # still only a previous output of ours
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        try:
            os.rename(out, old)  # onto an empty directory: allowed, and atomic
        except FileNotFoundError:  # a concurrent writer moved it first
            old.rmdir()
            continue
        shutil.rmtree(old, ignore_errors=True)
    raise OSError(f"could not replace {out}: other writers kept replacing it")


def publish_dir(out: str | Path, fill: Callable[[Path], list[Path]], allowed: Collection[str]) -> list[Path]:
    """Fill a fresh directory with `fill(tmp)` (which returns the paths it wrote) and rename it to
    `out`; returns the paths as they are under `out`. On any failure `out` is left as it was."""
    out = check_out_dir(out, allowed)
    out.absolute().parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.absolute().parent))
    try:
        written = fill(tmp)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700
        _swap_in(tmp, out, allowed)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return [out / Path(p).relative_to(tmp) for p in written]


def _atomic_write(path: Path, write: Callable[[str], Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_table(frame: Any, path: str | Path) -> Path:
    """Write one table (a DataFrame) as CSV or Parquet (by suffix), atomically; returns the path."""
    path = Path(path)
    if path.suffix == ".parquet":
        _atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        _atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    return path


def write_plan(plan: Plan, out_dir: str | Path, table_format: str = "csv") -> list[Path]:
    """Write plan.json and tables/<name>.<csv|parquet> into `out_dir`, replacing a previous plan
    there as a whole; returns the paths written. InputError for a bad format or directory."""
    check_table_format(table_format, "table_format")
    text = plan.to_json()

    def fill(tmp: Path) -> list[Path]:
        target = tmp / "plan.json"
        target.write_text(text, encoding="utf-8")
        written = [target]
        for name, frame in plan.tables.items():
            written.append(write_table(frame, tmp / "tables" / f"{name}.{table_format}"))
        return written

    return publish_dir(out_dir, fill, PLAN_ENTRIES)


def write_text(text: str, path: str | Path) -> Path:
    """Write one text file atomically (a reader sees the old file or the new one); returns the path."""
    path = Path(path)
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path
