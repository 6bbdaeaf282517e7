"""Evaluate what-if points: each one a full solve plus independent verification, as a table row.

Runs in worker processes (local or Dask), so everything here is a plain top-level function
of picklable arguments. A point whose overrides are invalid, or that is infeasible, or
that stops at a limit, is a row with that status: it never aborts the run.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from ..errors import ClustersizeError, InputError
from ..families import definitional_names
from ..plan.plan import Plan
from ..schema.load import load_problem
from ..solving.pipeline import solve
from .points import Point

TIMING_COLUMNS = ("seconds", "solve_seconds")


def plan_row(plan: Plan) -> dict[str, Any]:
    """The plan's numbers as flat columns: status, costs, units per accelerator, MW per site, binding."""
    row: dict[str, Any] = {"status": plan.status.value, "verified": plan.verified, "objective_usd": plan.objective_usd,
                           "bound_usd": plan.bound_usd, "gap": plan.gap, "solve_seconds": plan.solve_seconds,
                           "plan_hash": plan.decision_hash() if plan.has_plan else None,
                           "message": "; ".join(plan.messages)}
    if not plan.has_plan:
        return row
    for r in plan.table("costs").itertuples():
        row[f"cost:{r.component}"] = r.cost_usd
    purchases = plan.table("purchases")
    if len(purchases):
        for acc, units in purchases.groupby("accelerator").units.sum().items():
            row[f"units:{acc}"] = float(units)
    for r in plan.table("rentals").itertuples():
        row[f"rent:{r.offer}"] = float(r.units)
    for r in plan.table("sites").itertuples():
        if r.it_load_mw > 0:
            row[f"mw:{r.site}"] = float(r.it_load_mw)
    for r in plan.table("compute").itertuples():
        row[f"flop:{r.source}"] = float(r.flop)
    binding = plan.table("binding")
    if len(binding):
        tight = binding[binding.binding & ~binding.family.isin(definitional_names())]
        row["binding"] = ";".join(sorted(set(tight.family)))
    return row


def evaluate_point(base: dict[str, Any], point: Point, settings: dict[str, Any],
                   previous: Plan | None = None) -> tuple[dict[str, Any], Plan | None]:
    """Solve one point; returns its row and (for warm starts) its plan."""
    started = time.perf_counter()
    row: dict[str, Any] = {"point": point.index, "mode": point.mode, "scenario": point.scenario, **point.labels}
    if point.mode == "scenario":
        row["overrides"] = "; ".join(f"{path}={value}" for path, value in point.overrides.items())
    plan = None
    try:
        problem = load_problem(base, point.overrides)
        plan = solve(problem, check=False, warm_start=previous if settings.get("warm_start") else None,
                     solver=settings.get("solver"), time_limit=settings.get("time_limit"), gap=settings.get("gap"),
                     threads=settings.get("threads"), seed=settings.get("seed"))
        row.update(plan_row(plan))
    except InputError as exc:
        row.update(status="input_error", message=str(exc))
    except ClustersizeError as exc:
        row.update(status="error", message=str(exc))
    row["seconds"] = time.perf_counter() - started
    return row, plan


def evaluate_chunk(base: dict[str, Any], points: list[Point], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Solve points in order, each warm-starting from the previous plan when allowed."""
    if multiprocessing.current_process().daemon:
        raise ClustersizeError(
            "this worker is a daemonic process, which cannot start clustersize's solver watchdog; start Dask "
            "workers with DASK_DISTRIBUTED__WORKER__DAEMON=False (see docs/whatif.md)")
    rows, previous = [], None
    for point in points:
        row, plan = evaluate_point(base, point, settings, previous)
        rows.append(row)
        if plan is not None and plan.has_plan:
            previous = plan
    return rows
