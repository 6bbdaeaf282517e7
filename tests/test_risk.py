"""Two-stage plans and the shortfall penalty, against answers worked by hand.

The base case (conftest.py): 1,000 units of alpha ($10,000, 1 kW) for a 100-day run from 2027-07-01
on a sunk 10 MW site at $50/MWh: $120 of energy per unit; one unit delivers 4.32e21 FLOP.

The risk case adds a price decline of 10 % a quarter (alpha costs $10,000 in 2027Q1, $8,100 in
2027Q3), a reveal on 2027-04-01 (2027Q1 orders are first-stage) and two scenarios of probability
0.5: `normal`, and `shortage`, where no alpha can be bought in 2027Q2 or Q3. A shortfall costs
$5M per 1e24 FLOP, $21,600 per unit-equivalent. With k units ordered in Q1:

    cost(k) = k (10,000 + 120) + 0.5 (1,000 - k)(8,100 + 120) + 0.5 (1,000 - k) 21,600

whose slope is 10,120 - 4,110 - 10,800 = -4,790 < 0, so the two-stage plan orders all 1,000 in Q1:
$10,120,000 in both scenarios. The deterministic plan orders in Q3 ($8,220,000); its first stage
(nothing) costs 8,220,000 in normal and 21,600,000 in shortage: EEV $14,910,000, VSS $4,790,000.
Knowing the scenario, normal costs $8,220,000 and shortage $10,120,000: WS $9,170,000, EVPI $950,000.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pytest

import clustersize
from clustersize import InputError, Status
from clustersize.risk.extensive import Stage, extensive_form
from clustersize.risk.measures import cvar, quantile
from clustersize.risk.solve import solve_two_stage
from clustersize.risk.verify import verify_two_stage
from conftest import BASE_COST, ROOT, base_problem

REL = 1e-6
SHORTAGE = {"accelerators.alpha.supply_by_quarter.2027Q2": 0, "accelerators.alpha.supply_by_quarter.2027Q3": 0}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clustersize.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def tampered(plan):
    """A copy of a plan whose tables can be edited without touching the original."""
    clone = copy.deepcopy(plan)
    clone.tables = {k: v.copy() for k, v in plan.tables.items()}
    return clone


def risk_problem(penalty: float = 5e6, **risk: object) -> dict:
    doc = base_problem()
    doc["accelerators"]["alpha"]["price_decline_per_quarter"] = 0.1
    doc["risk"] = {"reveal": dt.date(2027, 4, 1), "shortfall_usd_per_1e24_flop": penalty, **risk}
    doc["scenarios"] = {"normal": {"probability": 0.5}, "shortage": {"probability": 0.5, "overrides": dict(SHORTAGE)}}
    return doc


@pytest.fixture(scope="module")
def hedged():
    return solve_two_stage(clustersize.load_problem(risk_problem()), solver="scip")


def test_the_two_stage_plan_orders_before_the_reveal(hedged):
    assert hedged.status is Status.OPTIMAL and hedged.verified, hedged.verification
    f = hedged.figures
    assert f["objective_usd"] == pytest.approx(10_120_000, rel=REL)
    assert f["deterministic_usd"] == pytest.approx(8_220_000, rel=REL)
    assert f["eev_usd"] == pytest.approx(14_910_000, rel=REL)
    assert f["vss_usd"] == pytest.approx(4_790_000, rel=REL)
    assert f["wait_and_see_usd"] == pytest.approx(9_170_000, rel=REL)
    assert f["evpi_usd"] == pytest.approx(950_000, rel=REL)
    scenarios = hedged.scenarios.set_index("scenario")
    assert list(scenarios.cost_usd) == pytest.approx([10_120_000, 10_120_000], rel=REL)
    assert list(scenarios.eev_usd) == pytest.approx([8_220_000, 21_600_000], rel=REL)


def test_the_hedge_is_the_order_the_deterministic_plan_does_not_place(hedged):
    first = hedged.first_stage.set_index("decision")
    assert first.loc["buy alpha at s1 in 2027Q1", "two_stage"] == pytest.approx(1000)
    assert first.loc["buy alpha at s1 in 2027Q1", "deterministic"] == pytest.approx(0)
    assert list(first.index[first.hedge]) == ["buy alpha at s1 in 2027Q1"]
    for plan in hedged.plans.values():    # each scenario's plan is a whole plan, verified on its own problem
        assert plan.verified and plan.status is Status.FEASIBLE
        purchases = plan.table("purchases")
        assert list(purchases.quarter) == ["2027Q1"] and list(purchases.units) == pytest.approx([1000])


def test_cvar_prices_the_worse_scenario():
    """All weight on CVaR50 of two equally likely scenarios: the objective is the dearer one. The
    deterministic first stage's dearer scenario costs $21.6M (VSS $11.48M); knowing the scenario,
    the dearer costs $10.12M, as the hedged plan does (EVPI 0)."""
    plan = solve_two_stage(clustersize.load_problem(risk_problem(cvar={"level": 0.5, "weight": 1.0})), solver="scip")
    assert plan.verified, plan.verification
    f = plan.figures
    assert f["objective_usd"] == pytest.approx(10_120_000, rel=REL)
    assert f["eev_usd"] == pytest.approx(21_600_000, rel=REL)
    assert f["vss_usd"] == pytest.approx(11_480_000, rel=REL)
    assert f["evpi_usd"] == pytest.approx(0, abs=1e-3)


def test_a_cheap_shortfall_is_taken_instead_of_hardware():
    """At $1M per 1e24 FLOP a unit's compute is worth $4,320, below any unit's $8,220: nothing is
    bought, the whole 4.32e24 FLOP is short in both scenarios ($4.32M), and risk is worth nothing."""
    plan = solve_two_stage(clustersize.load_problem(risk_problem(penalty=1e6)), solver="scip")
    assert plan.verified, plan.verification
    assert plan.figures["objective_usd"] == pytest.approx(4_320_000, rel=REL)
    assert plan.figures["vss_usd"] == pytest.approx(0, abs=1e-3)
    assert list(plan.scenarios.shortfall_flop) == pytest.approx([4.32e24, 4.32e24], rel=REL)


def test_a_deterministic_shortfall_on_a_small_site():
    """A 0.5 MW site holds 500 units: $5M of hardware and $60,000 of energy; the other 2.16e24 FLOP
    are short at $5M per 1e24: $10.8M. Total $15.86M, the shortfall line $10.8M."""
    doc = base_problem()
    doc["sites"]["s1"].update(max_mw=0.5, existing_mw=0.5)
    doc["risk"] = {"shortfall_usd_per_1e24_flop": 5e6}
    plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
    assert plan.verified, plan.verification
    assert plan.objective_usd == pytest.approx(15_860_000, rel=REL)
    costs = plan.table("costs").set_index("component").cost_usd
    assert costs["shortfall"] == pytest.approx(10_800_000, rel=REL)
    runs = plan.table("runs")
    assert float(runs.shortfall_flop.iloc[0]) == pytest.approx(2.16e24, rel=REL)
    assert float(runs.flop.iloc[0]) == pytest.approx(2.16e24, rel=REL)
    assert any("short" in m for m in plan.messages)


def test_one_sure_scenario_is_the_deterministic_plan():
    """A single scenario of probability 1 without overrides: the two-stage plan is the deterministic
    one (the base case, $10.12M), and neither the stochastic solution nor information is worth anything."""
    doc = base_problem()
    doc["risk"] = {"reveal": dt.date(2027, 4, 1), "shortfall_usd_per_1e24_flop": 5e6}
    doc["scenarios"] = {"sure": {"probability": 1.0}}
    plan = solve_two_stage(clustersize.load_problem(doc), solver="scip")
    assert plan.figures["objective_usd"] == pytest.approx(BASE_COST, rel=REL)
    assert plan.figures["vss_usd"] == pytest.approx(0, abs=1e-3)
    assert plan.figures["evpi_usd"] == pytest.approx(0, abs=1e-3)


def test_measures_by_hand():
    costs, probabilities = [10.0, 20.0, 40.0], [0.5, 0.3, 0.2]
    c, p = np.array(costs), np.array(probabilities)
    assert quantile(c, p, 0.5) == 10.0 and quantile(c, p, 0.6) == 20.0 and quantile(c, p, 0.9) == 40.0
    # the worst 25 %: 0.2 at 40 and 0.05 at 20 -> (8 + 1) / 0.25 = 36
    assert cvar(c, p, 0.75) == pytest.approx(36.0)


def test_the_extensive_form_ties_first_stage_columns():
    problem = clustersize.load_problem(risk_problem())
    from clustersize.data.modeldata import build_model_data
    from clustersize.formulation import build
    from clustersize.periods import reveal_quarter
    from clustersize.risk.scenarios import scenario_problems
    from clustersize.risk.stages import first_stage

    stages = []
    for sc in scenario_problems(problem):
        data = build_model_data(sc.problem)
        lp = build(data)
        stages.append(Stage(sc.name, sc.probability, lp, first_stage(lp, data, reveal_quarter(problem.planning_start,
                                                                                          dt.date(2027, 4, 1)))))
    program = extensive_form(stages)
    ties = program.row_family == "nonanticipativity"
    # buy (Q1), open, new_mw, sign, contract_mw: five first-stage columns shared by the two scenarios
    assert int(ties.sum()) == 5
    assert program.shape[1] == sum(s.lp.shape[1] for s in stages)


def test_tampering_with_one_scenarios_first_stage_is_caught(hedged):
    from clustersize.risk.scenarios import scenario_problems

    problems = {sc.name: sc.problem for sc in scenario_problems(clustersize.load_problem(risk_problem()))}
    plans = {name: tampered(plan) for name, plan in hedged.plans.items()}
    plans["shortage"].tables["purchases"].loc[0, "units"] = 900.0
    report = verify_two_stage(hedged.figures, hedged.scenarios, plans, problems)
    assert {v["check"] for v in report["violations"]} >= {"nonanticipativity"}
    figures = dict(hedged.figures, vss_usd=1.0)
    report = verify_two_stage(figures, hedged.scenarios, hedged.plans, problems)
    assert [v["index"] for v in report["violations"]] == ["vss_usd"]


def test_a_shortfall_without_a_penalty_is_caught():
    problem = clustersize.load_problem(base_problem())
    plan = clustersize.solve(problem, solver="scip")
    bad = tampered(plan)
    bad.tables["runs"].loc[0, "shortfall_flop"] = 1e23
    report = clustersize.verify(bad, problem)
    assert "shortfall" in {v["check"] for v in report["violations"]}


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["scenarios"]["normal"].update(probability=0.4), "scenarios"),
    (lambda d: d["scenarios"]["normal"].update(probability=-0.5), "scenarios.normal.probability"),
    (lambda d: d["risk"].pop("reveal"), "risk.reveal"),
    (lambda d: d["risk"].pop("shortfall_usd_per_1e24_flop"), "risk.shortfall_usd_per_1e24_flop"),
    (lambda d: d["risk"].update(cvar={"level": 1.0, "weight": 0.3}), "risk.cvar.level"),
    (lambda d: d["risk"].update(cvar={"level": 0.9, "weight": 1.5}), "risk.cvar.weight"),
    (lambda d: d["risk"].update(reveal=dt.date(2026, 1, 1)), "risk.reveal"),
    (lambda d: d["scenarios"]["shortage"]["overrides"].update({"risk.reveal": "2027-07-01"}),
     "scenarios.shortage.overrides.risk.reveal"),
])
def test_bad_risk_input_names_the_field(edit, field):
    doc = risk_problem()
    edit(doc)
    with pytest.raises(InputError) as caught:
        clustersize.load_problem(doc)
    assert field in str(caught.value)


def test_a_scenario_overriding_a_missing_field_names_it():
    doc = risk_problem()
    doc["scenarios"]["shortage"]["overrides"] = {"accelerators.alpha.prize_usd": 1}
    with pytest.raises(InputError) as caught:
        solve_two_stage(clustersize.load_problem(doc), solver="scip")
    assert "scenarios.shortage.overrides" in str(caught.value) and "prize_usd" in str(caught.value)


def test_cli_solves_the_shipped_risk_problem(tmp_path):
    """problems/custom-chip-risk.yaml: the two-stage plan orders B200 before the reveal and takes the B200
    deal, which the deterministic plan, counting on the custom chip, does not; VSS is at least 1 % of its cost."""
    out = tmp_path / "plan"
    result = cli("solve", "problems/custom-chip-risk.yaml", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "two-stage plan" in result.stdout and "VSS" in result.stdout
    doc = json.loads((out / "plan.json").read_text())
    assert doc["kind"] == "two_stage" and doc["verification"]["ok"]
    assert doc["vss_usd"] >= 0.01 * doc["expected_usd"]
    hedges = [row["decision"] for row in doc["first_stage"] if row["hedge"]]
    assert any(h.startswith("buy b200") for h in hedges) and "deal b200-option" in hedges
    problem_file = "problems/custom-chip-risk.yaml"
    verify = cli("verify", str(out / "plan.json"), problem_file)
    assert verify.returncode == 0 and "every scenario's plan" in verify.stdout, verify.stderr
    # a scenario's plan edited after the solve fails the written plan's verification
    late = out / "scenarios" / "late" / "plan.json"
    edited = json.loads(late.read_text())
    edited["tables"]["purchases"][0]["units"] += 8
    late.write_text(json.dumps(edited))
    verify = cli("verify", str(out / "plan.json"), problem_file)
    assert verify.returncode == 5 and "late" in verify.stdout, verify.stdout
    # the summary is not a single plan: reading it as one says where the scenario plans are
    with pytest.raises(InputError, match="scenarios/NAME/plan.json"):
        clustersize.plan.Plan.from_dict(doc)


def test_cli_refuses_a_report_for_a_two_stage_problem(tmp_path):
    result = cli("solve", "problems/custom-chip-risk.yaml", "--report", str(tmp_path / "r.html"))
    assert result.returncode == 2 and "--report" in result.stderr and not (tmp_path / "r.html").exists()


def test_cli_bad_probabilities_exit_2_naming_the_field(tmp_path):
    import yaml

    doc = risk_problem()
    doc["scenarios"]["normal"]["probability"] = 0.25
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = cli("solve", str(path))
    assert result.returncode == 2 and "scenarios" in result.stderr and "sum to 0.75" in result.stderr


def sampled_risk_problem(shortage: float = 0.5) -> dict:
    doc = risk_problem()
    del doc["scenarios"]
    doc["uncertainty"] = {
        "factors": {"price": {"distribution": "lognormal(1.0, 0.2)", "scales": {"accelerators.alpha.price_usd": 1.0}}},
        "events": {"supply": {"normal": {"probability": 1.0 - shortage},
                              "shortage": {"probability": shortage, "overrides": dict(SHORTAGE)}}}}
    return doc


def test_samples_scale_by_their_factor_and_draw_events_by_probability():
    from clustersize.risk.sampling import sample_overrides

    problem = clustersize.load_problem(sampled_risk_problem(shortage=0.3))
    draws = sample_overrides(problem, 4000, seed=7)
    assert draws == sample_overrides(problem, 4000, seed=7)          # the seed fixes the draws
    prices = np.array([d["accelerators.alpha.price_usd"] for d in draws])
    assert np.median(prices) == pytest.approx(10_000, rel=0.02)      # lognormal(1, 0.2) x $10,000
    assert np.std(np.log(prices)) == pytest.approx(0.2, rel=0.05)
    short = np.mean([d.get("accelerators.alpha.supply_by_quarter.2027Q2") == 0 for d in draws])
    assert abs(short - 0.3) < 3 * np.sqrt(0.3 * 0.7 / 4000)


def test_a_sure_shortage_sampled_is_the_hedged_plan_and_evaluates_exactly():
    """Every draw is a shortage, so the plan orders 1,000 units in Q1, paid at each draw's price: the
    objective is the mean of 1,000 x (price + $120) over the samples. Out of sample, the same order
    costs 1,000 x (price + $120) at each fresh price: the mean and 95 % interval of those."""
    problem = clustersize.load_problem(sampled_risk_problem(shortage=1.0))
    from clustersize.risk.sampling import sample_overrides

    plan = solve_two_stage(problem, solver="scip", samples=4, sample_seed=3, evaluate=6)
    assert plan.verified, plan.verification
    prices = [d["accelerators.alpha.price_usd"] for d in sample_overrides(problem, 4, 3)]
    assert plan.figures["objective_usd"] == pytest.approx(np.mean([1000 * (p + 120) for p in prices]), rel=REL)
    first = plan.first_stage.set_index("decision")
    assert first.loc["buy alpha at s1 in 2027Q1", "two_stage"] == pytest.approx(1000)
    oos = plan.out_of_sample
    fresh = [d["accelerators.alpha.price_usd"] for d in sample_overrides(problem, 6, oos["seed"])]
    costs = np.array([1000 * (p + 120) for p in fresh])
    assert oos["solved"] == 6 and oos["mean_usd"] == pytest.approx(costs.mean(), rel=REL)
    half = 1.959963984540054 * costs.std(ddof=1) / np.sqrt(6)
    assert oos["ci95_high_usd"] - oos["ci95_low_usd"] == pytest.approx(2 * half, rel=1e-4)
    assert plan.sampling == {"samples": 4, "seed": 3}


@pytest.mark.parametrize("edit, field", [
    (lambda u: u["events"]["supply"]["normal"].update(probability=0.2), "uncertainty.events.supply"),
    (lambda u: u["factors"]["price"].update(scales={}), "uncertainty.factors.price.scales"),
    (lambda u: u.update(parameters={"accelerators.alpha.price_usd": "uniform(1, 2)"}),
     "uncertainty.factors.price.scales.accelerators.alpha.price_usd"),
])
def test_bad_uncertainty_names_the_field(edit, field):
    doc = sampled_risk_problem()
    edit(doc["uncertainty"])
    with pytest.raises(InputError) as caught:
        clustersize.load_problem(doc)
    assert field in str(caught.value)


@pytest.mark.parametrize("edit, samples, field", [
    (lambda u: u["factors"]["price"].update(distribution="lognormal(1.0)"), 3, "uncertainty.factors.price.distribution"),
    (lambda u: u["factors"]["price"].update(scales={"sites.s1.country": 1.0}), 3, "sites.s1.country"),
    (lambda u: None, 0, "--samples"),
])
def test_bad_sampling_names_the_field(edit, samples, field):
    doc = sampled_risk_problem()
    edit(doc["uncertainty"])
    with pytest.raises(InputError) as caught:
        solve_two_stage(clustersize.load_problem(doc), solver="scip", samples=samples)
    assert field in str(caught.value)


def test_cli_samples_and_evaluate(tmp_path):
    result = cli("solve", "problems/custom-chip-risk.yaml", "--samples", "4", "--sample-seed", "1", "--evaluate", "4",
                 "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["sampling"] == {"samples": 4, "seed": 1} and len(doc["scenarios"]) == 4
    assert doc["out_of_sample"]["samples"] == 4 and doc["verification"]["ok"]
    assert cli("solve", "problems/custom-chip-risk.yaml", "--samples", "0").returncode == 2
    result = cli("solve", "problems/gpt5.yaml", "--evaluate", "3")
    assert result.returncode == 2 and "--evaluate" in result.stderr


def test_decomposition_finds_the_hand_worked_plan_and_proves_it():
    """The same answers as the extensive form, with a Lagrangian bound within the requested gap."""
    plan = solve_two_stage(clustersize.load_problem(risk_problem(method="decomposition")), solver="scip", workers=1)
    assert plan.verified, plan.verification
    assert plan.status is Status.OPTIMAL
    assert plan.figures["objective_usd"] == pytest.approx(10_120_000, rel=REL)
    assert plan.figures["vss_usd"] == pytest.approx(4_790_000, rel=REL)
    assert plan.bound_usd <= plan.figures["objective_usd"] * (1 + 1e-9)
    assert plan.bound_usd >= plan.figures["objective_usd"] * (1 - 1e-4)
    assert any("decomposition" in m for m in plan.messages)


def test_decomposition_and_extensive_form_agree_on_the_shipped_problem():
    problem = clustersize.load_problem(ROOT / "problems" / "custom-chip-risk.yaml")
    extensive = solve_two_stage(problem.with_({"risk.method": "extensive"}), solver="scip")
    decomposed = solve_two_stage(problem.with_({"risk.method": "decomposition"}), solver="scip", workers=2)
    assert decomposed.verified and extensive.verified
    assert decomposed.figures["objective_usd"] == pytest.approx(extensive.figures["objective_usd"], rel=2e-4)
    assert decomposed.bound_usd <= extensive.figures["objective_usd"] * (1 + 1e-4)


def test_decomposition_refuses_cvar():
    with pytest.raises(InputError, match="risk.method"):
        clustersize.load_problem(risk_problem(method="decomposition", cvar={"level": 0.9, "weight": 0.5}))


def deal_problem(divisible: bool) -> dict:
    """The base case with alpha's supply at 300 a quarter (900 by the run's start, 100 short) and a
    deal for 200 more a quarter in 2027Q1-Q3 at $100,000; a shortfall costs $21,600 a unit-equivalent."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 300.0
    doc["risk"] = {"shortfall_usd_per_1e24_flop": 5e6}
    doc["supply_deals"] = {"more-alpha": {"accelerator": "alpha", "units_per_quarter": 200.0, "first_quarter": "2027Q1",
                                          "quarters": 3, "fee_usd": 100_000.0, "divisible": divisible}}
    return doc


