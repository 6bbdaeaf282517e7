"""Solve a two-stage problem: the deterministic plan, the extensive form, each scenario alone, and
what separates them (docs/risk.md).

Solves, each within the problem's time limit: the deterministic problem (the file's own values);
each scenario with the deterministic plan's first stage fixed (its expected cost is EEV); the
extensive form, started from that plan where a start pays; and each scenario alone (wait and see).
The two-stage plan is never worse than the deterministic one: when a gap leaves the extensive
solve above EEV, the deterministic first stage with its recourse is the plan, so VSS >= 0.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from ..data.limits import check_model_size
from ..data.modeldata import USD_PER_MUSD, ModelData, build_model_data
from ..errors import InputError
from ..formulation import LinearProgram, build
from ..plan.plan import Plan
from ..schema.problem import Problem
from ..solvers import Backend, SolveOptions, SolverResult, Status
from ..solving.pipeline import PIPELINE_GRACE, make_plan, plan_for, solve_within, solver_settings
from . import measures
from .extensive import Stage, extensive_form, first_stage_keys, offsets
from .plan import TwoStagePlan
from .scenarios import base_problem, scenario_problems
from .stages import first_stage, reveal_quarter
from .verify import first_stage_decisions, verify_two_stage


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One scenario ready to solve: its problem, model data and stage."""

    problem: Problem
    data: ModelData
    stage: Stage


def solve_two_stage(problem: Problem, *, solver: str | None = None, time_limit: float | None = None,
                    gap: float | None = None, threads: int | None = None, seed: int | None = None,
                    integer_units: bool | None = None, check: bool = True) -> TwoStagePlan:
    """Solve a problem with `scenarios:` as a two-stage problem and verify every scenario's plan.

    Parameters as `clustersize.solve`; the time limit [s] applies to each of the solves (module doc).
    """
    if not isinstance(problem, Problem) or not problem.scenarios:
        raise InputError("the problem has no scenarios", path="scenarios",
                         fix="add scenarios: {NAME: {probability: P, overrides: {PATH: VALUE}}} and risk.reveal")
    if problem.objective.kind != "cost":
        raise InputError(f"a two-stage plan minimises cost, not {problem.objective.kind}", path="objective.kind",
                         fix="drop objective.kind (or --objective), or drop the scenarios")
    began = time.perf_counter()
    problem, settings, backend = solver_settings(problem, solver=solver, time_limit=time_limit, gap=gap,
                                                 threads=threads, seed=seed, integer_units=integer_units)
    assert problem.risk.reveal is not None, "validation requires risk.reveal with scenarios"
    reveal = reveal_quarter(problem.planning_start, problem.risk.reveal)
    scenarios = {}
    for given in scenario_problems(problem):
        check_model_size(given.problem)
        data = build_model_data(given.problem)
        lp = build(data)
        scenarios[given.name] = Scenario(given.problem, data,
                                         Stage(given.name, given.probability, lp, first_stage(lp, data, reveal)))
    base = base_problem(problem)
    base_data = build_model_data(base)
    base_lp = build(base_data)
    deterministic = plan_for(base, base_data, base_lp, settings, backend)
    options = SolveOptions(time_limit_s=settings.time_limit_s, gap=settings.gap, threads=settings.threads,
                           seed=settings.seed, grace_s=PIPELINE_GRACE)
    messages: list[str] = []
    eev = _evaluate(scenarios, deterministic, first_stage(base_lp, base_data, reveal), base_lp, options,
                    settings.integer_units, backend, messages)
    stages = [s.stage for s in scenarios.values()]
    program = extensive_form(stages, problem.risk.cvar)
    start = offsets(stages)
    hint = _stacked(eev, stages, program, problem) if eev is not None else None
    run_options = dataclasses.replace(options, hint=hint) if hint is not None and backend.capabilities.start_pays \
        else options
    result = solve_within(backend, program, run_options, settings.time_limit_s, settings.integer_units, 1)
    probabilities = np.array([s.probability for s in stages])
    if hint is not None and (not result.status.has_plan or result.x is None or
                             float(program.cost @ hint) < float(program.cost @ result.x) - 1e-9):
        # The deterministic first stage with its best recourse is a plan of the extensive form: never keep worse.
        if result.status.has_plan:
            messages.append("the extensive solve stopped above the deterministic plan's first stage with its best "
                            "recourse (within its gap); that plan is kept")
        result = dataclasses.replace(result, x=hint, objective=float(program.cost @ hint),
                                     status=result.status if result.status.has_plan else Status.FEASIBLE)
    plans: dict[str, Plan] = {}
    if result.status.has_plan and result.x is not None:
        for i, (name, sc) in enumerate(scenarios.items()):
            x = result.x[start[i]:start[i + 1]]
            # Optimality belongs to the two-stage plan: alone, a scenario's plan is only feasible.
            part = dataclasses.replace(result, status=Status.FEASIBLE, x=x, objective=float(sc.stage.lp.cost @ x),
                                       bound=None, duals=None)
            scenario_plan = make_plan(sc.problem, sc.data, sc.stage.lp, part, options)
            scenario_plan.messages.insert(0, f"scenario {name} (probability {sc.stage.probability:g}) of a two-stage "
                                             f"plan: its decisions before {problem.risk.reveal} are those of every "
                                             "scenario")
            plans[name] = scenario_plan
    wait = {name: plan_for(sc.problem, sc.data, sc.stage.lp, settings, backend).objective_usd
            for name, sc in scenarios.items()}
    two_stage = _assemble(problem, result, plans, deterministic, eev, wait, probabilities, messages,
                          time.perf_counter() - began)
    if plans:
        two_stage.verification = verify_two_stage(two_stage.figures, two_stage.scenarios, plans,
                                                  {name: sc.problem for name, sc in scenarios.items()})
    if check:
        two_stage.raise_for_status()
    return two_stage


