"""Where hardware can work for a run: the (accelerator, site, window) and (offer, window) slots.

A slot exists only where the accelerator may join the run (memory, rate > 0) and some order of it
at that site is installed by the window's start; energy slots (contract, window) only where the
contract's energy flows by the window's start. Every location (site or cloud offer) a run may
use is listed with its region and continent.

A run that grows (`grow: true`) has its full cluster, `units[a,s,w]`, working in the window's last
quarter only, so a slot needs an order installed by then; in each earlier quarter of the window
a *ramp* column, `ramp[a,s,w,t] <= units[a,s,w]`, is the part of the cluster working then, where
an order is installed by that quarter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .runs import RunData, Windows


@dataclass
class Slots:
    """Column index arrays of the run-assignment families, built once from the model data."""

    unit_acc: np.ndarray          # [u] accelerator of each (a, s, w) slot
    unit_site: np.ndarray         # [u]
    unit_window: np.ndarray       # [u]
    rent_offer: np.ndarray        # [v] offer of each (o, w) slot
    rent_window: np.ndarray       # [v]
    energy_contract: np.ndarray   # [e] contract of each (k, w) slot
    energy_window: np.ndarray     # [e]
    location_ids: list[str]       # sites then offers
    location_region: list[str]
    location_continent: list[str]
    unit_bound: np.ndarray        # [w] most accelerators a window could hold
    unit_slot_bound: np.ndarray   # [u] most servers a (a, s, w) slot could hold
    acc_servers: np.ndarray       # [a] most servers of each accelerator a window could hold
    unit_grow: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # [u] the slot's run grows
    ramp_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))   # [g] unit slot of each ramp column
    ramp_quarter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # [g] quarter it works in
    ramp_days: np.ndarray = field(default_factory=lambda: np.zeros(0))              # [g] days of the window then

    work_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))   # when units columns work:
    work_quarter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # (slot, quarter, days) per
    work_days: np.ndarray = field(default_factory=lambda: np.zeros(0))               # quarter; see _work
    unit_days: np.ndarray = field(default_factory=lambda: np.zeros(0))               # [u] days at full size

    def unit_cover(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """When each units column works: (slot, quarter, days of the window inside it) for every
        quarter its window overlaps; a growing run's slot only in the window's last quarter."""
        return self.work_slot, self.work_quarter, self.work_days


def _work(slots: Slots, w: Windows) -> None:
    """Fill in, once, when each units column works and the days it works at full size."""
    order = np.argsort(w.cover_window, kind="stable")
    cw, ct, cd = w.cover_window[order], w.cover_period[order], w.cover_days[order]
    first = np.searchsorted(cw, np.arange(len(w.days)))
    n = np.bincount(cw, minlength=len(w.days))[slots.unit_window]
    slot = np.repeat(np.arange(slots.unit_window.size, dtype=np.int64), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    pick = first[slots.unit_window][slot] + offset
    grow = slots.unit_grow[slot] if slots.unit_grow.size else np.zeros(slot.size, dtype=bool)
    keep = ~grow | (offset == n[slot] - 1)
    slots.work_slot, slots.work_quarter, slots.work_days = slot[keep], ct[pick][keep], cd[pick][keep]
    slots.unit_days = np.bincount(slots.work_slot, weights=slots.work_days, minlength=slots.unit_window.size)


def earliest_ready(cell_acc: np.ndarray, cell_site: np.ndarray, cell_ready: np.ndarray,
                   n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    """Each (accelerator, site) pair with a purchase cell, as rows of (a, s), and the first quarter
    any order of it there is installed."""
    if cell_acc.size == 0:
        return np.zeros((0, 2), dtype=int), np.zeros(0, dtype=int)
    code = cell_acc * n_sites + cell_site
    order = np.lexsort((cell_ready, code))
    first = np.ones(order.size, dtype=bool)
    first[1:] = code[order][1:] != code[order][:-1]
    pairs = code[order][first]
    return np.column_stack([pairs // n_sites, pairs % n_sites]), cell_ready[order][first]


def build_slots(runs: RunData, cells: dict[str, np.ndarray], site_ids: list[str], sites: dict[str, Any],
                contracts: dict[str, Any], cloud: dict[str, Any], supply_total: np.ndarray,
                acc_it_mw: np.ndarray, ups: np.ndarray) -> Slots:
    """Every slot of every window, and a bound on the accelerators of each window."""
    w = runs.windows
    pairs, pair_ready = earliest_ready(cells["cell_acc"], cells["cell_site"], cells["cell_ready"], len(site_ids))
    unit_parts, rent_parts, energy_parts = [], [], []
    offer_rate = runs.offer_rate
    con_site, con_first = contracts["con_site"], contracts["con_first_day"]
    last_quarter = np.zeros(len(w.days), dtype=int)
    np.maximum.at(last_quarter, w.cover_window, w.cover_period)
    for window in range(len(w.days)):
        r, start_t = int(w.run[window]), int(w.start_period[window])
        by = int(last_quarter[window]) if runs.runs[r].grow else start_t
        ok = (pair_ready <= by) & (runs.acc_rate[r, pairs[:, 0]] > 0) if pairs.size else np.zeros(0, bool)
        unit_parts.append(np.column_stack([pairs[ok], np.full(int(ok.sum()), window)]))
        offers = np.flatnonzero(offer_rate[r] > 0)
        rent_parts.append(np.column_stack([offers, np.full(offers.size, window)]))
        live = [k for k in range(len(con_first)) if con_first[k] <= w.starts[window]]
        used_sites = set(pairs[ok, 1].tolist())
        keep = np.array([k for k in live if int(con_site[k]) in used_sites], dtype=int)
        energy_parts.append(np.column_stack([keep, np.full(keep.size, window)]))
    units = np.concatenate(unit_parts) if unit_parts else np.zeros((0, 3), dtype=int)
    rents = np.concatenate(rent_parts) if rent_parts else np.zeros((0, 2), dtype=int)
    energy = np.concatenate(energy_parts) if energy_parts else np.zeros((0, 2), dtype=int)
    bound = _window_bounds(runs, units, rents, supply_total, acc_it_mw, ups, sites, cloud)
    a, site, win = units[:, 0].astype(int), units[:, 1].astype(int), units[:, 2].astype(int)
    slot_bound = np.minimum(np.minimum(supply_total[a], np.asarray(sites["site_max_mw"])[site] / acc_it_mw[a]),
                            bound[win] / ups[a]) if units.size else np.zeros(0)
    slots = Slots(unit_acc=units[:, 0].astype(int), unit_site=units[:, 1].astype(int),
                  unit_window=units[:, 2].astype(int), rent_offer=rents[:, 0].astype(int),
                  rent_window=rents[:, 1].astype(int), energy_contract=energy[:, 0].astype(int),
                  energy_window=energy[:, 1].astype(int), location_ids=list(site_ids) + list(cloud["cloud_ids"]),
                  location_region=list(sites["site_region"]) + list(cloud["cloud_region"]),
                  location_continent=list(sites["site_continent"]) + list(cloud["cloud_continent"]),
                  unit_bound=bound, unit_slot_bound=slot_bound,
                  acc_servers=np.minimum(supply_total, float(np.sum(sites["site_max_mw"])) / acc_it_mw))
    _ramps(slots, runs, pairs, pair_ready)
    _work(slots, w)
    return slots


def _ramps(slots: Slots, runs: RunData, pairs: np.ndarray, pair_ready: np.ndarray) -> None:
    """The ramp columns of growing runs: each slot in each quarter of its window but the last, where
    an order of the slot's (accelerator, site) is installed by then."""
    w = runs.windows
    grows = np.array([run.grow for run in runs.runs], dtype=bool)
    slots.unit_grow = grows[w.run[slots.unit_window]] if slots.unit_window.size else np.zeros(0, dtype=bool)
    if not slots.unit_grow.any():
        return
    ready = dict(zip(map(tuple, pairs.tolist()), pair_ready.tolist()))
    cover: dict[int, list[tuple[int, float]]] = {}
    for cw, ct, cd in zip(w.cover_window.tolist(), w.cover_period.tolist(), w.cover_days.tolist()):
        cover.setdefault(cw, []).append((ct, cd))
    found = [(u, t, days) for u in np.flatnonzero(slots.unit_grow).tolist()
             for t, days in sorted(cover[int(slots.unit_window[u])])[:-1]
             if ready[(int(slots.unit_acc[u]), int(slots.unit_site[u]))] <= t]
    slots.ramp_unit = np.array([u for u, _, _ in found], dtype=int)
    slots.ramp_quarter = np.array([t for _, t, _ in found], dtype=int)
    slots.ramp_days = np.array([days for _, _, days in found], dtype=float)


