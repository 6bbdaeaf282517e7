"""`clustersize catalog accelerators`: all-in cost, $/PFLOP/s-hour, the price's type, level, date and source."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from clustersize.reports import catalog as catalog_views
from clustersize.schema.catalog import load_catalog
from conftest import ROOT

REQUIRED = {"id", "all_in_usd", "price_type", "source", "date", "usd_per_pflop_hour", "price_includes"}


def run_json() -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-m", "clustersize.cli", "catalog", "accelerators", "--format", "json"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_json_gives_one_object_per_accelerator():
    rows = run_json()
    assert [row["id"] for row in rows] == list(load_catalog().entries["accelerators"])
    assert all(REQUIRED <= set(row) for row in rows)


def test_h100_figures_by_hand():
    # HGX board price $31,905 plus a $4,000 host, network 19 % of all hardware:
    # (31,905 + 4,000) / 0.81 = $44,327.16. Over the default 5-year life (43,830 h) at 0.989 PFLOP/s:
    # 44,327.16 / (0.989 x 43,830) = $1.02259 per PFLOP/s-hour.
    h100 = {row["id"]: row for row in run_json()}["h100-sxm"]
    assert h100["all_in_usd"] == pytest.approx(44_327.16, abs=0.01)
    assert h100["usd_per_pflop_hour"] == pytest.approx(1.02259, rel=1e-5)
    assert (h100["price_type"], h100["price_includes"], h100["date"], h100["source"]) == (
        "street", "board", "2025-01-31", "EPOCH-PRICE")


def test_unpriced_chip_has_null_cost_and_system_price_keeps_its_level():
    rows = {row["id"]: row for row in json.loads(catalog_views.accelerators_json())}
    assert rows["b300"]["all_in_usd"] is None and rows["b300"]["usd_per_pflop_hour"] is None
    assert rows["b300"]["price_type"] is None and rows["b300"]["date"] is None
    # DGX A100 (2020): $24,875 per GPU for the whole system -> 24,875 / 0.81 = $30,709.88.
    assert rows["a100-40gb"]["price_includes"] == "system"
    assert rows["a100-40gb"]["all_in_usd"] == pytest.approx(30_709.88, abs=0.01)
    assert rows["a100-40gb"]["date"] == "2020-05-21"


def test_table_shows_the_new_columns_and_bad_format_is_an_input_error():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    table = subprocess.run([sys.executable, "-m", "clustersize.cli", "catalog", "accelerators"],
                           capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert table.returncode == 0 and "2025-01-31" in table.stdout and "44,327.16" in table.stdout
    bad = subprocess.run([sys.executable, "-m", "clustersize.cli", "catalog", "accelerators", "--format", "xml"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert bad.returncode == 2 and "--format" in bad.stderr and "Traceback" not in bad.stderr


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "clustersize.cli", "catalog", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env=env)


def test_sort_filter_and_csv_as_a_planner_browses():
    result = run_cli("accelerators", "--filter", "confidence == 'H' and all_in_usd > 0", "--sort", "-usd_per_pflop_hour",
                     "--format", "csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    header = lines[0].split(",")
    assert {"kw_per_pflops", "confidence", "source", "date"} <= set(header)
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    costs = [float(r["usd_per_pflop_hour"]) for r in rows]
    assert rows and costs == sorted(costs, reverse=True) and all(r["confidence"] == "H" for r in rows)
    # H100: 1.275 kW per 0.989 PFLOP/s dense BF16
    h100 = {row["id"]: row for row in run_json()}["h100-sxm"]
    assert h100["kw_per_pflops"] == pytest.approx(1.275 / 0.989, rel=1e-9)


@pytest.mark.parametrize("view", ["sites", "contracts", "cloud", "programs"])
def test_every_section_says_where_its_figures_come_from(view):
    rows = json.loads(catalog_views.render(catalog_views.VIEWS[view][1](), "json"))
    assert rows and all({"sources", "as_of", "confidence"} <= set(row) for row in rows)
    assert any(row["sources"] and row["as_of"] and row["confidence"] in ("H", "M", "L") for row in rows)


def test_cloud_price_per_pflop_hour_by_hand():
    # AWS p5 on demand: $6.88 per H100-hour over 0.989 PFLOP/s dense BF16 = $6.9565 per PFLOP/s-hour
    rows = {row["id"]: row for row in json.loads(catalog_views.render(catalog_views.cloud(), "json"))}
    assert rows["h100-aws-p5"]["usd_per_pflop_hour"] == pytest.approx(6.88 / 0.989, rel=1e-9)


@pytest.mark.parametrize("args, fragment", [
    (("accelerators", "--sort", "nope"), "--sort"), (("sites", "--filter", "pue <"), "--filter"),
    (("cloud", "--format", "xml"), "--format"), (("accelerators", "--filter", "no_such_column > 1"), "no_such_column"),
])
def test_bad_catalog_options_name_the_option(args, fragment):
    result = run_cli(*args)
    assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr
