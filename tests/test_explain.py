"""Explanations: marginal values and break-even prices derived by hand; one infeasible
fixture per family, named with its index and the size of the shortfall."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from rich.console import Console

import clustersize
from clustersize.data.modeldata import build_model_data
from clustersize.explanation import explain
from clustersize.explanation.breakeven import _bracket, options_of
from clustersize.explanation.probes import Probe, use_columns
from clustersize.explanation.render import render
from clustersize.formulation import build
from clustersize.reports.numbers import price
from conftest import ROOT, base_problem, chip, grid, site


def values(doc: dict) -> dict[tuple[str, str], float]:
    ex = explain(clustersize.load_problem(doc), break_even=False)
    return {(m["family"], m["index"]): m["value_usd"] for m in ex["marginal_values"]}


def test_compute_target_and_run_length():
    """1e24 FLOP = 1e24 / 4.32e21 = 231.48 units of $10,000 + $120 energy = $2,342,592.59.
    Run length: N(L) = 1,000 x 100 / L units; energy N x L x 1.2 is constant; one more day
    saves 10,000 x 1,000 x 100 x (1/100 - 1/101) = $99,009.90."""
    ex = explain(clustersize.load_problem(base_problem()), break_even=False)
    marginal = {(m["family"], m["index"]): m["value_usd"] for m in ex["marginal_values"]}
    assert marginal == {("compute_target", "main:test@500"): pytest.approx(10_120 * 1e24 / 4.32e21, rel=1e-6)}
    assert ex["run_length"]["value_usd"] == pytest.approx(99_009.90, rel=1e-6)
    assert ex["diagnosis"] is None


def test_site_power_is_worth_the_energy_price_difference():
    """s1 (0.8 MW, $50/MWh) is full; the rest runs at s2 ($60/MWh). One more MW at s1 moves
    1,000 units x 2.4 MWh from $60 to $50: $24,000 per MW."""
    doc = base_problem()
    doc["sites"] = {"s1": site(mw=0.8), "s2": site(mw=0.5, fixed=1e6, grid_price=60.0)}
    doc["contracts"] = {"s1-grid": grid("s1"), "s2-grid": grid("s2")}
    doc["run"].update(max_sites=2, multi_site_efficiency=1.0)
    assert values(doc)[("site_power", "s1")] == pytest.approx(24_000, rel=1e-6)


def test_supply_is_worth_the_price_gap():
    """alpha ($10k) is capped at 300 a quarter, beta ($15k) fills the rest: one more alpha saves $5,000."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 300.0
    doc["accelerators"]["beta"] = chip(price=15_000.0, name="Beta")
    marginal = values(doc)
    for quarter in ("2027Q1", "2027Q2", "2027Q3"):
        assert marginal[("supply_cap", f"alpha,{quarter}")] == pytest.approx(5_000, rel=1e-6)


def test_export_cap_value():
    """Diffusion cap in AE binds; the rest runs in the US at $60/MWh. One H100-equivalent of cap
    (15,832 TPP = 3.1664 alpha units) moves 3.1664 x 2.4 MWh from $60 to $50: $75.99."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["tpp"] = 5000.0
    doc["sites"] = {"s1": site(country="AE"), "s2": site(fixed=1e6, grid_price=60.0)}
    doc["contracts"] = {"s1-grid": grid("s1"), "s2-grid": grid("s2")}
    doc["run"].update(max_sites=2, multi_site_efficiency=1.0, allow_cross_ocean=True)
    doc["export"] = {"ruleset": "us-2025-01-diffusion", "cap_used_tpp": {"AE": 785.5e6}}
    assert values(doc)[("export_cap", "AE")] == pytest.approx(15_832 / 5000 * 2.4 * 10, rel=1e-6)


def beta_doc(**budget: float) -> dict:
    """alpha ($10,000) and beta ($15,000), equal chips: alpha is bought."""
    doc = base_problem()
    doc["accelerators"]["beta"] = chip(price=15_000.0, name="Beta")
    if budget:
        doc["budget"] = budget
    return doc


def break_even_rows(doc: dict, tolerance: float = 0.01) -> dict[str, dict]:
    ex = explain(clustersize.load_problem(doc), tolerance=tolerance, workers=1)
    return {r["option"]: r for r in ex["break_even"]}


def test_break_even_prices():
    """beta enters below alpha's $10,000; alpha leaves above beta's $15,000 (within 1 %). A
    plan's cost is linear in a price, so each search closes in two probes past its first."""
    rows = break_even_rows(beta_doc())
    assert rows["beta"]["in_plan"] is False
    assert rows["beta"]["break_even_price"] == pytest.approx(10_000, rel=0.01)
    assert "beta 1,000" in rows["beta"]["plan_past_it"]
    assert rows["alpha"]["in_plan"] is True
    assert rows["alpha"]["break_even_price"] == pytest.approx(15_000, rel=0.01)
    assert "beta 1,000" in rows["alpha"]["plan_past_it"]
    assert rows["alpha"]["solves"] <= 3 and rows["beta"]["solves"] <= 3
    assert rows["s1-grid"]["note"].startswith("stays in the plan")


