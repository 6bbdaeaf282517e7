"""Catalog coverage and the rule that every number carries a source, date and grade."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from clustersize import InputError
from clustersize.schema.catalog import clear_catalog_cache, default_catalog_dir, load_catalog
from conftest import ROOT

GPT5 = ROOT / "problems" / "gpt5.yaml"

REQUIRED_ACCELERATORS = {"a100", "h100-sxm", "h200", "h20", "b200", "gb200", "mi300x", "mi325x", "mi355x", "gaudi3",
                         "tpu-v5p", "tpu-v6e", "trainium2", "ascend-910c", "b300", "gb300", "tpu-v7", "trainium3",
                         "v100", "a100-40gb", "tpu-v3", "tpu-v4", "h800"}
CLOUD_ONLY = ("tpu-v3", "tpu-v4", "tpu-v5p", "tpu-v6e", "tpu-v7", "trainium2", "trainium3")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_coverage(catalog):
    assert REQUIRED_ACCELERATORS <= set(catalog.entries["accelerators"])
    for cloud_only in CLOUD_ONLY:
        assert catalog.entries["accelerators"][cloud_only]["for_sale"] is False
    sites = catalog.entries["sites"]
    assert len(sites) >= 10
    countries = {s["country"] for s in sites.values()}
    assert {"US", "NO", "SE", "AE", "SA", "TW", "JP", "DE", "IN", "CN"} <= countries
    kinds = {c["kind"] for c in catalog.entries["energy_contracts"].values()}
    assert {"grid", "solar_ppa", "wind_ppa", "nuclear_ppa", "onsite_gas"} <= kinds
    assert len(catalog.entries["custom_programs"]) >= 2
    assert {"none", "us-2023-10", "us-2025-01-diffusion", "us-2026-01"} <= set(catalog.rulesets)


def test_every_number_has_provenance(catalog):
    for section, entries in catalog.entries.items():
        for eid, entry in entries.items():
            for field, value in entry.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    meta = catalog.provenance[f"{section}.{eid}.{field}"]
                    assert meta["source"] and meta["as_of"] and meta["confidence"] in "HML", (section, eid, field)


def _leaves(node, path):
    """(path, value) of every leaf under a flattened catalog entry."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}")
    else:
        yield path, node


def test_every_value_has_a_source_and_a_date(catalog):
    """Every number in every section (nested custom chips included) carries source, as_of and grade;
    every null says why; a price's date is the date of its source."""
    for section, entries in catalog.entries.items():
        for eid, entry in entries.items():
            for path, value in _leaves(entry, f"{section}.{eid}"):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    meta = catalog.provenance[path]
                    assert meta["source"] and isinstance(meta["as_of"], dt.date), path
                    assert meta["confidence"] in ("H", "M", "L"), path
                elif value is None:
                    assert catalog.provenance[path].get("note"), path
    for aid, acc in catalog.entries["accelerators"].items():
        if acc.get("price_usd") is not None:
            assert acc["price_date"] == catalog.provenance[f"accelerators.{aid}.price_usd"]["as_of"], aid


def test_no_price_mixes_levels(catalog):
    """Each price states one level (chip, board or system); the kind of figure (price_type) never decides
    the level, and the levels a kind implies hold: a system-derived price is a system price, an estimate
    is for the chip alone. A board price names its host cost; a chip price gets the overhead instead."""
    for aid, acc in catalog.entries["accelerators"].items():
        if acc.get("price_usd") is None:
            continue
        level = acc.get("price_includes")
        assert level in ("chip", "board", "system"), aid
        assert acc["price_type"] != "system-derived" or level == "system", aid
        assert acc["price_type"] != "estimate" or level == "chip", aid
        assert (level == "board") <= (acc.get("excluded_items_usd") is not None), aid
        assert (level == "chip") <= (acc.get("excluded_items_usd") is None), aid
        if acc.get("for_sale", True):
            assert catalog.provenance[f"accelerators.{aid}.price_decline_per_quarter"]["source"], aid
    # issue 13: the H100 and H200 rows are the same kind of listing (HGX board, 2025-01-31)
    h100, h200 = catalog.entries["accelerators"]["h100-sxm"], catalog.entries["accelerators"]["h200"]
    assert (h100["price_includes"], h100["price_date"]) == (h200["price_includes"], h200["price_date"]) == (
        "board", dt.date(2025, 1, 31))
    for program in catalog.entries["custom_programs"].values():
        assert program["chip"]["price_includes"] == "chip"


def test_cloud_only_chips_say_so(catalog):
    """TPU v5p has no FP8 rate; chips Google and AWS do not sell are marked, and unpublished power is null."""
    accs = catalog.entries["accelerators"]
    assert "fp8_tflops" not in accs["tpu-v5p"]
    for cid in CLOUD_ONLY:
        assert "cloud-only" in accs[cid]["notes"].lower(), cid
    for cid in ("tpu-v5p", "tpu-v6e"):
        assert accs[cid]["tdp_w"] is None and accs[cid]["it_power_kw"] is None
        assert accs[cid]["price_type"] == "estimate"


def test_draw_fraction_and_hyperscale_pue(catalog):
    """Epoch: TPUs draw 0.43 of full load in training, other chips 0.75; PUE 1.10 only where built for it."""
    for cid, acc in catalog.entries["accelerators"].items():
        assert acc["average_draw_fraction"] == (0.43 if cid.startswith("tpu") else 0.75), cid
    pues = {sid: site["pue"] for sid, site in catalog.entries["sites"].items()}
    assert pues.pop("us-tx-ai") == 1.10
    assert set(pues.values()) == {1.25}


