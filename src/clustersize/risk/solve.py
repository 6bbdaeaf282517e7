"""Solve a two-stage problem: the deterministic plan, the two-stage plan (extensive form or scenario
decomposition), each scenario alone, and what separates them (docs/risk.md).

Solves, each within the problem's time limit: the deterministic problem (the file's own values);
each scenario with the deterministic plan's first stage fixed (its objective is EEV); the
two-stage plan, started from that plan; and each scenario alone (wait and see). The two-stage
plan is never worse than the deterministic one: when a gap leaves the solve above EEV, the
deterministic first stage with its recourse is the plan, so VSS >= 0.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time

import numpy as np

from ..data.limits import check_model_size
from ..data.modeldata import USD_PER_MUSD, build_model_data
from ..errors import InputError
from ..formulation import LinearProgram, build
from ..periods import reveal_quarter
from ..plan.plan import Plan
from ..schema.problem import Problem, SolverOptions
from ..schema.risk import EXTENSIVE_MAX_SCENARIOS
from ..solvers import Backend, SolveOptions, SolverResult, Status
from ..solving.pipeline import PIPELINE_GRACE, make_plan, plan_for, solve_within, solver_settings
from . import measures
from .decompose import Mapper, decompose
from .extensive import Stage, extensive_form, offsets
from .figures import assemble
from .plan import TwoStagePlan
from .recourse import FirstStage, ScenarioModel, first_values, prepare, recourse_task
from .sampling import sample_overrides, sampled_problem
from .scenarios import ScenarioProblem, base_problem, scenario_problems
from .stages import first_stage
from .verify import verify_two_stage
from .workers import scenario_mapper

DECOMPOSITION_SHARE = 0.75    # of the time left when the decomposition starts
MIN_DECOMPOSITION_S = 5.0     # [s] however little is left
Z95 = 1.959963984540054
"""The normal quantile of a two-sided 95 % confidence interval."""


def solve_two_stage(problem: Problem, *, solver: str | None = None, time_limit: float | None = None,
                    gap: float | None = None, threads: int | None = None, seed: int | None = None,
                    integer_units: bool | None = None, samples: int | None = None, sample_seed: int = 0,
                    evaluate: int = 0, workers: int | None = None, scheduler: str | None = None,
                    check: bool = True) -> TwoStagePlan:
    """Solve a problem with `scenarios:` (or `samples` drawn from its `uncertainty:`) as a two-stage
    problem and verify every scenario's plan.

    Parameters as `clustersize.solve`. The time limit [s] applies to each solve of the extensive form's
    path; with decomposition it is the whole solve's budget, 75 % of what is left going to it (docs/risk.md).
    samples, sample_seed : solve `samples` scenarios of probability 1/samples drawn from the problem's
        `uncertainty:` with that seed (sample-average approximation) instead of its listed scenarios.
    evaluate : evaluate the plan's first stage out of sample on this many fresh draws (their own
        stream of the sample seed): mean cost and its 95 % confidence interval.
    workers, scheduler : solve scenario programs (decomposition, wait-and-see, evaluation) on this
        many local processes (default: one per core), or on the Dask scheduler at this address.
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
    if workers is None:
        workers = os.cpu_count() or 1
    elif isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"{workers!r} workers: give a whole number >= 1", path="--workers")
    began = time.perf_counter()
    problem, settings, backend = solver_settings(problem, solver=solver, time_limit=time_limit, gap=gap,
                                                 threads=threads, seed=seed, integer_units=integer_units)
    assert problem.risk.reveal is not None, "validation requires risk.reveal with scenarios"
    reveal = reveal_quarter(problem.planning_start, problem.risk.reveal)
    check_model_size(problem)      # the file's own figures, named in its errors, before any scenario's
    scenarios = prepare(scenario_problems(problem), reveal)
    options = SolveOptions(time_limit_s=settings.time_limit_s, gap=settings.gap, threads=settings.threads,
                           seed=settings.seed, grace_s=PIPELINE_GRACE)
    messages: list[str] = []
    # a whole map of scenario solves may take each solve's time limit, and a little more
    with scenario_mapper(workers, scheduler, deadline_s=settings.time_limit_s * len(scenarios) + 60.0) as mapper:
        deterministic, start, eev = _deterministic(problem, scenarios, reveal, settings, backend, options, mapper,
                                                   messages)
        # The time limit is the two-stage solve's budget: the decomposition takes most of what is left,
        # the wait-and-see solves and the scenario plans the rest.
        left = settings.time_limit_s - (time.perf_counter() - began)
        if _decomposes(problem, len(scenarios)):
            status, bound, chosen, parts = _decomposed(scenarios, start, eev, options, settings.integer_units,
                                                       backend, mapper, messages, DECOMPOSITION_SHARE * left)
        else:
            status, bound, chosen, parts = _extensive(scenarios, eev, problem, backend, options,
                                                      settings.integer_units, messages)
        wait = dict(zip(scenarios, mapper(_alone, [(backend, sc.stage.lp, options, settings.integer_units)
                                                   for sc in scenarios.values()])))
        plans = _scenario_plans(problem, scenarios, status, parts, options, backend.name)
        two_stage = assemble(problem, status, backend.name, bound, plans, deterministic, eev, wait, messages)
        two_stage.sampling = {"samples": samples, "seed": sample_seed} if samples is not None else None
        if plans:
            two_stage.verification = verify_two_stage(two_stage.figures, two_stage.scenarios, plans,
                                                      {name: sc.problem for name, sc in scenarios.items()})
            if evaluate and chosen is not None:
                two_stage.out_of_sample = out_of_sample(problem, chosen, evaluate, sample_seed, reveal, options,
                                                        settings.integer_units, backend, mapper)
    two_stage.solve_seconds = time.perf_counter() - began
    if check:
        two_stage.raise_for_status()
    return two_stage


