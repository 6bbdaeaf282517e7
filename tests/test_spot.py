"""Spot purchases beyond the allocation, at a premium, against answers worked by hand.

The base case (conftest.py) needs 1,000 units of alpha ($10,000, no server share, $120 of energy
each: $10.12M). Here alpha's allocation is 300 a quarter and orders can be placed in 2027Q1-Q3
(lead time 0, run from 2027-07-01): 900 units. The other 100 come from the spot market at a 25 %
premium, $2,500 a unit, at most 80 a quarter: $250,000 more, $10,370,000 in all.
"""

from __future__ import annotations

import pytest

import clustersize
from clustersize import InfeasibleError, InputError, Status
from conftest import base_problem, chip
from supply_cases import REL, spot_problem, tampered

SPOT_COST = 10_120_000 + 100 * 2_500


@pytest.fixture(scope="module", params=["allocation", "components"])
def spot_plan(request):
    return clustersize.solve(clustersize.load_problem(spot_problem(request.param)), solver="scip")


def test_spot_buys_what_the_allocation_cannot(spot_plan):
    """Allocation-limited and component-limited alike: spot servers need neither."""
    assert spot_plan.status is Status.OPTIMAL and spot_plan.verified, spot_plan.verification
    assert spot_plan.objective_usd == pytest.approx(SPOT_COST, rel=REL)
    spot = spot_plan.table("spot")
    assert spot.units.sum() == pytest.approx(100)
    assert (spot.units <= 80 + 1e-6).all()
    assert spot.premium_usd.sum() == pytest.approx(250_000, rel=REL)
    costs = spot_plan.table("costs").set_index("component")
    assert costs.loc["spot_premium", "full_usd"] == pytest.approx(250_000, rel=REL)
    assert spot_plan.table("purchases").units.sum() == pytest.approx(1000)


def test_without_a_spot_market_the_target_is_out_of_reach():
    doc = spot_problem()
    del doc["spot"]
    with pytest.raises(InfeasibleError):
        clustersize.solve(clustersize.load_problem(doc), solver="scip")


def test_a_market_opening_late_sells_only_from_then():
    """Open from 2027Q3 only: 80 spot units at most, 20 short of the 1,000 needed."""
    with pytest.raises(InfeasibleError):
        clustersize.solve(clustersize.load_problem(spot_problem(first_quarter="2027Q3")), solver="scip")


def test_spot_in_a_two_stage_plan():
    """A scenario where the spot premium doubles: the 100 spot units cost $2,500 or $5,000 each,
    $10.37M or $10.62M, $10.495M expected; each scenario's plan verified with its spot rows."""
    from clustersize.risk.solve import solve_two_stage
    doc = spot_problem()
    doc["risk"] = {"reveal": "2027-04-01", "shortfall_usd_per_1e24_flop": 5e6}     # $21,600 a unit short
    doc["scenarios"] = {"calm": {"probability": 0.5},
                        "dear": {"probability": 0.5, "overrides": {"spot.alpha.premium": 0.5}}}
    plan = solve_two_stage(clustersize.load_problem(doc), solver="scip")
    assert plan.verified, plan.verification
    assert plan.figures["objective_usd"] == pytest.approx(10_495_000, rel=REL)
    assert list(plan.scenarios.set_index("scenario").cost_usd) == pytest.approx([10_370_000, 10_620_000], rel=REL)
    assert all(p.table("spot").units.sum() == pytest.approx(100) for p in plan.plans.values())


@pytest.mark.parametrize("changes, family", [
    ({"units": 150.0}, "spot_market"),              # beyond the market's depth
    ({"accelerator": "beta"}, "known_option"),      # no market
    ({"quarter": "2026Q4"}, "spot_market"),         # before the planning start
])
def test_the_verifier_catches_a_tampered_spot_row(spot_plan, changes, family):
    report = clustersize.verify(tampered(spot_plan, "spot", **changes), clustersize.load_problem(spot_problem()))
    assert not report.ok
    assert family in {v.check for v in report.violations}, report.violations


def test_a_spot_row_without_purchases_is_caught(spot_plan):
    clone = tampered(spot_plan, "spot")
    clone.tables["purchases"] = clone.tables["purchases"].iloc[0:0]
    report = clustersize.verify(clone, clustersize.load_problem(spot_problem()))
    assert "spot_purchase" in {v.check for v in report.violations}


@pytest.mark.parametrize("market, path", [
    ({"beta": {"premium": 0.2, "units_per_quarter": 10}}, "spot.beta"),     # not one of the problem's
    ({"asic": {"premium": 0.2, "units_per_quarter": 10}}, "spot.asic"),     # a custom program
    ({"alpha": {"premium": -0.1, "units_per_quarter": 10}}, "spot.alpha.premium"),
    ({"alpha": {"premium": 0.1, "units_per_quarter": 0}}, "spot.alpha.units_per_quarter"),
    ({"alpha": {"premium": 0.1, "units_per_quarter": 5, "first_quarter": "2027-Q1"}}, "spot.alpha.first_quarter"),
])
def test_bad_spot_markets_name_the_field(market, path):
    doc = base_problem()
    doc["custom_programs"] = {"asic": {"name": "ASIC", "nre_usd": 1e8, "months_to_volume": 6,
                                       "volume_per_quarter": 100, "success_probability": 0.5,
                                       "chip": chip()}}
    doc["spot"] = market
    with pytest.raises(InputError) as err:
        clustersize.load_problem(doc)
    assert path in str(err.value)


def test_a_market_opening_after_the_horizon_is_listed_as_excluded():
    doc = spot_problem(first_quarter="2035Q1")
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 400
    plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
    excluded = plan.table("exclusions")
    assert ((excluded.kind == "spot") & excluded.reason.str.contains("2035Q1")).any()
    assert plan.table("spot").empty

