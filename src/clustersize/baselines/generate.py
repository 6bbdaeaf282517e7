"""Seeded instance generator: valid problem files from small to hyperscale.

Sizes are written ``CxSxTxK``: accelerator types, sites, quarters, energy contracts (the
shape of ../shared/reference/solver-bench.md). Specs and prices are drawn around catalog
entries (specs kept, price x U(0.8, 1.2)); site economics from the catalog's sourced ranges
(build $9.3-11.7M/MW widened to 8-14, tariffs $48-120/MWh widened to 40-120, PUE 1.1-1.5,
carbon 20-710 g/kWh). The target is 40 % of the smaller of the supply-limited and
power-limited compute, so most instances are feasible and both limits matter.
Everything is defined in the file itself, so a generated problem does not change when the
catalogs do.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from ..periods import quarter_start
from ..schema.catalog import load_catalog

COUNTRIES = ["US", "US", "US", "US", "NO", "SE", "DE", "JP", "TW", "AE", "SA", "IN", "MY", "CN"]
HEADQUARTERS = ["US", "US", "US", "AE", "NO"]
RULESETS = ["none", "us-2023-10", "us-2025-01-diffusion", "us-2026-01"]
CHIP_FIELDS = ("name", "vendor", "bf16_tflops", "fp8_tflops", "fp4_tflops", "int8_tops", "memory_gb", "mem_bw_tbps",
               "tdp_w", "it_power_kw", "die_area_mm2", "tpp", "price_type", "units_per_server")
PLANNING_START = dt.date(2027, 1, 1)
RUN_DAYS = 90.0


def parse_size(size: str | tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """'15x30x12x50' -> (15, 30, 12, 50); ValueError naming the form otherwise."""
    if isinstance(size, tuple):
        parts = size
    else:
        match = re.fullmatch(r"\s*(\d+)x(\d+)x(\d+)x(\d+)\s*", str(size))
        if not match:
            raise ValueError(f"size {size!r} is not CHIPSxSITESxQUARTERSxCONTRACTS, e.g. 15x30x12x50")
        parts = tuple(int(p) for p in match.groups())
    chips, sites, quarters, contracts = parts
    if min(chips, sites, quarters) < 1 or contracts < 0 or quarters > 40:
        raise ValueError("need chips, sites >= 1, 1 <= quarters <= 40, contracts >= 0")
    return chips, sites, quarters, contracts


def _round(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def generate_problem(size: str | tuple[int, int, int, int] = "3x3x4x4", seed: int = 0, *,
                     cloud_offers: int | None = None, custom_programs: int | None = None) -> dict:
    """A valid problem dict for `size` and `seed`; equal arguments give equal problems."""
    n_chips, n_sites, n_quarters, n_contracts = parse_size(size)
    rng = np.random.default_rng(seed)
    catalog = load_catalog()
    for_sale = [(cid, e) for cid, e in sorted(catalog.entries["accelerators"].items())
                if e.get("for_sale", True) and e.get("price_usd") is not None]
    run_start = quarter_start(PLANNING_START, n_quarters - 1)
    run_days = RUN_DAYS

    accelerators = {}
    for i in range(n_chips):
        base_id, base = for_sale[int(rng.integers(len(for_sale)))]
        chip = {k: base[k] for k in CHIP_FIELDS if base.get(k) is not None}
        chip["name"] = f"{base['name']} (variant {i})"
        chip["price_usd"] = _round(base["price_usd"] * rng.uniform(0.8, 1.2))
        chip["supply_per_quarter"] = float(rng.integers(1, 25)) * 1000.0
        chip["lead_time_quarters"] = int(rng.integers(0, min(3, n_quarters)))
        chip["price_decline_per_quarter"] = _round(rng.uniform(0.0, 0.03), 3)
        accelerators[f"chip-{i:02d}"] = chip
    uses_hbm = rng.random() < 0.5
    components = {}
    if uses_hbm:
        for chip in accelerators.values():
            chip["components"] = {"hbm_stacks": float(rng.integers(4, 9))}
        components["hbm_stacks"] = float(sum(c["supply_per_quarter"] for c in accelerators.values()) * 4)

    sites = {}
    for j in range(n_sites):
        max_mw = _round(float(np.clip(rng.lognormal(np.log(30), 1.0), 2, 500)))
        existing = _round(max_mw * rng.uniform(0.2, 1.0)) if rng.random() < 0.3 else 0.0
        sites[f"site-{j:03d}"] = {
            "name": f"Site {j}", "country": COUNTRIES[int(rng.integers(len(COUNTRIES)))],
            "pue": _round(rng.uniform(1.1, 1.5), 3), "build_cost_usd_per_mw": _round(rng.uniform(8e6, 14e6)),
            "fixed_cost_usd": _round(rng.uniform(1e7, 1e8)), "max_mw": max_mw, "existing_mw": existing,
            "build_lead_quarters": int(rng.integers(0, n_quarters + 1)),
            "grid_price_usd_per_mwh": _round(rng.uniform(40, 120)), "grid_carbon_g_per_kwh": _round(rng.uniform(20, 710)),
        }
    site_ids = list(sites)

    contracts = {}
    for k in range(n_contracts):
        sid = site_ids[k] if k < n_sites else site_ids[int(rng.integers(n_sites))]
        site_mw = sites[sid]["max_mw"] * sites[sid]["pue"]
        kind = "grid" if k < n_sites else ["solar_ppa", "wind_ppa", "nuclear_ppa", "onsite_gas"][int(rng.integers(4))]
        spec = {"name": f"{kind} {k}", "kind": kind, "site": sid, "max_mw": _round(site_mw * rng.uniform(0.3, 1.0))}
        if kind == "grid":
            spec["firm_fraction"] = 1.0
        elif kind in ("solar_ppa", "wind_ppa"):
            spec.update(price_usd_per_mwh=_round(rng.uniform(45, 75)), capacity_factor=0.245 if kind == "solar_ppa" else 0.345,
                        firm_fraction=0.0, min_take_fraction=1.0, carbon_g_per_kwh=0.0,
                        fixed_cost_usd=_round(rng.uniform(0, 5e6)), max_mw=_round(site_mw * rng.uniform(1, 3)))
        elif kind == "nuclear_ppa":
            spec.update(price_usd_per_mwh=_round(rng.uniform(60, 115)), capacity_factor=0.925, firm_fraction=1.0,
                        min_take_fraction=1.0, carbon_g_per_kwh=0.0)
        else:
            spec.update(price_usd_per_mwh=_round(rng.uniform(40, 90)), firm_fraction=1.0, carbon_g_per_kwh=400.0,
                        fixed_cost_usd_per_mw=2.4e6)
        if rng.random() < 0.2:
            spec["first_available"] = quarter_start(PLANNING_START, int(rng.integers(0, n_quarters + 1)))
        contracts[f"contract-{k:03d}"] = spec

    cloud = {}
    cloud_ids = ["h100-sxm", "b200", "tpu-v6e", "mi300x", "a100"]
    for o in range(cloud_offers if cloud_offers is not None else int(rng.integers(0, 3))):
        acc = cloud_ids[o % len(cloud_ids)]
        cloud[f"cloud-{o:02d}"] = {"provider": f"Provider {o}", "accelerator": acc, "country": "US",
                                   "price_usd_per_hour": _round(rng.uniform(1.2, 7.0)),
                                   "max_units": float(rng.integers(1, 20)) * 800.0, "units_per_instance": 8}

    programs = {}
    for p in range(custom_programs if custom_programs is not None else int(rng.integers(0, 2))):
        base_id = sorted(catalog.entries["custom_programs"])[p % len(catalog.entries["custom_programs"])]
        base_chip = catalog.entries["custom_programs"][base_id]["chip"]
        chip = {k: base_chip[k] for k in CHIP_FIELDS if base_chip.get(k) is not None}
        chip.update(price_usd=_round(rng.uniform(4000, 12000)), price_type="input",
                    lead_time_quarters=int(rng.integers(0, 2)))
        programs[f"program-{p}"] = {"name": f"Custom program {p}", "nre_usd": _round(rng.uniform(2e8, 1.5e9)),
                                    "months_to_volume": float(rng.integers(0, 3 * n_quarters)),
                                    "success_probability": _round(rng.uniform(0.4, 0.9), 2),
                                    "volume_per_quarter": float(rng.integers(5, 40)) * 1000.0, "chip": chip}

    max_sites = int(rng.integers(1, 5))
    problem = {
        "name": f"generated-{n_chips}x{n_sites}x{n_quarters}x{n_contracts}-seed{seed}",
        "description": "generated by clustersize.baselines.generate (seeded); every value is synthetic",
        "planning_start": PLANNING_START,
        "target": {"flop": 1.0},
        "run": {"deadline": run_start + dt.timedelta(days=run_days), "length_days": run_days, "mfu": 0.375,
                "average_draw_fraction": 0.75, "max_sites": max_sites,
                **({"multi_site_efficiency": _round(rng.uniform(0.85, 1.0), 3)} if max_sites > 1 else {})},
        "costs": {"basis": "full", "hardware_life_years": 5.0, "server_overhead": 1.64, "interconnect_share": 0.19,
                  "carbon_price_usd_per_t": float(rng.choice([0.0, 0.0, 50.0]))},
        "export": {"ruleset": RULESETS[int(rng.integers(len(RULESETS)))],
                   "headquarters": HEADQUARTERS[int(rng.integers(len(HEADQUARTERS)))], "licence_lead_quarters": 1},
        "solver": {"time_limit_s": 60.0, "gap": 1e-4},
        "accelerators": accelerators, "components": components, "sites": sites, "contracts": contracts,
        "cloud": cloud, "custom_programs": programs,
    }
    problem["target"]["flop"] = _round(0.4 * _reachable_flop(problem))
    return problem


def _reachable_flop(problem: dict) -> float:
    """min(supply-limited, power-limited) compute over the max_sites largest sites, ignoring
    export rules and lead times [FLOP]."""
    seconds = problem["run"]["length_days"] * 86400.0
    mfu = problem["run"]["mfu"]
    n_quarters = (problem["run"]["deadline"] - problem["planning_start"]).days // 91 + 1
    chips = list(problem["accelerators"].values())
    flop_per_unit = np.array([c["bf16_tflops"] * 1e12 * mfu * seconds for c in chips])
    units_supply = np.array([c["supply_per_quarter"] * n_quarters for c in chips])
    supply = float((flop_per_unit * units_supply).sum())
    best_per_mw = max(f / (c["it_power_kw"] / 1000.0) for f, c in zip(flop_per_unit, chips))
    largest = sorted((s["max_mw"] for s in problem["sites"].values()), reverse=True)[:problem["run"]["max_sites"]]
    power = sum(largest) * best_per_mw
    return max(min(supply, power), 1e20)
