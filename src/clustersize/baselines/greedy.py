"""What a planner would do in a spreadsheet, as a reference for the optimizer (and a warm start).

1. Rank supply lots (accelerator x order quarter) and cloud offers by cost per unit of compute,
   energy at the cheapest contract included.
2. Take lots in that order; place purchases at the cheapest open site that can take them
   (export rules, lead times and power permitting), opening the next-cheapest powered site
   when needed, while locations remain under max_sites.
3. At each open site sign the cheapest firm contracts to cover the peak load, then the cheapest
   energy to cover the run.

Whole servers and instances throughout; no custom programs (a spreadsheet does not weigh NRE).
The result goes through the same plan extraction and independent verifier as any solve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..data.modeldata import ModelData
from ..formulation import LinearProgram

EPS = 1e-9


def _site_order(d: ModelData) -> list[int]:
    """Sites by cost per MW of IT capacity: opening + building + firm energy over the run."""
    def cost_per_mw(s: int) -> float:
        capacity = d.site_existing_mw[s] + d.site_new_mw_max[s]
        if capacity <= 0:
            return math.inf
        contracts = np.flatnonzero(d.con_site == s)
        firm = [k for k in contracts if d.con_firm[k] > 0]
        if not firm:
            return math.inf
        energy = min(d.con_price[k] for k in firm) * d.energy_gwh_per_it_mw[s] * _typical_draw(d)
        build_share = d.site_new_mw_max[s] / capacity
        return float(d.site_fixed[s] / capacity + d.site_build[s] * build_share + energy)
    order = sorted(range(len(d.site_ids)), key=cost_per_mw)
    return [s for s in order if math.isfinite(cost_per_mw(s))]


def _typical_draw(d: ModelData) -> float:
    """Mean average-draw fraction of the accelerators, for the greedy's site and energy estimates."""
    return float(d.acc_draw.mean()) if len(d.acc_draw) else 1.0


def _powered_mw(d: ModelData, s: int) -> float:
    """IT MW a site can run: capacity, firm contracts and contracted energy permitting."""
    contracts = np.flatnonzero(d.con_site == s)
    firm = sum(d.con_max_mw[k] * d.con_firm[k] for k in contracts) / d.site_pue[s]
    energy = sum(d.con_max_mw[k] * d.con_energy_per_mw[k] for k in contracts) / (d.energy_gwh_per_it_mw[s]
                                                                               * _typical_draw(d))
    return float(min(d.site_existing_mw[s] + d.site_new_mw_max[s], firm, energy))


@dataclass
class _Greedy:
    """What the greedy has decided so far."""

    d: ModelData
    lp: LinearProgram
    need: float
    cells: dict[tuple[int, int, int], int]
    supply_left: dict[tuple[int, int], float]
    x: np.ndarray
    site_order: list[int]
    opened: list[int] = field(default_factory=list)
    load: np.ndarray = field(default_factory=lambda: np.zeros(0))
    drawn: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cap_left: np.ndarray = field(default_factory=lambda: np.zeros(0))
    locations: int = 0


def _lots(d: ModelData, catalog_cells: set[tuple[int, int]]) -> list[tuple[float, str, int, int | None]]:
    """Supply lots and cloud offers by cost per unit of compute, energy at the cheapest firm contract."""
    energy_cost = min((float(d.con_price[k]) for k in range(len(d.con_ids)) if d.con_firm[k] > 0), default=0.0)
    gwh_per_mw = float(d.energy_gwh_per_it_mw.mean()) if len(d.site_ids) else 0.0
    lots: list[tuple[float, str, int, int | None]] = []
    for a, t in sorted(catalog_cells):
        per_unit = d.acc_price[a, t] + d.acc_it_mw[a] * d.acc_draw[a] * gwh_per_mw * energy_cost
        lots.append((per_unit / d.acc_compute[a], "buy", a, t))
    lots += [(d.cloud_cost[o] / d.cloud_compute[o], "rent", o, None) for o in range(len(d.cloud_ids))
             if d.cloud_max[o] >= 1]
    lots.sort(key=lambda lot: lot[:2])
    return lots


def _rent(g: _Greedy, o: int) -> None:
    """Rent what the offer has, up to the need; the last location only if it covers everything."""
    d = g.d
    instances = min(math.floor(d.cloud_max[o] + EPS), math.ceil(g.need / d.cloud_compute[o] - EPS))
    covers_all = instances * d.cloud_compute[o] >= g.need - EPS
    if g.locations >= d.max_sites or (g.locations == d.max_sites - 1 and not covers_all):
        return
    g.x[g.lp.col_slices["rent"].start + o] = instances
    g.need -= instances * d.cloud_compute[o]
    g.locations += 1


def _candidate_sites(g: _Greedy, a: int, t: int) -> list[int]:
    """Open sites that can take the lot, then unopened ones in cost order (the last location: the roomiest)."""
    unopened = [s for s in g.site_order if s not in g.opened and (a, s, t) in g.cells]
    if g.locations == g.d.max_sites - 1:
        unopened = sorted(unopened, key=lambda s: -_powered_mw(g.d, s))[:1]
    return [s for s in g.opened if (a, s, t) in g.cells] + unopened


