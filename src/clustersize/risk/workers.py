"""Where scenario programs are solved: in this process, on local worker processes (as what-if
points are) or on a Dask cluster. Each solve still runs in its own watched solver process."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

from ..errors import InputError
from ..processes import kill_executor
from ..solvers.watchdog import IN_PROCESS_ENV
from ..whatif.runner import check_scheduler
from .decompose import Mapper, serial


def _solve_in_process() -> None:
    """Pool initializer: this worker's solves run in it; the parent kills it at the map's deadline."""
    os.environ[IN_PROCESS_ENV] = "1"


@contextmanager
def scenario_mapper(workers: int | None = None, scheduler: str | None = None,
                    deadline_s: float | None = None) -> Iterator[Mapper]:
    """A mapper over `workers` local processes, or the Dask scheduler at `scheduler`; serial for one
    worker. A local map that runs past `deadline_s` [s] is stopped and its workers killed (TimeoutError)."""
    if scheduler:
        with _dask(check_scheduler(scheduler)) as mapper:
            yield mapper
        return
    if not workers or workers <= 1:
        yield serial
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")

    def run(function: Callable[..., Any], items: Sequence[Any]) -> list[Any]:
        # A pool per map: its manager thread must not outlive the map, or this process's own solves
        # would fork beside it (the watchdog then falls back to the much slower forkserver).
        executor = ProcessPoolExecutor(max_workers=min(workers, max(1, len(items))), mp_context=context,
                                       initializer=_solve_in_process)
        try:
            # a few items per task: fewer round trips, still every worker busy; the map's deadline
            # is the time limit the solves run in process without (the workers are killed at it)
            found = list(executor.map(function, items, chunksize=max(1, len(items) // (4 * workers)),
                                      timeout=deadline_s))
        except BaseException:
            kill_executor(executor)   # interrupted: no worker (or its solver child) may live on
            raise
        executor.shutdown(wait=True)
        return found

    yield run


def _on_worker(function: Callable[..., Any], items: list[Any]) -> list[Any]:
    """Run scenario tasks on a Dask worker, in its process: the solver's own time limit holds there
    (no child per solve, which a daemonic worker could not start anyway)."""
    before = os.environ.get(IN_PROCESS_ENV)
    os.environ[IN_PROCESS_ENV] = "1"
    try:
        return [function(item) for item in items]
    finally:
        if before is None:
            os.environ.pop(IN_PROCESS_ENV, None)
        else:
            os.environ[IN_PROCESS_ENV] = before


@contextmanager
def _dask(address: str) -> Iterator[Mapper]:
    from distributed import Client

    try:
        client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address} ({exc})", path="--scheduler",
                         fix="start one with `dask scheduler` and `dask worker ADDRESS` (docs/whatif.md)") from None

    def run(function: Callable[..., Any], items: Sequence[Any]) -> list[Any]:
        # a few items per task: a task's round trip costs more than a small scenario's solve
        workers = max(1, sum(client.ncores().values()))  # type: ignore[no-untyped-call]
        size = max(1, -(-len(items) // (4 * workers)))
        chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
        futures = client.map(partial(_on_worker, function), chunks, pure=False)
        return [found for part in client.gather(futures) for found in part]  # type: ignore[no-untyped-call]

    try:
        yield run
    finally:
        client.close()  # type: ignore[no-untyped-call]
