"""Known-answer problems: one per constraint family, optimum derived by hand, on every backend."""

from __future__ import annotations

import pytest

import clustersize
from clustersize import Status
from clustersize.solvers import get_backend
from conftest import BASE_COST, RUN_HOURS, base_problem, chip, grid, site

REL = 1e-4  # the requested gap


def solve(doc: dict, backend: str, **kwargs) -> clustersize.Plan:
    """Solve and verify; a backend that cannot prove optimality here must say FEASIBLE."""
    plan = clustersize.solve(clustersize.load_problem(doc), solver=backend, check=False, **kwargs)
    proves = get_backend(backend).capabilities.exact_continuous
    assert plan.status is (Status.OPTIMAL if proves else Status.FEASIBLE), (plan.status, plan.messages)
    assert plan.verified, plan.verification
    return plan


def units(plan: clustersize.Plan, accelerator: str) -> float:
    purchases = plan.table("purchases")
    return float(purchases.loc[purchases.accelerator == accelerator, "units"].sum())


def test_base_case(backend):
    plan = solve(base_problem(), backend)
    assert plan.objective_usd == pytest.approx(BASE_COST, rel=REL)
    assert units(plan, "alpha") == pytest.approx(1000, abs=1)


def test_supply_cap_binds(backend):
    """alpha: 300 per quarter x 3 quarters = 900 at $10k; the other 100 from beta at $15k:
    900 x 10,000 + 100 x 15,000 + 120,000 energy = 10,620,000."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 300.0
    doc["accelerators"]["beta"] = chip(price=15_000.0, name="Beta")
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(10_620_000, rel=REL)
    assert units(plan, "alpha") == pytest.approx(900)
    assert units(plan, "beta") == pytest.approx(100, abs=1)
    binding = plan.table("binding")
    assert set(binding[binding.binding & (binding.family == "supply_cap")]["index"]) == {
        "alpha,2027Q1", "alpha,2027Q2", "alpha,2027Q3"}


def test_power_limits_a_site(backend):
    """s1 holds 0.8 MW = 800 units; the rest goes to s2 ($1M to open, energy at $60/MWh):
    10M + 1M + 0.8 MW x 2,400 h x $50 + 0.2 MW x 2,400 h x $60 = 11,124,800."""
    doc = base_problem()
    doc["sites"]["s1"] = site(mw=0.8)
    doc["sites"]["s2"] = site(mw=0.5, fixed=1_000_000.0, grid_price=60.0)
    doc["contracts"]["s2-grid"] = grid("s2")
    doc["run"].update(max_sites=2, multi_site_efficiency=1.0)
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(11_124_800, rel=REL)
    sites = plan.table("sites").set_index("site")
    assert sites.loc["s1", "it_load_mw"] == pytest.approx(0.8, abs=1e-3)
    assert sites.loc["s2", "it_load_mw"] == pytest.approx(0.2, abs=1e-3)


@pytest.mark.parametrize("fixed, expected, signs", [
    # Solar at $40/MWh covers all 2,400 MWh (4 MW x 0.25 x 2,400 h): 96,000 + fixed 50,000 < grid 192,000.
    (50_000.0, 10_000_000 + 96_000 + 50_000, True),
    # With a 150,000 fixed cost solar costs 246,000 > 192,000 from the grid at $80/MWh.
    (150_000.0, 10_000_000 + 192_000, False),
])
def test_contract_choice(backend, fixed, expected, signs):
    doc = base_problem()
    doc["sites"]["s1"]["grid_price_usd_per_mwh"] = 80.0
    doc["contracts"]["s1-solar"] = {"name": "Solar", "kind": "solar_ppa", "site": "s1", "price_usd_per_mwh": 40.0,
                                    "max_mw": 10.0, "capacity_factor": 0.25, "firm_fraction": 0.0,
                                    "min_take_fraction": 1.0, "fixed_cost_usd": fixed, "carbon_g_per_kwh": 0.0}
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(expected, rel=REL)
    solar = plan.table("contracts").set_index("contract").loc["s1-solar"]
    assert bool(solar.signed) is signs
    if signs:
        assert solar.contracted_mw == pytest.approx(4.0, rel=1e-4)
        assert solar.energy_mwh == pytest.approx(RUN_HOURS, rel=1e-4)


def test_export_cap_binds(backend):
    """Diffusion rule, site in AE (Tier 2) with 4.5M TPP of cap left = 900 units of 5,000 TPP;
    the other 100 go to s2 in the US ($1M to open, energy at $60/MWh), the run crossing an ocean
    at no loss: 10M + 1M + 0.9 MW x 2,400 h x $50 + 0.1 MW x 2,400 h x $60 = 11,122,400."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["tpp"] = 5000.0
    doc["sites"]["s1"] = site(country="AE")
    doc["sites"]["s2"] = site(fixed=1_000_000.0, grid_price=60.0)
    doc["contracts"]["s2-grid"] = grid("s2")
    doc["run"].update(max_sites=2, multi_site_efficiency=1.0, allow_cross_ocean=True)
    doc["export"] = {"ruleset": "us-2025-01-diffusion", "headquarters": "US", "cap_used_tpp": {"AE": 785.5e6}}
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(11_122_400, rel=REL)
    usage = plan.table("export_usage").set_index("country").loc["AE"]
    assert usage.used_tpp == pytest.approx(4.5e6, rel=1e-6)
    assert usage.share == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("where", ["site", "headquarters"])
