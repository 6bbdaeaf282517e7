"""The spreadsheet-style greedy planner: its plans pass the same verifier, and never beat the optimizer."""

from __future__ import annotations

import datetime as dt

import pytest

import clustersize
from clustersize.baselines.generate import generate_problem
from clustersize.baselines.greedy import greedy_solution
from clustersize.data.modeldata import build_model_data
from clustersize.formulation import build
from clustersize.solvers import SolveOptions, SolverResult, Status
from clustersize.solving.pipeline import make_plan
from conftest import BASE_COST, PROBLEMS, base_problem, chip


def greedy_plan(problem):
    data = build_model_data(problem)
    lp = build(data)
    x = greedy_solution(data, lp)
    if x is None:
        return None
    return make_plan(problem, data, lp, SolverResult(Status.FEASIBLE, "greedy", "", "greedy",
                                                     float(lp.cost @ x), None, x), SolveOptions())


def purchases(plan) -> dict[str, float]:
    """Accelerators bought, by accelerator id."""
    table = plan.table("purchases")
    return table.groupby("accelerator")["units"].sum().to_dict() if not table.empty else {}


# Which problems the greedy's one-pass rules solve: its rules dead-end on lab-roadmap (three runs,
# the optimizer's plan costs $12.50B) and on generated seed 4, which is infeasible for both; on every
# other case the greedy finds a plan (on tier2-sovereign the optimum itself).
EXPECTED = {"lab-roadmap.yaml": False}
GREEDY_CASES = [pytest.param(lambda p=p: clustersize.load_problem(p), EXPECTED.get(p.name, True), id=p.name)
                for p in PROBLEMS] + [
    pytest.param(lambda s=s: clustersize.load_problem(generate_problem("5x8x6x12", s)), s != 4,
                 id=f"generated-5x8x6x12-seed{s}") for s in range(6)]


@pytest.mark.parametrize("load,greedy_finds_plan", GREEDY_CASES)
def test_greedy_plans_verify_and_cost_at_least_the_optimum(load, greedy_finds_plan):
    problem = load()
    best = clustersize.solve(problem, check=False)
    greedy = greedy_plan(problem)
    assert (greedy is not None) == greedy_finds_plan
    if greedy is None:
        assert best.status in (Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE)
        return
    assert greedy.verified, greedy.verification["violations"][:3]
    assert best.has_plan and greedy.objective_usd >= best.objective_usd * (1 - 2 * best.requested_gap)


def test_an_infeasible_problem_has_no_greedy_plan():
    infeasible = clustersize.load_problem(generate_problem("5x8x6x12", 4))
    assert clustersize.solve(infeasible, check=False).status is Status.INFEASIBLE
    assert greedy_plan(infeasible) is None


def test_greedy_takes_cheapest_per_flop_first():
    """beta ($9k) beats alpha ($10k) per FLOP: the greedy buys 1,000 beta: 9M + 120k energy."""
    doc = base_problem()
    doc["accelerators"]["beta"] = chip(price=9_000.0, name="Beta")
    plan = greedy_plan(clustersize.load_problem(doc))
    assert plan.verified
    assert purchases(plan) == {"beta": 1000}
    assert plan.objective_usd == pytest.approx(9_120_000, rel=1e-9)


def test_greedy_keeps_a_run_on_one_stack():
    """gamma (AMD, rocm) is cheaper but only 600 can be had by the run start; the run may not mix it
    with alpha (NVIDIA, cuda), so the greedy buys 1,000 alpha: the base cost, 10.12M."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["vendor"] = "NVIDIA"
    doc["accelerators"]["gamma"] = chip(price=8_000.0, name="Gamma", vendor="AMD", supply_per_quarter=200.0)
    plan = greedy_plan(clustersize.load_problem(doc))
    assert plan.verified, plan.verification["violations"][:3]
    assert purchases(plan) == {"alpha": 1000}
    assert plan.objective_usd == pytest.approx(BASE_COST, rel=1e-9)


def two_runs() -> dict:
    """The base run twice, in Q2 and Q4 2027: the same 1,000 alpha serve both. Each target is
    6 x 1e12 parameters x 7.2e11 tokens = 4.32e24 FLOP, the base target."""
    doc = base_problem()
    shape = {k: v for k, v in doc.pop("run").items() if k not in ("start", "deadline")}
    del doc["target"]
    size = {"parameters": 1e12, "tokens": 7.2e11}
    doc["runs"] = {"first": {**size, "start": dt.date(2027, 4, 1), "deadline": dt.date(2027, 7, 10), **shape},
                   "second": {**size, "start": dt.date(2027, 10, 1), "deadline": dt.date(2028, 1, 9), **shape}}
    return doc


def test_the_fleet_persists_from_one_run_to_the_next():
    """The second run reuses the first run's idle servers: 1,000 alpha ($10M) and two runs' energy
    (2 x $120k), the optimum too."""
    problem = clustersize.load_problem(two_runs())
    plan = greedy_plan(problem)
    assert plan.verified, plan.verification["violations"][:3]
    assert purchases(plan) == {"alpha": 1000}
    assert plan.objective_usd == pytest.approx(10_240_000, rel=1e-9)
    assert clustersize.solve(problem, check=False).objective_usd == pytest.approx(10_240_000, rel=1e-6)


def test_a_later_overlapping_run_buys_its_own_servers():
    """When the second run overlaps the first, the first run's servers are busy: 2,000 alpha."""
    doc = two_runs()
    doc["runs"]["second"].update(start=dt.date(2027, 4, 1), deadline=dt.date(2027, 7, 10))
    plan = greedy_plan(clustersize.load_problem(doc))
    assert plan.verified, plan.verification["violations"][:3]
    assert purchases(plan) == {"alpha": 2000}
    assert plan.objective_usd == pytest.approx(20_240_000, rel=1e-9)