def test_break_even_prices_read_in_their_units():
    ex = explain(clustersize.load_problem(beta_doc()), tolerance=0.01, workers=1)
    console = Console(file=io.StringIO(), width=200)
    render(ex, console)
    shown = console.file.getvalue()
    assert "$15,000 per unit" in shown and "$50.00 per MWh" in shown and "e+0" not in shown
    assert [price(v, u) for v, u in ((9.3e6, "USD per MW"), (6.69, "USD per accelerator-hour"), (4e6, "USD"))] == [
        "$9.30M per MW", "$6.69 per accelerator-hour", "$4.00M"]


def test_break_even_bisects_where_a_budget_row_holds_the_price():
    """A budget row carries the purchase prices, so a plan's cost is not a line in them: the
    search bisects (more probes) and finds the same prices."""
    rows = break_even_rows(beta_doc(total_usd=1e9))
    assert rows["beta"]["break_even_price"] == pytest.approx(10_000, rel=0.01)
    assert rows["alpha"]["break_even_price"] == pytest.approx(15_000, rel=0.01)
    assert rows["alpha"]["solves"] > 5 and rows["beta"]["solves"] > 5


def test_break_even_tolerance_is_met():
    """At 1e-4 the bracket is that narrow: beta enters at $10,000 within 0.01 %."""
    rows = break_even_rows(beta_doc(), tolerance=1e-4)
    assert rows["beta"]["break_even_price"] == pytest.approx(10_000, rel=1e-4)
    assert rows["alpha"]["break_even_price"] == pytest.approx(15_000, rel=1e-4)


def test_custom_program_break_even_is_its_saving():
    """A $4M program saves 1,000 x ($10,000 - $5,000) = $5M of chips: it leaves the plan at an NRE of $5M."""
    doc = base_problem()
    doc["custom_programs"] = {"cp": {"name": "Custom", "nre_usd": 4_000_000.0, "months_to_volume": 0.0,
                                     "success_probability": 0.5, "volume_per_quarter": 1e6,
                                     "chip": chip(price=5_000.0, name="Custom")}}
    row = break_even_rows(doc)["cp"]
    assert row["in_plan"] is True
    assert row["break_even_price"] == pytest.approx(5_000_000, rel=0.01)
    assert "alpha 1,000" in row["plan_past_it"]


def test_probe_use_matches_the_plan_tables():
    """The columns a break-even search reads as "in the plan" say what the plan's tables say, for
    every option of gpt5 (sites, contracts at their megawatts, cloud, accelerators, programs)."""
    problem = clustersize.load_problem(ROOT / "problems" / "gpt5.yaml")
    plan = clustersize.solve(problem)
    lp = build(build_model_data(problem))
    tables = {
        "accelerator": set(plan.table("purchases").accelerator),
        "site": set(plan.table("sites").query("opened").site),
        "contract": set(plan.table("contracts").query("signed").contract),
        "cloud": set(plan.table("rentals").offer) | set(plan.table("commitments").offer),
        "program": set(plan.table("custom_programs").query("funded").program),
    }
    for option in options_of(problem):
        uses = bool((plan.solution[use_columns(lp, option.kind, option.option)] > 1e-6).any())
        assert uses is (option.option in tables[option.kind]), option


