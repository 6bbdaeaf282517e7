"""Seeded instance generator: valid problem files from small to hyperscale.

Sizes are written ``CxSxTxK``: accelerator types, sites, quarters, energy contracts (the
shape of ../shared/reference/solver-bench.md). Specs and prices are drawn around catalog
entries (specs kept, price x U(0.8, 1.2)); site economics from the catalog's sourced ranges
(build $9.3-11.7M/MW widened to 8-14, tariffs $48-120/MWh widened to 40-120, PUE 1.1-1.5,
carbon 20-710 g/kWh). Each chip first draws its software stack (cuda half the time, rocm and
gaudi a quarter each), then a catalog chip of that stack, so a run that keeps to one stack (the
default mix) cannot add every chip's supply. The target is 40 % of the compute one stack can
reach: for the best stack and pace (the slowest member's rate), the smaller of its
supply-limited and power-limited compute, so most instances are feasible and both limits matter.
Chip specs and price levels come from the catalog, so a catalog correction changes the generated
problems too; tests/golden/models.json pins a few, and a change there is a visible decision.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import numpy as np

from ..periods import quarter_start
from ..schema.catalog import load_catalog
from ..schema.runs import VENDOR_STACKS

COUNTRIES = ["US", "US", "US", "US", "NO", "SE", "DE", "JP", "TW", "AE", "SA", "IN", "MY", "CN"]
HEADQUARTERS = ["US", "US", "US", "AE", "NO"]
RULESETS = ["none", "us-2023-10", "us-2025-01-diffusion", "us-2026-01"]
CHIP_FIELDS = ("name", "vendor", "bf16_tflops", "fp8_tflops", "fp4_tflops", "int8_tops", "memory_gb", "mem_bw_tbps",
               "tdp_w", "it_power_kw", "die_area_mm2", "tpp", "price_type", "units_per_server", "price_includes",
               "excluded_items_usd", "price_date", "average_draw_fraction", "stack", "mfu_by_precision")
STACK_WEIGHTS = {"cuda": 0.5, "rocm": 0.25, "gaudi": 0.25}
"""Share of generated chips of each software stack (a stack without a chip for sale is skipped)."""
PLANNING_START = dt.date(2027, 1, 1)
RUN_DAYS = 90.0


def parse_size(size: str | tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """'15x30x12x50' -> (15, 30, 12, 50); ValueError naming the form otherwise."""
    if isinstance(size, tuple):
        chips, sites, quarters, contracts = size
    else:
        match = re.fullmatch(r"\s*(\d+)x(\d+)x(\d+)x(\d+)\s*", str(size))
        if not match:
            raise ValueError(f"size {size!r} is not CHIPSxSITESxQUARTERSxCONTRACTS, e.g. 15x30x12x50")
        chips, sites, quarters, contracts = (int(p) for p in match.groups())
    if min(chips, sites, quarters) < 1 or contracts < 0 or quarters > 40:
        raise ValueError("need chips, sites >= 1, 1 <= quarters <= 40, contracts >= 0")
    return chips, sites, quarters, contracts


def _round(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def _accelerators(rng: np.random.Generator, n_chips: int, n_quarters: int,
                  for_sale: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    by_stack: dict[str, list[dict[str, Any]]] = {}
    for _, entry in for_sale:
        by_stack.setdefault(str(entry.get("stack") or VENDOR_STACKS.get(str(entry["vendor"]).lower(), "")), []).append(entry)
    stacks = [k for k in STACK_WEIGHTS if by_stack.get(k)]
    weights = np.array([STACK_WEIGHTS[k] for k in stacks]) / sum(STACK_WEIGHTS[k] for k in stacks)
    accelerators = {}
    for i in range(n_chips):
        choices = by_stack[stacks[int(rng.choice(len(stacks), p=weights))]]
        base = choices[int(rng.integers(len(choices)))]
        # Copies, not the catalog's objects: shared values would be written as YAML aliases.
        chip = copy.deepcopy({k: base[k] for k in CHIP_FIELDS if base.get(k) is not None})
        chip["name"] = f"{base['name']} (variant {i})"
        chip["price_usd"] = _round(base["price_usd"] * rng.uniform(0.8, 1.2))
        chip["supply_per_quarter"] = float(rng.integers(1, 25)) * 1000.0
        chip["lead_time_quarters"] = int(rng.integers(0, min(3, n_quarters)))
        chip["price_decline_per_quarter"] = _round(rng.uniform(0.0, 0.03), 3)
        accelerators[f"chip-{i:02d}"] = chip
    return accelerators


def _components(rng: np.random.Generator, accelerators: dict[str, dict[str, Any]]) -> dict[str, float]:
    """HBM stacks shared by every chip, in half of the instances [stacks per quarter]."""
    if rng.random() >= 0.5:
        return {}
    for chip in accelerators.values():
        chip["components"] = {"hbm_stacks": float(rng.integers(4, 9))}
    return {"hbm_stacks": float(sum(c["supply_per_quarter"] for c in accelerators.values()) * 4)}


def _sites(rng: np.random.Generator, n_sites: int, n_quarters: int) -> dict[str, dict[str, Any]]:
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
    return sites


def _contract_terms(rng: np.random.Generator, kind: str, site_mw: float) -> dict[str, Any]:
    """Terms of one contract of `kind` at a site whose facility peak is `site_mw` [MW]."""
    if kind == "grid":
        return {"firm_fraction": 1.0}
    if kind in ("solar_ppa", "wind_ppa"):
        return dict(price_usd_per_mwh=_round(rng.uniform(45, 75)), capacity_factor=0.245 if kind == "solar_ppa" else 0.345,
                    firm_fraction=0.0, min_take_fraction=1.0, carbon_g_per_kwh=0.0,
                    fixed_cost_usd=_round(rng.uniform(0, 5e6)), max_mw=_round(site_mw * rng.uniform(1, 3)))
    if kind == "nuclear_ppa":
        return dict(price_usd_per_mwh=_round(rng.uniform(60, 115)), capacity_factor=0.925, firm_fraction=1.0,
                    min_take_fraction=1.0, carbon_g_per_kwh=0.0)
    return dict(price_usd_per_mwh=_round(rng.uniform(40, 90)), firm_fraction=1.0, carbon_g_per_kwh=400.0,
                fixed_cost_usd_per_mw=2.4e6)


def _contracts(rng: np.random.Generator, n_contracts: int, n_quarters: int,
               sites: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One grid contract per site first, then PPAs and on-site gas at random sites."""
    site_ids, contracts = list(sites), {}
    for k in range(n_contracts):
        sid = site_ids[k] if k < len(site_ids) else site_ids[int(rng.integers(len(site_ids)))]
        site_mw = sites[sid]["max_mw"] * sites[sid]["pue"]
        kind = "grid" if k < len(site_ids) else ["solar_ppa", "wind_ppa", "nuclear_ppa", "onsite_gas"][int(rng.integers(4))]
        spec = {"name": f"{kind} {k}", "kind": kind, "site": sid, "max_mw": _round(site_mw * rng.uniform(0.3, 1.0))}
        spec.update(_contract_terms(rng, kind, site_mw))
        if rng.random() < 0.2:
            spec["first_available"] = quarter_start(PLANNING_START, int(rng.integers(0, n_quarters + 1)))
        contracts[f"contract-{k:03d}"] = spec
    return contracts


