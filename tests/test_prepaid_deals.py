"""Prepaid supply deals, against answers worked by hand: units bought under the deal first, the rest
forfeit, the prepayment's time value on the npv basis."""

from __future__ import annotations

import pytest

import clustersize
from clustersize import InputError
from supply_cases import REL, prepaid_problem, tampered


def test_prepaid_units_are_bought_first():
    """+100 in Q2 and Q3 prepaid at $5,000 a unit: $1M at signing, and all 200 credited, since a prepaid
    unit costs $5,000 more: the plan costs the base $10.12M."""
    plan = clustersize.solve(clustersize.load_problem(prepaid_problem(100, "2027Q2", 2, 5_000)), solver="scip")
    assert plan.verified, plan.verification
    assert plan.objective_usd == pytest.approx(10_120_000, rel=REL)
    assert list(plan.table("supply_deals").cost_usd) == pytest.approx([1_000_000])
    credits = plan.table("deal_credits")
    assert list(credits.quarter) == ["2027Q2", "2027Q3"] and list(credits.units) == pytest.approx([100, 100])
    assert credits.credit_usd.sum() == pytest.approx(1_000_000)


def test_prepaid_units_not_bought_are_forfeit():
    """+400 a quarter in Q1-Q3 at $5,000: $6M prepaid for 1,200 units, of which the run needs 1,000
    (each further unit would cost $5,000 net): $5M credited, $1M forfeit; $11.12M in all."""
    plan = clustersize.solve(clustersize.load_problem(prepaid_problem(400, "2027Q1", 3, 5_000)), solver="scip")
    assert plan.verified, plan.verification
    assert plan.objective_usd == pytest.approx(11_120_000, rel=REL)
    assert plan.table("deal_credits").units.sum() == pytest.approx(1000)


def test_a_prepayment_costs_its_time_value_on_the_npv_basis():
    """At 10 % a year, prepaying $1M on 2027-01-01 for 100 units credited on 2027-07-01 costs
    1e6 x (1 - 1.1^(-181 / 365.25)) more than a deal with no prepayment."""
    def cost(prepay: float) -> float:
        doc = prepaid_problem(100, "2027Q3", 1, prepay)
        doc["costs"].update(basis="npv", discount_rate=0.10)
        plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
        assert plan.verified, plan.verification
        return plan.objective_usd
    assert cost(10_000) - cost(0) == pytest.approx(1e6 * (1 - 1.1 ** (-181 / 365.25)), rel=1e-5)


@pytest.mark.parametrize("changes, check", [
    ({"units": 150.0}, "deal_take"),              # beyond the deal's 100 a quarter
    ({"quarter": "2027Q1"}, "deal_take"),         # a quarter the deal does not cover
    ({"deal": "other"}, "known_option"),
])
def test_the_verifier_catches_a_tampered_credit(changes, check):
    problem = clustersize.load_problem(prepaid_problem(100, "2027Q2", 2, 5_000))
    plan = clustersize.solve(problem, solver="scip")
    report = clustersize.verify(tampered(plan, "deal_credits", **changes), problem)
    assert check in {v.check for v in report.violations}, report.violations


def test_a_credit_without_purchases_is_caught():
    problem = clustersize.load_problem(prepaid_problem(100, "2027Q2", 2, 5_000))
    plan = clustersize.solve(problem, solver="scip")
    clone = tampered(plan, "purchases")
    purchases = clone.tables["purchases"]
    clone.tables["purchases"] = purchases[purchases.quarter != "2027Q2"]
    report = clustersize.verify(clone, problem)
    assert "deal_credit" in {v.check for v in report.violations}


def test_an_absurd_prepayment_is_refused_naming_the_field():
    doc = prepaid_problem(100, "2027Q2", 2, 1e17)
    with pytest.raises(InputError, match=r"supply_deals\.alloc\.prepay_usd_per_unit: 1e\+17 USD is beyond"):
        clustersize.solve(clustersize.load_problem(doc), solver="scip")
