"""The pipeline: problem -> model data -> formulation -> backend -> rounding -> plan -> verifier."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..data.limits import check_model_size
from ..data.modeldata import USD_PER_MUSD, ModelData, build_model_data
from ..errors import InputError
from ..families import FAMILIES, Family
from ..formulation import LinearProgram, build
from ..plan import extract
from ..plan.plan import Plan
from ..plan.verify import verify
from ..schema.errors import input_error_from_validation
from ..schema.load import input_hash
from ..schema.problem import Problem, SolverOptions
from ..solvers import (
    Backend,
    SolveOptions,
    SolverResult,
    Status,
    get_backend,
    honoured,
    solve_with_watchdog,
    unsupported_options,
)
from ..solvers.base import limit_messages
from .diagnosis import precheck
from .duals import row_values
from .heuristics import LARGE_COLUMNS, best_of, location_capacity, relax_and_fix
from .rounding import whole_unit_plan

CONTINUOUS_SHARE = 0.85
CONTINUOUS_GAP_SHARE = 0.5  # of the requested gap, for the continuous solve: the rest is left for rounding
PIPELINE_GRACE = 1.0      # [s] per solver call, on top of its share of the budget
QUICK_SHARE = 0.3         # of the continuous budget, for relax-and-fix on large models ...
QUICK_SECONDS = 10.0      # ... but at least this much (or 80 % of a smaller budget)
MIN_ROUNDING_SECONDS = 2.0
MIN_SOLVE_SECONDS = 1.0   # [s] left to the solver however long building took


def solve(problem: Problem, *, solver: str | None = None, time_limit: float | None = None,
          gap: float | None = None, threads: int | None = None, seed: int | None = None,
          integer_units: bool | None = None, check: bool = True, warm_start: Plan | None = None,
          families: tuple[Family, ...] = FAMILIES, objective: str | None = None, budget: float | None = None,
          run: str | None = None) -> Plan:
    """Solve `problem` and verify the plan.

    Parameters
    ----------
    problem : a Problem from `load_problem`.
    solver, time_limit [s], gap [fraction], threads, seed, integer_units : override the
        problem's `solver:` section. The time limit is a budget for the whole solve (all solver
        calls), enforced from outside the solver by a watchdog.
    check : raise InfeasibleError / NoSolutionError / VerificationError instead of
        returning a plan without a verified solution.
    warm_start : a previous plan; its solution is passed to the solver as a start when the
        model has the same structure (only coefficients changed) and a start pays for the
        backend (capabilities.start_pays), and ignored otherwise.
    families : the constraint families to build and verify (default: the package's own, see
        families.py); a plug-in or a test adds its own declared with `build` and `verify`.
    objective, budget [USD], run : override the problem's `objective:` section (cost, finish or
        compute; the budget; the run the objective is about).
    """
    if isinstance(problem, Problem) and problem.scenarios:
        raise InputError("this problem has scenarios: it is a two-stage problem", path="scenarios",
                         fix="solve it with clustersize.solve_two_stage(problem) (the CLI's solve does), or its "
                             "deterministic base with clustersize.risk.scenarios.base_problem(problem)")
    problem = with_objective(problem, objective, budget, run)
    problem, settings, backend = solver_settings(problem, solver=solver, time_limit=time_limit, gap=gap,
                                                 threads=threads, seed=seed, integer_units=integer_units)
    if problem.objective.kind != "cost":
        from .objectives import solve_objective

        plan = solve_objective(problem, settings, backend, families)
    else:
        building = time.perf_counter()
        check_model_size(problem)  # refuse a model too large before allocating it
        data = build_model_data(problem)
        lp = build(data, families)
        # The budget covers model building too: the solver calls get what is left.
        left = settings.time_limit_s - (time.perf_counter() - building)
        plan = plan_for(problem, data, lp, settings, backend, families, warm_start, left)
    if check:
        plan.raise_for_status()
    return plan


def with_objective(problem: Problem, objective: str | None, budget: float | None, run: str | None) -> Problem:
    """The problem with its objective section overridden by the given values (None keeps the file's)."""
    edits = {f"objective.{k}": v for k, v in (("kind", objective), ("budget_usd", budget), ("run", run)) if v is not None}
    return problem.with_(edits) if edits else problem


def plan_for(problem: Problem, data: ModelData, lp: LinearProgram, settings: SolverOptions, backend: Backend,
             families: tuple[Family, ...] = FAMILIES, warm_start: Plan | None = None,
             time_limit: float | None = None) -> Plan:
    """Solve one program of the problem (whole units, within `time_limit` [s], default the
    settings') and make its verified plan."""
    # One solve makes up to four solver calls; each may overrun its share only by PIPELINE_GRACE,
    # so the whole returns within the budget plus a few seconds.
    options = SolveOptions(time_limit_s=settings.time_limit_s, gap=settings.gap, threads=settings.threads,
                           seed=settings.seed, grace_s=PIPELINE_GRACE)
    structure = lp.structure_key()
    budget = max(time_limit if time_limit is not None else settings.time_limit_s, MIN_SOLVE_SECONDS)
    if (warm_start is not None and warm_start.solution is not None and warm_start.structure == structure
            and backend.capabilities.start_pays):
        options = dataclasses.replace(options, hint=warm_start.solution)
    # Options the backend cannot honour are reported in the plan, never dropped silently; a start
    # is never passed to a backend that cannot take one (HiGHS in OR-Tools 9.15 crashes on it).
    notes = unsupported_options(backend, options)
    options = honoured(backend, options)
    capacity = location_capacity(data, lp) if lp.shape[1] >= LARGE_COLUMNS else None
    result = solve_within(backend, lp, options, budget, settings.integer_units, int(data.runs.max_sites.max()),
                           capacity)
    plan = make_plan(problem, data, lp, result, options, families)
    plan.messages.extend(notes + limit_messages(backend, result.status, result.bound))
    if result.status is Status.INFEASIBLE and (data.budget_musd or data.budget_per_year_musd):
        plan.messages[:0] = budget_findings(problem, data, families, backend, options)
    plan.structure = structure
    return plan


def budget_findings(problem: Problem, data: ModelData, families: tuple[Family, ...], backend: Backend,
                    options: SolveOptions) -> list[str]:
    """When a budget makes the problem infeasible: what the cheapest plan without it costs, and pays
    in its dearest year, so the message names the field and the figure it must reach."""
    free = dataclasses.replace(data, budget_musd=None, budget_per_year_musd=None)
    lp = build(free, families)
    result = solve_with_watchdog(backend, lp, dataclasses.replace(options, hint=None))
    if not result.status.has_plan or result.x is None:
        return []
    found = []
    cost = float(lp.cost @ result.x) * USD_PER_MUSD
    if problem.budget_total_usd is not None and cost > problem.budget_total_usd:
        field = ("objective.budget_usd (--budget)" if problem.objective.budget_usd == problem.budget_total_usd
                 else "budget.total_usd")
        found.append(f"{field}: ${problem.budget_total_usd:,.0f} is below the cheapest plan without it, "
                     f"${cost:,.0f} on the {problem.costs.basis} basis; raise it to at least that")
    if problem.budget.per_year_usd is not None:
        cash = extract.cashflows_table(free, lp, result.x)
        gross = cash.net_usd - cash.residual_usd
        per_year = gross.groupby(cash.quarter.str[:4]).sum()
        if per_year.max() > problem.budget.per_year_usd:
            found.append(f"budget.per_year_usd: ${problem.budget.per_year_usd:,.0f} is below what the cheapest plan "
                         f"without it pays in {per_year.idxmax()}, ${per_year.max():,.0f}; raise it, or allow a "
                         f"later deadline so the spending can spread")
    return found


def solver_settings(problem: Problem, **overrides: Any) -> tuple[Problem, SolverOptions, Backend]:
    """The problem with its solver settings overridden and validated, and the backend they name."""
    if not isinstance(problem, Problem):
        raise InputError(f"expected a Problem, found {type(problem).__name__}", path="problem",
                         fix="load it first: clustersize.load_problem(path_or_dict)")
    names = {"solver": "name", "time_limit": "time_limit_s"}
    updates = {names.get(k, k): v for k, v in overrides.items() if v is not None}
    try:
        settings = SolverOptions.model_validate({**problem.solver.model_dump(), **updates})
    except ValidationError as exc:
        raise input_error_from_validation(exc, file="solve options", prefix="solver") from None
    try:
        backend = get_backend(settings.name)
    except ValueError as exc:
        raise InputError(str(exc), path="solver.name", fix="pass --solver scip|highs|cpsat|cbc") from None
    if not backend.available():
        raise InputError(f"solver {settings.name!r} is not installed here", path="solver.name",
                         fix="install the project's dependencies or choose another solver")
    return problem.model_copy(update={"solver": settings}), settings, backend


def solve_within(backend: Backend, lp: LinearProgram, options: SolveOptions, budget: float, integer_units: bool,
                  max_sites: int, capacity: np.ndarray | None = None) -> SolverResult:
    """The continuous solve in most of the budget [s], then rounding to whole servers (and any
    polish) in the rest; with integer_units, the whole budget for the exact solve.

    The continuous solve closes its gap to a share of the requested one, leaving the rest for
    rounding: a rounded plan within the requested gap of that tighter bound is proven without an
    exact whole-unit re-solve, which costs far more than the tighter continuous solve.
    """
    first = dataclasses.replace(options, time_limit_s=budget) if integer_units else dataclasses.replace(
        options, time_limit_s=budget * CONTINUOUS_SHARE, gap=options.gap * CONTINUOUS_GAP_SHARE)
    if lp.shape[1] >= LARGE_COLUMNS:
        result = _large(backend, lp, first, max_sites, capacity)
    else:
        result = solve_with_watchdog(backend, lp, first)
    if result.status.has_plan and not integer_units:
        left = max(budget - result.seconds, MIN_ROUNDING_SECONDS)
        result = whole_unit_plan(backend, lp, result, dataclasses.replace(options, time_limit_s=left))
    return result


def _large(backend: Backend, lp: LinearProgram, options: SolveOptions, max_sites: int,
           capacity: np.ndarray | None = None) -> SolverResult:
    """Relax-and-fix for a plan within seconds, then the full MILP, started from it, in the time left."""
    quick_budget = max(options.time_limit_s * QUICK_SHARE, min(options.time_limit_s * 0.8, QUICK_SECONDS))
    quick, strengthened = relax_and_fix(backend, lp, dataclasses.replace(options, time_limit_s=quick_budget), max_sites,
                                        capacity)
    if quick.status is Status.INFEASIBLE or quick.status is Status.OPTIMAL:
        return quick
    left = options.time_limit_s - quick.seconds
    hint = options.hint
    if hint is None and quick.status.has_plan and backend.capabilities.warm_start:
        hint = quick.x
    # Same columns, plus valid cuts: the full MILP's plan and bound hold for the original program.
    full = solve_with_watchdog(backend, strengthened,
                               dataclasses.replace(options, time_limit_s=max(left, 1.0), hint=hint))
    return best_of(quick, full, options.gap)


ROUND_OFF = 1e-9


def _tables(problem: Problem, data: ModelData, lp: LinearProgram, x: Any) -> dict[str, pd.DataFrame]:
    """Every table of a plan with a solution, in user units."""
    tables = {
        "purchases": extract.purchases_table(problem, data, lp, x), "sites": extract.sites_table(problem, data, lp, x),
        "contracts": extract.contracts_table(problem, data, lp, x), "energy": extract.energy_table(problem, data, lp, x),
        "rentals": extract.rentals_table(problem, data, lp, x), "cluster": extract.cluster_table(data, lp, x),
    }
    tables["ramp"] = extract.ramp_table(data, lp, x)
    tables["runs"] = extract.runs_table(data, lp, x, tables["cluster"], tables["ramp"])
    tables["fleet"] = extract.fleet_table(data, lp, x)
    tables["serving"] = extract.serving_table(problem, data, lp, x)
    tables["custom_programs"] = extract.programs_table(problem, data, lp, x, tables["purchases"])
    tables["leases"] = extract.leases_table(data, lp, x)
    tables["supply_deals"] = extract.deals_table(data, lp, x)
    tables["deal_credits"] = extract.credits_table(data, lp, x)
    tables["spot"] = extract.spot_table(data, lp, x)
    tables["sales"] = extract.sales_table(data, lp, x)
    tables["commitments"] = extract.commitments_table(problem, data, lp, x)
    tables["costs"] = extract.costs_table(problem, data, lp, x)
    tables["cashflows"] = extract.cashflows_table(data, lp, x)
    tables["compute"] = extract.compute_table(tables["cluster"], tables["runs"], tables["ramp"])
    tables["export_usage"] = extract.export_table(data, lp, x)
    # what each limit is worth, from the plan's LP with its choices fixed (skipped on large models)
    values = row_values(data, lp, x) if lp.shape[1] < LARGE_COLUMNS else np.full(lp.shape[0], np.nan)
    tables["binding"] = extract.binding_table(lp, x, values)
    for frame in tables.values():        # solver round-off reads as 0, never as -0.0 or 1e-13
        for column in frame.select_dtypes("float").columns:
            frame[column] = frame[column].where((frame[column].abs() > ROUND_OFF) | frame[column].isna(), 0.0)
    return tables


def make_plan(problem: Problem, data: ModelData, lp: LinearProgram, result: SolverResult,
              options: SolveOptions, families: tuple[Family, ...] = FAMILIES) -> Plan:
    """Assemble the plan from the solver's result, then verify it independently."""
    plan = Plan(
        status=result.status, problem_name=problem.name, input_hash=input_hash(problem), solver=result.solver,
        solver_version=result.version, raw_status=result.raw_status, requested_gap=options.gap,
        time_limit_s=options.time_limit_s, solve_seconds=result.seconds, cost_basis=problem.costs.basis,
        periods=data.periods, target_flop=float(data.runs.stated_flop.sum()),
        provenance={path: dict(note) for path, note in problem.provenance.items()},
        model={"rows": lp.shape[0], "columns": lp.shape[1], "nonzeros": int(lp.matrix.nnz),
               "integer_columns": int(lp.integer.sum()), "coefficient_range": lp.coefficient_range()},
    )
    plan.tables["exclusions"] = pd.DataFrame([e.__dict__ for e in data.exclusions],
                                             columns=["kind", "option", "where", "reason", "rule"])
    plan.tables["licences"] = pd.DataFrame(data.licences, columns=["accelerator", "sites", "reason"])
    if result.message:
        plan.messages.append(result.message)
    if not result.status.has_plan:
        if result.status is Status.INFEASIBLE:
            plan.messages.extend(precheck(data) or [
                "the pre-checks found no single cause; the constraints conflict in combination "
                "(see the exclusions, supply caps, power and export rules)"])
        return plan
    assert result.x is not None, "a result with a plan carries its solution"
    # Solver round-off (a column at 1e-12) is no decision: the tables leave such values out, so the
    # cash and costs computed from the solution must too, or a cent-fraction shows where none is paid.
    x = np.where(np.abs(result.x) <= extract.ZERO, 0.0, result.x)
    plan.solution = x
    plan.tables.update(_tables(problem, data, lp, x))
    runs = plan.tables["runs"]
    plan.objective_usd = float(lp.cost @ x) * USD_PER_MUSD
    plan.bound_usd = result.bound * USD_PER_MUSD if result.bound is not None else None
    plan.run_start = str(runs.start.min())
    plan.locations_used = int(sum(len(locs.split(";")) for locs in runs.locations if locs))
    plan.delivered_flop = float(runs.flop.sum())
    plan.tables["economics"] = extract.economics_table(plan.tables["purchases"], plan.tables["fleet"],
                                                       plan.objective_usd, plan.delivered_flop)
    funded = plan.tables["custom_programs"]
    plan.success_probability = float(funded.loc[funded.funded & (funded.units > 0), "success_probability"].prod())
    for row in runs[runs.shortfall_flop > 0].itertuples():
        plan.messages.append(f"run {row.run} falls {row.shortfall_flop:.3g} FLOP short of its {row.target_flop:.3g} FLOP "
                             f"target, at the penalty risk.shortfall_usd_per_1e24_flop (the costs' shortfall line)")
    sites = plan.tables["sites"]
    for row in sites[sites.opened & (sites.existing_basis == "sunk") & (sites.existing_mw > 0)].itertuples():
        plan.messages.append(f"site {row.site}: its {row.existing_mw:,.0f} MW of existing capacity is sunk "
                             f"(sites.{row.site}.existing_basis), so this plan pays nothing for it")
    verification = verify(plan, problem, families)
    plan.verification = verification.to_dict()
    if verification.early_purchases:
        saving = sum(e.saving_usd for e in verification.early_purchases)
        plan.messages.append(f"{len(verification.early_purchases)} order(s) could be placed a quarter later for "
                             f"${saving:,.0f} less in all (verification.early_purchases)")
    return plan
