"""Compatibility of problems with the catalog (issue 13): inline accelerators, stated prices, price types.

Regressions pinned here:
- a problem that defined an accelerator inline under a catalog id inherited the catalog's
  `for_sale: false` (TPU, Trainium) and was excluded, so the problem was infeasible;
- a problem that gave its own price for a cloud-only catalog chip still could not buy it.
"""

from __future__ import annotations

import typing

import pytest

import clustersize
from clustersize.schema.derived import all_in_unit_cost_usd
from clustersize.schema.problem import PriceType
from conftest import BASE_COST, base_problem, chip


def with_accelerator(aid: str, body: dict) -> dict:
    problem = base_problem()
    problem["accelerators"] = {aid: body}
    return problem


def test_inline_definition_replaces_the_catalog_entry():
    # tpu-v5p is cloud-only in the catalog; defined inline it is the problem's own chip.
    problem = clustersize.load_problem(with_accelerator("tpu-v5p", chip()))
    acc = problem.accelerators["tpu-v5p"]
    assert acc.for_sale and acc.name == "Alpha" and acc.bf16_tflops == 1000.0
    assert acc.average_draw_fraction is None and acc.price_includes is None   # nothing merged from the catalog
    assert not any(path.startswith("accelerators.tpu-v5p.memory_gb") for path in problem.provenance)
    plan = clustersize.solve(problem)
    assert plan.objective_usd == pytest.approx(BASE_COST, rel=1e-6)   # the base case, by hand in conftest


def test_partial_entry_still_merges_with_the_catalog():
    problem = clustersize.load_problem(with_accelerator("h100-sxm", {"price_usd": 25_000, "lead_time_quarters": 0}))
    acc = problem.accelerators["h100-sxm"]
    assert acc.bf16_tflops == 989 and acc.price_usd == 25_000 and acc.price_includes == "board"


def test_a_stated_price_makes_a_cloud_only_chip_purchasable():
    # TPU v4: 275 TFLOP/s x 0.5 x 100 days x 86,400 s = 1.188e21 FLOP per chip; 4.32e24 needs 3,636.4
    # chips, 910 four-chip hosts = 3,640 chips. At $5,000 chip price, all-in 5,000 x 1.64 / 0.81 =
    # $10,123.46 per chip: $36,849,383 for 3,640 chips.
    body = {"price_usd": 5000, "lead_time_quarters": 0}
    problem = clustersize.load_problem(with_accelerator("tpu-v4", body))
    assert problem.accelerators["tpu-v4"].for_sale
    assert "problem file" in problem.provenance["accelerators.tpu-v4.for_sale"]["source"]
    plan = clustersize.solve(problem)
    purchases = plan.table("purchases")
    assert purchases.units.sum() == pytest.approx(3640)
    assert purchases.capex_usd.sum() == pytest.approx(3640 * 5000 * 1.64 / 0.81, rel=1e-6)
    assert clustersize.verify(plan, problem).ok


def test_an_explicit_for_sale_false_is_kept():
    body = {"price_usd": 5000, "lead_time_quarters": 0, "for_sale": False}
    problem = clustersize.load_problem(with_accelerator("tpu-v4", body))
    assert not problem.accelerators["tpu-v4"].for_sale
    with pytest.raises(clustersize.InfeasibleError):
        clustersize.solve(problem)


def test_a_price_without_power_is_an_input_error_not_an_infeasible_plan():
    # TPU v5p publishes no power: buying it needs it_power_kw, and the error says so.
    problem = clustersize.load_problem(with_accelerator("tpu-v5p", {"price_usd": 5000, "lead_time_quarters": 0}))
    with pytest.raises(clustersize.InputError, match="it_power_kw"):
        clustersize.solve(problem)


@pytest.mark.parametrize("price_type", typing.get_args(PriceType))
def test_every_price_type_stays_valid(price_type):
    # A $10,000 price with no given share: chip level (p x 1.64 / 0.81 = $20,246.91) unless the
    # price is system-derived, which is system level ((p + 0) / 0.81 = $12,345.68).
    body = chip(price_type=price_type)
    del body["server_network_usd"]
    problem = clustersize.load_problem(with_accelerator("alpha", body))
    all_in = all_in_unit_cost_usd(problem.accelerators["alpha"], problem.costs)
    assert all_in == pytest.approx(12_345.68 if price_type == "system-derived" else 20_246.91, rel=1e-6)
    assert clustersize.solve(problem).has_plan
