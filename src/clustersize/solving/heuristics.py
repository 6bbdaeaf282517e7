"""Relax-and-fix for large instances: a verified plan fast, with an honest bound.

1. Solve the LP relaxation (GLOP), with rounds of valid pair cuts among the locations it
   uses (`pair_cuts`); its objective is a valid lower bound.
2. Keep, for each run, `max_sites` candidate locations (sites and cloud offers), the largest LP
   values and the largest locations alternately, and close the rest; if that restricted problem
   has no plan, double the candidates (the max_sites rows still hold) until one does, at last
   every location: the LP of the run model spreads a run over locations too small alone.
3. Solve the restricted MILP (windows, paces, contracts, programs and span switches stay free)
   with the backend, counts continuous; the pipeline then rounds to whole servers.

The plan is feasible for the full problem (only bounds were tightened), so
(plan - LP bound) / plan is a certified gap. The pipeline uses it for models of
LARGE_COLUMNS columns or more, then lets the full MILP improve on it in the time left.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import scipy.sparse as sp

from ..data.modeldata import ModelData
from ..formulation import Keys, LinearProgram
from ..solvers import (
    Backend,
    SolveOptions,
    SolverResult,
    Status,
    map_status,
    solve_with_watchdog,
)
from ..solvers.lp_duals import GlopDuals
from .rounding import plan_objective

LARGE_COLUMNS = 50_000
LOCATIONS = "use"
REGION_SPAN = 1  # code of the region level in the `span` index set: more than one location


def _restricted(lp: LinearProgram, keep: np.ndarray) -> LinearProgram:
    """Close every location column not in `keep` (bounds only: a restriction of lp)."""
    upper = lp.upper.copy()
    cols = lp.columns_of(LOCATIONS)
    upper[cols[~np.isin(cols, keep)]] = 0.0
    return dataclasses.replace(lp, upper=upper)


def _run_of(lp: LinearProgram, cols: np.ndarray) -> np.ndarray:
    """Run code of each location-use column."""
    first = lp.columns_of(LOCATIONS)[0] if cols.size else 0
    runs = lp.col_keys.take(np.arange(lp.shape[1])[lp.col_slices[LOCATIONS]]).codes[0]
    return np.asarray(runs[cols - first])


CUT_ROUNDS = 4


def pair_cuts(lp: LinearProgram, locations: np.ndarray) -> LinearProgram:
    """Add `use[r,i] + use[r,j] - spread[r,region] <= 1` for every pair of a run's given location columns.

    Valid: two locations in use make the run span several. The formulation's single row
    `sum use - (N-1) spread <= 1` lets a fractional LP pay a fraction of the span loss; these
    pairs close most of that gap (docs/formulation.md).
    """
    spread = lp.columns_of("spread")
    if spread.size == 0 or locations.size < 2:
        return lp
    spread_keys = lp.col_keys.take(spread).codes
    region = {int(r): int(c) for r, h, c in zip(spread_keys[0], spread_keys[1], spread) if h == REGION_SPAN}
    runs = _run_of(lp, locations)
    i, j = np.triu_indices(locations.size, k=1)
    keep = (runs[i] == runs[j]) & np.isin(runs[i], list(region))
    i, j = i[keep], j[keep]
    n = i.size
    if n == 0:
        return lp
    rows = np.repeat(np.arange(n), 3)
    cols = np.column_stack([locations[i], locations[j], [region[int(r)] for r in runs[i]]]).ravel()
    vals = np.tile([1.0, 1.0, -1.0], n)
    block = sp.csr_matrix((vals, (rows, cols)), shape=(n, lp.shape[1]))
    labels = [",".join(lp.col_keys.key(int(c))) for c in locations]
    keys = Keys(("location", "other_location"), (labels, labels), (i, j))
    return lp.with_rows("span_pair", keys, block, np.full(n, -np.inf), np.ones(n))


def strengthened_relaxation(lp: LinearProgram, options: SolveOptions) -> tuple[LinearProgram, SolverResult]:
    """LP relaxation with rounds of pair cuts among the locations it uses; returns the cut program too.

    options.time_limit_s [s] is the budget of all rounds: a further round starts only when the
    last one would fit in what is left, so the restricted solves that follow keep their time.
    """
    cols = lp.columns_of(LOCATIONS)
    used: set[int] = set()
    current = lp
    started, last = time.perf_counter(), 0.0
    for round_ in range(CUT_ROUNDS):
        left = options.time_limit_s - (time.perf_counter() - started)
        if round_ and last > left:
            break
        round_started = time.perf_counter()
        relaxation = solve_with_watchdog(GlopDuals(), dataclasses.replace(current, integer=np.zeros_like(lp.integer)),
                                         dataclasses.replace(options, time_limit_s=max(left, 1.0)))
        last = time.perf_counter() - round_started
        if relaxation.status is not Status.OPTIMAL:
            return current, relaxation
        assert relaxation.x is not None  # an optimal result carries its solution
        now = set(cols[relaxation.x[cols] > 1e-6].tolist())
        if now <= used:
            break
        used |= now
        current = pair_cuts(lp, np.array(sorted(used)))
    return current, relaxation


def location_capacity(d: ModelData, lp: LinearProgram) -> np.ndarray:
    """Per location-use column, the accelerators the location could hold alone: a site's largest IT
    capacity at the densest accelerator, an offer's quota [accelerators]."""
    cols = lp.columns_of(LOCATIONS)
    if cols.size == 0:
        return np.zeros(0)
    keys = lp.col_keys.take(cols).codes[1]
    per_mw = float((d.acc_units_per_server / d.acc_it_mw).max(initial=0.0))
    held = np.concatenate([d.site_max_mw * per_mw, d.cloud_max * d.cloud_units_per_instance])
    return np.asarray(held[keys])