def _window_bounds(runs: RunData, units: np.ndarray, rents: np.ndarray, supply_total: np.ndarray,
                   acc_it_mw: np.ndarray, ups: np.ndarray, sites: dict[str, Any], cloud: dict[str, Any]) -> np.ndarray:
    """Most accelerators each window could hold: per accelerator, its whole supply or what the
    sites' power allows, whichever is smaller, plus every offer's quota [accelerators]."""
    max_mw = float(np.sum(sites["site_max_mw"]))
    per_acc = np.minimum(supply_total, max_mw / np.maximum(acc_it_mw, 1e-12)) * ups
    quota = np.asarray(cloud["cloud_max"]) * np.asarray(cloud["cloud_units_per_instance"])
    n_w = len(runs.windows.days)
    bound = np.zeros(n_w)
    for window in range(n_w):
        accs = np.unique(units[units[:, 2] == window, 0]).astype(int)
        offers = rents[rents[:, 1] == window, 0].astype(int)
        bound[window] = min(per_acc[accs].sum() + quota[offers].sum(), _most_needed(runs, window, ups))
    return bound


def _most_needed(runs: RunData, window: int, ups: np.ndarray) -> float:
    """Most accelerators a window's run can need: its target at the smallest factor kept, at its
    slowest member's rate over the days its full cluster works, plus one server of slack for whole
    units [accelerators]. A plan with
    more works no faster and costs at least as much, so no optimum is cut off."""
    r = int(runs.windows.run[window])
    rates = np.concatenate([runs.acc_rate[r], runs.offer_rate[r]])
    slowest = rates[rates > 0].min(initial=np.inf)
    if not np.isfinite(slowest):
        return 0.0
    spans = runs.span_efficiency[r].min() if runs.max_sites[r] > 1 else 1.0
    stacks = runs.stack_efficiency[r] ** (len(set(runs.acc_stack) | set(runs.offer_stack)) - 1) \
        if runs.mixes[r] == "any" else 1.0
    kept = runs.band_goodput[runs.band_run == r].min() * spans * stacks
    w = runs.windows
    # a growing run's full cluster may work only in the window's last quarter: the fewest days it works
    days = w.cover_days[w.cover_window == window][np.argmax(w.cover_period[w.cover_window == window])] \
        if runs.runs[r].grow else w.days[window]
    return float(runs.target[r] / kept / (slowest * days)) + float(ups.max(initial=1.0))
