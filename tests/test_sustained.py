"""Sustained demand: capacity served every quarter beside the runs, against answers worked by hand.

The base case (conftest.py): 1,000 units of alpha (1 PFLOP/s dense BF16 and 1 kW each, $10,000)
for a 100-day run from 2027-07-01, on a sunk 10 MW site at $50/MWh, PUE 1, draw 1; the horizon is
2027Q1 (90 days) .. 2027Q4. One unit serves 1 PFLOP/s of demand.
"""

from __future__ import annotations

import copy
import json

import pytest

import clustersize
from clustersize import InfeasibleError, InputError, Status
from clustersize.plan import Plan
from clustersize.plan.integrity import check_integrity
from clustersize.plan.verify import verify
from clustersize.schema.sustained import H100_BF16_TFLOPS, demand_by_quarter
from conftest import BASE_COST, base_problem, served_problem

REL = 1e-6
HOURS = {"2027Q1": 90 * 24.0, "2027Q2": 91 * 24.0, "2027Q3": 92 * 24.0, "2027Q4": 92 * 24.0}


def with_demand(doc: dict, **entry: object) -> dict:
    doc["sustained"] = {"inference": entry}
    return doc


def with_cloud(doc: dict, price: float, **terms: object) -> dict:
    doc["cloud_chips"] = {"alpha-cloud": {"name": "Alpha (cloud)", "vendor": "Test", "bf16_tflops": 1000.0}}
    doc["cloud"] = {"od": {"provider": "Test", "accelerator": "alpha-cloud", "country": "US", "max_units": 2000.0,
                           "units_per_instance": 1, "price_usd_per_hour": price, **terms}}
    return doc


def solve(doc: dict) -> Plan:
    plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
    assert plan.status is Status.OPTIMAL, plan.messages
    assert plan.verified, plan.verification
    return plan


def test_the_fleet_bought_early_serves_before_the_run():
    """100 PFLOP/s in 2027Q1-Q2: 100 of the run's units bought in Q1 serve first (same price), drawing
    0.1 MW for 90 + 91 days = 434.4 MWh at $50 = $21,720; no unit more than the run's 1,000."""
    plan = solve(with_demand(base_problem(), pflops={"2027Q1": 100.0}, until="2027Q2"))
    assert plan.objective_usd == pytest.approx(BASE_COST + 21_720.0, rel=REL)
    serving = plan.table("serving")
    assert set(serving.kind) == {"site"} and list(serving.quarter) == ["2027Q1", "2027Q2"]
    assert list(serving.pflops) == pytest.approx([100.0, 100.0])
    assert float(plan.table("purchases").units.sum()) == pytest.approx(1000.0)
    energy = plan.table("energy")
    served = energy[energy.run == "(sustained)"]
    assert list(served.start) == ["2027-01-01", "2027-04-01"] and list(served.days) == [90.0, 91.0]
    assert float(served.energy_mwh.sum()) == pytest.approx(434.4, rel=REL)
    fleet = plan.table("fleet").set_index("quarter")
    assert fleet.loc["2027Q1", "serving"] == pytest.approx(100.0) and fleet.loc["2027Q1", "idle"] == pytest.approx(0.0)


def test_on_demand_cloud_serves_when_buying_is_dear():
    """Buying at $1e9 a unit is never the answer: the run rents 1,000 units for 2,400 h at $4 ($9.6M)
    and the demand 100 instances for Q1 and Q2 (4,344 h): $1,737,600."""
    doc = with_cloud(with_demand(base_problem(), pflops={"2027Q1": 100.0}, until="2027Q2"), 4.0)
    doc["accelerators"]["alpha"]["price_usd"] = 1e9
    doc["run"]["max_sites"] = 2
    plan = solve(doc)
    assert plan.objective_usd == pytest.approx(9_600_000.0 + 1_737_600.0, rel=REL)
    serving = plan.table("serving")
    assert set(serving.kind) == {"cloud"}
    assert float(serving.cost_usd.sum()) == pytest.approx(1_737_600.0, rel=REL)
    costs = plan.table("costs").set_index("component")
    assert costs.loc["cloud", "full_usd"] == pytest.approx(11_337_600.0, rel=REL)


def test_demand_during_the_run_needs_hardware_of_its_own():
    """100 PFLOP/s in 2027Q3, while the run holds all 1,000 units: 100 more units ($1M) serve, drawing
    0.1 MW for 92 days = 220.8 MWh ($11,040)."""
    plan = solve(with_demand(base_problem(), pflops={"2027Q3": 100.0}, until="2027Q3"))
    assert plan.objective_usd == pytest.approx(BASE_COST + 1_000_000.0 + 11_040.0, rel=REL)
    fleet = plan.table("fleet").set_index("quarter")
    assert fleet.loc["2027Q3", "in_run"] == pytest.approx(1000.0)
    assert fleet.loc["2027Q3", "serving"] == pytest.approx(100.0)
    sites = plan.table("sites").set_index("site")
    assert sites.loc["s1", "facility_peak_mw"] == pytest.approx(1.1)


