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

REL = 1e-6
SPOT_COST = 10_120_000 + 100 * 2_500


def spot_problem(limit: str = "allocation", **market: object) -> dict:
    doc = base_problem()
    if limit == "allocation":
        doc["accelerators"]["alpha"]["supply_per_quarter"] = 300
    else:       # 8 HBM stacks a unit, 2,400 stacks a quarter: 300 units' worth
        doc["accelerators"]["alpha"]["components"] = {"hbm": 8}
        doc["components"] = {"hbm": 2400}
    doc["spot"] = {"alpha": {"premium": 0.25, "units_per_quarter": 80, **market}}
    return doc


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


def _tampered(plan, **changes):
    import copy
    clone = copy.deepcopy(plan)
    clone.tables = {k: v.copy() for k, v in plan.tables.items()}
    spot = clone.tables["spot"]
    for column, value in changes.items():
        spot.loc[spot.index[0], column] = value
    return clone


@pytest.mark.parametrize("changes, family", [
    ({"units": 150.0}, "spot_market"),              # beyond the market's depth
    ({"accelerator": "beta"}, "known_option"),      # no market
    ({"quarter": "2026Q4"}, "spot_market"),         # before the planning start
])
def test_the_verifier_catches_a_tampered_spot_row(spot_plan, changes, family):
    report = clustersize.verify(_tampered(spot_plan, **changes), clustersize.load_problem(spot_problem()))
    assert not report.ok
    assert family in {v.check for v in report.violations}, report.violations


def test_a_spot_row_without_purchases_is_caught(spot_plan):
    clone = _tampered(spot_plan)
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


# Sales before the last deadline (costs.sell_surplus). Two runs on the base case's terms: the first
# needs 1,000 alpha from 2027-04-01 for 100 days, the second 200 from 2027-10-01 to 2028-01-09.
# The best plan orders 1,000 in 2027Q2 and sells 800 at the start of 2027Q4, 183 days later, at
# 10^(-0.1 x 183 / 365.25) x (1 - 0.2) of the price: $7,129.74 a unit.
SALE_VALUE = 10_000 * 10 ** (-0.1 * 183 / 365.25) * 0.8
ENERGY = 1000 * 2400 * 0.05 + 200 * 2400 * 0.05         # 100 days x 24 h x 1 kW per unit at $50/MWh


def surplus_problem(sell: bool = True) -> dict:
    import datetime as dt
    doc = base_problem()
    shape = {k: v for k, v in doc.pop("run").items() if k not in ("start", "deadline")}
    del doc["target"]
    doc["runs"] = {"first": {"flop": 4.32e24, "start": dt.date(2027, 4, 1), "deadline": dt.date(2027, 7, 10), **shape},
                   "second": {"flop": 0.864e24, "start": dt.date(2027, 10, 1), "deadline": dt.date(2028, 1, 9), **shape}}
    doc["costs"].update(price_performance_ooms_per_year=0.1, resale_haircut=0.2, sell_surplus=sell)
    return doc


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


def _sale_tampered(plan, **changes):
    import copy
    clone = copy.deepcopy(plan)
    clone.tables = {k: v.copy() for k, v in plan.tables.items()}
    for column, value in changes.items():
        clone.tables["sales"].loc[0, column] = value
    return clone


@pytest.mark.parametrize("changes, check", [
    ({"units": 1200.0}, "sale_cohort"),          # more than the order
    ({"ordered": "2027Q1"}, "known_option"),     # no such order
    ({"quarter": "2027Q1"}, "sales_allowed"),    # before it is installed
    ({"units": 900.0}, "fleet"),                 # the second run's servers sold too
])
def test_the_verifier_catches_a_tampered_sale(sold_plan, changes, check):
    report = clustersize.verify(_sale_tampered(sold_plan, **changes), clustersize.load_problem(surplus_problem()))
    assert check in {v.check for v in report.violations}, report.violations


def test_a_sale_is_refused_when_sales_are_not_allowed(sold_plan):
    report = clustersize.verify(sold_plan, clustersize.load_problem(surplus_problem(sell=False)))
    assert "sales_allowed" in {v.check for v in report.violations}


def test_edited_proceeds_are_a_mismatch(sold_plan):
    report = clustersize.verify(_sale_tampered(sold_plan, proceeds_usd=1.0), clustersize.load_problem(surplus_problem()))
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


# Prepaid supply deals. Alpha's allocation is 300 a quarter in 2027Q1-Q3 (900 units); a deal adds
# more for a prepayment per unit, paid at signing and credited against each unit of it bought.
def prepaid_problem(per_quarter: float, first: str, quarters: int, prepay: float) -> dict:
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 300
    doc["supply_deals"] = {"alloc": {"accelerator": "alpha", "units_per_quarter": per_quarter, "first_quarter": first,
                                     "quarters": quarters, "fee_usd": 0.0, "prepay_usd_per_unit": prepay}}
    return doc


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
    import copy
    clone = copy.deepcopy(plan)
    clone.tables = {k: v.copy() for k, v in plan.tables.items()}
    for column, value in changes.items():
        clone.tables["deal_credits"].loc[0, column] = value
    report = clustersize.verify(clone, problem)
    assert check in {v.check for v in report.violations}, report.violations


def test_a_credit_without_purchases_is_caught():
    problem = clustersize.load_problem(prepaid_problem(100, "2027Q2", 2, 5_000))
    plan = clustersize.solve(problem, solver="scip")
    import copy
    clone = copy.deepcopy(plan)
    clone.tables = {k: v.copy() for k, v in plan.tables.items()}
    purchases = clone.tables["purchases"]
    clone.tables["purchases"] = purchases[purchases.quarter != "2027Q2"]
    report = clustersize.verify(clone, problem)
    assert "deal_credit" in {v.check for v in report.violations}


@pytest.mark.parametrize("doc", [spot_problem(), surplus_problem(), prepaid_problem(100, "2027Q2", 2, 5_000)],
                         ids=["spot", "sales", "prepaid"])
def test_a_plan_read_back_from_its_tables_costs_what_it_says(doc):
    """explain rebuilds a written plan's column vector from its tables: spot, sales, deals and credits
    included, it prices at the plan's objective."""
    from clustersize.data.modeldata import build_model_data
    from clustersize.explanation import solution_from_tables
    from clustersize.formulation import build
    problem = clustersize.load_problem(doc)
    plan = clustersize.solve(problem, solver="scip")
    data = build_model_data(problem)
    lp = build(data)
    assert float(lp.cost @ solution_from_tables(plan, data, lp)) * 1e6 == pytest.approx(plan.objective_usd, rel=REL)


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


def test_an_absurd_prepayment_is_refused_naming_the_field():
    doc = prepaid_problem(100, "2027Q2", 2, 1e17)
    with pytest.raises(InputError, match=r"supply_deals\.alloc\.prepay_usd_per_unit: 1e\+17 USD is beyond"):
        clustersize.solve(clustersize.load_problem(doc), solver="scip")


def test_a_market_opening_after_the_horizon_is_listed_as_excluded():
    doc = spot_problem(first_quarter="2035Q1")
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 400
    plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
    excluded = plan.table("exclusions")
    assert ((excluded.kind == "spot") & excluded.reason.str.contains("2035Q1")).any()
    assert plan.table("spot").empty


def test_reports_show_deals_spot_and_sales(sold_plan, spot_plan):
    from clustersize.reports.html import render_html
    from clustersize.reports.supply import supply_options
    options = supply_options(sold_plan)
    assert list(options.option) == ["sell alpha at s1"]
    assert list(options.cost_usd) == pytest.approx([-800 * SALE_VALUE], rel=REL)
    assert list(supply_options(spot_plan).cost_usd.round(2)) == pytest.approx([200_000, 50_000])
    assert "Supply deals, spot purchases and sales" in render_html(sold_plan)
