"""Valid inequalities (run_site_power, location_reach, location_cover, compute_bound): they close the
relaxation's gap on a hand-worked case, change no optimum on generated instances, and the
infeasibility diagnosis drops them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import clustersize
from clustersize.baselines.generate import generate_problem
from clustersize.data.modeldata import build_model_data
from clustersize.data.reach import location_reach, own_compute
from clustersize.families import FAMILIES
from clustersize.formulation import LinearProgram, build
from clustersize.solvers import SolveOptions, SolverResult, Status, get_backend, solve_with_watchdog
from clustersize.solving.diagnosis import diagnose, elastic_program
from conftest import base_problem, chip, grid, site

IMPLIED = tuple(f.name for f in FAMILIES if f.implied)
WITHOUT_IMPLIED = tuple(f for f in FAMILIES if not f.implied)
# One server of the base chip over the base run: 1,000 TFLOP/s x MFU 0.5 x 100 days [EFLOP/s-day].
SERVER_EF_DAYS = 1000e12 * 0.5 * 100 / 1e18


def solve(lp: LinearProgram) -> SolverResult:
    return solve_with_watchdog(get_backend("highs"), lp, SolveOptions(time_limit_s=60.0, gap=1e-9))


def optimum(lp: LinearProgram, relaxed: bool = False) -> float:
    """Objective [$M] of the program, or of its LP relaxation, proven to 1e-9."""
    if relaxed:
        lp = dataclasses.replace(lp, integer=np.zeros_like(lp.integer))
    result = solve(lp)
    assert result.status is Status.OPTIMAL, result.message
    assert result.objective is not None
    return result.objective


def two_small_sites_and_a_new_one() -> dict:
    """Sites a and b: 10 MW each, existing and sunk, but firm contracts of 0.6 MW, so each holds 600
    of the 1,000 servers the run needs; site c: 2 MW to build at $1M/MW. One location (max_sites 1)."""
    doc = base_problem()
    new = site(mw=2.0)
    new.update(existing_mw=0.0, build_cost_usd_per_mw=1e6)
    doc["sites"] = {"a": site(), "b": site(), "c": new}
    doc["contracts"] = {"a-grid": grid("a", 0.6), "b-grid": grid("b", 0.6), "c-grid": grid("c", 2.0)}
    return doc


def test_cover_closes_the_relaxation_gap():
    """The only plan builds 1 MW at c: 1,000 x $10,000 + $1M + 2,400 MWh x $50 = $11.12M. Without the
    valid inequalities the relaxation uses a and b half each (run_location allows 5 MW at each,
    firm power 0.6 MW) and pays no build: $10.12M. With them, location_cover reads
    0.6 N use[a] + 0.6 N use[b] + N use[c] >= N, and use[a] + use[b] + use[c] <= 1 forces use[c] = 1."""
    data = build_model_data(clustersize.load_problem(two_small_sites_and_a_new_one()))
    assert optimum(build(data, WITHOUT_IMPLIED), relaxed=True) == pytest.approx(10.12, rel=1e-9)
    assert optimum(build(data), relaxed=True) == pytest.approx(11.12, rel=1e-9)
    plan = clustersize.solve(clustersize.load_problem(two_small_sites_and_a_new_one()))
    assert plan.verified and plan.objective_usd == pytest.approx(11.12e6, rel=1e-6)
    assert plan.table("runs").locations.tolist() == ["c"]


def test_reach_is_a_fractional_knapsack_within_firm_power():
    """Site a: 10 MW but 0.6 MW firm. Beta (0.5 kW, denser) fills first: 100 a quarter over the three
    quarters it can arrive by the start, 300 servers, 0.15 MW; alpha (1 kW) fills the other 0.45 MW:
    450 servers. Reach: 750 servers' compute. Site c (2 MW firm) has room for 1,850 alpha after the
    300 beta, but no window holds more than the run can need, its target at the slowest member's
    rate plus one server: 1,001 alpha."""
    doc = two_small_sites_and_a_new_one()
    doc["accelerators"]["beta"] = chip(name="Beta", it_power_kw=0.5, supply_per_quarter=100.0)
    data = build_model_data(clustersize.load_problem(doc))
    reach = location_reach(data, own_compute(data))
    assert data.site_run_mw.tolist() == pytest.approx([0.6, 0.6, 2.0])
    sites = {sid: i for i, sid in enumerate(data.slots.location_ids)}
    assert reach[0, sites["a"]] == pytest.approx(750 * SERVER_EF_DAYS)
    assert reach[0, sites["c"]] == pytest.approx((1_001 + 300) * SERVER_EF_DAYS)


@pytest.mark.parametrize("shape,seed", [("5x5x8x10", s) for s in range(4)] + [("4x5x6x8", s) for s in range(4)])
def test_valid_inequalities_change_no_optimum(shape, seed):
    """Generated instances: the MILP optimum is the same with and without the implied families, and
    the relaxation with them is at least as strong."""
    data = build_model_data(clustersize.load_problem(generate_problem(shape, seed)))
    full, bare = build(data), build(data, WITHOUT_IMPLIED)
    if solve(bare).status is Status.INFEASIBLE:
        assert solve(full).status is Status.INFEASIBLE
        return
    assert optimum(full) == pytest.approx(optimum(bare), rel=1e-7)
    assert optimum(full, relaxed=True) >= optimum(bare, relaxed=True) - 1e-7


def test_diagnosis_drops_valid_inequalities():
    """Two pace levels (alpha, beta at 800 TFLOP/s) give compute_bound; with 100 of each a quarter
    the target is out of reach. The elastic program keeps no implied row, so it exceeds supply (at
    $10M per accelerator, cheaper than the target's $1e11 per 1e24 FLOP) instead of failing."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 100.0
    doc["accelerators"]["beta"] = chip(name="Beta", bf16_tflops=800.0, supply_per_quarter=100.0)
    problem = clustersize.load_problem(doc)
    data = build_model_data(problem)
    lp = build(data)
    assert "compute_bound" in set(lp.row_family)
    elastic, _ = elastic_program(lp, data)
    assert not set(IMPLIED) & set(elastic.row_family)
    diagnosis = diagnose(problem, data, lp)
    assert diagnosis.elastic_status == "optimal"
    assert {v.family for v in diagnosis.violations} == {"supply_cap"}
