"""Where scenario programs are solved: in this process, on local worker processes (as what-if
points are) or on a Dask cluster. Each solve still runs in its own watched solver process."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
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


@contextmanager
def _dask(address: str) -> Iterator[Mapper]:
    from distributed import Client

    try:
        client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address} ({exc})", path="--scheduler",
                         fix="start one with `dask scheduler` and `dask worker ADDRESS` (docs/whatif.md)") from None

    def run(function: Callable[..., Any], items: Sequence[Any]) -> list[Any]:
        futures = client.map(function, list(items), pure=False)
        return list(client.gather(futures))  # type: ignore[no-untyped-call]

    try:
        yield run
    finally:
        client.close()  # type: ignore[no-untyped-call]
