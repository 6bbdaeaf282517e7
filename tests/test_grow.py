"""Runs that grow (`grow: true`): a run starts on part of its cluster and adds owned accelerators
quarter by quarter as they are installed, against an answer worked by hand.

The case: the base problem (conftest.py) with alpha sold only from 2027-07-01, 400 units a quarter,
and a 180-day run from 2027-07-01 (92 days in 2027Q3, 88 in 2027Q4). One unit-day delivers
1,000e12 x 0.5 x 86,400 = 4.32e19 FLOP, so the 4.32e24 FLOP target needs 100,000 unit-days.
Without growing, the cluster is the 400 units installed by the start: 72,000 unit-days, short.
Growing, 400 units work in 2027Q3 and the full cluster N in 2027Q4: 400 x 92 + 88 N >= 100,000
gives N >= 718.2, so 719 whole units ($7,190,000) working 36,800 + 63,272 = 100,072 unit-days at
1 kW: 2,401.728 MWh at $50 = $120,086.40. Total $7,310,086.40.
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
from conftest import base_problem


def scarce(grow: bool) -> dict:
    doc = base_problem()
    doc["accelerators"]["alpha"].update(supply_per_quarter=400.0, available_from="2027-07-01")
    doc["run"].update(deadline="2027-12-31", length_days=180.0, grow=grow)
    return doc


@pytest.fixture(scope="module")
def grown() -> tuple[Plan, clustersize.Problem]:
    problem = clustersize.load_problem(scarce(grow=True))
    plan = clustersize.solve(problem, solver="scip")
    assert plan.status is Status.OPTIMAL and plan.verified, plan.verification
    return plan, problem


def test_a_growing_run_adds_units_as_they_arrive(grown):
    plan, _ = grown
    assert plan.objective_usd == pytest.approx(7_310_086.40, rel=1e-9)
    cluster = plan.table("cluster")
    assert list(cluster.units) == [719.0] and list(cluster.days) == [88.0]
    ramp = plan.table("ramp")
    assert list(ramp.quarter) == ["2027Q3"] and list(ramp.units) == [400.0] and list(ramp.days) == [92.0]
    fleet = plan.table("fleet").set_index("quarter")
    assert list(fleet.in_run) == [400.0, 719.0] and list(fleet.idle) == [0.0, 0.0]
    assert plan.delivered_flop == pytest.approx(100_072 * 4.32e19, rel=1e-9)
    assert float(plan.table("energy").energy_mwh.sum()) == pytest.approx(2401.728, rel=1e-9)


def test_without_growing_the_same_run_is_short():
    with pytest.raises(InfeasibleError) as caught:
        clustersize.solve(clustersize.load_problem(scarce(grow=False)), solver="scip")
    assert any("all supply installed by 2027Q3" in m for m in caught.value.diagnosis)


def test_grow_must_be_a_boolean():
    doc = scarce(grow=True)
    doc["run"]["grow"] = "sometimes"
    with pytest.raises(InputError) as caught:
        clustersize.load_problem(doc)
    assert "run.grow" in str(caught.value)


def judge(doc: dict, problem: clustersize.Problem) -> set[str]:
    plan = Plan.from_dict(json.loads(json.dumps(doc)))
    report = verify(plan, problem)
    return {f"violation:{v['check']}" for v in report["violations"]} | {m.field for m in check_integrity(plan, problem, report)}


@pytest.mark.parametrize("edit, caught", [
    (lambda t: t["ramp"][0].update(units=800.0), "violation:ramp_cluster"),
    (lambda t: t["ramp"][0].update(days=180.0), "tables.ramp[0].days"),
    (lambda t: t["ramp"][0].update(quarter="2027Q4"), "violation:window"),
    (lambda t: t["cluster"][0].update(days=180.0), "tables.cluster[0].days"),
    (lambda t: t["ramp"][0].update(units=500.0) or t["cluster"][0].update(units=800.0), "violation:fleet"),
])
def test_tampered_growth_is_caught(grown, edit, caught):
    plan, problem = grown
    doc = json.loads(plan.to_json())
    assert judge(doc, problem) == set()
    changed = copy.deepcopy(doc)
    edit(changed["tables"])
    assert caught in judge(changed, problem)


def test_a_ramp_on_a_run_that_does_not_grow_is_refused(grown):
    plan, _ = grown
    fixed = clustersize.load_problem(scarce(grow=False))
    assert "violation:window" in judge(json.loads(plan.to_json()), fixed)
