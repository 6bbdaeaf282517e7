"""Scenario decomposition: a Lagrangian bound and first-stage candidates evaluated exactly.

The extensive form grows with the scenarios and its relaxation is weak (every scenario's own run
choices relax), so with many scenarios it is solved by decomposition instead (docs/risk.md):

    L(mu) = sum_s p_s min_x { c_s x + mu_s . x^F : x feasible in scenario s },   sum_s p_s mu_s = 0

relaxes non-anticipativity (x_s^F = z for all s). Every L(mu) is a lower bound on the two-stage
optimum; each term is one scenario's own program with its first-stage costs shifted, solved with
counts continuous and read at the solver's proven bound, so the bound holds for whole units too.
The multipliers follow projected subgradient steps (Polyak's rule) taken in each first-stage key's
own scale w: mu_s += t (x_s^F - xbar) / w^2, xbar = sum_s p_s x_s^F, which keeps sum_s p_s mu_s = 0.

Iterations also propose first stages (xbar rounded, and the scenario first stage nearest to it:
every iteration at first, then every few). Each is fixed in every scenario and screened with counts
continuous; the best screened one is then solved in whole units and kept if it beats the incumbent,
the deterministic plan's first stage, so the plan is never worse than that. Scenario programs are
solved on `mapper`: serially, on local worker processes or on a Dask cluster (risk/workers.py).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..formulation import LinearProgram
from ..solvers import Backend, SolveOptions, SolverResult, solve_with_watchdog
from ..solving.rounding import COUNT_FAMILIES
from .extensive import first_stage_keys
from .recourse import FirstStage, ScenarioModel, recourse_task

Mapper = Callable[[Callable[..., Any], Sequence[Any]], list[Any]]
"""Runs a function on each item of a sequence, returning the results in order."""

MAX_ITERATIONS = 50
STALL_ITERATIONS = 3      # without a better bound, the step's scale halves
FIRST_SCALE = 1.0         # Polyak's step scale at the start
EARLY_CANDIDATES = 3      # iterations that each propose first stages ...
CANDIDATE_EVERY = 4       # ... and afterwards every this many


@dataclasses.dataclass
class Outcome:
    """What the decomposition found: the best first stage, its recourse per scenario, the bounds [$M]."""

    first: FirstStage | None
    recourse: dict[str, SolverResult]
    upper: float
    lower: float
    iterations: int
    candidates: int
    seconds: float


def serial(function: Callable[..., Any], items: Sequence[Any]) -> list[Any]:
    """The mapper that solves one scenario program after another."""
    return [function(item) for item in items]


def _bound_of(task: tuple[Backend, LinearProgram, SolveOptions]) -> SolverResult:
    """One Lagrangian term, solved with counts continuous (a relaxation of the whole-unit program)."""
    backend, lp, options = task
    return solve_with_watchdog(backend, lp, options)


def decompose(scenarios: Mapping[str, ScenarioModel], incumbent: tuple[FirstStage, dict[str, SolverResult]] | None,
              options: SolveOptions, integer_units: bool, backend: Backend, mapper: Mapper = serial,
              budget_s: float | None = None) -> Outcome:
    """Lagrangian bound and best evaluated first stage within `budget_s` [s] (default the time limit)
    and the gap; `incumbent` is a first stage already evaluated in whole units (the deterministic
    plan's) and its recourse.

    Candidates are screened with counts continuous (half the solves); the best screened one is then
    solved in whole units and kept if it beats the incumbent, whose whole-unit cost is the upper bound.
    """
    began = time.perf_counter()
    budget = options.time_limit_s if budget_s is None else budget_s
    names = list(scenarios)
    probability = np.array([scenarios[n].stage.probability for n in names])
    keys, positions, fixed = _first_stage_index(scenarios)
    some = next(iter(scenarios.values())).stage.lp
    # whole numbers in a plan: choices and deals taken whole, and server or instance counts
    whole = some.integer[positions[0]] | np.isin(some.col_family[positions[0]], COUNT_FAMILIES)
    multipliers = np.zeros((len(names), len(keys)))
    seen: set[tuple[float, ...]] = set()
    best = Outcome(None, {}, np.inf, -np.inf, 0, 0, 0.0)
    screened: list[tuple[float, FirstStage]] = []     # (expected cost with counts continuous, first stage)

    def cost_of(found: dict[str, SolverResult]) -> float:
        return float(sum(p * float(found[n].objective or 0.0) for p, n in zip(probability, names)))

    def propose(values: np.ndarray) -> None:
        signature = tuple(np.round(values, 6))
        if signature in seen:
            return
        seen.add(signature)
        best.candidates += 1
        chosen = dict(zip(keys, values.tolist()))
        found = _evaluate(scenarios, chosen, options, integer_units, backend, mapper, whole=False)
        if found is not None:
            screened.append((cost_of(found), chosen))

    if incumbent is not None:
        best.first, best.recourse = incumbent
        best.upper = cost_of(best.recourse)
        seen.add(tuple(np.round([incumbent[0].get(k, 0.0) for k in keys], 6)))
    scale, stall = FIRST_SCALE, 0
    while best.iterations < MAX_ITERATIONS and time.perf_counter() - began < budget:
        best.iterations += 1
        tasks = [(backend, _shifted(scenarios[n].stage.lp, positions[i], multipliers[i], fixed[i]),
                  dataclasses.replace(options, time_limit_s=max(1.0, options.time_limit_s - (time.perf_counter() - began))))
                 for i, n in enumerate(names)]
        results = mapper(_bound_of, tasks)
        if any(not r.status.has_plan or r.x is None for r in results):
            break       # a term without a proven value gives no bound
        value = float(sum(p * (r.bound if r.bound is not None else r.objective) for p, r in zip(probability, results)))
        if value > best.lower + 1e-9 * max(1.0, abs(value)):
            best.lower, stall = value, 0
        else:
            stall += 1
            if stall >= STALL_ITERATIONS:
                scale, stall = scale / 2.0, 0
        proposed = np.array([r.x[positions[i]] for i, r in enumerate(results)])
        mean = probability @ proposed
        if best.iterations <= EARLY_CANDIDATES or best.iterations % CANDIDATE_EVERY == 0:
            # A candidate costs a solve per scenario: every iteration at first, then now and then,
            # as the multipliers settle and the incumbent rarely changes.
            propose(_rounded(mean, whole))
            nearest = int(np.argmin(((proposed - mean) ** 2).sum(axis=1)))
            propose(_rounded(proposed[nearest], whole))
        target = min([best.upper] + [cost for cost, _ in screened])
        if target - best.lower <= options.gap * max(abs(target), 1e-9):
            break
        # Subgradient in each key's own scale (MW, servers and 0/1 choices differ by 1e4): a binary's
        # multiplier moves as readily as a count's.
        width = np.maximum(np.abs(proposed).max(axis=0), 1.0)
        step = (proposed - mean) / width
        norm = float(probability @ (step ** 2).sum(axis=1))
        if norm < 1e-12:
            break       # the scenarios agree: the bound is the value of their common first stage
        gap = target - value if np.isfinite(target) else abs(value)
        multipliers += scale * gap / norm * step / width
    if screened:
        cost, chosen = min(screened, key=lambda pair: pair[0])
        if cost < best.upper:
            found = _evaluate(scenarios, chosen, options, integer_units, backend, mapper, whole=True)
            if found is not None and cost_of(found) < best.upper:
                best.first, best.recourse, best.upper = chosen, found, cost_of(found)
    best.seconds = time.perf_counter() - began
    return best


def _first_stage_index(scenarios: Mapping[str, ScenarioModel]) -> tuple[list[Any], list[np.ndarray], list[np.ndarray]]:
    """The first-stage keys every scenario has, each scenario's column of each key (-1: none), and
    each scenario's first-stage columns of keys only some scenarios have (fixed at 0, as in the
    extensive form)."""
    held = [first_stage_keys(s.stage.lp, s.stage.first) for s in scenarios.values()]
    keys = sorted(set.intersection(*(set(h) for h in held)), key=str)
    positions = [np.array([h[k] for k in keys], dtype=np.int64) for h in held]
    fixed = [np.array([pos for k, pos in h.items() if k not in set(keys)], dtype=np.int64) for h in held]
    return keys, positions, fixed


def _shifted(lp: LinearProgram, positions: np.ndarray, multipliers: np.ndarray, fixed: np.ndarray) -> LinearProgram:
    """The scenario's program with its first-stage costs shifted by the multipliers."""
    cost = lp.cost.copy()
    np.add.at(cost, positions, multipliers)
    lower, upper = lp.lower, lp.upper
    if fixed.size:
        lower, upper = lower.copy(), upper.copy()
        lower[fixed] = upper[fixed] = 0.0
    return dataclasses.replace(lp, cost=cost, lower=lower, upper=upper)


def _rounded(values: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """A first stage a plan can hold: whole numbers where a plan counts servers or takes choices."""
    return np.where(whole, np.round(values), np.maximum(values, 0.0))


def _evaluate(scenarios: Mapping[str, ScenarioModel], chosen: FirstStage, options: SolveOptions, integer_units: bool,
              backend: Backend, mapper: Mapper, whole: bool) -> dict[str, SolverResult] | None:
    """Each scenario's best recourse to `chosen` (in whole units, or screened with counts continuous);
    None when one has none."""
    names = list(scenarios)
    found = mapper(recourse_task, [({n: scenarios[n]}, chosen, options, integer_units, backend, whole)
                                   for n in names])
    merged: dict[str, SolverResult | str] = {k: v for part in found for k, v in part.items()}
    if any(isinstance(r, str) for r in merged.values()):
        return None
    return {n: r for n, r in merged.items() if not isinstance(r, str)}


