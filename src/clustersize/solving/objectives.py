"""Objectives other than cost, and the cost frontier: the primary objective first, then cost at that value.

finish : minimise the end of one run (the objective's run, by default the one with the latest
    deadline) within the budget, then the cheapest plan that ends by that day. Both stages keep
    every window (no pruning of shorter ones) and add the bound as one row, `axis_limit`.
compute : the most FLOP for one run (by default the first) by its deadline within the budget:
    its target is raised by geometric bisection (each step a cost solve), never below the target
    the problem states, which stays a floor the verifier checks.
frontier : cost against the finish (or emissions) by the epsilon constraint: points from the
    least to the cost-optimal value, each solved from the previous plan and verified.

The finish and emissions are measured in days from the planning start and in tCO2; the axis row
is a solve directive, not a limit of the problem, so the verifier checks the plan against the
problem (and its budget) as always.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..data.modeldata import FLOP_PER_EFLOPS_DAY, ModelData, build_model_data
from ..data.runs import objective_run
from ..families import FAMILIES, Family
from ..formulation import Keys, LinearProgram, build
from ..plan.plan import Plan
from ..schema.problem import Problem, SolverOptions
from ..solvers import Backend, SolveOptions, solve_with_watchdog
from .diagnosis import power_bound, supply_bound
from .pipeline import plan_for

AXES = ("finish", "emissions")
COMPUTE_TOLERANCE = 0.005   # relative width at which the compute bisection stops
COMPUTE_STEPS = 14
UNBOUNDED_REACH = 1e3       # the bisection's upper end over the floor when supply and power are unlimited


def axis_metric(data: ModelData, lp: LinearProgram, axis: str, run: int, origin: dt.date) -> np.ndarray:
    """Per column, its contribution to the axis: a window's end [days from the planning start]
    for the run's windows, or a contract's emissions per GWh taken [tCO2/GWh]."""
    metric = np.zeros(lp.shape[1])
    if axis == "finish":
        w = data.runs.windows
        ends = np.array([(start - origin).days + days for start, days in zip(w.starts, w.days)])
        cols = lp.columns_of("window")
        metric[cols] = np.where(w.run == run, ends, 0.0)
    else:
        metric[lp.columns_of("energy")] = data.con_carbon[data.slots.energy_contract]
    return metric


def with_axis_limit(lp: LinearProgram, metric: np.ndarray, limit: float) -> LinearProgram:
    """The program with `metric @ x <= limit` (family `axis_limit`)."""
    cols = np.flatnonzero(metric)
    row = sp.csr_matrix((metric[cols], (np.zeros(cols.size, dtype=int), cols)), shape=(1, lp.shape[1]))
    keys = Keys(("axis",), (["limit"],), (np.zeros(1, dtype=np.int64),))
    return lp.with_rows("axis_limit", keys, row, np.array([-np.inf]), np.array([limit]))


def least_value(backend: Backend, lp: LinearProgram, metric: np.ndarray, settings: SolverOptions) -> float | None:
    """The smallest value of the metric over the program's plans (None when there is none)."""
    options = SolveOptions(time_limit_s=settings.time_limit_s / 2, gap=1e-6, threads=settings.threads,
                           seed=settings.seed)
    result = solve_with_watchdog(backend, dataclasses.replace(lp, cost=metric), options)
    if not result.status.has_plan or result.x is None:
        return None
    return float(metric @ result.x)


def solve_objective(problem: Problem, settings: SolverOptions, backend: Backend,
                    families: tuple[Family, ...] = FAMILIES) -> Plan:
    """The plan for a finish or compute objective (see the module docstring)."""
    if problem.objective.kind == "compute":
        return _most_compute(problem, settings, backend, families)
    data = build_model_data(problem, prune=False)
    lp = build(data, families)
    run = _run_index(problem, data)
    metric = axis_metric(data, lp, "finish", run, problem.planning_start)
    least = least_value(backend, lp, metric, settings)
    if least is None:
        return plan_for(problem, data, lp, settings, backend, families)
    plan = plan_for(problem, data, with_axis_limit(lp, metric, least + 1e-6), settings, backend, families)
    end = problem.planning_start + dt.timedelta(days=round(least))
    plan.messages.append(f"finish objective: run {data.runs.ids[run]} ends {end} at the earliest"
                         f"{_within(problem)}; cost is minimised at that finish")
    return plan