def _candidates(lp: LinearProgram, x: np.ndarray, capacity: np.ndarray | None) -> np.ndarray:
    """Location-use columns in the order relax-and-fix tries them: the LP's favourites and the
    largest locations, alternately (the LP can spread a run over locations too small alone)."""
    cols = lp.columns_of(LOCATIONS)
    by_lp = cols[np.argsort(-x[cols], kind="stable")]
    if capacity is None:
        return by_lp
    by_size = cols[np.argsort(-capacity, kind="stable")]
    merged = np.column_stack([by_lp, by_size]).ravel()
    _, first = np.unique(merged, return_index=True)
    return np.asarray(merged[np.sort(first)])


def relax_and_fix(backend: Backend, lp: LinearProgram, options: SolveOptions, max_sites: int,
                  capacity: np.ndarray | None = None) -> tuple[SolverResult, LinearProgram]:
    """A plan from the cut-strengthened LP relaxation (bound = its objective), and the cut program."""
    started = time.perf_counter()
    lp, relaxation = strengthened_relaxation(lp, dataclasses.replace(options, time_limit_s=options.time_limit_s / 3))
    if relaxation.status is Status.INFEASIBLE:
        return dataclasses.replace(relaxation, solver=backend.name, seconds=time.perf_counter() - started), lp
    if relaxation.status is not Status.OPTIMAL:
        return SolverResult(Status.NO_SOLUTION, backend.name, "", "relaxation not solved",
                            seconds=time.perf_counter() - started), lp
    assert relaxation.x is not None  # an optimal result carries its solution
    cols = lp.columns_of(LOCATIONS)
    # The candidates double until a plan appears: the run model's LP spreads a run thinly over
    # locations no single one of which can hold it.
    ranked = _candidates(lp, relaxation.x, capacity)
    runs = _run_of(lp, ranked)
    result = None
    widths = [max_sites * 2 ** k for k in range(8) if max_sites * 2 ** k < len(cols)] + [len(cols)]
    for width in widths:
        left = options.time_limit_s - (time.perf_counter() - started)
        if left <= 0.5:
            break
        # The first `width` locations of each run, in the order of their LP values.
        rank_in_run = np.array([int((runs[:k] == runs[k]).sum()) for k in range(ranked.size)], dtype=int)
        program = lp if width >= len(cols) else _restricted(lp, ranked[rank_in_run < width])
        result = solve_with_watchdog(backend, program,
                                     dataclasses.replace(options, time_limit_s=left))
        if result.status.has_plan:
            break
    if result is None or not result.status.has_plan:
        return SolverResult(Status.NO_SOLUTION, backend.name, "", "relax-and-fix found no plan",
                            seconds=time.perf_counter() - started), lp
    # The restricted solve's own "optimal" proves nothing for the full problem: the LP bound decides.
    status = map_status(has_solution=True, proved_optimal=False, objective=result.objective,
                        bound=relaxation.objective, gap=options.gap)
    return dataclasses.replace(result, status=status,
                               bound=relaxation.objective, seconds=time.perf_counter() - started,
                               message="relax-and-fix (LP relaxation, locations fixed)"), lp


def best_of(first: SolverResult, second: SolverResult, gap: float) -> SolverResult:
    """The cheaper plan with the stronger of the two valid bounds; OPTIMAL only within `gap` of it."""
    plans = [r for r in (first, second) if r.status.has_plan]
    if not plans:
        return second if second.status is Status.INFEASIBLE else first
    best = min(plans, key=plan_objective)
    bounds = [r.bound for r in (first, second) if r.bound is not None]
    bound = max(bounds) if bounds else None
    # Both programs have the same optimum (only valid cuts differ), so either one's proof holds.
    status = map_status(has_solution=True, proved_optimal=best.status is Status.OPTIMAL, objective=best.objective,
                        bound=bound, gap=gap)
    return dataclasses.replace(best, status=status, bound=bound,
                               seconds=first.seconds + second.seconds)
