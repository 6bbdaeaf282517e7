"""Solve a two-stage problem: the deterministic plan, the extensive form, each scenario alone, and
what separates them (docs/risk.md).

Solves, each within the problem's time limit: the deterministic problem (the file's own values);
each scenario with the deterministic plan's first stage fixed (its objective is EEV); the
extensive form, started from that plan where a start pays; and each scenario alone (wait and see).
The two-stage plan is never worse than the deterministic one: when a gap leaves the extensive
solve above EEV, the deterministic first stage with its recourse is the plan, so VSS >= 0.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from ..data.modeldata import USD_PER_MUSD, build_model_data
from ..errors import InputError
from ..formulation import LinearProgram, build
from ..plan.plan import Plan
from ..schema.problem import Problem, SolverOptions
from ..solvers import Backend, SolveOptions, SolverResult, Status
from ..solving.pipeline import PIPELINE_GRACE, make_plan, plan_for, solve_within, solver_settings
from . import measures
from .extensive import Stage, extensive_form, offsets
from .figures import assemble
from .plan import TwoStagePlan
from .recourse import FirstStage, Scenario, first_values, prepare, recourse
from .sampling import sample_overrides, sampled_problem
from .scenarios import ScenarioProblem, base_problem, scenario_problems
from .stages import first_stage, reveal_quarter
from .verify import verify_two_stage

Z95 = 1.959963984540054
"""The normal quantile of a two-sided 95 % confidence interval."""


def solve_two_stage(problem: Problem, *, solver: str | None = None, time_limit: float | None = None,
                    gap: float | None = None, threads: int | None = None, seed: int | None = None,
                    integer_units: bool | None = None, samples: int | None = None, sample_seed: int = 0,
                    evaluate: int = 0, check: bool = True) -> TwoStagePlan:
    """Solve a problem with `scenarios:` (or `samples` drawn from its `uncertainty:`) as a two-stage
    problem and verify every scenario's plan.

    Parameters as `clustersize.solve`; the time limit [s] applies to each of the solves (module doc).
    samples, sample_seed : solve `samples` scenarios of probability 1/samples drawn from the problem's
        `uncertainty:` with that seed (sample-average approximation) instead of its listed scenarios.
    evaluate : evaluate the plan's first stage out of sample on this many fresh draws (their own
        stream of the sample seed): mean cost and its 95 % confidence interval.
    """
    if not isinstance(problem, Problem):
        raise InputError(f"expected a Problem, found {type(problem).__name__}", path="problem",
                         fix="load it first: clustersize.load_problem(path_or_dict)")
    if samples is not None:
        problem = sampled_problem(problem, samples, sample_seed)
    if not problem.scenarios:
        raise InputError("the problem has no scenarios", path="scenarios",
                         fix="add scenarios: {NAME: {probability: P, overrides: {PATH: VALUE}}} and risk.reveal, or "
                             "uncertainty: and --samples N")
    if problem.objective.kind != "cost":
        raise InputError(f"a two-stage plan minimises cost, not {problem.objective.kind}", path="objective.kind",
                         fix="drop objective.kind (or --objective), or drop the scenarios")
    if isinstance(evaluate, bool) or not isinstance(evaluate, int) or evaluate < 0:
        raise InputError(f"{evaluate!r} is not a number of samples", path="--evaluate", fix="give a whole number >= 0")
    if evaluate and not problem.uncertainty.given:
        raise InputError("out-of-sample evaluation draws from uncertainty:, which this problem does not declare",
                         path="--evaluate", fix="declare uncertainty: in the problem, or drop --evaluate")
    began = time.perf_counter()
    problem, settings, backend = solver_settings(problem, solver=solver, time_limit=time_limit, gap=gap,
                                                 threads=threads, seed=seed, integer_units=integer_units)
    assert problem.risk.reveal is not None, "validation requires risk.reveal with scenarios"
    reveal = reveal_quarter(problem.planning_start, problem.risk.reveal)
    scenarios = prepare(scenario_problems(problem), reveal)
    options = SolveOptions(time_limit_s=settings.time_limit_s, gap=settings.gap, threads=settings.threads,
                           seed=settings.seed, grace_s=PIPELINE_GRACE)
    messages: list[str] = []
    deterministic, eev = _deterministic(problem, scenarios, reveal, settings, backend, options, messages)
    stages = [s.stage for s in scenarios.values()]
    program = extensive_form(stages, problem.risk.cvar)
    result = _extensive(program, stages, eev, problem, backend, options, settings.integer_units, messages)
    plans = _scenario_plans(problem, scenarios, result, offsets(stages), options)
    wait = {name: plan_for(sc.problem, sc.data, sc.stage.lp, settings, backend).objective_usd
            for name, sc in scenarios.items()}
    two_stage = assemble(problem, result, plans, deterministic, eev, wait, messages)
    two_stage.sampling = {"samples": samples, "seed": sample_seed} if samples is not None else None
    if plans:
        two_stage.verification = verify_two_stage(two_stage.figures, two_stage.scenarios, plans,
                                                  {name: sc.problem for name, sc in scenarios.items()})
        if evaluate and result.x is not None:
            first = stages[0]
            chosen = first_values(first.lp, first.first, result.x[:first.lp.shape[1]])
            two_stage.out_of_sample = out_of_sample(problem, chosen, evaluate, sample_seed, reveal, options,
                                                    settings.integer_units, backend)
    two_stage.solve_seconds = time.perf_counter() - began
    if check:
        two_stage.raise_for_status()
    return two_stage


def _deterministic(problem: Problem, scenarios: dict[str, Scenario], reveal: int, settings: SolverOptions,
                   backend: Backend, options: SolveOptions,
                   messages: list[str]) -> tuple[Plan, dict[str, SolverResult] | None]:
    """The deterministic plan, and its first stage with the best recourse in each scenario (None when
    it has no plan or its first stage is impossible in some scenario)."""
    base = base_problem(problem)
    data = build_model_data(base)
    lp = build(data)
    plan = plan_for(base, data, lp, settings, backend)
    if plan.solution is None:
        messages.append("the deterministic problem has no plan: no EEV or VSS")
        return plan, None
    found = recourse(scenarios, first_values(lp, first_stage(lp, data, reveal), plan.solution), options,
                     settings.integer_units, backend)
    failed = {name: why for name, why in found.items() if isinstance(why, str)}
    if failed:
        name, why = next(iter(failed.items()))
        messages.append(f"the deterministic plan's first stage in scenario {name}: {why}; no EEV or VSS")
        return plan, None
    return plan, {name: r for name, r in found.items() if not isinstance(r, str)}


def _extensive(program: LinearProgram, stages: list[Stage], eev: dict[str, SolverResult] | None, problem: Problem,
               backend: Backend, options: SolveOptions, integer_units: bool, messages: list[str]) -> SolverResult:
    """The extensive form solved, started from the deterministic plan where a start pays; that plan
    kept when the solve ends above it."""
    hint = _stacked(eev, stages, program, problem) if eev is not None else None
    run = dataclasses.replace(options, hint=hint) if hint is not None and backend.capabilities.start_pays else options
    result = solve_within(backend, program, run, options.time_limit_s, integer_units, 1)
    if hint is not None and (not result.status.has_plan or result.x is None
                             or float(program.cost @ hint) < float(program.cost @ result.x) - 1e-9):
        if result.status.has_plan:
            messages.append("the extensive solve stopped above the deterministic plan's first stage with its best "
                            "recourse (within its gap); that plan is kept")
        result = dataclasses.replace(result, x=hint, objective=float(program.cost @ hint),
                                     status=result.status if result.status.has_plan else Status.FEASIBLE)
    return result


def _stacked(eev: dict[str, SolverResult], stages: list[Stage], program: LinearProgram, problem: Problem) -> np.ndarray:
    """The deterministic first stage with each scenario's recourse as a solution of the extensive form."""
    parts = [np.asarray(eev[s.name].x) for s in stages]
    x = np.concatenate(parts)
    if program.shape[1] > x.size:           # eta and z of the CVaR rows, at their best for these costs
        cvar = problem.risk.cvar
        assert cvar is not None, "only CVaR adds columns"
        costs = np.array([float(s.lp.cost @ part) for s, part in zip(stages, parts)])
        eta = measures.quantile(costs, np.array([s.probability for s in stages]), cvar.level)
        x = np.concatenate([x, [eta], np.maximum(costs - eta, 0.0)])
    return x