Parts = dict[str, np.ndarray]
"""Each scenario's part of the two-stage solution, by scenario."""


def _decomposes(problem: Problem, n_scenarios: int) -> bool:
    """Whether risk.method (auto: by the number of scenarios) asks for decomposition."""
    method = problem.risk.method
    if method == "decomposition" and problem.risk.cvar is not None:
        raise InputError("decomposition minimises expected cost; with risk.cvar use the extensive form",
                         path="risk.method", fix="set risk.method: extensive (or auto), or drop risk.cvar")
    return method == "decomposition" or (method == "auto" and problem.risk.cvar is None
                                         and n_scenarios > EXTENSIVE_MAX_SCENARIOS)


def _deterministic(problem: Problem, scenarios: dict[str, ScenarioModel], reveal: int, settings: SolverOptions,
                   backend: Backend, options: SolveOptions, mapper: Mapper,
                   messages: list[str]) -> tuple[Plan, FirstStage | None, dict[str, SolverResult] | None]:
    """The deterministic plan, its first stage, and that first stage with the best recourse in each
    scenario (None when it has no plan or its first stage is impossible in some scenario)."""
    base = base_problem(problem)
    data = build_model_data(base)
    lp = build(data)
    plan = plan_for(base, data, lp, settings, backend)
    if plan.solution is None:
        messages.append("the deterministic problem has no plan: no EEV or VSS")
        return plan, None, None
    start = first_values(lp, first_stage(lp, data, reveal), plan.solution)
    found = {k: v for part in mapper(recourse_task, [({name: sc}, start, options, settings.integer_units, backend, True)
                                                     for name, sc in scenarios.items()]) for k, v in part.items()}
    failed = {name: why for name, why in found.items() if isinstance(why, str)}
    if failed:
        name, why = next(iter(failed.items()))
        messages.append(f"the deterministic plan's first stage in scenario {name}: {why}; no EEV or VSS")
        return plan, start, None
    return plan, start, {name: r for name, r in found.items() if not isinstance(r, str)}


def _alone(task: tuple[Backend, LinearProgram, SolveOptions, bool]) -> float | None:
    """One scenario solved on its own, in whole units (wait and see) [USD]; None without a plan."""
    backend, lp, options, integer_units = task
    result = solve_within(backend, lp, options, options.time_limit_s, integer_units, 1)
    return float(result.objective) * USD_PER_MUSD if result.status.has_plan and result.objective is not None else None


