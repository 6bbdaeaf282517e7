"""Shared fixtures: a hand-computable base problem and the installed backends."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from clustersize.solvers import available_backends

ROOT = Path(__file__).resolve().parents[1]
ALL_PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))
TWO_STAGE_PROBLEMS = [p for p in ALL_PROBLEMS if "scenarios" in (yaml.safe_load(p.read_text()) or {})]
PROBLEMS = [p for p in ALL_PROBLEMS if p not in TWO_STAGE_PROBLEMS]
"""The deterministic problems; those with scenarios are solved as two-stage problems (test_risk.py)."""
BACKENDS = available_backends()

# Base case, derived by hand (sunk existing MW, no operating cost line, no discounting; the money
# lines have their own known answers in test_money.py):
#   one unit of "alpha" delivers 1000e12 FLOP/s x MFU 0.5 x 100 days x 86,400 s = 4.32e21 FLOP,
#   so the 4.32e24 FLOP target needs exactly 1,000 units; at $10,000 each that is $10,000,000.
#   1,000 units x 1 kW = 1 MW IT; PUE 1, draw 1 -> 1 MW x 2,400 h = 2,400 MWh x $50 = $120,000.
#   Total: $10,120,000.
BASE_COST = 10_120_000.0
RUN_HOURS = 2400.0


def chip(price: float = 10_000.0, **extra) -> dict:
    """A 1000-TFLOP/s, 1-kW, 1-unit-per-server accelerator with no server/network share."""
    spec = {"name": "Alpha", "vendor": "Test", "bf16_tflops": 1000.0, "it_power_kw": 1.0, "price_usd": price,
            "price_type": "input", "server_network_usd": 0.0, "units_per_server": 1, "lead_time_quarters": 0,
            "tpp": 1000.0}
    spec.update(extra)
    return spec


def site(mw: float = 10.0, fixed: float = 0.0, country: str = "US", grid_price: float = 50.0) -> dict:
    """An existing, powered site of `mw` IT capacity with PUE 1, already paid for (sunk)."""
    return {"name": "Site", "country": country, "pue": 1.0, "build_cost_usd_per_mw": 0.0, "fixed_cost_usd": fixed,
            "max_mw": mw, "existing_mw": mw, "build_lead_quarters": 0, "grid_price_usd_per_mwh": grid_price,
            "grid_carbon_g_per_kwh": 0.0, "existing_basis": "sunk"}


def grid(site_id: str, mw: float = 10.0) -> dict:
    """A firm grid contract at the site's tariff."""
    return {"name": "Grid", "kind": "grid", "site": site_id, "max_mw": mw, "firm_fraction": 1.0}


def base_problem() -> dict:
    """The base case as a dict (see BASE_COST)."""
    return copy.deepcopy({
        "name": "known-answer",
        "planning_start": dt.date(2027, 1, 1),
        "target": {"flop": 4.32e24},
        "run": {"deadline": dt.date(2027, 10, 9), "start": dt.date(2027, 7, 1), "length_days": 100.0,
                "mfu": 0.5, "average_draw_fraction": 1.0, "max_sites": 1},
        "costs": {"basis": "full", "hardware_life_years": 5.0, "server_overhead": 1.64, "interconnect_share": 0.19,
                  "discount_rate": 0.0, "opex_fraction_per_year": 0.0},
        "export": {"ruleset": "none"},
        "solver": {"time_limit_s": 30.0},
        "accelerators": {"alpha": chip()},
        "sites": {"s1": site()},
        "contracts": {"s1-grid": grid("s1")},
    })


def served_problem() -> dict:
    """The base case with sustained demand served by the site and by an on-demand offer: 100 PFLOP/s
    in 2027Q1-Q2 (owned units bought early), 1,500 in 2027Q3 beside the run on a 2 MW site (1,000
    owned, 500 rented at $30/h)."""
    doc = base_problem()
    doc["sustained"] = {"inference": {"pflops": {"2027Q1": 100.0, "2027Q3": 1500.0}, "until": "2027Q3"}}
    doc["cloud_chips"] = {"alpha-cloud": {"name": "Alpha (cloud)", "vendor": "Test", "bf16_tflops": 1000.0}}
    doc["cloud"] = {"od": {"provider": "Test", "accelerator": "alpha-cloud", "country": "US", "max_units": 2000.0,
                           "units_per_instance": 1, "price_usd_per_hour": 30.0}}
    doc["run"]["max_sites"] = 2
    doc["sites"]["s1"].update(max_mw=2.0, existing_mw=2.0)
    return doc


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Each installed backend in turn."""
    return request.param


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite tests/golden/*.json from the current solver results (a deliberate decision).")


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (read from /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"