def _place(g: _Greedy, a: int, s: int, t: int) -> None:
    """Buy as many servers of the lot at site s as power, supply, need and export cap allow."""
    d = g.d
    free_mw = _powered_mw(d, s) - g.load[s]
    cap = d.cell_capped[g.cells[(a, s, t)]]
    cap_room = g.cap_left[cap] / d.acc_mtpp[a] if cap >= 0 else 1e12
    servers = min(math.floor(free_mw / d.acc_it_mw[a] + EPS), math.floor(min(g.supply_left[(a, t)], 1e12) + EPS),
                  math.ceil(g.need / d.acc_compute[a] - EPS), math.floor(cap_room + EPS))
    if servers <= 0:
        return
    g.x[g.lp.col_slices["buy"].start + g.cells[(a, s, t)]] += servers
    g.supply_left[(a, t)] -= servers
    g.load[s] += servers * d.acc_it_mw[a]
    g.drawn[s] += servers * d.acc_it_mw[a] * d.acc_draw[a]
    if cap >= 0:
        g.cap_left[cap] -= servers * d.acc_mtpp[a]
    g.need -= servers * d.acc_compute[a]


def _buy(g: _Greedy, a: int, t: int) -> None:
    """Place a supply lot at the candidate sites in order, opening sites while locations remain."""
    for s in _candidate_sites(g, a, t):
        if g.need <= EPS or g.supply_left[(a, t)] < 1:
            break
        if s not in g.opened:
            if g.locations >= g.d.max_sites:
                continue
            g.opened.append(s)
            g.locations += 1
        _place(g, a, s, t)


def _finish(g: _Greedy) -> np.ndarray:
    """Contracts at each opened site, then the site, new MW, offer and multi-site columns."""
    d, lp, x = g.d, g.lp, g.x
    for s in g.opened:
        _contract_site(d, lp, x, s, g.load[s], g.drawn[s])
    x[lp.col_slices["open"].start + np.array(g.opened, dtype=int)] = 1.0
    x[lp.col_slices["new_mw"].start + np.arange(len(d.site_ids))] = np.maximum(g.load - d.site_existing_mw, 0.0) * \
        np.isin(np.arange(len(d.site_ids)), g.opened)
    x[lp.col_slices["use_cloud"]] = (x[lp.col_slices["rent"]] > 0).astype(float)
    if lp.col_slices["multi_site"].stop > lp.col_slices["multi_site"].start:
        x[lp.col_slices["multi_site"].start] = float(g.locations > 1)
    return x


def greedy_solution(d: ModelData, lp: LinearProgram, need_factor: float = 1.0) -> np.ndarray | None:
    """A whole-unit plan as a column vector, or None when the greedy rule cannot reach the target."""
    cells = {(a, s, t): j for j, (a, s, t) in enumerate(zip(d.cell_acc, d.cell_site, d.cell_period))}
    catalog_cells = {(a, t) for (a, s, t) in cells if d.acc_program[a] < 0}
    g = _Greedy(d, lp, d.target * need_factor, cells, {(a, t): d.acc_supply[a, t] for a, t in catalog_cells},
                np.zeros(lp.shape[1]), _site_order(d), load=np.zeros(len(d.site_ids)), drawn=np.zeros(len(d.site_ids)),
                cap_left=d.cap_mtpp.astype(float).copy())
    for _, kind, i, t in _lots(d, catalog_cells):
        if g.need <= EPS:
            break
        if kind == "rent":
            _rent(g, i)
        elif t is not None:
            _buy(g, i, t)
    if g.need > EPS:
        return None
    if g.locations > 1 and d.multi_site_efficiency < 1 and need_factor == 1.0:
        return greedy_solution(d, lp, 1.0 / d.multi_site_efficiency)
    return _finish(g)


def _contract_site(d: ModelData, lp: LinearProgram, x: np.ndarray, s: int, load: float, drawn: float) -> None:
    """Cheapest firm contracts for the peak [MW], then cheapest energy for the run [GWh]: load is the
    site's full-load IT power, drawn its average draw [MW]."""
    peak, energy_need = load * d.site_pue[s], drawn * d.energy_gwh_per_it_mw[s]
    contracts = sorted(np.flatnonzero(d.con_site == s), key=lambda k: d.con_price[k])
    mw = np.zeros(len(d.con_ids))
    for k in contracts:
        if peak <= EPS:
            break
        if d.con_firm[k] > 0:
            mw[k] = min(d.con_max_mw[k], peak / d.con_firm[k])
            peak -= mw[k] * d.con_firm[k]
    energy = np.zeros(len(d.con_ids))
    for k in contracts:
        if energy_need <= EPS:
            break
        if mw[k] == 0 and d.con_min_take[k] == 0:
            mw[k] = min(d.con_max_mw[k], energy_need / max(d.con_energy_per_mw[k], EPS))
        energy[k] = min(mw[k] * d.con_energy_per_mw[k], energy_need)
        energy_need -= energy[k]
    energy = np.maximum(energy, d.con_min_take * d.con_energy_per_mw * mw)
    signed = mw > EPS
    x[lp.col_slices["contract_mw"].start + np.arange(len(d.con_ids))] += mw * (d.con_site == s)
    x[lp.col_slices["energy"].start + np.arange(len(d.con_ids))] += energy * (d.con_site == s)
    x[lp.col_slices["sign"].start + np.arange(len(d.con_ids))] += (signed & (d.con_site == s)).astype(float)
