"""Objectives other than cost, budgets and the cost frontier, worked by hand on the base problem
(conftest: 1,000 alpha for 100 days reach 4.32e24 FLOP; a unit costs $10,000 plus $120 of energy
per 100 days)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pandas as pd
import pytest
import yaml

import clustersize
from clustersize.reports.numbers import usd
from clustersize.status import Status
from conftest import BASE_COST, ROOT, base_problem


def window_problem() -> dict:
    """alpha 600 a quarter; the run may start any quarter from 2027-01-01 and last 100-200 days.
    Cheapest: from 2027-01-01 for 200 days on 500 units ($5.12M, ends 2027-07-20)."""
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 600
    doc["run"] = {"deadline": dt.date(2027, 10, 9), "min_length_days": 100.0, "max_length_days": 200.0,
                  "mfu": 0.5, "average_draw_fraction": 1.0}
    return doc


def test_finish_ends_strictly_earlier_than_the_cheapest_plan():
    # From 2027-01-01 the lengths are 100, 181 (to 2027-07-01) and 200 days; 100 days need 1,000 units
    # but only 600 are installed, so 181 days on 553 units end first: $5.53M + 100,093 unit-days x
    # 24 kWh x $50/MWh = $120,111.60. From 2027-04-01 the earliest end is 100 days later (07-10).
    cheapest = clustersize.solve(clustersize.load_problem(window_problem()))
    assert cheapest.table("runs").start[0] == "2027-01-01" and cheapest.table("runs").days[0] == 200.0
    fastest = clustersize.solve(clustersize.load_problem(window_problem()), objective="finish")
    runs = fastest.table("runs")
    assert (runs.start[0], runs.days[0]) == ("2027-01-01", 181.0)
    assert fastest.objective_usd == pytest.approx(5_650_111.60, rel=1e-9)
    assert fastest.verified and fastest.status is Status.OPTIMAL


def test_a_budget_is_a_verified_limit():
    problem = clustersize.load_problem(base_problem(), {"objective.budget_usd": 11e6})
    plan = clustersize.solve(problem)
    assert plan.objective_usd == pytest.approx(BASE_COST, rel=1e-9)
    tighter = problem.with_({"objective.budget_usd": 10e6})
    assert clustersize.solve(tighter, check=False).status is Status.INFEASIBLE
    verification = clustersize.verify(plan, tighter)
    assert "budget" in {v.check for v in verification.violations}


def test_a_budget_below_any_plan_is_diagnosed_by_its_field():
    doc = base_problem()
    doc["objective"] = {"budget_usd": 5e6}
    explanation = clustersize.explain(clustersize.load_problem(doc), break_even=False)
    shortfall = [v for v in explanation["diagnosis"]["violations"] if v["family"] == "budget"]
    assert shortfall and shortfall[0]["amount"] == pytest.approx(BASE_COST - 5e6, rel=1e-6)


def test_compute_is_the_most_the_budget_buys():
    # $5.06M buys 500 units at $10,120 each (price and energy): 500 x 4.32e21 = 2.16e24 FLOP. The
    # problem's 1e24 stays a floor; the bisection stops within 0.5 % of the most.
    doc = base_problem()
    doc["target"]["flop"] = 1e24
    plan = clustersize.solve(clustersize.load_problem(doc), objective="compute", budget=5.06e6)
    assert plan.verified
    assert 2.16e24 * (1 - 0.006) <= plan.delivered_flop <= 2.16e24 * (1 + 1e-9)
    assert plan.objective_usd <= 5.06e6


def test_an_unknown_objective_run_names_its_field():
    with pytest.raises(clustersize.InputError, match="objective.run"):
        clustersize.load_problem(base_problem(), {"objective.run": "nope"})


def test_finish_by_that_no_window_meets_names_its_field():
    problem = clustersize.load_problem(base_problem(), {"objective.finish_by": "2027-08-01"})
    with pytest.raises(clustersize.InputError, match="objective.finish_by"):
        clustersize.solve(problem)


def test_frontier_cost_never_rises_as_the_finish_moves_later(tmp_path):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(window_problem()))
    done = subprocess.run([sys.executable, "-m", "clustersize.cli", "frontier", str(tmp_path / "p.yaml"),
                           "--points", "3", "--out", str(tmp_path / "f"), "--report", str(tmp_path / "f.html")],
                          capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(tmp_path / "f" / "frontier.csv")
    assert list(frame.columns) == ["finish", "cost_usd", "status", "verified"]
    assert frame.verified.all()
    assert frame.finish.iloc[0] == "2027-07-01" and frame.finish.iloc[-1] == "2027-07-20"
    costs = frame.sort_values("finish").cost_usd.to_numpy()
    assert all(later <= earlier * (1 + 1e-4) for earlier, later in zip(costs, costs[1:]))
    page = (tmp_path / "f.html").read_text()   # its own page: every point against the cheapest, verified
    assert '<figure class="chart">' in page and "3 verified points: the cheapest plan" in page
    assert all(usd(cost) in page for cost in frame.cost_usd)
