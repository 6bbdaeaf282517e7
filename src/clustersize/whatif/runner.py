"""Run what-if points serially, on local worker processes, or on a Dask cluster.

Points are cut into chunks of CHUNK consecutive points; a chunk is solved in order by one
worker (warm starts follow the chunk). Chunks depend only on the number of points, so the
same sweep gives the same rows locally and on Dask.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import InputError
from ..processes import kill_executor
from .evaluate import evaluate_chunk
from .points import Point

CHUNK = 5
# Columns every results table has, so summaries and plots never meet a missing one.
PLAN_COLUMNS = ("objective_usd", "bound_usd", "gap")

Row = dict[str, Any]


@dataclass
class RunResult:
    """Rows finished so far (sorted by point) and whether the run was interrupted."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    exit_code: int = 130  # 128 + the signal that interrupted the run (SIGINT unless told)

    def frame(self) -> pd.DataFrame:
        """The tidy results table; the plan columns are there even when no point has a plan."""
        frame = pd.DataFrame(sorted(self.rows, key=lambda r: r["point"])).reset_index(drop=True)
        for column in PLAN_COLUMNS:
            if column not in frame:
                frame[column] = pd.Series([float("nan")] * len(frame), dtype=float)
        return frame


def chunks(points: list[Point], size: int = CHUNK) -> list[list[Point]]:
    """Consecutive chunks of `size` points."""
    return [points[i:i + size] for i in range(0, len(points), size)]


def run_points(base: dict[str, Any], points: list[Point], settings: dict[str, Any], *, workers: int | None = None,
               scheduler: str | None = None, progress: bool = True,
               on_chunk: Callable[[list[Row]], None] | None = None) -> RunResult:
    """Evaluate every point; Ctrl-C stops early and keeps the finished rows."""
    result = RunResult()
    parts = chunks(points)
    console = Console(stderr=True)
    # No auto-refresh thread: worker processes are forked, and forking beside a running thread
    # can leave a child holding a lock that thread owned. The bar is redrawn as chunks finish.
    bar = Progress(TextColumn("[bold]what-if"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console, disable=not progress, transient=False, auto_refresh=False)

    def finished(rows: list[Row]) -> None:
        result.rows.extend(rows)
        bar.advance(task, len(rows))
        bar.refresh()
        if on_chunk is not None:
            on_chunk(rows)

    with bar:
        task = bar.add_task("points", total=len(points))
        try:
            if scheduler:
                scheduler = check_scheduler(scheduler)
                _run_dask(base, parts, settings, scheduler, finished)
            elif (workers or os.cpu_count() or 1) > 1 and len(parts) > 1:
                _run_local(base, parts, settings, workers or os.cpu_count() or 1, finished)
            else:
                for part in parts:
                    finished(evaluate_chunk(base, part, settings))
        except KeyboardInterrupt as exc:
            result.interrupted = True
            result.exit_code = 128 + int(getattr(exc, "signum", 2))
    return result


def _run_local(base: dict[str, Any], parts: list[list[Point]], settings: dict[str, Any], workers: int,
               finished: Callable[[list[Row]], None]) -> None:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    executor = ProcessPoolExecutor(max_workers=min(workers, len(parts)), mp_context=context)
    try:
        pending = {executor.submit(evaluate_chunk, base, part, settings) for part in parts}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                finished(future.result())
    except BaseException:
        # Interrupted: a running worker (and its solver child) would otherwise live on.
        kill_executor(executor)
        raise
    executor.shutdown(wait=False, cancel_futures=True)


SCHEDULER_ADDRESS = re.compile(r"(?:(?:tcp|tls|ucx|ws|wss)://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5}/?")


def check_scheduler(address: str) -> str:
    """A Dask scheduler address such as tcp://127.0.0.1:8786, checked before any solve; InputError
    when it is malformed or Dask distributed is not installed."""
    if not SCHEDULER_ADDRESS.fullmatch(address.strip()):
        raise InputError(f"{address[:200]!r} is not a scheduler address", path="--scheduler",
                         fix="e.g. --scheduler tcp://127.0.0.1:8786")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError("--scheduler needs Dask distributed", path="--scheduler",
                         fix='pip install "clustersize[dask]"') from None
    return address.strip()


def _run_dask(base: dict[str, Any], parts: list[list[Point]], settings: dict[str, Any], scheduler: str,
              finished: Callable[[list[Row]], None]) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--scheduler needs Dask distributed", path="--scheduler",
                         fix='pip install "clustersize[dask]"') from None
    try:
        # distributed leaves Client.__init__, Client.close and as_completed unannotated.
        client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({exc})", path="--scheduler",
                         fix="start one with `dask scheduler` and `dask worker ADDRESS` (docs/whatif.md)") from None
    try:
        futures = client.map(evaluate_chunk, [base] * len(parts), parts, [settings] * len(parts), pure=False)
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            finished(future.result())
    finally:
        client.close()  # type: ignore[no-untyped-call]