def test_a_supply_deal_is_taken_when_it_costs_less_than_the_shortfall():
    """Without the deal: 900 units ($9.108M) and 100 unit-equivalents short ($2.16M), $11.268M. With it:
    the base case's 1,000 units ($10.12M) and the fee ($0.1M), $10.22M."""
    plan = clustersize.solve(clustersize.load_problem(deal_problem(divisible=False)), solver="scip")
    assert plan.verified, plan.verification
    assert plan.objective_usd == pytest.approx(10_220_000, rel=REL)
    deals = plan.table("supply_deals").set_index("deal")
    assert deals.loc["more-alpha", "taken"] == pytest.approx(1.0)
    assert plan.table("costs").set_index("component").cost_usd["supply_deals"] == pytest.approx(100_000, rel=REL)
    assert float(plan.table("purchases").units.sum()) == pytest.approx(1000)


def test_a_divisible_deal_is_taken_in_the_share_needed():
    """Whole servers: some quarter buys ceil(1000 / 3) = 334 units, 34 above its 300, so 0.17 of the
    200 a quarter: a fee of $17,000, $10.137M in all."""
    plan = clustersize.solve(clustersize.load_problem(deal_problem(divisible=True)), solver="scip")
    assert plan.verified, plan.verification
    assert plan.table("supply_deals").taken.iloc[0] == pytest.approx(0.17, abs=1e-6)
    assert plan.objective_usd == pytest.approx(10_137_000, rel=REL)


