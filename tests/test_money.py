"""Money as a finance team counts it: each cost basis and money line against an answer worked by hand.

The base case (conftest.py): 1,000 units of alpha at $10,000 bought for a 100-day run from
2027-07-01 (quarter 2), $120,000 of energy, existing MW sunk; the horizon is 2027Q1..2027Q4, so the
first quarter after the last deadline starts 2028-01-01.
"""

from __future__ import annotations

import math

import pytest

import clustersize
from clustersize import InfeasibleError, InputError, Status
from clustersize.data.money import capital_recovery_factor
from conftest import BASE_COST, ROOT, base_problem

REL = 1e-4


def solve(doc: dict) -> clustersize.Plan:
    plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
    assert plan.status is Status.OPTIMAL, plan.messages
    assert plan.verified, plan.verification
    return plan


def line(plan: clustersize.Plan, component: str, basis: str) -> float:
    costs = plan.table("costs")
    return float(costs.loc[costs.component == component, f"{basis}_usd"].iloc[0])


def test_capital_recovery_factor_by_hand():
    # 0.10 / (1 - 1.1^-5) = 0.10 / (1 - 0.620921) = 0.263797; a zero rate is a straight line
    assert capital_recovery_factor(0.10, 5.0) == pytest.approx(0.263797, rel=1e-5)
    assert capital_recovery_factor(0.0, 5.0) == pytest.approx(0.2)


def test_npv_discounts_each_quarter_and_credits_resale():
    """At 10 %: hardware paid 2027-07-01 (181 days: factor 1.1^-0.49555 = 0.953867); energy 92 of its
    100 days in 2027Q3 and 8 in 2027Q4 (273 days: 0.931240); resale at 2028-01-01 (365 days:
    0.909150) of 10^(-0.14 x 184/365.25) = 0.850106 of the price, less a 20 % haircut."""
    doc = base_problem()
    doc["costs"].update(basis="npv", discount_rate=0.10, resale_haircut=0.2)
    plan = solve(doc)
    hardware = 10_000_000 * 0.9538670
    energy = 120_000 * (0.92 * 0.9538670 + 0.08 * 0.9312402)
    resale = -10_000_000 * 0.8501058 * 0.8 * 0.9091502
    assert line(plan, "hardware", "npv") == pytest.approx(hardware, rel=REL)
    assert line(plan, "energy", "npv") == pytest.approx(energy, rel=REL)
    assert line(plan, "residual", "npv") == pytest.approx(resale, rel=REL)
    assert plan.objective_usd == pytest.approx(hardware + energy + resale, rel=REL)      # $3,469,926
    assert line(plan, "residual", "full") == 0.0                                           # full: no credit
    flows = plan.table("cashflows")
    assert list(flows.quarter[:5]) == ["2027Q1", "2027Q2", "2027Q3", "2027Q4", "2028Q1"]
    assert flows.discounted_usd.sum() == pytest.approx(plan.objective_usd, rel=REL)


def test_amortised_is_capital_recovery_for_the_years_held():
    """10 % over 5 years: CRF 0.263797 a year x 100 days held (0.273785 years) = 0.072224 of $10M."""
    doc = base_problem()
    doc["costs"].update(basis="amortised", discount_rate=0.10)
    plan = solve(doc)
    assert line(plan, "hardware", "amortised") == pytest.approx(10_000_000 * 0.263797 * 100 / 365.25, rel=REL)
    assert plan.objective_usd == pytest.approx(722_238 + 120_000, rel=REL)


def cloud_only(doc: dict, **offers: dict) -> dict:
    doc["accelerators"]["alpha"]["price_usd"] = 1e9          # buying is never the answer
    doc["cloud_chips"] = {"alpha-cloud": {"name": "Alpha (cloud)", "vendor": "Test", "bf16_tflops": 1000.0}}
    doc["cloud"] = {oid: {"provider": "Test", "accelerator": "alpha-cloud", "country": "US", "max_units": 2000.0,
                          "units_per_instance": 1, **terms} for oid, terms in offers.items()}
    return doc


def test_a_three_year_commitment_is_paid_for_every_hour_of_its_term():
    """1,000 units x $2/h x 36 months x 730 h = $52.56M, though the run uses 2,400 of the 26,280 hours."""
    plan = solve(cloud_only(base_problem(), c3=dict(price_usd_per_hour=2.0, term_months=36)))
    assert plan.objective_usd == pytest.approx(52_560_000, rel=REL)
    commitments = plan.table("commitments")
    assert list(commitments.units) == [1000.0] and commitments.start.iloc[0] == "2027Q3"
    assert float(plan.table("rentals").cost_usd.sum()) == 0.0            # paid by the commitment
    cash = plan.table("cashflows")
    assert len(cash) == 2 + 12 and cash.commitments_usd.iloc[2] == pytest.approx(52_560_000 / 12, rel=REL)


