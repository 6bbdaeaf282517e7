"""Decision variables, declared as a table: family, keys, bounds, cost, integrality.

The objective is the sum of column costs (all in $M):

    min  sum_{a,s,t} P[a,t] sh[a,s,t] buy[a,s,t]              hardware (server/network share included)
       + sum_s (F[s] open[s] + B[s] new_mw[s])                 sites
       + sum_k (Fk[k] sign[k] + Fm[k] mw[k])                   contract fixed costs
       + sum_{k,w} p[k] energy[k,w]                            energy and carbon, per run window
       + sum_{o,w} R[o] h[w] rent[o,w]                         cloud rentals for a run window
       + sum_p NRE[p] fund[p]                                  custom-chip programs

`sh` is the share of a server's cost charged to the plan (1 on the full basis). Purchases and
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
ROW_REPEATED_BOUNDS = ("buy", "rent", "new_mw", "contract_mw")
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
            "objective": ["budget"]}


def define_variables(builder: ProgramBuilder, data: ModelData) -> dict[str, np.ndarray]:
    """Add every variable family; return the column positions of each."""
    shape = run_shape(data)
    x = _purchase_variables(builder, data)
    x.update(_run_variables(builder, data, shape))
    return x


def _purchase_variables(builder: ProgramBuilder, data: ModelData) -> dict[str, np.ndarray]:
    """Purchases, sites, contracts and programs: shared by every run."""
    cells = builder.keys(("accelerator", "site", "quarter"), data.cell_acc, data.cell_site, data.cell_period)
    has_cells = len(data.cell_acc) > 0
    supply_ub = data.acc_supply[data.cell_acc, data.cell_period] if has_cells else np.zeros(0)
    program = data.acc_program[data.cell_acc] if has_cells else np.zeros(0, dtype=int)
    supply_ub = np.where(program >= 0, data.prog_volume[np.maximum(program, 0)] if data.prog_ids else INF, supply_ub)
    price = data.acc_price[data.cell_acc, data.cell_period] if has_cells else np.zeros(0)
    if data.amortised:
        price = price * data.cell_share
    sites, contracts, programs = builder.all_of("site"), builder.all_of("contract"), builder.all_of("program")
    table = [
        # family,      keys,      lower, upper,                cost,                    integer
        ("buy",        cells,     0.0,   supply_ub,            price,                   data.integer_units),
        ("open",       sites,     0.0,   1.0,                  data.site_fixed,         True),
        ("new_mw",     sites,     0.0,   data.site_new_mw_max, data.site_build,         False),
        ("sign",       contracts, 0.0,   1.0,                  data.con_fixed,          True),
        ("contract_mw", contracts, 0.0,  data.con_max_mw,      data.con_fixed_per_mw,   False),
        ("fund",       programs,  0.0,   1.0,                  data.prog_nre,           True),
    ]
    return {family: builder.add_columns(family, keys, lower, upper, cost, integer)
            for family, keys, lower, upper, cost, integer in table}


def _least_loss(data: ModelData) -> np.ndarray:
    """The loss no run avoids: its target x (1 / its best goodput - 1) [EFLOP/s-day]."""
    r = data.runs
    best = np.zeros(len(r.ids))
    np.maximum.at(best, r.band_run, r.band_goodput)
    return np.asarray(r.target * (1.0 / best - 1.0))


def _run_variables(builder: ProgramBuilder, data: ModelData, shape: RunShape) -> dict[str, np.ndarray]:
    """Run assignments and the choices of each run: window, pace, band, locations, span, stacks."""
    sl, w = data.slots, data.runs.windows
    rent_cost = data.cloud_cost_per_hour[sl.rent_offer] * w.hours[sl.rent_window]
    one = shape.fixed_one
    table: list[tuple[str, Keys, Any, Any, Any, bool]] = [
        ("units",      builder.keys(("accelerator", "site", "window"), sl.unit_acc, sl.unit_site, sl.unit_window),
         0.0, INF, 0.0, data.integer_units),
        ("rent",       builder.keys(("offer", "window"), sl.rent_offer, sl.rent_window),
         0.0, data.cloud_max[sl.rent_offer], rent_cost, data.integer_units),
        ("energy",     builder.keys(("contract", "window"), sl.energy_contract, sl.energy_window),
         0.0, INF, data.con_price[sl.energy_contract], False),
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
        ("loss",       builder.all_of("run"), _least_loss(data), INF, 0.0, False),
        ("active",     builder.keys(("site", "window"), shape.active_site, shape.active_window), 0.0, 1.0, 0.0, False),
    ]
    return {family: builder.add_columns(family, keys, lower, upper, cost, integer)
            for family, keys, lower, upper, cost, integer in table}
