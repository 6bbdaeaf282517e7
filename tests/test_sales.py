"""Sales of surplus servers before the last deadline (costs.sell_surplus), against answers worked
by hand: the proceeds, the opex and horizon credit no longer counted, the fleet and the lease."""

from __future__ import annotations

import pytest

import clustersize
from clustersize import Status
from supply_cases import ENERGY, REL, SALE_VALUE, surplus_problem, tampered


@pytest.fixture(scope="module")
def sold_plan():
    return clustersize.solve(clustersize.load_problem(surplus_problem()), solver="scip")


def test_surplus_servers_are_sold_when_the_first_run_ends(sold_plan):
    assert sold_plan.status is Status.OPTIMAL and sold_plan.verified, sold_plan.verification
    assert sold_plan.objective_usd == pytest.approx(10_000_000 + ENERGY - 800 * SALE_VALUE, rel=REL)
    sales = sold_plan.table("sales")
    assert list(sales.ordered) == ["2027Q2"] and list(sales.quarter) == ["2027Q4"]
    assert list(sales.units) == pytest.approx([800])
    assert list(sales.proceeds_usd) == pytest.approx([800 * SALE_VALUE], rel=REL)
    fleet = sold_plan.table("fleet").groupby("quarter").installed.sum()
    assert fleet["2027Q3"] == pytest.approx(1000) and fleet["2027Q4"] == pytest.approx(200)


def test_without_sales_the_surplus_idles():
    plan = clustersize.solve(clustersize.load_problem(surplus_problem(sell=False)), solver="scip")
    assert plan.objective_usd == pytest.approx(10_000_000 + ENERGY, rel=REL)
    assert plan.table("sales").empty


def test_sales_on_the_npv_basis_give_back_the_horizon_credit():
    """At a zero discount rate the npv basis credits the resale at the horizon (2028Q2 start, 366 days
    after the order) for the 200 kept, and the sale value for the 800 sold."""
    doc = surplus_problem()
    doc["costs"]["basis"] = "npv"
    plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
    assert plan.verified, plan.verification
    kept = 10_000 * 10 ** (-0.1 * 366 / 365.25) * 0.8
    assert plan.objective_usd == pytest.approx(10_000_000 + ENERGY - 800 * SALE_VALUE - 200 * kept, rel=REL)


@pytest.mark.parametrize("changes, check", [
    ({"units": 1200.0}, "sale_cohort"),          # more than the order
    ({"ordered": "2027Q1"}, "known_option"),     # no such order
    ({"quarter": "2027Q1"}, "sales_allowed"),    # before it is installed
    ({"units": 900.0}, "fleet"),                 # the second run's servers sold too
])
def test_the_verifier_catches_a_tampered_sale(sold_plan, changes, check):
    report = clustersize.verify(tampered(sold_plan, "sales", **changes), clustersize.load_problem(surplus_problem()))
    assert check in {v.check for v in report.violations}, report.violations


def test_a_sale_is_refused_when_sales_are_not_allowed(sold_plan):
    report = clustersize.verify(sold_plan, clustersize.load_problem(surplus_problem(sell=False)))
    assert "sales_allowed" in {v.check for v in report.violations}


def test_edited_proceeds_are_a_mismatch(sold_plan):
    report = clustersize.verify(tampered(sold_plan, "sales", proceeds_usd=1.0), clustersize.load_problem(surplus_problem()))
    assert not report.ok and any("proceeds_usd" in m.field for m in report.mismatches)


def test_selling_surplus_is_recourse_in_a_two_stage_plan():
    """The second run's size is known on 2027-07-01: 1,000 units (big) or 200 (small), even odds.
    Both scenarios order 1,000 in 2027Q2 (first stage); small sells 800 in 2027Q4 (recourse)."""
    from clustersize.risk.solve import solve_two_stage
    doc = surplus_problem()
    doc["risk"] = {"reveal": "2027-07-01", "shortfall_usd_per_1e24_flop": 5e6}
    doc["scenarios"] = {"big": {"probability": 0.5, "overrides": {"runs.second.flop": 4.32e24}},
                        "small": {"probability": 0.5}}
    plan = solve_two_stage(clustersize.load_problem(doc), solver="scip")
    assert plan.verified, plan.verification
    big, small = 10_000_000 + 2 * 120_000, 10_000_000 + ENERGY - 800 * SALE_VALUE
    assert list(plan.scenarios.set_index("scenario").cost_usd) == pytest.approx([big, small], rel=REL)
    assert plan.figures["objective_usd"] == pytest.approx((big + small) / 2, rel=REL)
    assert plan.plans["big"].table("sales").empty
    assert list(plan.plans["small"].table("sales").units) == pytest.approx([800])


def test_a_sale_stops_the_lease_of_the_megawatts_it_frees():
    """On a leased site at $100 per kW-month ($300,000 per MW-quarter) the fleet holds 1 MW in 2027Q2-Q3
    and 0.2 MW after the sale, in 2027Q4 and 2028Q1: 2.4 MW-quarters, $720,000 of lease."""
    doc = surplus_problem()
    doc["sites"]["s1"].update(existing_basis="lease", lease_usd_per_kw_month=100.0)
    plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
    assert plan.verified, plan.verification
    leases = plan.table("leases").set_index("quarter").leased_mw
    assert leases.to_dict() == pytest.approx({"2027Q2": 1.0, "2027Q3": 1.0, "2027Q4": 0.2, "2028Q1": 0.2})
    assert plan.objective_usd == pytest.approx(10_000_000 + ENERGY - 800 * SALE_VALUE + 720_000, rel=REL)