def _scenario_plans(problem: Problem, scenarios: dict[str, Scenario], result: SolverResult, start: np.ndarray,
                    options: SolveOptions) -> dict[str, Plan]:
    """Each scenario's part of the solution as a plan of its own problem, verified independently."""
    plans: dict[str, Plan] = {}
    if not result.status.has_plan or result.x is None:
        return plans
    for i, (name, sc) in enumerate(scenarios.items()):
        x = result.x[start[i]:start[i + 1]]
        # Optimality belongs to the two-stage plan: alone, a scenario's plan is only feasible.
        part = dataclasses.replace(result, status=Status.FEASIBLE, x=x, objective=float(sc.stage.lp.cost @ x),
                                   bound=None, duals=None)
        plan = make_plan(sc.problem, sc.data, sc.stage.lp, part, options)
        plan.messages.insert(0, f"scenario {name} (probability {sc.stage.probability:g}) of a two-stage plan: its "
                                f"decisions before {problem.risk.reveal} are those of every scenario")
        plans[name] = plan
    return plans


def out_of_sample(problem: Problem, chosen: FirstStage, n: int, seed: int, reveal: int, options: SolveOptions,
                  integer_units: bool, backend: Backend) -> dict[str, float | int | None]:
    """The first stage `chosen` on n fresh draws of the problem's uncertainty, each with its best
    recourse: mean cost and its 95 % confidence interval (normal approximation) [USD]."""
    fresh_seed = _fresh_seed(seed)
    plain = base_problem(problem)
    given = [ScenarioProblem(f"fresh-{i + 1}", 1.0 / n, plain.with_(overrides), overrides)
             for i, overrides in enumerate(sample_overrides(problem, n, fresh_seed))]
    found = recourse(prepare(given, reveal), chosen, options, integer_units, backend)
    costs = np.array([r.objective * USD_PER_MUSD for r in found.values()
                      if not isinstance(r, str) and r.objective is not None])
    mean = float(costs.mean()) if costs.size else None
    sd = float(costs.std(ddof=1)) if costs.size > 1 else 0.0
    half = Z95 * sd / math.sqrt(costs.size) if costs.size else None
    return {"samples": n, "seed": fresh_seed, "solved": int(costs.size), "unsolved": n - int(costs.size),
            "mean_usd": mean, "std_usd": sd, "ci95_low_usd": None if mean is None or half is None else mean - half,
            "ci95_high_usd": None if mean is None or half is None else mean + half}


def _fresh_seed(seed: int) -> int:
    """A seed for fresh draws, apart from the sample seed's own stream."""
    return int(np.random.SeedSequence([seed, 2]).generate_state(1)[0])