def test_all_in_cost_by_price_level():
    """Server and network share by level, worked by hand with overhead 1.64 and network share 0.19:
    chip   H20   11,500 x 1.64 / 0.81 = 23,283.95         -> share 11,783.95
    board  H200  (39,083 + 4,000) / 0.81 = 53,188.89     -> share 14,105.89
    system B200  47,409 / 0.81 = 58,529.63               -> share 11,120.63
    system GB200 (42,400 + 694 cooling) / 0.81 = 53,202.47 -> share 10,802.47"""
    import clustersize
    from clustersize.schema.derived import derived

    problem = clustersize.load_problem(GPT5)
    share = {aid: figures.server_network_usd for aid, figures in derived(problem).items()}
    assert share["h200"] == pytest.approx(14_105.89, abs=0.01)
    assert share["b200"] == pytest.approx(11_120.63, abs=0.01)
    assert share["gb200"] == pytest.approx(10_802.47, abs=0.01)
    h20 = derived(clustersize.load_problem(GPT5, {"accelerators.h100-sxm.from": "h20"}))["h100-sxm"]
    assert h20.server_network_usd == pytest.approx(11_783.95, abs=0.01)


def test_all_in_without_a_stated_level():
    """A problem's own price without price_includes: chip-only (100 x 1.64 / 0.81 = 202.47), unless
    system-derived (100 / 0.81 = 123.46); a stated level wins over the kind of figure."""
    from clustersize.schema.derived import all_in_unit_cost_usd
    from clustersize.schema.problem import Chip, CostOptions

    costs = CostOptions(server_overhead=1.64, interconnect_share=0.19, hardware_life_years=5.0, discount_rate=0.1,
                        facility_life_years=25.0, lease_usd_per_kw_month=184.06, opex_fraction_per_year=0.05,
                        resale_haircut=0.2)
    base = {"name": "x", "vendor": "y", "bf16_tflops": 1.0, "price_usd": 100.0}
    assert all_in_unit_cost_usd(Chip(**base, price_type="estimate"), costs) == pytest.approx(202.47, abs=0.01)
    assert all_in_unit_cost_usd(Chip(**base, price_type="system-derived"), costs) == pytest.approx(123.46, abs=0.01)
    board = Chip(**base, price_type="street", price_includes="board", excluded_items_usd=20.0)
    assert all_in_unit_cost_usd(board, costs) == pytest.approx(148.15, abs=0.01)


def test_a_board_price_without_its_host_is_refused():
    import clustersize

    with pytest.raises(InputError, match="accelerators.h200.*excluded_items_usd.*host"):
        clustersize.load_problem(GPT5, {"accelerators.h200.excluded_items_usd": "null"})


def test_prices_age_from_their_own_date():
    """H100 board price of 2025-01-31 bought in 2027Q1: 700 days = 7.666 quarters at 1.29% a quarter:
    0.9871^7.666 = 0.9053 of the all-in 44,327.16 [USD] = 40,128 per GPU, 321,020 per 8-GPU server [USD]."""
    import clustersize
    from clustersize.schema.derived import all_in_unit_cost_usd

    problem = clustersize.load_problem(GPT5)
    h100 = problem.accelerators["h100-sxm"]
    assert h100.price_age_quarters(problem.planning_start) == pytest.approx(700 / 91.3125)
    first_quarter_usd = all_in_unit_cost_usd(h100, problem.costs, 0, problem.planning_start) * h100.units_per_server
    assert first_quarter_usd == pytest.approx(321_020, rel=2e-5)


def test_a_price_is_not_aged_backwards():
    """A 2025 price in a 2022 plan stays as observed: age 0, then one quarter into the price date's future
    only once planning passes that date."""
    import datetime as dt

    from clustersize.schema.problem import Chip

    chip = Chip(name="x", vendor="y", bf16_tflops=1.0, price_usd=100.0, price_date=dt.date(2025, 3, 4),
                price_decline_per_quarter=0.5)
    assert chip.price_age_quarters(dt.date(2022, 1, 1), 3) == 0.0
    assert chip.price_age_quarters(dt.date(2025, 1, 1), 1) == pytest.approx(1 - 62 / 91.3125)


def test_an_unsourced_number_is_refused(tmp_path):
    target = tmp_path / "catalogs"
    shutil.copytree(default_catalog_dir(), target)
    path = target / "accelerators.yaml"
    path.write_text(path.read_text().replace("bf16_tflops: {value: 312, source: EPOCH-HW, as_of: 2025-12-10, "
                                             "confidence: H}", "bf16_tflops: 312"))
    clear_catalog_cache()
    with pytest.raises(InputError, match="accelerators.a100.bf16_tflops.*must carry its source"):
        load_catalog(str(target))
    clear_catalog_cache()


def test_an_unknown_source_key_is_refused(tmp_path):
    target = tmp_path / "catalogs"
    shutil.copytree(default_catalog_dir(), target)
    path = target / "sites.yaml"
    path.write_text(path.read_text().replace("source: CW-2025", "source: CW-2052", 1))
    clear_catalog_cache()
    with pytest.raises(InputError, match="CW-2052"):
        load_catalog(str(target))
    clear_catalog_cache()


def test_backends_share_a_process_in_both_orders():
    """ortools and pulp (without highspy) import together in either order (solver-bench.md 3.1)."""
    import subprocess
    import sys

    for first, second in (("ortools.linear_solver.python.model_builder", "pulp"),
                          ("pulp", "ortools.linear_solver.python.model_builder")):
        code = f"import {first}; import {second}; print('ok')"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.stdout.strip() == "ok", result.stderr
