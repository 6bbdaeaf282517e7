"""Decision variables, declared as a table: family, keys, bounds, cost, integrality.

The objective is the sum of column costs (all in $M):

    min  sum_{a,s,t} P[a,t] buy[a,s,t]                       hardware (server/network share included)
       + sum_s (F[s] open[s] + B[s] new_mw[s])                 sites
       + sum_k (p[k] energy[k] + Fk[k] sign[k] + Fm[k] mw[k])  energy, carbon, contract fixed costs
       + sum_o R[o] rent[o]                                    cloud rentals for the run
       + sum_p NRE[p] fund[p]                                  custom-chip programs

P and the site costs carry the cost-basis multiplier (1 for full capex, the run's share of
the asset life for the amortised basis).
"""

from __future__ import annotations

import numpy as np

from ..data.modeldata import ModelData
from .program import ProgramBuilder

INF = np.inf
# Upper bounds of these families repeat a capacity row (supply, cloud quota, buildable MW, contract
# size): tighter for the solver, but a dual or an elastic slack must act on the row alone.
ROW_REPEATED_BOUNDS = ("buy", "rent", "new_mw", "contract_mw")


def index_sets(data: ModelData) -> dict[str, list[str]]:
    """The named index sets that keys of rows and columns refer to."""
    return {"accelerator": data.acc_ids, "site": data.site_ids, "quarter": data.periods, "contract": data.con_ids,
            "offer": data.cloud_ids, "program": data.prog_ids, "component": data.components,
            "country": data.cap_countries, "run": ["run"]}


def define_variables(builder: ProgramBuilder, data: ModelData) -> dict[str, np.ndarray]:
    """Add every variable family; return the column positions of each."""
    cells = builder.keys(("accelerator", "site", "quarter"), data.cell_acc, data.cell_site, data.cell_period)
    has_cells = len(data.cell_acc) > 0
    supply_ub = data.acc_supply[data.cell_acc, data.cell_period] if has_cells else np.zeros(0)
    program = data.acc_program[data.cell_acc] if has_cells else np.zeros(0, dtype=int)
    supply_ub = np.where(program >= 0, data.prog_volume[np.maximum(program, 0)] if data.prog_ids else INF, supply_ub)
    price = data.acc_price[data.cell_acc, data.cell_period] if has_cells else 0.0
    run = builder.keys(("run",), [0] if needs_multi_site(data) else [])
    sites, contracts = builder.all_of("site"), builder.all_of("contract")
    offers, programs = builder.all_of("offer"), builder.all_of("program")
    table = [
        # family,      keys,      lower, upper,                cost,                                 integer
        ("buy",        cells,     0.0,   supply_ub,            price,                                data.integer_units),
        ("open",       sites,     0.0,   1.0,                  data.site_fixed,                      True),
        ("new_mw",     sites,     0.0,   data.site_new_mw_max, data.site_build,                      False),
        ("sign",       contracts, 0.0,   1.0,                  data.con_fixed,                       True),
        ("contract_mw", contracts, 0.0,  data.con_max_mw,      data.con_fixed_per_mw,                False),
        ("energy",     contracts, 0.0,   INF,                  data.con_price,                       False),
        ("rent",       offers,    0.0,   data.cloud_max,       data.cloud_cost,                      data.integer_units),
        ("use_cloud",  offers,    0.0,   1.0,                  0.0,                                  True),
        ("fund",       programs,  0.0,   1.0,                  data.prog_nre,                        True),
        ("multi_site", run,       0.0,   1.0,                  0.0,                                  True),
    ]
    return {family: builder.add_columns(family, keys, lower, upper, cost, integer)
            for family, keys, lower, upper, cost, integer in table}


def needs_multi_site(data: ModelData) -> bool:
    """A multi-site indicator is needed when more than one location may be used and it costs compute."""
    locations = len(data.site_ids) + len(data.cloud_ids)
    return data.max_sites > 1 and locations > 1 and data.multi_site_efficiency < 1.0
