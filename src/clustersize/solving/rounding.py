"""Whole servers and instances from a continuous-count solve, kept feasible and verified.

The solve treats server counts as continuous (solver-bench.md: integer counts in the
thousands made every solver 10-30x slower for under 0.001 % of cost). Then:

1. Round: re-solve with every binary decision fixed and each count an integer confined to
   [floor, ceil] of its continuous value; if that box holds no feasible point, to
   [0, its upper bound].
2. Polish: if the rounded plan is not within the requested gap of the continuous bound
   (coarse units such as 72-GPU racks can cost more than the gap), solve the exact
   whole-unit MILP in the time left and keep the cheaper plan.

The continuous optimum is a valid lower bound on the whole-unit problem, so the reported
bound is the larger of it and the exact solve's own bound, and OPTIMAL means "within the
requested gap of that bound" (backends that cannot prove a bound report none).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..formulation import LinearProgram
from ..solvers import (
    Backend,
    SolveOptions,
    SolverResult,
    Status,
    map_status,
    solve_with_watchdog,
    within_gap,
)

COUNT_FAMILIES = ("buy", "sell", "units", "ramp", "rent", "commit")
EPS = 1e-6
MIN_POLISH_SECONDS = 1.0


def count_columns(lp: LinearProgram) -> np.ndarray:
    """Indexes of the server and instance count columns."""
    return np.flatnonzero(np.isin(lp.col_family, COUNT_FAMILIES))


def is_whole(lp: LinearProgram, x: np.ndarray, tol: float = 1e-6) -> bool:
    """True when every count column is a whole number."""
    counts = x[count_columns(lp)]
    return bool(np.all(np.abs(counts - np.round(counts)) <= tol))


def with_integer_counts(lp: LinearProgram) -> LinearProgram:
    """The exact whole-unit program."""
    integer = lp.integer.copy()
    integer[count_columns(lp)] = True
    return dataclasses.replace(lp, integer=integer)


def rounding_program(lp: LinearProgram, x: np.ndarray, widen: bool) -> LinearProgram:
    """The program with binaries fixed and counts integer in their rounding box."""
    lower, upper = lp.lower.copy(), lp.upper.copy()
    binaries = np.flatnonzero(lp.integer & ~np.isin(lp.col_family, COUNT_FAMILIES))
    lower[binaries] = upper[binaries] = np.round(x[binaries])
    counts = count_columns(lp)
    if widen:
        upper[counts] = np.floor(lp.upper[counts] + EPS)
    else:
        lower[counts] = np.maximum(lp.lower[counts], np.floor(x[counts] + EPS))
        upper[counts] = np.minimum(lp.upper[counts], np.ceil(x[counts] - EPS))
    return dataclasses.replace(with_integer_counts(lp), lower=lower, upper=upper)


def plan_objective(result: SolverResult) -> float:
    """The objective of a result that has a plan: every backend reports one with its plan."""
    assert result.objective is not None, f"{result.solver} returned a plan without an objective"
    return result.objective


def whole_unit_plan(backend: Backend, lp: LinearProgram, relaxed: SolverResult, options: SolveOptions) -> SolverResult:
    """Round, then polish if needed; status OPTIMAL only when within the gap of a proven bound."""
    bound = relaxed.bound
    spent = 0.0            # of this step's budget, options.time_limit_s
    result = relaxed
    x = relaxed.x
    assert x is not None, "rounding starts from a plan"
    if not is_whole(lp, x):
        for widen in (False, True):
            budget = dataclasses.replace(options, time_limit_s=max(options.time_limit_s - spent, MIN_POLISH_SECONDS))
            result = solve_with_watchdog(backend, rounding_program(lp, x, widen), budget)
            spent += result.seconds
            if result.status.has_plan:
                break
        if not result.status.has_plan:
            result = dataclasses.replace(result, objective=None, x=None)
    best = result if result.status.has_plan else None
    # Proofs that hold for the whole-unit problem: an optimum that is already whole, or the exact solve's.
    proved = best is relaxed and relaxed.status is Status.OPTIMAL
    left = options.time_limit_s - spent
    if (best is None or not (proved or within_gap(best.objective, bound, options.gap))) and left >= MIN_POLISH_SECONDS:
        # The rounded plan is whole and feasible: the exact solve starts from it where the backend takes a start.
        start = best.x if best is not None and backend.capabilities.warm_start else options.hint
        exact = solve_with_watchdog(backend, with_integer_counts(lp),
                                    dataclasses.replace(options, time_limit_s=left, hint=start))
        spent += exact.seconds
        if exact.bound is not None and (bound is None or exact.bound > bound):
            bound = exact.bound
        if exact.status.has_plan and (best is None or plan_objective(exact) < plan_objective(best)):
            best, proved = exact, exact.status is Status.OPTIMAL
    if best is None:
        return dataclasses.replace(relaxed, status=Status.NO_SOLUTION, x=None, objective=None,
                                   seconds=relaxed.seconds + spent,
                                   message="no whole-server plan found within the time limit")
    status = map_status(has_solution=True, proved_optimal=proved, objective=best.objective, bound=bound,
                        gap=options.gap)
    note = "exact whole-unit solve" if best is not result else "rounded to whole servers"
    return dataclasses.replace(best, status=status, bound=bound, seconds=relaxed.seconds + spent, message=note)