def test_resale_of_committed_hours_and_an_on_demand_alternative():
    half = solve(cloud_only(base_problem(), c3=dict(price_usd_per_hour=2.0, term_months=36, resale_fraction=0.5)))
    assert half.objective_usd == pytest.approx(26_280_000, rel=REL)
    # on demand at twice the hourly price: 1,000 x $4 x 2,400 h = $9.6M beats the commitment
    both = solve(cloud_only(base_problem(), c3=dict(price_usd_per_hour=2.0, term_months=36),
                            od=dict(price_usd_per_hour=4.0)))
    assert both.objective_usd == pytest.approx(9_600_000, rel=REL) and both.table("commitments").empty


def test_a_minimum_bill_outlasts_the_runs():
    """1 MW contracted from 2027Q3 (the run's start) at $10,000/MW-month: 2027Q3-Q4 in full ($60,000);
    the 24-month term runs 6 quarters past the horizon at the 50 % minimum ($90,000)."""
    doc = base_problem()
    doc["contracts"]["s1-grid"].update(capacity_charge_usd_per_mw_month=10_000.0, term_months=24,
                                       min_bill_fraction=0.5)
    plan = solve(doc)
    assert line(plan, "capacity", "full") == pytest.approx(150_000, rel=REL)
    assert plan.objective_usd == pytest.approx(BASE_COST + 150_000, rel=REL)
    assert plan.table("cashflows").quarter.iloc[-1] == "2029Q2"


def test_capacity_per_mw_day_is_the_same_charge():
    doc = base_problem()
    doc["contracts"]["s1-grid"]["capacity_charge_usd_per_mw_day"] = 10_000.0 * 12 / 365.25
    assert solve(doc).objective_usd == pytest.approx(BASE_COST + 60_000, rel=REL)


def test_existing_megawatts_are_leased_unless_sunk():
    """1 MW leased at $100/kW-month in 2027Q3 and Q4: 2 x 3 months x 1,000 kW x $100 = $600,000."""
    doc = base_problem()
    doc["sites"]["s1"].update(existing_basis="lease", lease_usd_per_kw_month=100.0)
    plan = solve(doc)
    assert plan.objective_usd == pytest.approx(BASE_COST + 600_000, rel=REL)
    assert list(plan.table("leases").quarter) == ["2027Q3", "2027Q4"]
    doc["sites"]["s1"].update(existing_basis="book", existing_book_value_usd=2_000_000.0)
    assert solve(doc).objective_usd == pytest.approx(BASE_COST + 2_000_000, rel=REL)


def test_opex_is_a_share_of_capital_in_service():
    """4 % a year of $10M for the two quarters it is installed (2027Q3, Q4): $200,000."""
    doc = base_problem()
    doc["costs"]["opex_fraction_per_year"] = 0.04
    assert solve(doc).objective_usd == pytest.approx(BASE_COST + 200_000, rel=REL)


def test_yearly_budget_is_a_limit_the_diagnosis_names():
    doc = base_problem()
    doc["budget"] = {"per_year_usd": 11_000_000.0}
    assert solve(doc).objective_usd == pytest.approx(BASE_COST, rel=REL)
    doc["budget"] = {"per_year_usd": 9_000_000.0}
    problem = clustersize.load_problem(doc)
    with pytest.raises(InfeasibleError) as caught:
        clustersize.solve(problem, solver="scip")
    assert caught.value.diagnosis[0] == ("budget.per_year_usd: $9,000,000 is below what the cheapest plan without "
                                         "it pays in 2027, $10,120,000; raise it, or allow a later deadline so the "
                                         "spending can spread")
    diagnosis = clustersize.explain(problem).diagnosis
    assert diagnosis is not None
    (excess,) = diagnosis.violations      # $10.12M paid in 2027 against $9M
    assert excess.family == "annual_budget" and excess.amount == pytest.approx(1_120_000, rel=REL)


def test_a_total_budget_below_the_cheapest_plan_says_by_how_much():
    doc = base_problem()
    doc["budget"] = {"total_usd": 10_000_000.0}
    with pytest.raises(InfeasibleError) as caught:
        clustersize.solve(clustersize.load_problem(doc), solver="scip")
    assert caught.value.diagnosis[0].startswith("budget.total_usd: $10,000,000 is below the cheapest plan without it, "
                                                "$10,120,000 on the full basis")