def diagnosis(doc: dict) -> dict:
    problem = clustersize.load_problem(doc)
    plan = clustersize.solve(problem, check=False)
    assert not plan.has_plan
    return explain(problem, plan, break_even=False)["diagnosis"]


def violation(diag: dict, families: set[str]) -> dict:
    found = [v for v in diag["violations"] if v["family"] in families]
    assert found, diag["violations"]
    return found[0]


def two_big_sites(doc):
    doc["sites"] = {"s1": site(mw=20.0), "s2": site(mw=20.0)}
    doc["contracts"] = {"s1-grid": grid("s1", 40.0), "s2-grid": grid("s2", 40.0)}
    doc["target"]["flop"] = 35 * 4.32e24   # 35,000 units = 35 MW: more than one site holds


CASES = {
    # family: (change to the base problem, families that may be named, index, shortfall)
    "supply_cap": (lambda d: d["accelerators"]["alpha"].update(supply_per_quarter=300.0), {"supply_cap"}, None, 100),
    "site_power": (lambda d: d["sites"].update(s1=site(mw=0.5)), {"site_power", "site_build"}, "s1", 0.5),
    "export_cap": (lambda d: (d["accelerators"]["alpha"].update(tpp=5000.0), d["sites"]["s1"].update(country="AE"),
                              d.update(export={"ruleset": "us-2025-01-diffusion", "cap_used_tpp": {"AE": 785.5e6}})),
                   {"export_cap"}, "AE", 500_000 / 15_832),   # 500,000 TPP in H100-equivalents
    "firm_power": (lambda d: d.update(contracts={"solar": {
        "name": "Solar", "kind": "solar_ppa", "site": "s1", "price_usd_per_mwh": 40.0, "max_mw": 10.0,
        "capacity_factor": 0.25, "firm_fraction": 0.0, "carbon_g_per_kwh": 0.0}}), {"firm_power"}, "s1,2027Q3", 1.0),
    "contract_size": (lambda d: d["contracts"]["s1-grid"].update(max_mw=0.6), {"contract_size"}, "s1-grid", 0.4),
    "max_sites": (two_big_sites, {"max_sites"}, "main", 1),
    "cloud_quota": (lambda d: (d.update(sites={}, contracts={}, cloud_chips={"alpha-cloud": {
        "name": "A", "vendor": "T", "bf16_tflops": 1000.0}}, cloud={"c1": {
            "provider": "T", "accelerator": "alpha-cloud", "country": "US", "price_usd_per_hour": 4.0,
            "max_units": 800.0, "units_per_instance": 1}})), {"cloud_quota"}, "c1,2027Q3", 200),
    "component_cap": (lambda d: (d.update(components={"hbm": 600.0}),
                                 d["accelerators"]["alpha"].update(lead_time_quarters=2, components={"hbm": 2.0})),
                      {"component_cap"}, "hbm,2027Q1", 1400),
}


@pytest.mark.parametrize("family", sorted(CASES))
def test_infeasible_problem_is_explained_by_family_index_and_size(family):
    change, families, index, shortfall = CASES[family]
    doc = base_problem()
    change(doc)
    found = violation(diagnosis(doc), families)
    if index is not None:
        assert found["index"] == index
    # A limit per quarter is short in every quarter the run covers: the largest shortfall is the size.
    largest = max(v["amount"] for v in diagnosis(doc)["violations"] if v["family"] in families)
    assert largest == pytest.approx(shortfall, rel=0.01)