def test_export_prohibition(backend, where):
    """Oct-2023 rule: alpha (TPP 5,000, 3A090.a) is denied for a site in China or a buyer
    headquartered there; the uncontrolled gamma (TPP 1,000) at $20k is bought: 20M + 120k."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["tpp"] = 5000.0
    doc["accelerators"]["gamma"] = chip(price=20_000.0, name="Gamma")
    doc["export"] = {"ruleset": "us-2023-10", "headquarters": "CN" if where == "headquarters" else "US"}
    if where == "site":
        doc["sites"]["s1"]["country"] = "CN"
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(20_120_000, rel=REL)
    assert units(plan, "alpha") == 0
    excluded = plan.table("exclusions")
    row = excluded[(excluded.option == "alpha") & (excluded.kind == "purchase")].iloc[0]
    assert row.rule == "d5-presumption-of-denial"
    assert ("headquarters CN" if where == "headquarters" else "site country CN") in row.reason


@pytest.mark.parametrize("nre, expected, funded", [
    (4_000_000.0, 5_000_000 + 4_000_000 + 120_000, True),   # saves 1,000 x $5k = $5M > NRE
    (6_000_000.0, BASE_COST, False),                           # NRE above the $5M break-even
])
def test_custom_chip_break_even(backend, nre, expected, funded):
    doc = base_problem()
    doc["custom_programs"] = {"cp": {"name": "Custom", "nre_usd": nre, "months_to_volume": 0.0,
                                     "success_probability": 0.5, "volume_per_quarter": 1e6,
                                     "chip": chip(price=5_000.0, name="Custom")}}
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(expected, rel=REL)
    assert bool(plan.table("custom_programs").funded.iloc[0]) is funded
    assert plan.success_probability == (0.5 if funded else 1.0)


@pytest.mark.parametrize("price, basis, expected, rents", [
    (4.0, "full", 1000 * RUN_HOURS * 4.0, True),                  # 9.6M rent < 10.12M buy
    (4.5, "full", BASE_COST, False),                               # 10.8M rent > 10.12M buy
    (4.0, "amortised", 10_000_000 * 100 / (5 * 365.25) + 120_000, False),  # run's share of 5-year life
])
def test_rent_vs_buy(backend, price, basis, expected, rents):
    doc = base_problem()
    doc["costs"]["basis"] = basis
    doc["cloud_chips"] = {"alpha-cloud": {"name": "Alpha (cloud)", "vendor": "Test", "bf16_tflops": 1000.0}}
    doc["cloud"] = {"c1": {"provider": "Test", "accelerator": "alpha-cloud", "country": "US",
                           "price_usd_per_hour": price, "max_units": 2000.0, "units_per_instance": 1}}
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(expected, rel=REL)
    assert (len(plan.table("rentals")) > 0) is rents


@pytest.mark.parametrize("max_sites, efficiency, expected", [
    (1, None, 10_000_000 + 2_000_000 + 120_000),   # only s2 (1 MW) holds 1,000 units alone
    (2, 1.0, 10_000_000 + 500_000 + 120_000),      # s1 (0.6 MW) + s3 (0.5 MW, $0.5M)
    # At 80% two sites need 1,250 units: s1+s3 hold 1,100, s1+s2 cost 12.5M + 2M + 150k; s2 alone wins.
    (2, 0.8, 10_000_000 + 2_000_000 + 120_000),
])
def test_max_sites(backend, max_sites, efficiency, expected):
    doc = base_problem()
    doc["sites"] = {"s1": site(mw=0.6), "s2": site(mw=1.0, fixed=2_000_000.0), "s3": site(mw=0.5, fixed=500_000.0)}
    doc["contracts"] = {f"{s}-grid": grid(s) for s in doc["sites"]}
    doc["run"]["max_sites"] = max_sites
    if efficiency is not None:
        doc["run"]["multi_site_efficiency"] = efficiency
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(expected, rel=REL)


def test_infeasible_says_what_is_short(backend):
    """900 units can be had (300 x 3 quarters); 1,000 are needed: short 100 x 4.32e21 = 4.32e23 FLOP."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 300.0
    plan = clustersize.solve(clustersize.load_problem(doc), solver=backend, check=False)
    assert not plan.has_plan
    if not get_backend(backend).capabilities.exact_continuous:
        assert plan.status is Status.NO_SOLUTION   # CP-SAT's grid cannot prove infeasibility
        return
    assert plan.status is Status.INFEASIBLE
    assert any("short 4.32e+23 FLOP" in m for m in plan.messages), plan.messages
    with pytest.raises(clustersize.InfeasibleError):
        plan.raise_for_status()