def test_a_commitment_covers_the_run_and_serving_alike():
    """A 12-month commitment from 2027Q1 at $1/h: 1,000 instances x 12 x 730 h = $8.76M covers the
    run and 100 PFLOP/s over the whole year; no on-demand hours are paid."""
    doc = with_cloud(with_demand(base_problem(), pflops=100.0), 1.0, term_months=12)
    doc["accelerators"]["alpha"]["price_usd"] = 1e9
    doc["run"]["max_sites"] = 2
    plan = solve(doc)
    commitments = plan.table("commitments")
    assert float(commitments.units.sum()) == pytest.approx(1100.0)
    assert plan.objective_usd == pytest.approx(1100 * 12 * 730 * 1.0, rel=REL)
    assert float(plan.table("serving").cost_usd.sum()) == 0.0


def test_h100_equivalents_and_steps_by_hand():
    problem = clustersize.load_problem(with_demand(base_problem(), h100e={"2027Q2": 1000.0, "2027Q4": 0.0}))
    demand = demand_by_quarter(dict(problem.sustained), problem.planning_start, 4)
    assert demand == pytest.approx([0.0, H100_BF16_TFLOPS, H100_BF16_TFLOPS, 0.0])
    assert H100_BF16_TFLOPS == 989.0


def test_an_unservable_demand_is_diagnosed():
    """10 MW at 1 kW per PFLOP/s serve at most 10,000 PFLOP/s: 12,000 in 2027Q1 is short 2 MW."""
    doc = with_demand(base_problem(), pflops={"2027Q1": 12_000.0}, until="2027Q1")
    problem = clustersize.load_problem(doc)
    with pytest.raises(InfeasibleError) as caught:
        clustersize.solve(problem, solver="scip")
    assert any("sustained demand in 2027Q1 is 12,000 PFLOP/s; at most 10,000" in m for m in caught.value.diagnosis)
    explanation = clustersize.explain(problem, break_even=False)
    site = [v for v in explanation["diagnosis"]["violations"] if v["family"] == "site_power"]
    assert site and site[0]["amount"] == pytest.approx(2.0, rel=1e-6)


@pytest.mark.parametrize("entry, field, fragment", [
    ({"pflops": 10.0, "h100e": 10.0}, "sustained.inference", "one of them"),
    ({"description": "nothing"}, "sustained.inference", "pflops"),
    ({"pflops": -1.0}, "sustained.inference.pflops", ""),
    ({"pflops": {"2026Q4": 10.0}}, "sustained.inference.pflops.2026Q4", "before the planning start"),
    ({"pflops": {"2027Q3": 10.0}, "until": "2027Q2"}, "sustained.inference.until", "before the demand starts"),
    ({"pflops": {"2027-07": 10.0}}, "sustained.inference.pflops", ""),
    ({"pflops": 10.0, "util": "2027Q2"}, "sustained.inference.util", ""),
])
def test_bad_sustained_demand_names_the_field(entry, field, fragment):
    with pytest.raises(InputError) as caught:
        clustersize.load_problem(with_demand(base_problem(), **entry))
    assert field in str(caught.value) and fragment in str(caught.value)


@pytest.fixture(scope="module")
def served() -> tuple[dict, clustersize.Problem]:
    """A plan serving from the site and from the cloud (conftest.served_problem), as written."""
    problem = clustersize.load_problem(served_problem())
    plan = clustersize.solve(problem, solver="scip")
    assert plan.verified and set(plan.table("serving").kind) == {"site", "cloud"}
    return json.loads(plan.to_json()), problem


def judge(doc: dict, problem: clustersize.Problem) -> set[str]:
    plan = Plan.from_dict(json.loads(json.dumps(doc)))
    report = verify(plan, problem)
    return {f"violation:{v['check']}" for v in report["violations"]} | {m.field for m in check_integrity(plan, problem, report)}


def test_a_written_plan_with_serving_reads_back_verified(served):
    doc, problem = served
    assert judge(doc, problem) == set()


@pytest.mark.parametrize("edit, caught", [
    (lambda rows: rows["serving"][0].update(units=rows["serving"][0]["units"] / 2), "violation:sustained_demand"),
    (lambda rows: rows["serving"][0].update(units=rows["serving"][0]["units"] + 20_000), "violation:fleet"),
    (lambda rows: rows["serving"][0].update(pflops=1.0), "tables.serving[0].pflops"),
    (lambda rows: rows["serving"][0].update(location="nowhere"), "violation:known_option"),
    (lambda rows: rows["serving"][-1].update(cost_usd=0.0), "tables.serving[{last}].cost_usd"),
    (lambda rows: rows["fleet"][0].update(serving=0.0), "tables.fleet[0].serving"),
    (lambda rows: [r.update(energy_mwh=0.0) for r in rows["energy"] if r["run"] == "(sustained)"],
     "violation:serving_energy"),
])
def test_tampered_serving_is_caught(served, edit, caught):
    doc, problem = served
    changed = copy.deepcopy(doc)
    edit(changed["tables"])
    assert caught.format(last=len(changed["tables"]["serving"]) - 1) in judge(changed, problem)
