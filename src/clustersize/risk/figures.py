"""The two-stage plan's figures and tables, from the scenario plans and the comparison solves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.modeldata import USD_PER_MUSD
from ..plan.plan import Plan
from ..schema.problem import Problem
from ..solvers import SolverResult, Status
from . import measures
from .plan import TwoStagePlan
from .verify import first_stage_decisions

ROUND_OFF = 1e-12
"""Relative size below which a difference of costs is round-off."""


def assemble(problem: Problem, status: Status, solver: str, bound: float | None, plans: dict[str, Plan],
             deterministic: Plan, eev: dict[str, SolverResult] | None, wait: dict[str, float | None],
             messages: list[str]) -> TwoStagePlan:
    """The plan, its scenario table and figures (docs/risk.md); `bound` [$M] on the objective, `wait`
    each scenario's own optimum [USD]; verification is the caller's."""
    cvar = problem.risk.cvar
    names = list(wait)
    probabilities = np.array([problem.scenarios[n].probability for n in names])
    rows = pd.DataFrame({"scenario": names, "probability": probabilities,
                         "overrides": [";".join(f"{k}={v}" for k, v in problem.scenarios[n].overrides.items())
                                       for n in names]})
    figures: dict[str, float | None] = {"cvar_weight": cvar.weight if cvar is not None else 0.0}
    if plans:
        costs = np.array([float(plans[n].objective_usd or 0.0) for n in names])
        rows["cost_usd"] = costs
        rows["shortfall_flop"] = [float(plans[n].table("runs").shortfall_flop.sum()) for n in names]
        rows["verified"] = [plans[n].verified for n in names]
        figures.update(measures.summary(costs, probabilities, cvar))
        figures["objective_usd"] = measures.objective(costs, probabilities, cvar)
    figures["deterministic_usd"] = deterministic.objective_usd
    if eev is not None:
        eev_costs = np.array([float(eev[n].objective or 0.0) * USD_PER_MUSD for n in names])
        rows["eev_usd"] = eev_costs
        figures["eev_usd"] = measures.objective(eev_costs, probabilities, cvar)
    if all(w is not None for w in wait.values()):
        ws = np.array([float(w or 0.0) for w in wait.values()])
        rows["wait_and_see_usd"] = ws
        figures["wait_and_see_usd"] = measures.objective(ws, probabilities, cvar)
    objective = figures.get("objective_usd")
    if objective is not None and figures.get("eev_usd") is not None:
        figures["vss_usd"] = _round_off(float(figures["eev_usd"] or 0.0) - objective, objective)
    if objective is not None and figures.get("wait_and_see_usd") is not None:
        figures["evpi_usd"] = _round_off(objective - float(figures["wait_and_see_usd"] or 0.0), objective)
    return TwoStagePlan(
        status=status, problem_name=problem.name, reveal=str(problem.risk.reveal),
        measure=f"{1 - cvar.weight:g} x expected + {cvar.weight:g} x CVaR{cvar.level * 100:g}" if cvar else "expected",
        solver=solver, solve_seconds=0.0, figures=figures, scenarios=rows,
        first_stage=first_stage_table(plans, deterministic, problem), plans=plans, deterministic=deterministic,
        bound_usd=bound * USD_PER_MUSD if bound is not None else None, messages=messages)


def _round_off(difference: float, scale: float) -> float:
    """A difference of two solves' costs, 0 where it is the arithmetic's round-off (1e-6 USD on $1B)."""
    return 0.0 if abs(difference) <= ROUND_OFF * max(1.0, abs(scale)) else difference


def first_stage_table(plans: dict[str, Plan], deterministic: Plan, problem: Problem) -> pd.DataFrame:
    """The decisions before the reveal, in the two-stage plan and in the deterministic one; `hedge`
    marks a decision the two-stage plan takes beyond the deterministic plan's."""
    columns = ["decision", "two_stage", "deterministic", "change", "hedge"]
    if not plans:
        return pd.DataFrame(columns=columns)
    chosen = first_stage_decisions(next(iter(plans.values())), problem)
    base = first_stage_decisions(deterministic, problem) if deterministic.has_plan else {}
    keys = sorted(set(chosen) | set(base))
    frame = pd.DataFrame({"decision": keys, "two_stage": [chosen.get(k, 0.0) for k in keys],
                          "deterministic": [base.get(k, 0.0) for k in keys]}, columns=columns[:3])
    frame["change"] = frame.two_stage - frame.deterministic
    frame["hedge"] = frame.change > 1e-6
    return frame
