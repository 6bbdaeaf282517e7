"""Cost bases worked by hand: straight-line and Epoch AI's amortisation (docs/costs.md).

The base case of conftest.py: 1,000 units of "alpha" at $10,000 (no server or network share),
a 100-day run from 2027-07-01, energy $120,000. Planning starts 2027-01-01.
"""

from __future__ import annotations

import datetime as dt

import pytest

import clustersize
from clustersize.data.modeldata import build_model_data
from conftest import base_problem, site

ENERGY_USD = 120_000.0
HARDWARE_USD = 10_000_000.0

# Straight line over the 5-year default life: $10M x 100 / (5 x 365.25) = $547,570.16.
STRAIGHT_LINE_USD = 547_570.16 + ENERGY_USD

# Epoch AI: bought 2027-01-01, the run starts 2027-07-01: 181 days = 0.495551 years held.
# Value kept 10^(-0.14 x 0.495551) = 0.852360; charge 0.14 x ln 10 x 100 / 365.25 = 0.0882579.
# $10M x 0.852360 x 0.0882579 = $752,274.53.
EPOCH_HARDWARE_USD = 752_274.53


def epoch_problem(**costs: object) -> dict:
    problem = base_problem()
    problem["costs"].update({"basis": "amortised", "amortisation": "epoch", **costs})
    return problem


def test_straight_line_is_the_default_and_unchanged():
    problem = base_problem()
    problem["costs"]["basis"] = "amortised"
    plan = clustersize.solve(clustersize.load_problem(problem))
    assert plan.objective_usd == pytest.approx(STRAIGHT_LINE_USD, rel=1e-6)
    assert clustersize.load_problem(problem).costs.amortisation == "straight-line"


def test_epoch_amortisation_known_answer(backend):
    plan = clustersize.solve(clustersize.load_problem(epoch_problem()), solver=backend)
    assert plan.has_plan  # CP-SAT reports a plan with continuous columns as feasible, never optimal
    # The value at the run start is lowest for the earliest purchase, so every unit is bought in 2027Q1.
    assert set(plan.table("purchases").quarter) == {"2027Q1"}
    assert plan.objective_usd == pytest.approx(EPOCH_HARDWARE_USD + ENERGY_USD, rel=1e-6)
    costs = plan.table("costs").set_index("component")
    assert costs.loc["hardware", "full_usd"] == pytest.approx(HARDWARE_USD, rel=1e-9)
    assert costs.loc["hardware", "amortised_usd"] == pytest.approx(EPOCH_HARDWARE_USD, rel=1e-6)
    verification = clustersize.verify(plan, clustersize.load_problem(epoch_problem()))
    assert verification.ok, verification.violations
    assert verification.cost_usd == pytest.approx(EPOCH_HARDWARE_USD + ENERGY_USD, rel=1e-6)


def test_epoch_value_is_kept_from_a_later_price_date():
    # A price dated 2027-04-01 is not aged back: the purchase counts from that date, 91 days held.
    # 10^(-0.14 x 91 / 365.25) = 0.922826; x 0.0882579 x $10M = $814,466.60.
    problem = epoch_problem()
    problem["accelerators"]["alpha"]["price_date"] = dt.date(2027, 4, 1)
    loaded = clustersize.load_problem(problem)
    plan = clustersize.solve(loaded)
    assert plan.objective_usd == pytest.approx(814_466.60 + ENERGY_USD, rel=1e-6)
    hardware = plan.table("costs").set_index("component").loc["hardware", "amortised_usd"]
    assert hardware == pytest.approx(814_466.60, rel=1e-6)
    assert clustersize.verify(plan, loaded).ok


def test_epoch_scope_leaves_out_site_costs():
    # A $5M site-opening cost is charged (amortised) on the straight-line basis but not in Epoch's scope.
    problem = epoch_problem()
    problem["sites"]["s1"] = site(fixed=5_000_000.0)
    plan = clustersize.solve(clustersize.load_problem(problem))
    assert plan.objective_usd == pytest.approx(EPOCH_HARDWARE_USD + ENERGY_USD, rel=1e-6)
    costs = plan.table("costs").set_index("component")
    assert costs.loc["site_fixed", "full_usd"] == pytest.approx(5_000_000.0)
    assert costs.loc["site_fixed", "amortised_usd"] == 0.0
    # straight line over the 25-year facility life, for the 281 days from 2027-01-01 to the deadline
    straight = clustersize.solve(clustersize.load_problem(problem, {"costs.amortisation": "straight-line"}))
    assert straight.objective_usd == pytest.approx(STRAIGHT_LINE_USD + 5_000_000.0 * 281 / 365.25 / 25, rel=1e-6)


def test_epoch_trend_is_an_input():
    # Half the trend: kept 10^(-0.07 x 0.495551) = 0.923233; charge 0.0441289; $10M -> $407,413.05.
    loaded = clustersize.load_problem(epoch_problem(price_performance_ooms_per_year=0.07))
    assert clustersize.solve(loaded).objective_usd == pytest.approx(407_413.05 + ENERGY_USD, rel=1e-6)


def test_epoch_multiplier_only_on_the_amortised_basis():
    # On the full basis the amortisation option changes nothing.
    problem = epoch_problem()
    problem["costs"]["basis"] = "full"
    data = build_model_data(clustersize.load_problem(problem))
    assert not data.amortised
    assert clustersize.solve(clustersize.load_problem(problem)).objective_usd == pytest.approx(
        HARDWARE_USD + ENERGY_USD, rel=1e-6)


def test_unknown_amortisation_is_an_input_error():
    with pytest.raises(clustersize.InputError, match="costs.amortisation"):
        clustersize.load_problem(epoch_problem(amortisation="epoch-ai"))


def test_verifier_recomputes_the_epoch_charge_itself():
    # The plan of the known answer, checked against the same problem with half the trend: the
    # verifier's own charge ($407,413.05 + energy) differs from the plan's, so the cost check fails.
    plan = clustersize.solve(clustersize.load_problem(epoch_problem()))
    other = clustersize.load_problem(epoch_problem(price_performance_ooms_per_year=0.07))
    verification = clustersize.verify(plan, other)
    assert not verification.ok
    assert [v.check for v in verification.violations] == ["cost"]
    assert verification.cost_usd == pytest.approx(407_413.05 + ENERGY_USD, rel=1e-6)
