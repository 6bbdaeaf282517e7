"""Solution vector -> plan tables in user units (accelerators, USD, MW, MWh, FLOP, TPP)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from ..data.modeldata import FLOP_PER_EFLOPS_DAY, TPP_PER_MTPP, USD_PER_MUSD, ModelData, run_start_of
from ..formulation import LinearProgram
from ..schema.problem import Problem

ZERO = 1e-9
BINDING_TOL = 1e-6


def _cols(lp: LinearProgram, x: np.ndarray, family: str) -> np.ndarray:
    return x[lp.col_slices[family]]


def purchases_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """One row per (accelerator, site, quarter) with a purchase."""
    servers = _cols(lp, x, "buy")
    keep = servers > ZERO
    a, s, t = d.cell_acc[keep], d.cell_site[keep], d.cell_period[keep]
    units = servers[keep] * d.acc_units_per_server[a]
    cost = servers[keep] * d.acc_price[a, t] / d.acc_hardware_share[a, t] * USD_PER_MUSD
    return pd.DataFrame({
        "accelerator": [d.acc_ids[i] for i in a], "site": [d.site_ids[i] for i in s],
        "country": [d.site_country[i] for i in s], "quarter": [d.periods[i] for i in t],
        "units": units, "servers": servers[keep],
        "unit_cost_usd": cost / np.where(units > 0, units, 1), "capex_usd": cost,
    })


def sites_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Every candidate site: opened, capacity built, load."""
    servers = _cols(lp, x, "buy")
    load = np.bincount(d.cell_site, weights=servers * d.acc_it_mw[d.cell_acc], minlength=len(d.site_ids))
    drawn = np.bincount(d.cell_site, weights=servers * d.acc_it_mw[d.cell_acc] * d.acc_draw[d.cell_acc],
                        minlength=len(d.site_ids))
    opened = np.round(_cols(lp, x, "open")).astype(bool)
    new_mw = _cols(lp, x, "new_mw")
    return pd.DataFrame({
        "site": d.site_ids, "country": d.site_country, "opened": opened,
        "existing_mw": np.where(opened, d.site_existing_mw, 0.0), "new_mw": new_mw,
        "it_capacity_mw": np.where(opened, d.site_existing_mw, 0.0) + new_mw, "it_load_mw": load,
        "facility_peak_mw": load * d.site_pue,
        "facility_energy_mwh": drawn * d.energy_gwh_per_it_mw * 1000.0,
    })


def contracts_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Every usable contract: signed, size, energy taken and its cost."""
    energy_mwh = _cols(lp, x, "energy") * 1000.0
    mw = _cols(lp, x, "contract_mw")
    contracts = [problem.contracts[c] for c in d.con_ids]
    price = np.array([c.price_usd_per_mwh for c in contracts])
    return pd.DataFrame({
        "contract": d.con_ids, "site": [c.site for c in contracts], "kind": d.con_kind,
        # A contract "signed" at 0 MW with no fixed cost is a free, meaningless choice of the solver.
        "signed": np.round(_cols(lp, x, "sign")).astype(bool) & ((mw > ZERO) | (d.con_fixed > 0)),
        "contracted_mw": mw, "firm_mw": mw * d.con_firm,
        "energy_mwh": energy_mwh, "price_usd_per_mwh": price, "energy_cost_usd": energy_mwh * price,
        "emissions_t": energy_mwh * d.con_carbon / 1000.0,
        "carbon_cost_usd": energy_mwh * d.con_carbon / 1000.0 * problem.costs.carbon_price_usd_per_t,
        "fixed_cost_usd": (np.round(_cols(lp, x, "sign")) * d.con_fixed + mw * d.con_fixed_per_mw) * USD_PER_MUSD,
    })


def rentals_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Cloud offers rented for the run."""
    instances = _cols(lp, x, "rent")
    offers = [problem.cloud[o] for o in d.cloud_ids]
    keep = instances > ZERO
    return pd.DataFrame({
        "offer": d.cloud_ids, "accelerator": [o.accelerator for o in offers],
        "country": [o.country for o in offers], "instances": instances,
        "units": instances * np.array([o.units_per_instance for o in offers], dtype=float),
        "hours": d.run_hours, "cost_usd": instances * d.cloud_cost * USD_PER_MUSD,
    })[keep].reset_index(drop=True)


def programs_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray, purchases: pd.DataFrame) -> pd.DataFrame:
    """Custom-chip programs: funded, units bought, success probability."""
    funded = np.round(_cols(lp, x, "fund")).astype(bool)
    units = [float(purchases.loc[purchases.accelerator == f"custom:{p}", "units"].sum()) for p in d.prog_ids]
    return pd.DataFrame({
        "program": d.prog_ids, "funded": funded, "nre_usd": d.prog_nre * USD_PER_MUSD * funded,
        "units": units, "success_probability": [problem.custom_programs[p].success_probability for p in d.prog_ids],
    })