def test_target_from_parameters_and_tokens(backend):
    """C = 6 N D = 6 x 1e11 x 7.2e12 = 4.32e24 FLOP: the base case."""
    doc = base_problem()
    doc["target"] = {"parameters": 1e11, "tokens": 7.2e12}
    assert solve(doc, backend).objective_usd == pytest.approx(BASE_COST, rel=REL)


def test_carbon_price(backend):
    """2,400 MWh at 400 gCO2/kWh = 960 t; at $100/t that adds $96,000."""
    doc = base_problem()
    doc["sites"]["s1"]["grid_carbon_g_per_kwh"] = 400.0
    doc["costs"]["carbon_price_usd_per_t"] = 100.0
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(BASE_COST + 96_000, rel=REL)
    contract = plan.table("contracts").iloc[0]
    assert contract.emissions_t == pytest.approx(960.0, rel=1e-6)
    assert contract.carbon_cost_usd == pytest.approx(96_000.0, rel=1e-6)


def test_component_cap(backend):
    """Lead 2 quarters leaves only 2027Q1 to order in; 600 HBM stacks at 2 per alpha = 300 alpha;
    700 beta (no HBM, $15k): 3M + 10.5M + 120k = 13,620,000."""
    doc = base_problem()
    doc["components"] = {"hbm": 600.0}
    doc["accelerators"]["alpha"].update(lead_time_quarters=2, components={"hbm": 2.0})
    doc["accelerators"]["beta"] = chip(price=15_000.0, name="Beta", lead_time_quarters=2)
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(13_620_000, rel=REL)
    assert units(plan, "alpha") == pytest.approx(300)


def test_new_capacity_is_built(backend):
    """No existing capacity; 1 MW built at $1M/MW plus a $0.5M opening cost: 10M + 1.5M + 120k."""
    doc = base_problem()
    doc["sites"]["s1"].update(existing_mw=0.0, max_mw=2.0, build_cost_usd_per_mw=1_000_000.0, fixed_cost_usd=500_000.0)
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(11_620_000, rel=REL)
    assert plan.table("sites").new_mw.iloc[0] == pytest.approx(1.0, rel=1e-6)


def test_price_decline_favours_late_orders(backend):
    """10 % per quarter: ordering in 2027Q3 (t = 2) costs 10,000 x 0.9^2 = 8,100: 8.1M + 120k."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["price_decline_per_quarter"] = 0.1
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(8_220_000, rel=REL)
    assert set(plan.table("purchases").quarter) == {"2027Q3"}


def test_energy_follows_each_accelerators_average_draw(backend):
    """alpha draws half its 1 kW on average: 1,000 units x 0.5 kW x 2,400 h = 1,200 MWh x $50 = $60,000;
    the peak (1 MW) still needs the full contracted MW. Total $10,000,000 + $60,000."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["average_draw_fraction"] = 0.5
    plan = solve(doc, backend)
    assert plan.objective_usd == pytest.approx(10_060_000, rel=REL)
    sites = plan.table("sites").set_index("site")
    assert sites.loc["s1", "facility_energy_mwh"] == pytest.approx(1_200, rel=REL)
    assert sites.loc["s1", "facility_peak_mw"] == pytest.approx(1.0, rel=REL)