@pytest.mark.parametrize("edit, field", [
    ({"costs.discount_rate": -1.0}, "costs.discount_rate"),
    ({"costs.discount_rate": 8.0}, "costs.discount_rate"),
    ({"costs.resale_haircut": 1.5}, "costs.resale_haircut"),
    ({"contracts.s1-grid.term_months": 2.0}, "term_months"),
    ({"contracts.s1-grid.min_bill_fraction": 0.5}, "min_bill_fraction"),
    ({"sites.s1.existing_basis": "book"}, "existing_book_value_usd"),
    ({"budget.per_year_usd": -5.0}, "budget.per_year_usd"),
])
def test_bad_money_input_names_the_field(edit, field):
    with pytest.raises(InputError) as caught:
        clustersize.load_problem(base_problem(), edit)
    assert field in str(caught.value)


@pytest.mark.parametrize("terms, field", [
    (dict(term_months=2.0), "term_months"),
    (dict(term_months=36, resale_fraction=1.5), "resale_fraction"),
    (dict(term_start="2027-07-01"), "term_start"),
])
def test_bad_commitment_terms_name_the_field(terms, field):
    doc = cloud_only(base_problem(), c3=dict(price_usd_per_hour=2.0, **terms))
    with pytest.raises(InputError) as caught:
        clustersize.load_problem(doc)
    assert field in str(caught.value) and "cloud.c3" in str(caught.value)


def test_fixed_commitment_start_is_kept():
    plan = solve(cloud_only(base_problem(), c3=dict(price_usd_per_hour=2.0, term_months=12,
                                                    term_start="2027-04-01")))
    assert plan.table("commitments").start.iloc[0] == "2027Q2"
    assert math.isclose(plan.objective_usd, 1000 * 2.0 * 12 * 730, rel_tol=REL)


def test_each_leased_site_counts_only_its_own_hardware():
    """Regression: the installed-MW chain of one leased site ran into the next site's first quarter, so
    1 MW at s1 demanded 1 MW of lease at s2 (0.5 MW: infeasible). s1 alone: BASE + $600,000."""
    from conftest import grid, site

    doc = base_problem()
    doc["sites"] = {"s1": {**site(mw=1.0), "existing_basis": "lease", "lease_usd_per_kw_month": 100.0},
                    "s2": {**site(mw=0.5), "existing_basis": "lease", "lease_usd_per_kw_month": 100.0}}
    doc["contracts"] = {f"{s}-grid": grid(s) for s in doc["sites"]}
    plan = solve(doc)
    assert plan.objective_usd == pytest.approx(BASE_COST + 600_000, rel=REL)
    assert set(plan.table("leases").site) == {"s1"}


def phased_site(energised: dict) -> dict:
    doc = base_problem()
    doc["sites"]["s1"].update(existing_mw=0.0, max_mw=2.0, build_cost_usd_per_mw=1_000_000.0,
                              energised_mw=energised)
    return doc


def test_a_grid_connection_energised_in_phases():
    """The run needs 1 MW from 2027Q3: a first phase of 1 MW then is enough (BASE + 1 MW x $1M); one of
    0.5 MW is not, and the diagnosis names the phase."""
    plan = solve(phased_site({"2027Q3": 1.0, "2027Q4": 2.0}))
    assert plan.objective_usd == pytest.approx(BASE_COST + 1_000_000, rel=REL)
    problem = clustersize.load_problem(phased_site({"2027Q3": 0.5, "2027Q4": 2.0}))
    with pytest.raises(InfeasibleError):
        clustersize.solve(problem, solver="scip")
    diagnosis = clustersize.explain(problem).diagnosis
    assert diagnosis is not None and diagnosis.violations[0].family == "site_phase"
    assert diagnosis.violations[0].amount == pytest.approx(0.5, rel=REL)


@pytest.mark.parametrize("energised, fragment", [
    ({"2027Q3": 1.0, "2027Q4": 0.5}, "never decreasing"),
    ({"2027Q3": 5.0}, "more new capacity than the site can take"),
    ({"2026Q4": 1.0}, "before planning_start"),
])
def test_bad_phases_name_the_field(energised, fragment):
    with pytest.raises(InputError) as caught:
        clustersize.solve(clustersize.load_problem(phased_site(energised)), solver="scip")
    message = str(caught.value)
    assert ("sites.s1.energised_mw" in message or "sites.s1: Value error, energised_mw" in message) and fragment in message