def _evaluate(scenarios: dict[str, Scenario], deterministic: Plan, base_first: np.ndarray, base_lp: LinearProgram,
              options: SolveOptions, integer_units: bool, backend: Backend,
              messages: list[str]) -> dict[str, SolverResult] | None:
    """Each scenario with the deterministic plan's first stage fixed; None when that plan has none or
    its first stage is impossible in some scenario."""
    if deterministic.solution is None:
        messages.append("the deterministic problem has no plan: no EEV or VSS")
        return None
    values = {key: float(deterministic.solution[pos]) for key, pos in first_stage_keys(base_lp, base_first).items()}
    found = {}
    for name, sc in scenarios.items():
        lp = sc.stage.lp
        lower, upper = lp.lower.copy(), lp.upper.copy()
        for key, pos in first_stage_keys(lp, sc.stage.first).items():
            lower[pos] = upper[pos] = values.get(key, 0.0)
        if np.any(lower > lp.upper + 1e-6) or np.any(upper < lp.lower - 1e-6):
            messages.append(f"the deterministic plan's decisions before the reveal are impossible in scenario {name} "
                            "(its overrides change what is decided before it): no EEV or VSS")
            return None
        result = solve_within(backend, dataclasses.replace(lp, lower=lower, upper=upper), options,
                              options.time_limit_s, integer_units, 1)
        if not result.status.has_plan or result.x is None:
            messages.append(f"the deterministic plan's first stage leaves scenario {name} without a plan "
                            f"({result.status.value}): no EEV or VSS")
            return None
        found[name] = result
    return found


def _stacked(eev: dict[str, SolverResult], stages: list[Stage], program: LinearProgram, problem: Problem) -> np.ndarray:
    """The deterministic first stage with each scenario's recourse as a solution of the extensive form."""
    parts = [eev[s.name].x for s in stages]
    x = np.concatenate([p for p in parts if p is not None])
    extra = program.shape[1] - x.size
    if extra:           # eta and z of the CVaR rows, at their best for these costs
        cvar = problem.risk.cvar
        assert cvar is not None
        costs = np.array([float(s.lp.cost @ eev[s.name].x) for s in stages])
        probabilities = np.array([s.probability for s in stages])
        eta = measures.quantile(costs, probabilities, cvar.level)
        x = np.concatenate([x, [eta], np.maximum(costs - eta, 0.0)])
    return x


def _assemble(problem: Problem, result: SolverResult, plans: dict[str, Plan], deterministic: Plan,
              eev: dict[str, SolverResult] | None, wait: dict[str, float | None], probabilities: np.ndarray,
              messages: list[str], seconds: float) -> TwoStagePlan:
    """The plan, its scenario table and figures (module doc); verification is the caller's."""
    cvar = problem.risk.cvar
    names = list(wait)
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
    if figures.get("objective_usd") is not None:
        objective = float(figures["objective_usd"] or 0.0)
        if figures.get("eev_usd") is not None:
            figures["vss_usd"] = float(figures["eev_usd"] or 0.0) - objective
        if figures.get("wait_and_see_usd") is not None:
            figures["evpi_usd"] = objective - float(figures["wait_and_see_usd"] or 0.0)
    return TwoStagePlan(
        status=result.status, problem_name=problem.name, reveal=str(problem.risk.reveal),
        measure=f"{1 - cvar.weight:g} x expected + {cvar.weight:g} x CVaR{cvar.level * 100:g}" if cvar else "expected",
        solver=result.solver, solve_seconds=seconds, figures=figures, scenarios=rows,
        first_stage=first_stage_table(plans, deterministic, problem), plans=plans, deterministic=deterministic,
        bound_usd=result.bound * USD_PER_MUSD if result.bound is not None else None, messages=messages)


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
