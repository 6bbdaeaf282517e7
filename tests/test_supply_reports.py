"""Spot purchases, sales and prepaid deals as the rest of the tool reads them: explain rebuilds a
written plan's columns from its tables, and the reports show them."""

from __future__ import annotations

import pytest

import clustersize
from supply_cases import REL, SALE_VALUE, prepaid_problem, spot_problem, surplus_problem


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


def test_reports_show_deals_spot_and_sales():
    from clustersize.reports.html import render_html
    from clustersize.reports.supply import supply_options
    sold_plan = clustersize.solve(clustersize.load_problem(surplus_problem()), solver="scip")
    spot_plan = clustersize.solve(clustersize.load_problem(spot_problem()), solver="scip")
    options = supply_options(sold_plan)
    assert list(options.option) == ["sell alpha at s1"]
    assert list(options.cost_usd) == pytest.approx([-800 * SALE_VALUE], rel=REL)
    spot = supply_options(spot_plan)      # 100 units at $2,500, at most 80 in a quarter: how they split is free
    assert spot.cost_usd.sum() == pytest.approx(250_000, rel=REL) and (spot.cost_usd <= 80 * 2_500 + 1e-6).all()
    assert "Supply deals, spot purchases and sales" in render_html(sold_plan)