def test_the_verifier_holds_purchases_to_the_deals_taken():
    problem = clustersize.load_problem(deal_problem(divisible=False))
    plan = clustersize.solve(problem, solver="scip")
    bad = tampered(plan)
    bad.tables["supply_deals"].loc[0, "taken"] = 0.0
    report = clustersize.verify(bad, problem)
    assert "supply_cap" in {v["check"] for v in report["violations"]}
    bad.tables["supply_deals"].loc[0, "taken"] = 0.5    # all or nothing
    report = clustersize.verify(bad, problem)
    assert "deal_share" in {v["check"] for v in report["violations"]}


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.update(accelerator="beta"), "supply_deals.more-alpha.accelerator"),
    (lambda d: d.update(component="hbm"), "supply_deals.more-alpha"),
    (lambda d: d.update(first_quarter="2027-01"), "supply_deals.more-alpha.first_quarter"),
    (lambda d: d.update(fee_usd=-1.0), "supply_deals.more-alpha.fee_usd"),
])
def test_bad_deals_name_the_field(edit, field):
    doc = deal_problem(divisible=False)
    edit(doc["supply_deals"]["more-alpha"])
    with pytest.raises(InputError) as caught:
        clustersize.load_problem(doc)
    assert field in str(caught.value)


def test_a_deal_on_unlimited_supply_is_refused():
    doc = deal_problem(divisible=False)
    del doc["accelerators"]["alpha"]["supply_per_quarter"]
    with pytest.raises(InputError, match="no supply limit"):
        clustersize.load_problem(doc)


def test_cli_risk_option_sets_the_measure():
    result = cli("solve", "problems/custom-chip-risk.yaml", "--risk", "cvar:0.9:0.3", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["measure"] == "0.7 x expected + 0.3 x CVaR90" and doc["cvar_weight"] == 0.3
    for bad, field in (("cvar:1.5:0.3", "risk.cvar.level"), ("cvar:0.9", "--risk"), ("median", "--risk")):
        result = cli("solve", "problems/custom-chip-risk.yaml", "--risk", bad)
        assert result.returncode == 2 and field in result.stderr, (bad, result.stderr)


def test_a_deal_on_an_accelerator_ruled_out_is_left_out():
    """--only-accelerators keeps alpha out of the model: the deal on it has nothing to raise and no row
    (it was an internal error). Without alpha nothing can be bought: the whole target is short, $21.6M."""
    doc = deal_problem(divisible=False)
    doc["accelerators"]["beta"] = dict(doc["accelerators"]["alpha"], name="Beta", price_usd=1e9)
    doc["filters"] = {"only_accelerators": ["beta"]}
    plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
    assert plan.verified, plan.verification
    assert plan.table("supply_deals").empty
    assert plan.objective_usd == pytest.approx(21_600_000, rel=REL)
