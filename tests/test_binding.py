"""What binds: only limits that change the answer, each with what one more unit of it is worth."""

from __future__ import annotations

import pytest

import clustersize
from clustersize import Status
from conftest import ROOT, base_problem, chip


def test_a_supply_cap_binds_at_the_price_gap_worked_by_hand():
    """alpha ($10,000) sells 600 units, all in 2027Q3; beta ($12,000, otherwise alike) makes up the
    other 400. One more alpha in 2027Q3 replaces a beta: it saves $2,000."""
    doc = base_problem()
    doc["accelerators"]["alpha"].update(supply_per_quarter=600.0, available_from="2027-07-01")
    doc["accelerators"]["beta"] = chip(price=12_000.0, name="Beta")
    doc["run"]["mix"] = "any"
    doc["run"]["stack_efficiency"] = 1.0
    plan = clustersize.solve(clustersize.load_problem(doc), solver="scip")
    assert plan.status is Status.OPTIMAL
    binding = plan.table("binding").set_index("index")
    row = binding.loc["alpha,2027Q3"]
    assert row.family == "supply_cap" and bool(row.binding)
    assert row.value_usd == pytest.approx(2_000.0, rel=1e-6) and row.unit == "USD per accelerator"


def test_no_tight_limit_with_a_zero_value_is_called_binding():
    plan = clustersize.solve(clustersize.load_problem(ROOT / "problems" / "gpt5.yaml"), solver="scip")
    binding = plan.table("binding")
    called = binding[binding.binding]
    assert not (called.value_usd.abs() <= 1e-6).any()
    tight_but_worthless = binding[(binding.relative_slack <= 1e-6) & (binding.value_usd.abs() <= 1e-6)]
    assert len(tight_but_worthless) and not tight_but_worthless.binding.any()
    # the same values explain reports, from the same plan
    explanation = clustersize.explain(clustersize.load_problem(ROOT / "problems" / "gpt5.yaml"), plan, break_even=False)
    explained = {(m["family"], m["index"]): m["value_usd"] for m in explanation["marginal_values"]}
    priced = called[called.value_usd.notna()]
    assert len(priced) == len(explained)
    for row in priced.itertuples():
        assert row.value_usd == pytest.approx(explained[(row.family, row.index)], rel=1e-9)


def test_a_pace_level_not_chosen_is_not_a_near_tight_limit():
    """gpt5's run chooses one pace level; the target rows of the others are relaxed by their big-M
    and say nothing about the plan: only the chosen level's row is listed."""
    plan = clustersize.solve(clustersize.load_problem(ROOT / "problems" / "gpt5.yaml"), solver="scip")
    chosen = {f"{r.run}:{r.group}@{r.pace_tflops:.4g}" for r in plan.table("runs").itertuples()}
    binding = plan.table("binding")
    listed = set(binding[binding.family == "compute_target"]["index"])
    assert listed and listed <= chosen
