"""The spreadsheet-style greedy planner: its plans pass the same verifier, and never beat the optimizer."""

from __future__ import annotations

import pytest

import clustersize
from clustersize.baselines.generate import generate_problem
from clustersize.baselines.greedy import greedy_solution
from clustersize.data.modeldata import build_model_data
from clustersize.formulation import build
from clustersize.solvers import SolveOptions, SolverResult, Status
from clustersize.solving.pipeline import make_plan
from conftest import PROBLEMS, base_problem, chip


def greedy_plan(problem):
    data = build_model_data(problem)
    lp = build(data)
    x = greedy_solution(data, lp)
    if x is None:
        return None
    return make_plan(problem, data, lp, SolverResult(Status.FEASIBLE, "greedy", "", "greedy",
                                                     float(lp.cost @ x), None, x), SolveOptions())


# The greedy's one-pass rules dead-end on some problems the optimizer solves (seed 5), and seed 3 is
# infeasible for both: each case states which, so no case passes without an assertion.
GREEDY_CASES = [(clustersize.load_problem(p), True) for p in PROBLEMS] + [
    (clustersize.load_problem(generate_problem("5x8x6x12", s)), s not in (3, 5)) for s in range(6)]


@pytest.mark.parametrize("problem,greedy_finds_plan", GREEDY_CASES, ids=[p.name for p, _ in GREEDY_CASES])
def test_greedy_plans_verify_and_cost_at_least_the_optimum(problem, greedy_finds_plan):
    greedy = greedy_plan(problem)
    best = clustersize.solve(problem, check=False)
    assert (greedy is not None) == greedy_finds_plan
    if greedy is None:
        assert best.status in (Status.OPTIMAL, Status.INFEASIBLE)
        return
    assert greedy.verified, greedy.verification["violations"][:3]
    assert best.has_plan and greedy.objective_usd >= best.objective_usd * (1 - 2 * best.requested_gap)


def test_an_infeasible_problem_has_no_greedy_plan():
    infeasible = GREEDY_CASES[len(PROBLEMS) + 3][0]
    assert clustersize.solve(infeasible, check=False).status is Status.INFEASIBLE
    assert greedy_plan(infeasible) is None


def test_greedy_takes_cheapest_per_flop_first():
    """beta ($9k) beats alpha ($10k) per FLOP: the greedy buys 1,000 beta: 9M + 120k energy."""
    doc = base_problem()
    doc["accelerators"]["beta"] = chip(price=9_000.0, name="Beta")
    plan = greedy_plan(clustersize.load_problem(doc))
    assert plan.verified
    assert plan.objective_usd == pytest.approx(9_120_000, rel=1e-9)