def compute_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Compute delivered by each accelerator type and cloud offer [FLOP], before multi-site losses."""
    servers = _cols(lp, x, "buy")
    by_acc = np.bincount(d.cell_acc, weights=servers * d.acc_compute[d.cell_acc], minlength=len(d.acc_ids))
    units_acc = np.bincount(d.cell_acc, weights=servers * d.acc_units_per_server[d.cell_acc], minlength=len(d.acc_ids))
    rent = _cols(lp, x, "rent")
    frame = pd.DataFrame({
        "source": d.acc_ids + [f"cloud:{o}" for o in d.cloud_ids],
        "units": np.concatenate([units_acc, rent * d.cloud_units_per_instance]),
        "flop": np.concatenate([by_acc, rent * d.cloud_compute]) * FLOP_PER_EFLOPS_DAY,
    })
    return frame[frame.units > ZERO].reset_index(drop=True)


def export_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Use of each capped country's export cap [TPP]."""
    servers = _cols(lp, x, "buy")
    rows = []
    for g, country in enumerate(d.cap_countries):
        mask = d.cell_capped == g
        used = float((servers[mask] * d.acc_mtpp[d.cell_acc[mask]]).sum()) * TPP_PER_MTPP
        cap = d.cap_mtpp[g] * TPP_PER_MTPP
        rows.append({"country": country, "policy": d.cap_policy[g], "cap_tpp": cap, "used_tpp": used,
                     "share": used / cap if cap > 0 else float("nan")})
    return pd.DataFrame(rows, columns=["country", "policy", "cap_tpp", "used_tpp", "share"])


def binding_table(lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Rows at (or within 1 % of) a bound, with slack in the row's internal units."""
    activity = lp.matrix @ x
    slack_hi = np.where(np.isfinite(lp.row_upper), lp.row_upper - activity, np.inf)
    slack_lo = np.where(np.isfinite(lp.row_lower), activity - lp.row_lower, np.inf)
    slack = np.minimum(slack_hi, slack_lo)
    bound = np.where(slack_hi <= slack_lo, lp.row_upper, lp.row_lower)
    scale = np.maximum(1.0, np.abs(np.where(np.isfinite(bound), bound, 0.0)))
    magnitude = abs(lp.matrix) @ np.abs(x)
    # A row such as contract_mw - M sign <= 0 at 0 <= 0 is tight but says nothing: skip rows
    # whose every term is zero and whose bound is zero.
    near = (slack <= 0.01 * scale) & ((magnitude > 1e-9) | (np.abs(np.where(np.isfinite(bound), bound, 0.0)) > 1e-9))
    labels = np.asarray(lp.row_keys.labels(), dtype=object)
    frame = pd.DataFrame({"family": lp.row_family[near], "index": labels[near], "slack": slack[near],
                          "relative_slack": slack[near] / scale[near]})
    frame["binding"] = frame.relative_slack <= BINDING_TOL
    return frame.reset_index(drop=True)


def epoch_amortised_hardware_usd(problem: Problem, purchases: pd.DataFrame) -> float:
    """Hardware charged to the run by Epoch AI's method [USD]: for each purchase, its capex x
    10^(-trend x years from purchase to the run start) x trend x ln 10 x run years.

    The purchase date is the first day of its quarter, or the price's date when later; trend
    is costs.price_performance_ooms_per_year [OOM/year]. Network is in the capex (all-in cost).
    """
    trend, start = problem.costs.price_performance_ooms_per_year, run_start_of(problem)
    total = 0.0
    for row in purchases.itertuples():
        year, quarter = int(row.quarter[:4]), int(row.quarter[-1])
        bought = dt.date(year, 3 * quarter - 2, 1)
        price_date = _price_date(problem, row.accelerator)
        if price_date is not None and price_date > bought:
            bought = price_date
        held_years = max(0, (start - bought).days) / 365.25
        total += float(row.capex_usd) * 10.0 ** (-trend * held_years)
    return total * trend * math.log(10.0) * problem.run.length_days / 365.25


def _price_date(problem: Problem, accelerator: str) -> dt.date | None:
    if accelerator.startswith("custom:"):
        return problem.custom_programs[accelerator.split(":", 1)[1]].chip.price_date
    return problem.accelerators[accelerator].price_date


def costs_table(problem: Problem, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Cost by component on both bases; `cost_usd` is the basis the problem selected.

    The amortised column follows costs.amortisation: straight-line shares, or Epoch AI's
    method (hardware by `epoch_amortised_hardware_usd`, no site lines).
    """
    sites = tables["sites"]
    build = np.array([problem.sites[s].build_cost_usd_per_mw for s in sites.site]) if len(sites) else np.zeros(0)
    fixed = np.array([problem.sites[s].fixed_cost_usd for s in sites.site]) if len(sites) else np.zeros(0)
    contracts, rentals, programs = tables["contracts"], tables["rentals"], tables["custom_programs"]
    hardware = float(tables["purchases"].capex_usd.sum())
    hw_share = problem.run.length_days / (problem.costs.hardware_life_years * 365.25)
    site_share = (problem.run.length_days / (problem.costs.facility_life_years * 365.25)
                  if problem.costs.facility_life_years else 1.0)
    if problem.costs.amortisation == "epoch":
        epoch = epoch_amortised_hardware_usd(problem, tables["purchases"])
        hw_share, site_share = (epoch / hardware if hardware > 0 else 0.0), 0.0
    rows = [
        ("hardware", hardware, hw_share),
        ("site_fixed", float((fixed * sites.opened).sum()), site_share),
        ("site_build", float((build * sites.new_mw).sum()), site_share),
        ("energy", float(contracts.energy_cost_usd.sum()), 1.0),
        ("carbon", float(contracts.carbon_cost_usd.sum()), 1.0),
        ("contract_fixed", float(contracts.fixed_cost_usd.sum()), 1.0),
        ("cloud", float(rentals.cost_usd.sum()), 1.0),
        ("custom_nre", float(programs.nre_usd.sum()), 1.0),
    ]
    frame = pd.DataFrame(rows, columns=["component", "full_capex_usd", "share"])
    frame["amortised_usd"] = frame.full_capex_usd * frame.share
    frame["cost_usd"] = frame.full_capex_usd if problem.costs.basis == "full" else frame.amortised_usd
    return frame.drop(columns="share")