def test_nothing_allowed_anywhere():
    doc = base_problem()
    doc["accelerators"]["alpha"]["tpp"] = 5000.0
    doc["sites"]["s1"]["country"] = "CN"
    doc["export"] = {"ruleset": "us-2023-10"}
    diag = diagnosis(doc)
    assert "no accelerator can be bought at any site" in diag["findings"][0]
    assert "d5-presumption-of-denial" in diag["findings"][0]
    assert violation(diag, {"compute_target"})["amount"] == pytest.approx(4.32, rel=1e-6)


def test_cli_explain(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "clustersize.cli", *a], capture_output=True,  # noqa: E731
                                    text=True, timeout=120, cwd=ROOT)
    ok = run("explain", "problems/gpt5.yaml", "--no-break-even", "--json")
    assert ok.returncode == 0, ok.stderr
    assert any(m["family"] == "supply_cap" for m in json.loads(ok.stdout)["marginal_values"])
    run("solve", "problems/gpt5.yaml", "--out", str(tmp_path / "p"))
    from_file = run("explain", "problems/gpt5.yaml", "--plan", str(tmp_path / "p" / "plan.json"), "--no-break-even",
                    "--out", str(tmp_path / "e"))
    assert from_file.returncode == 0 and "supply" in from_file.stdout
    assert json.loads((tmp_path / "e" / "plan.json").read_text())["explanation"]["marginal_values"]
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 300.0
    import yaml

    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(doc))
    bad = run("explain", str(tmp_path / "bad.yaml"))
    assert bad.returncode == 3 and "supply of alpha" in bad.stdout


@pytest.mark.parametrize("tolerance", [0.0, -0.1, float("nan")])
def test_library_explain_refuses_a_tolerance_that_can_never_be_met(tolerance, monkeypatch):
    """Refused before any solve: a zero, negative or NaN tolerance would bisect forever."""
    import clustersize.explanation as explanation

    monkeypatch.setattr(explanation, "solve", lambda *a, **k: pytest.fail("solved before checking the tolerance"))
    with pytest.raises(clustersize.InputError, match="tolerance"):
        clustersize.explain(clustersize.load_problem(base_problem()), tolerance=tolerance)


class Market:
    """A made-up option whose plans are known lines: with it, plan k costs a_k + b_k f at price
    factor f; the best plan without it costs C. `noise` misreports the cost without it, as a
    solver's gap can. The true break-even is where min_k(a_k + b_k f) meets C."""

    linear = True

    def __init__(self, lines: list[tuple[float, float]], without: float, noise: float = 0.0) -> None:
        self.lines, self.without, self.noise, self.probes = lines, without, noise, 0

    def slope(self, probe: Probe) -> float:
        return self.lines[int(probe.x[0])][1]

    def probe(self, factor: float) -> Probe:
        self.probes += 1
        k = min(range(len(self.lines)), key=lambda i: self.lines[i][0] + self.lines[i][1] * factor)
        cost = self.lines[k][0] + self.lines[k][1] * factor
        if cost < self.without:
            return Probe(factor, cost, True, np.array([float(k)]), "with")
        return Probe(factor, self.without * (1 - self.noise), False, None, "without")


@pytest.mark.parametrize("lines, without, noise, most", [
    ([(100.0, 50.0)], 200.0, 0.0, 1),                              # one plan with it: f* = 2, one probe
    ([(100.0, 50.0), (130.0, 20.0), (160.0, 5.0)], 200.0, 0.0, 2),  # the quantity falls as the price rises: f* = 8
    ([(100.0, 50.0), (130.0, 20.0), (160.0, 5.0)], 200.0, 0.02, 12),  # a 2 % misreport (a solver's gap): still found
    ([(100.0, 50.0)], 200.0, 0.02, 12),
])
def test_the_search_brackets_the_true_break_even(lines, without, noise, most):
    truth = max((without - a) / b for a, b in lines)
    market = Market(lines, without, noise)
    inside, outside = market.probe(1e-3), market.probe(64.0)
    market.probes = 0
    _, low, last_without = _bracket(market, inside, outside, 0.01)
    assert low <= truth * (1 + 1e-9) and last_without.factor >= truth * (1 - 1e-9)
    assert last_without.factor - low <= 0.01 * low
    assert market.probes <= most
