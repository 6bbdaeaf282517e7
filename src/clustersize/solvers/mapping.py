"""The one rule that turns what a solver reports into our Status; every backend and heuristic reads it.

Only a plan whose gap to a proven lower bound is within the requested tolerance is OPTIMAL. A solver's
own "optimal" counts as that proof only when it gives no bound we can check (it was asked for our gap);
when it gives one, the bound decides, so a bound that does not support the claim yields FEASIBLE.
A limit with a plan is FEASIBLE; a limit without one is NO_SOLUTION; "infeasible" needs a proof.
"""

from __future__ import annotations

from ..status import Status

GAP_SLACK = 1e-9   # [fraction] round-off allowance on the gap comparison
COST_FLOOR = 1e-9  # [cost unit] denominator floor, so a zero-cost plan has a defined gap


def relative_gap(objective: float, bound: float) -> float:
    """(objective - bound) / |objective| [fraction]; both in the same cost unit. Negative when the
    bound exceeds the objective by round-off."""
    return (objective - bound) / max(abs(objective), COST_FLOOR)


def within_gap(objective: float | None, bound: float | None, gap: float) -> bool:
    """True when both numbers exist and the plan's relative gap to the bound is at most `gap` [fraction]."""
    if objective is None or bound is None:
        return False
    return relative_gap(objective, bound) <= gap + GAP_SLACK


def map_status(*, has_solution: bool, proved_optimal: bool, objective: float | None, bound: float | None,
               gap: float, hit_limit: bool = False, proved_infeasible: bool = False,
               proved_unbounded: bool = False, failed: bool = False) -> Status:
    """Our status from the facts a solver reports.

    has_solution: it returned a primal point; proved_optimal: it claims optimality within the gap it
    was given; objective, bound: plan cost and proven lower bound [cost unit], None when unknown;
    gap: requested relative gap [fraction]; hit_limit: stopped by a time, node or iteration limit;
    proved_infeasible / proved_unbounded: a proof, not a failure to find a point; failed: the
    solver reported an error (its point, if any, is not trusted).
    """
    if failed:
        return Status.ERROR
    if has_solution and objective is not None:
        if bound is not None:
            return Status.OPTIMAL if within_gap(objective, bound, gap) else Status.FEASIBLE
        return Status.OPTIMAL if proved_optimal and not hit_limit else Status.FEASIBLE
    if proved_infeasible:
        return Status.INFEASIBLE
    if proved_unbounded:
        return Status.UNBOUNDED
    return Status.NO_SOLUTION
