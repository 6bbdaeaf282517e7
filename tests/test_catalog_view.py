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