def test_a_duty_in_the_export_ruleset_raises_the_chip_price():
    """us-2026-01: an H100-class chip (TPP 15,832, 3.35 TB/s) for a site in China goes by the
    case-by-case licence and pays the 25 % Section 232 tariff on its price: 1,000 x $2,500 = $2.5M."""
    doc = base_problem()
    doc["accelerators"]["alpha"].update(tpp=15_832.0, mem_bw_tbps=3.35, vendor="NVIDIA")
    doc["sites"]["s1"]["country"] = "CN"
    doc["export"] = {"ruleset": "us-2026-01", "headquarters": "US", "licence_lead_quarters": 1}
    plan = solve(doc)
    assert plan.objective_usd == pytest.approx(BASE_COST + 2_500_000, rel=REL)
    assert plan.table("purchases").unit_cost_usd.iloc[0] == pytest.approx(12_500.0)
    doc["sites"]["s1"]["country"] = "US"           # no duty for a US datacentre
    assert solve(doc).objective_usd == pytest.approx(BASE_COST, rel=REL)


def test_a_commitment_term_before_the_planning_start_is_refused():
    doc = cloud_only(base_problem(), c3=dict(price_usd_per_hour=2.0, term_months=36, term_start="2026-07-01"))
    with pytest.raises(InputError) as caught:
        clustersize.solve(clustersize.load_problem(doc), solver="scip")
    assert "cloud.c3.term_start" in str(caught.value) and "before planning_start" in str(caught.value)


def test_build_cost_by_item_adds_up():
    """Shell and MEP $1M/MW plus liquid cooling $0.4M/MW: 1 MW built costs $1.4M."""
    doc = phased_site({"2027Q3": 1.0})
    doc["sites"]["s1"].pop("build_cost_usd_per_mw")
    doc["sites"]["s1"]["build_cost_items_usd_per_mw"] = {"shell_mep": 1_000_000.0, "liquid_cooling": 400_000.0}
    assert solve(doc).objective_usd == pytest.approx(BASE_COST + 1_400_000, rel=REL)
    doc["sites"]["s1"]["build_cost_usd_per_mw"] = 2_000_000.0
    with pytest.raises(InputError) as caught:
        clustersize.load_problem(doc)
    assert "build_cost_usd_per_mw" in str(caught.value) and "sum of build_cost_items_usd_per_mw" in str(caught.value)


def test_a_run_that_starts_before_its_site_is_energised_is_told_so():
    """The run starts 2027Q3, but the only site's new MW are energised from 2027Q4: the pre-check says so."""
    problem = clustersize.load_problem(phased_site({"2027Q4": 2.0}))
    with pytest.raises(InfeasibleError) as caught:
        clustersize.solve(problem, solver="scip")
    assert any("energised only after the run's latest start: s1 (2027Q4)" in m for m in caught.value.diagnosis), \
        caught.value.diagnosis


def test_money_tables_round_trip_and_verify(tmp_path):
    """A plan with a commitment, leases and a minimum bill reads back from its file and verifies."""
    import json

    from clustersize.plan import Plan, verify

    doc = cloud_only(base_problem(), c3=dict(price_usd_per_hour=0.5, term_months=12))   # $4,380 a unit-year
    doc["accelerators"]["alpha"]["price_usd"] = 10_000.0
    doc["cloud"]["c3"]["max_units"] = 400.0
    doc["run"]["max_sites"] = 2                     # the site and the offer together
    doc["sites"]["s1"].update(existing_basis="lease", lease_usd_per_kw_month=100.0)
    doc["contracts"]["s1-grid"].update(capacity_charge_usd_per_mw_month=10_000.0, term_months=24,
                                       min_bill_fraction=0.5)
    problem = clustersize.load_problem(doc)
    plan = solve(doc)
    assert not plan.table("commitments").empty and not plan.table("leases").empty
    clustersize.write_plan(plan, tmp_path / "out")
    again = Plan.from_dict(json.loads((tmp_path / "out" / "plan.json").read_text()))
    report = verify(again, problem)
    assert report.ok, report


def test_tables_show_round_off_as_zero():
    """gpt5's plan had new_mw -0.0 at us-va (solver round-off): tables read 0, never -0.0."""
    import numpy as np

    plan = clustersize.solve(clustersize.load_problem(ROOT / "problems" / "gpt5.yaml"))
    for name, frame in plan.tables.items():
        for column in frame.select_dtypes("float").columns:
            values = frame[column].to_numpy()
            assert not np.any((values == 0) & np.signbit(values)), (name, column)
            assert not np.any((values != 0) & (np.abs(values) < 1e-9)), (name, column)
