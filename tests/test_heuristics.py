"""Relax-and-fix and pair cuts: valid (never cut off the optimum) and honest about their bound."""

from __future__ import annotations

import numpy as np
import pytest

import clustersize
import clustersize.solving.pipeline as pipeline
from clustersize import Status
from clustersize.baselines.generate import generate_problem
from clustersize.data.modeldata import build_model_data
from clustersize.formulation import build
from clustersize.solvers import SolveOptions, get_backend, solve_with_watchdog
from clustersize.solving.heuristics import pair_cuts, relax_and_fix, strengthened_relaxation

SEEDS = [2, 3, 5, 8]   # generated 4x10x5x14 instances with max_sites > 1 and a plan
RELAX_SEEDS = [1, *SEEDS]   # seed 1 has no plan at all


@pytest.mark.parametrize("seed", SEEDS)
def test_pair_cuts_keep_the_optimum_and_tighten_the_bound(seed):
    problem = clustersize.load_problem(generate_problem("4x10x5x14", seed))
    data = build_model_data(problem)
    lp = build(data)
    locations = lp.columns_of("use")
    options = SolveOptions(time_limit_s=30, gap=1e-6)
    plain = solve_with_watchdog(get_backend("scip"), lp, options)
    cut = solve_with_watchdog(get_backend("scip"), pair_cuts(lp, locations), options)
    assert plain.status is cut.status
    if plain.status.has_plan:
        assert cut.objective == pytest.approx(plain.objective, rel=2e-6)
        _, relaxation = strengthened_relaxation(lp, options)
        assert relaxation.objective <= plain.objective * (1 + 1e-9)


@pytest.mark.parametrize("seed", RELAX_SEEDS)
def test_relax_and_fix_plan_is_feasible_and_its_bound_valid(seed):
    problem = clustersize.load_problem(generate_problem("4x10x5x14", seed))
    data = build_model_data(problem)
    lp = build(data)
    exact = clustersize.solve(problem, gap=1e-6, check=False)
    quick, _ = relax_and_fix(get_backend("scip"), lp, SolveOptions(time_limit_s=30), int(data.runs.max_sites.max()))
    if not exact.has_plan:
        assert not quick.status.has_plan
        return
    assert quick.status.has_plan
    assert quick.bound * 1e6 <= exact.objective_usd * (1 + 1e-6)          # a valid lower bound
    assert quick.objective >= quick.bound * (1 - 1e-9)
    activity = lp.matrix @ quick.x                                         # feasible for the original rows
    scale = np.maximum(1.0, np.abs(np.where(np.isfinite(lp.row_upper), lp.row_upper, 0.0)))
    assert np.all(activity <= lp.row_upper + 1e-6 * scale)
    assert np.all(activity >= lp.row_lower - 1e-6 * np.maximum(1.0, np.abs(np.nan_to_num(lp.row_lower, neginf=0.0))))
    assert np.all(quick.x >= lp.lower - 1e-9) and np.all(quick.x <= lp.upper + 1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_large_model_path_gives_verified_plans(seed, monkeypatch):
    problem = clustersize.load_problem(generate_problem("4x10x5x14", seed))
    normal = clustersize.solve(problem, check=False)
    monkeypatch.setattr(pipeline, "LARGE_COLUMNS", 1)
    large = clustersize.solve(problem, check=False)
    # Small enough that the large-model path must prove its plan optimal, like the normal path.
    assert normal.status is Status.OPTIMAL and large.status is Status.OPTIMAL
    assert large.verified
    assert large.objective_usd == pytest.approx(normal.objective_usd, rel=2 * large.requested_gap)
    assert large.bound_usd <= normal.objective_usd * (1 + 1e-6)


def test_exact_polish_starts_from_the_rounded_plan(monkeypatch):
    """When rounding leaves the plan outside the gap, the exact whole-unit solve gets the rounded
    plan as its start (where the backend takes one), so it need not search from nothing."""
    from clustersize.solvers import SolverResult
    from clustersize.solving import rounding
    from conftest import base_problem

    lp = build(build_model_data(clustersize.load_problem(base_problem())))
    rounded_x = np.zeros(lp.shape[1])
    calls: list = []

    def fake_solve(backend, program, options):
        calls.append(options.hint)
        objective = 110.0 if len(calls) == 1 else 105.0     # rounded, then the exact polish
        return SolverResult(Status.FEASIBLE, "stub", "", "", objective, None, rounded_x.copy())

    monkeypatch.setattr(rounding, "solve_with_watchdog", fake_solve)
    relaxed = SolverResult(Status.OPTIMAL, "stub", "", "", 100.0, 100.0, np.full(lp.shape[1], 0.5))
    result = rounding.whole_unit_plan(get_backend("scip"), lp, relaxed, SolveOptions(time_limit_s=10, gap=1e-4))
    assert len(calls) == 2 and calls[0] is None
    assert calls[1] is not None and np.array_equal(calls[1], rounded_x)   # started from the rounded plan
    assert result.objective == 105.0 and result.status is Status.FEASIBLE
