"""Decision variables, declared as a table: family, keys, bounds, cost, integrality.

The objective is the sum of column costs (all in $M): each column's cash flows (data/money.py)
charged on the problem's basis, i.e. nominal (full), discounted with the resale credit (npv) or
amortised:

    min  sum_{a,s,t} c[buy] buy[a,s,t]                        hardware, its opex and resale
       + sum_s (c[open] open[s] + c[new_mw] new_mw[s])         sites (a book value on opening)
       + sum_{s,t} c[lease] lease[s,t]                         existing MW leased in quarter t
       + sum_k (c[sign] sign[k] + c[mw] mw[k])                 contract fixed and capacity charges
       + sum_{k,w} c[energy] energy[k,w]                       energy and carbon, per run window
       + sum_{o,w} c[rent] rent[o,w]                           on-demand rentals for a run window
       + sum_{o,q} c[commit] commit[o,q]                       commitments, for their whole term
       + sum_p c[fund] fund[p]                                 custom-chip programs
       + sum_d c[deal] deal[d]                                 supply deals (the share taken): fee and prepayment
       + sum_{d,t} c[take] take[d,t]                           prepayments credited against units bought
       + sum_{a,t} c[spot] spot[a,t]                           the premium on servers bought spot
       + sum_{c,t} c[sell] sell[c,t]                           servers sold: proceeds, opex and resale saved
       + sum_{o,t} c[serve_rent] serve_rent[o,t]               on-demand rentals serving sustained demand
       + sum_{k,t} c[serve_energy] serve_energy[k,t]           energy of owned servers serving it
       + sum_r c[shortfall] shortfall[r]                       compute short of a target (risk.shortfall_...)

Purchases and
the fleet are never split by run: only the run assignments `units[a,s,w]` and `rent[o,w]` are,
so a window, a stack or a location chosen for a run never duplicates hardware.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.modeldata import ModelData
from ..schema.runs import SPAN_LEVELS
from .program import Keys, ProgramBuilder
from .shape import RunShape, run_shape

INF = np.inf
# Upper bounds of these families repeat a capacity row (supply, cloud quota, buildable MW, contract
# size): tighter for the solver, but a dual or an elastic slack must act on the row alone.
ROW_REPEATED_BOUNDS = ("buy", "rent", "new_mw", "contract_mw", "serve_rent")
SPANS = ("one",) + SPAN_LEVELS


def index_sets(data: ModelData) -> dict[str, list[str]]:
    """The named index sets that keys of rows and columns refer to."""
    r = data.runs
    n_stacks = len(set(r.acc_stack) | set(r.offer_stack))
    return {"accelerator": data.acc_ids, "site": data.site_ids, "quarter": data.periods, "contract": data.con_ids,
            "offer": data.cloud_ids, "program": data.prog_ids, "component": data.components,
            "country": data.cap_countries, "run": r.ids, "window": r.windows.labels,
            "location": data.slots.location_ids, "level": [f"{r.ids[i]}:{g}@{x:.4g}" for i, g, x in
                                                           zip(r.level_run, r.level_group, r.level_rate * 1e6)],
            "band": [f"{r.ids[i]}:<={u:g}" for i, u in zip(r.band_run, r.band_units)], "span": list(SPANS),
            "region": sorted(set(data.slots.location_region)), "continent": sorted(set(data.slots.location_continent)),
            "stack": sorted(set(r.acc_stack) | set(r.offer_stack)), "extra": [str(j) for j in range(1, max(2, n_stacks))],
            "extras": [str(j) for j in range(max(2, n_stacks))], "member": data.acc_ids + data.cloud_ids,
            "objective": ["budget"], "year": [str(y) for y in np.unique(data.money.years)], "deal": data.deals.ids,
            "ordered": data.periods,
            "supply": data.deals.supplies}


def define_variables(builder: ProgramBuilder, data: ModelData) -> dict[str, np.ndarray]:
    """Add every variable family; return the column positions of each."""
    shape = run_shape(data)
    x = _purchase_variables(builder, data)
    x.update(_run_variables(builder, data, shape))
    x.update(_serving_variables(builder, data))
    return x


def _serving_variables(builder: ProgramBuilder, data: ModelData) -> dict[str, np.ndarray]:
    """Sustained demand served each quarter: owned servers, rented instances, and their energy."""
    sv, m = data.serving, data.money
    table: list[tuple[str, Keys, Any, Any, Any, bool]] = [
        ("serve",        builder.keys(("accelerator", "site", "quarter"), sv.unit_acc, sv.unit_site, sv.unit_quarter),
         0.0, INF, 0.0, False),
        ("serve_rent",   builder.keys(("offer", "quarter"), sv.rent_offer, sv.rent_quarter),
         0.0, data.cloud_max[sv.rent_offer], m.charges("serve_rent", sv.rent_offer.size), False),
        ("serve_energy", builder.keys(("contract", "quarter"), sv.energy_contract, sv.energy_quarter),
         0.0, INF, m.charges("serve_energy", sv.energy_contract.size), False),
    ]
    return {family: builder.add_columns(family, keys, lower, upper, cost, integer)
            for family, keys, lower, upper, cost, integer in table}


def _purchase_variables(builder: ProgramBuilder, data: ModelData) -> dict[str, np.ndarray]:
    """Purchases, sites, contracts and programs: shared by every run."""
    cells = builder.keys(("accelerator", "site", "quarter"), data.cell_acc, data.cell_site, data.cell_period)
    has_cells = len(data.cell_acc) > 0
    # with every deal taken: the deals' own rows hold purchases to the supply actually bought
    supply_ub = data.acc_supply_max[data.cell_acc, data.cell_period] if has_cells else np.zeros(0)
    program = data.acc_program[data.cell_acc] if has_cells else np.zeros(0, dtype=int)
    supply_ub = np.where(program >= 0, data.prog_volume_max[np.maximum(program, 0)] if data.prog_ids else INF,
                         supply_ub)
    sites, contracts, programs = builder.all_of("site"), builder.all_of("contract"), builder.all_of("program")
    m, load = data.money, data.site_load
    leased = builder.keys(("site", "quarter"), m.lease_site, m.lease_quarter)
    loaded = builder.keys(("site", "quarter"), load.site, load.quarter)
    phased = builder.keys(("site", "quarter"), load.site[load.phased], load.quarter[load.phased])
    powered_ub = np.minimum(load.powered_cap[load.phased], data.site_new_mw_max[load.site[load.phased]])
    n_s, n_k, n_lease = len(data.site_ids), len(data.con_ids), m.lease_site.size
    table: list[tuple[str, Keys, Any, Any, Any, Any]] = [
        # family,      keys,      lower, upper,                          cost,                        integer
        ("buy",        cells,     0.0,   supply_ub,                      m.charges("buy", supply_ub.size), data.integer_units),
        ("open",       sites,     0.0,   1.0,                            m.charges("open", n_s),      True),
        ("new_mw",     sites,     0.0,   data.site_new_mw_max,           m.charges("new_mw", n_s),    False),
        ("lease",      leased,    0.0,   data.site_existing_mw[m.lease_site], m.charges("lease", n_lease), False),
        ("installed",  loaded,    0.0,   INF,                            0.0,                         False),
        ("powered",    phased,    0.0,   powered_ub,                     0.0,                         False),
        ("sign",       contracts, 0.0,   1.0,                            m.charges("sign", n_k),      True),
        ("contract_mw", contracts, 0.0,  data.con_max_mw,                m.charges("contract_mw", n_k), False),
        ("fund",       programs,  0.0,   1.0,                            m.charges("fund", len(data.prog_ids)), True),
        ("deal",       builder.all_of("deal"), 0.0, 1.0,                 m.charges("deal", len(data.deals.ids)),
         ~data.deals.divisible),
        ("take",       builder.keys(("deal", "quarter"), data.deals.take_deal, data.deals.take_quarter), 0.0,
         data.deals.amount[data.deals.take_deal], m.charges("take", data.deals.take_deal.size), False),
        ("sell",       builder.keys(("accelerator", "site", "ordered", "quarter"), data.cell_acc[data.sales.cell],
                                    data.cell_site[data.sales.cell], data.cell_period[data.sales.cell], data.sales.quarter),
         0.0, supply_ub[data.sales.cell], m.charges("sell", data.sales.cell.size), data.integer_units),
        ("spot",       builder.keys(("accelerator", "quarter"), data.spot.acc, data.spot.quarter), 0.0, data.spot.depth,
         m.charges("spot", data.spot.acc.size), False),
    ]
    return {family: builder.add_columns(family, keys, lower, upper, cost, integer)
            for family, keys, lower, upper, cost, integer in table}


def least_loss(data: ModelData) -> np.ndarray:
    """The loss no run avoids: its target x (1 / its best goodput - 1) [EFLOP/s-day]; none when a run
    may fall short of its target (the loss is then that of the compute delivered)."""
    r = data.runs
    if has_shortfall(data):
        return np.zeros(len(r.ids))
    best = np.zeros(len(r.ids))
    np.maximum.at(best, r.band_run, r.band_goodput)
    return np.asarray(r.target * (1.0 / best - 1.0))


def has_shortfall(data: ModelData) -> bool:
    """True when runs may fall short of their targets at a penalty (one shortfall column per run)."""
    return bool(data.money.flows.get("shortfall"))


def _run_variables(builder: ProgramBuilder, data: ModelData, shape: RunShape) -> dict[str, np.ndarray]:
    """Run assignments and the choices of each run: window, pace, band, locations, span, stacks."""
    sl, m = data.slots, data.money
    one = shape.fixed_one
    table: list[tuple[str, Keys, Any, Any, Any, bool]] = [
        ("units",      builder.keys(("accelerator", "site", "window"), sl.unit_acc, sl.unit_site, sl.unit_window),
         0.0, INF, 0.0, data.integer_units),
        ("ramp",       builder.keys(("accelerator", "site", "window", "quarter"), sl.unit_acc[sl.ramp_unit],
                                    sl.unit_site[sl.ramp_unit], sl.unit_window[sl.ramp_unit], sl.ramp_quarter),
         0.0, INF, 0.0, data.integer_units),
        ("rent",       builder.keys(("offer", "window"), sl.rent_offer, sl.rent_window),
         0.0, data.cloud_max[sl.rent_offer], m.charges("rent", sl.rent_offer.size), data.integer_units),
        ("commit",     builder.keys(("offer", "quarter"), m.commit_offer, m.commit_quarter),
         0.0, data.cloud_max[m.commit_offer], m.charges("commit", m.commit_offer.size), data.integer_units),
        ("energy",     builder.keys(("contract", "window"), sl.energy_contract, sl.energy_window),
         0.0, INF, m.charges("energy", sl.energy_contract.size), False),
        ("window",     builder.all_of("window"), one(data.runs.windows.run), 1.0, 0.0, True),
        ("pace",       builder.all_of("level"), one(data.runs.level_run), 1.0, 0.0, True),
        ("band",       builder.all_of("band"), one(data.runs.band_run), 1.0, 0.0, True),
        ("use",        builder.keys(("run", "location"), shape.use_run, shape.use_location), 0.0, 1.0, 0.0, True),
        ("spread",     builder.keys(("run", "span"), shape.spread_run, shape.spread_level), 0.0, 1.0, 0.0, True),
        ("region_use", builder.keys(("run", "region"), shape.region_run, shape.region), 0.0, 1.0, 0.0, False),
        ("continent_use", builder.keys(("run", "continent"), shape.continent_run, shape.continent),
         0.0, 1.0, 0.0, False),
        ("stack_used", builder.keys(("run", "stack"), shape.stack_run, shape.stack), 0.0, 1.0, 0.0, True),
        ("extra",      builder.keys(("run", "extra"), shape.extra_run, shape.extra), 0.0, 1.0, 0.0, True),
        ("loss",       builder.all_of("run"), least_loss(data), INF, 0.0, False),
        ("active",     builder.keys(("site", "window"), shape.active_site, shape.active_window), 0.0, 1.0, 0.0, False),
        ("shortfall",  builder.keys(("run",), np.arange(len(data.runs.ids)) if has_shortfall(data) else [], ),
         0.0, data.runs.target if has_shortfall(data) else 0.0, m.charges("shortfall", len(data.runs.ids))
         if has_shortfall(data) else 0.0, False),
    ]
    return {family: builder.add_columns(family, keys, lower, upper, cost, integer)
            for family, keys, lower, upper, cost, integer in table}
