"""How much compute each location can give each run: the data behind the formulation's valid
inequalities `compute_bound` (own compute), `location_reach` and `location_cover` (reach).

A member's own compute is its rate in the run (dense peak at the run's precision x MFU) x the
accelerators of one server or instance x the days it works [EFLOP/s-day]; a growing run's ramp
column counts for the days of its quarter. A location's reach is the most own compute a run
could draw from it in any one of its windows: at a site, its slots filled in order of compute per
MW within the most IT MW hardware there can draw (`ModelData.site_run_mw`), each slot within its
bound, and within the site's fabric limit; at a cloud offer, its whole quota.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .modeldata import ModelData


class OwnCompute(NamedTuple):
    """Own compute of one column of each run-assignment family [EFLOP/s-day]."""

    unit: np.ndarray   # [u] one server of a (accelerator, site, window) slot, at full size
    rent: np.ndarray   # [v] one instance of an (offer, window) slot
    ramp: np.ndarray   # [g] one server of a growing run's ramp column, in its quarter


def own_compute(d: ModelData) -> OwnCompute:
    """Every member at its own rate over the days it works [EFLOP/s-day per server or instance]."""
    r, sl, w = d.runs, d.slots, d.runs.windows
    run_u, run_v, run_g = w.run[sl.unit_window], w.run[sl.rent_window], w.run[sl.unit_window[sl.ramp_unit]]
    acc_g = sl.unit_acc[sl.ramp_unit]
    return OwnCompute(
        unit=r.acc_rate[run_u, sl.unit_acc] * d.acc_units_per_server[sl.unit_acc] * sl.unit_days,
        rent=r.offer_rate[run_v, sl.rent_offer] * d.cloud_units_per_instance[sl.rent_offer] * w.days[sl.rent_window],
        ramp=r.acc_rate[run_g, acc_g] * d.acc_units_per_server[acc_g] * sl.ramp_days)


def location_reach(d: ModelData, own: OwnCompute) -> np.ndarray:
    """Most own compute each run could draw from each location in one window [EFLOP/s-day];
    shape (runs, locations), the sites then the offers."""
    sl, w = d.slots, d.runs.windows
    reach = np.zeros((len(d.runs.ids), len(sl.location_ids)))
    # A ramp column works only while its slot's full cluster does not, and never exceeds it.
    per_server = own.unit + np.bincount(sl.ramp_unit, weights=own.ramp, minlength=own.unit.size)
    np.maximum.at(reach, (w.run[sl.unit_window], sl.unit_site), _site_reach(d, per_server))
    np.maximum.at(reach, (w.run[sl.rent_window], len(d.site_ids) + sl.rent_offer), own.rent * d.cloud_max[sl.rent_offer])
    return reach


def _site_reach(d: ModelData, per_server: np.ndarray) -> np.ndarray:
    """For each unit slot, the most own compute of its (window, site) group [EFLOP/s-day]: a
    fractional knapsack over the group's slots, densest (compute per MW) first, within the site's
    MW, capped by the fabric limit at the group's most compute per accelerator."""
    sl = d.slots
    if per_server.size == 0:
        return np.zeros(0)
    acc, site = sl.unit_acc, sl.unit_site
    group = sl.unit_window * len(d.site_ids) + site
    mw = d.acc_it_mw[acc]
    cap = d.site_run_mw[site]
    density = per_server / mw
    order = np.lexsort((-density, group))
    g, slot_mw = group[order], np.minimum(mw * sl.unit_slot_bound, cap)[order]
    filled = np.cumsum(slot_mw)
    first = np.r_[True, g[1:] != g[:-1]]
    before = (filled - slot_mw)[first][np.cumsum(first) - 1]   # MW filled in earlier groups
    taken = np.clip(cap[order] - (filled - slot_mw - before), 0.0, slot_mw)
    codes, inverse = np.unique(g, return_inverse=True)
    knapsack = np.bincount(inverse, weights=density[order] * taken, minlength=codes.size)
    per_accelerator = np.zeros(codes.size)
    np.maximum.at(per_accelerator, inverse, (per_server / d.acc_units_per_server[acc])[order])
    limit = d.site_max_cluster[codes % len(d.site_ids)]
    fabric = np.where(np.isfinite(limit), limit * per_accelerator, np.inf)
    best = np.minimum(knapsack, fabric)
    out = np.empty(per_server.size)
    out[order] = best[inverse]
    return out