def _cloud(rng: np.random.Generator, n_offers: int) -> dict[str, dict[str, Any]]:
    cloud, accelerators = {}, ["h100-sxm", "b200", "tpu-v6e", "mi300x", "a100"]
    for o in range(n_offers):
        cloud[f"cloud-{o:02d}"] = {"provider": f"Provider {o}", "accelerator": accelerators[o % len(accelerators)],
                                   "country": "US", "price_usd_per_hour": _round(rng.uniform(1.2, 7.0)),
                                   "max_units": float(rng.integers(1, 20)) * 800.0, "units_per_instance": 8}
    return cloud


def _programs(rng: np.random.Generator, n_programs: int, n_quarters: int,
              catalog_programs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    programs = {}
    for p in range(n_programs):
        base_chip = catalog_programs[sorted(catalog_programs)[p % len(catalog_programs)]]["chip"]
        chip = copy.deepcopy({k: base_chip[k] for k in CHIP_FIELDS if base_chip.get(k) is not None})
        chip.update(price_usd=_round(rng.uniform(4000, 12000)), price_type="input",
                    lead_time_quarters=int(rng.integers(0, 2)))
        programs[f"program-{p}"] = {"name": f"Custom program {p}", "nre_usd": _round(rng.uniform(2e8, 1.5e9)),
                                    "months_to_volume": float(rng.integers(0, 3 * n_quarters)),
                                    "success_probability": _round(rng.uniform(0.4, 0.9), 2),
                                    "volume_per_quarter": float(rng.integers(5, 40)) * 1000.0, "chip": chip}
    return programs


def _run_and_rules(rng: np.random.Generator, n_quarters: int) -> dict[str, Any]:
    """The run, costs, export rules and solver settings (drawn in this order)."""
    run_start = quarter_start(PLANNING_START, n_quarters - 1)
    max_sites = int(rng.integers(1, 5))
    run = {"deadline": run_start + dt.timedelta(days=RUN_DAYS), "length_days": RUN_DAYS, "mfu": 0.375,
           "average_draw_fraction": 0.75, "max_sites": max_sites,
           **({"multi_site_efficiency": _round(rng.uniform(0.85, 1.0), 3)} if max_sites > 1 else {})}
    costs = {"basis": "full", "hardware_life_years": 5.0, "server_overhead": 1.64, "interconnect_share": 0.19,
             "carbon_price_usd_per_t": float(rng.choice([0.0, 0.0, 50.0]))}
    export = {"ruleset": RULESETS[int(rng.integers(len(RULESETS)))],
              "headquarters": HEADQUARTERS[int(rng.integers(len(HEADQUARTERS)))], "licence_lead_quarters": 1}
    return {"run": run, "costs": costs, "export": export, "solver": {"time_limit_s": 60.0, "gap": 1e-4}}


def generate_problem(size: str | tuple[int, int, int, int] = "3x3x4x4", seed: int = 0, *,
                     cloud_offers: int | None = None, custom_programs: int | None = None) -> dict[str, Any]:
    """A valid problem dict for `size` and `seed`; equal arguments give equal problems."""
    n_chips, n_sites, n_quarters, n_contracts = parse_size(size)
    rng = np.random.default_rng(seed)
    catalog = load_catalog()
    for_sale = [(cid, e) for cid, e in sorted(catalog.entries["accelerators"].items())
                if e.get("for_sale", True) and e.get("price_usd") is not None]
    accelerators = _accelerators(rng, n_chips, n_quarters, for_sale)
    components = _components(rng, accelerators)
    sites = _sites(rng, n_sites, n_quarters)
    contracts = _contracts(rng, n_contracts, n_quarters, sites)
    cloud = _cloud(rng, cloud_offers if cloud_offers is not None else int(rng.integers(0, 3)))
    programs = _programs(rng, custom_programs if custom_programs is not None else int(rng.integers(0, 2)),
                         n_quarters, catalog.entries["custom_programs"])
    problem = {
        "name": f"generated-{n_chips}x{n_sites}x{n_quarters}x{n_contracts}-seed{seed}",
        "description": "generated by clustersize.baselines.generate (seeded); every value is synthetic",
        "planning_start": PLANNING_START, "target": {"flop": 1.0}, **_run_and_rules(rng, n_quarters),
        "accelerators": accelerators, "components": components, "sites": sites, "contracts": contracts,
        "cloud": cloud, "custom_programs": programs,
    }
    problem["target"]["flop"] = _round(0.4 * _reachable_flop(problem))
    return problem


def _stack_of(chip: dict[str, Any]) -> str:
    return str(chip.get("stack") or VENDOR_STACKS.get(str(chip["vendor"]).lower(), str(chip["vendor"]).lower()))


def _reachable_flop(problem: dict[str, Any]) -> float:
    """Compute one stack can reach: per stack and pace (each member's rate; faster members join at
    it), min(supply-limited, power-limited over the max_sites largest sites); the best of these,
    ignoring export rules, lead times, cloud offers and custom chips [FLOP]."""
    seconds = problem["run"]["length_days"] * 86400.0
    mfu = problem["run"]["mfu"]
    n_quarters = (problem["run"]["deadline"] - problem["planning_start"]).days // 91 + 1
    largest = sorted((s["max_mw"] for s in problem["sites"].values()), reverse=True)[:problem["run"]["max_sites"]]
    chips = list(problem["accelerators"].values())
    best = 0.0
    for stack in sorted({_stack_of(c) for c in chips}):
        members = [c for c in chips if _stack_of(c) == stack]
        for pace in sorted({c["bf16_tflops"] * 1e12 * mfu * seconds for c in members}):
            joining = [c for c in members if c["bf16_tflops"] * 1e12 * mfu * seconds >= pace]
            supply = pace * sum(c["supply_per_quarter"] * n_quarters for c in joining)
            power = sum(largest) * max(pace / (c["it_power_kw"] / 1000.0) for c in joining)
            best = max(best, min(supply, power))
    return float(max(best, 1e20))