def _within(problem: Problem) -> str:
    budget = problem.objective.budget_usd
    return f" within the budget of ${budget:,.0f}" if budget else ""


def _run_index(problem: Problem, data: ModelData) -> int:
    named = problem.objective.run
    return data.runs.ids.index(named) if named else objective_run(data.runs.runs, problem.objective.kind)


def _most_compute(problem: Problem, settings: SolverOptions, backend: Backend, families: tuple[Family, ...]) -> Plan:
    """Geometric bisection on the run's target between its stated floor and what all supply gives."""
    base = build_model_data(problem)
    run = _run_index(problem, base)
    name = base.runs.ids[run]
    low = float(base.runs.target[run]) * FLOP_PER_EFLOPS_DAY
    reach = min(supply_bound(base, run), power_bound(base, run)[0]) * FLOP_PER_EFLOPS_DAY
    high = max(low, reach if math.isfinite(reach) else low * UNBOUNDED_REACH)
    step_limit = max(settings.time_limit_s / COMPUTE_STEPS, 1.0)

    def attempt(flop: float) -> Plan:
        data = build_model_data(problem, targets={name: flop})
        return plan_for(problem, data, build(data, families), settings, backend, families, time_limit=step_limit)

    best = attempt(low)
    if not best.has_plan:
        return best
    for _ in range(COMPUTE_STEPS):
        if high <= low * (1 + COMPUTE_TOLERANCE):
            break
        middle = math.sqrt(low * high)
        trial = attempt(middle)
        if trial.has_plan and trial.verified:
            best, low = trial, middle
        else:
            high = middle
    best.messages.append(f"compute objective: run {name} reaches {low:.4g} FLOP{_within(problem)} (bisection to "
                         f"{COMPUTE_TOLERANCE:.1%}; {high:.4g} FLOP was out of reach); cost is minimised at that compute")
    return best


@dataclass(frozen=True)
class FrontierPoint:
    """One point of the frontier: the axis bound, the plan's cost and whether it verified."""

    limit: float
    value: float | None
    cost_usd: float | None
    status: str
    verified: bool


def frontier(problem: Problem, axis: str, points: int, settings: SolverOptions, backend: Backend,
             families: tuple[Family, ...] = FAMILIES) -> tuple[list[FrontierPoint], list[Plan]]:
    """Cost against the axis by the epsilon constraint, from the least value to the cost optimum's."""
    data = build_model_data(problem, prune=False)
    lp = build(data, families)
    run = _run_index(problem, data)
    metric = axis_metric(data, lp, axis, run, problem.planning_start)
    cheapest = plan_for(problem, data, lp, settings, backend, families)
    least = least_value(backend, lp, metric, settings)
    if least is None or not cheapest.has_plan or cheapest.solution is None:
        status = cheapest.status.value
        return [FrontierPoint(math.nan, None, None, status, False)], [cheapest]
    most = float(metric @ cheapest.solution)
    limits = np.linspace(least, most, max(points, 2)) if most > least else np.array([most])
    found, plans, previous = [], [], cheapest
    for limit in limits:
        plan = plan_for(problem, data, with_axis_limit(lp, metric, float(limit) + 1e-6), settings, backend, families,
                        warm_start=previous)
        value = float(metric @ plan.solution) if plan.solution is not None else None
        found.append(FrontierPoint(float(limit), value, plan.objective_usd, plan.status.value, plan.verified))
        plans.append(plan)
        previous = plan if plan.has_plan else previous
    return found, plans