def _extensive(scenarios: dict[str, ScenarioModel], eev: dict[str, SolverResult] | None, problem: Problem,
               backend: Backend, options: SolveOptions, integer_units: bool,
               messages: list[str]) -> tuple[Status, float | None, FirstStage | None, Parts]:
    """The extensive form solved, started from the deterministic plan where a start pays; that plan
    kept when the solve ends above it. (status, bound [$M], first stage, parts)."""
    stages = [s.stage for s in scenarios.values()]
    program = extensive_form(stages, problem.risk.cvar)
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
    if not result.status.has_plan or result.x is None:
        messages.append(f"the extensive form has no plan ({result.status.value}): {result.message}")
        return result.status, result.bound, None, {}
    start = offsets(stages)
    parts = {name: result.x[start[i]:start[i + 1]] for i, name in enumerate(scenarios)}
    first = stages[0]
    return result.status, result.bound, first_values(first.lp, first.first, parts[first.name]), parts


def _decomposed(scenarios: dict[str, ScenarioModel], start: FirstStage | None, eev: dict[str, SolverResult] | None,
                options: SolveOptions, integer_units: bool, backend: Backend, mapper: Mapper,
                messages: list[str], budget_s: float) -> tuple[Status, float | None, FirstStage | None, Parts]:
    """Scenario decomposition (risk/decompose.py) within `budget_s` [s]: (status, Lagrangian bound [$M],
    first stage, parts)."""
    outcome = decompose(scenarios, (start, eev) if start is not None and eev is not None else None, options,
                        integer_units, backend, mapper, budget_s=max(budget_s, MIN_DECOMPOSITION_S))
    messages.append(f"scenario decomposition: {outcome.iterations} iterations, {outcome.candidates} first stages "
                    f"evaluated in {outcome.seconds:.1f} s")
    if outcome.first is None:
        messages.append("the decomposition found no first stage with a plan in every scenario")
        return Status.NO_SOLUTION, None, None, {}
    bound = outcome.lower if np.isfinite(outcome.lower) else None
    proved = bound is not None and outcome.upper - bound <= options.gap * max(abs(outcome.upper), 1e-9)
    parts = {name: np.asarray(r.x) for name, r in outcome.recourse.items()}
    return (Status.OPTIMAL if proved else Status.FEASIBLE), bound, outcome.first, parts


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


def _scenario_plans(problem: Problem, scenarios: dict[str, ScenarioModel], status: Status, parts: Parts,
                    options: SolveOptions, solver: str) -> dict[str, Plan]:
    """Each scenario's part of the solution as a plan of its own problem, verified independently."""
    plans: dict[str, Plan] = {}
    if not status.has_plan:
        return plans
    for name, sc in scenarios.items():
        x = parts[name]
        # Optimality belongs to the two-stage plan: alone, a scenario's plan is only feasible.
        part = SolverResult(Status.FEASIBLE, solver, "", "part of a two-stage plan",
                            objective=float(sc.stage.lp.cost @ x), x=x)
        plan = make_plan(sc.problem, sc.data, sc.stage.lp, part, options)
        plan.messages.insert(0, f"scenario {name} (probability {sc.stage.probability:g}) of a two-stage plan: its "
                                f"decisions before {problem.risk.reveal} are those of every scenario")
        plans[name] = plan
    return plans


def out_of_sample(problem: Problem, chosen: FirstStage, n: int, seed: int, reveal: int, options: SolveOptions,
                  integer_units: bool, backend: Backend, mapper: Mapper) -> dict[str, float | int | None]:
    """The first stage `chosen` on n fresh draws of the problem's uncertainty, each with its best
    recourse: mean cost and its 95 % confidence interval (normal approximation) [USD]."""
    fresh_seed = _fresh_seed(seed)
    plain = base_problem(problem)
    given = [ScenarioProblem(f"fresh-{i + 1}", 1.0 / n, plain.with_(overrides), overrides)
             for i, overrides in enumerate(sample_overrides(problem, n, fresh_seed))]
    fresh = prepare(given, reveal)
    found = {k: v for part in mapper(recourse_task, [({name: sc}, chosen, options, integer_units, backend, True)
                                                    for name, sc in fresh.items()]) for k, v in part.items()}
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
