"""The rows of each constraint family, vectorised; the math of each is declared in families.py.

Index sets: a accelerators (incl. custom chips), s sites, t quarters of the horizon, k energy
contracts, o cloud offers, p custom programs, c shared components, g capped countries, r runs,
w windows (one (start, length) choice of a run), l pace levels, b goodput bands, loc locations
(sites and offers). A purchase cell (a, s, t) exists only where the order can be installed by
the last window start; pruned cells are listed in ModelData.exclusions. Units as in
data/modeldata.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..costlines import LINES, NOT_CASH
from ..data.deals import KINDS
from ..data.modeldata import ModelData
from ..data.reach import location_reach, own_compute
from .program import ProgramBuilder, Term
from .shape import SPAN_CODE
from .variables import least_loss

INF = np.inf
LEAST_SHARE = 1e-3   # smallest reach in location_reach and location_cover, as a share of the run's need
Columns = dict[str, np.ndarray]
RowBuilder = Callable[[ProgramBuilder, ModelData, Columns], None]


def _group(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique codes and, for each element, the row of its code."""
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.unique(codes, return_inverse=True)


def _per_quarter(d: ModelData, first: np.ndarray, period: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group (first, quarter) pairs: the distinct pairs' codes and each element's row."""
    n_t = len(d.periods)
    pairs, row = _group(first * n_t + period)
    return pairs // n_t, pairs % n_t, row


def _arange(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int64)


def add_supply_cap(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per catalog accelerator and quarter with a finite supply, raised by the deals taken."""
    finite = np.isfinite(d.acc_supply[d.cell_acc, d.cell_period]) & (d.acc_program[d.cell_acc] < 0)
    a, t, row = _per_quarter(d, d.cell_acc[finite], d.cell_period[finite])
    b.add_rows("supply_cap", b.keys(("accelerator", "quarter"), a, t),
               [Term(x["buy"][finite], row, 1.0), _deal_terms(d, x, "accelerator", a, t),
                _spot_terms(d, x, a, t, _arange(a.size), np.ones(len(d.acc_ids)))], -INF, d.acc_supply[a, t])


def _spot_terms(d: ModelData, x: Columns, acc: np.ndarray, quarter: np.ndarray, row: np.ndarray,
                per_server: np.ndarray) -> Term:
    """- per_server[a] x spot[a,t] in `row` of each (acc, quarter) pair that has a spot column: spot
    servers use none of the allocation or components they are counted against."""
    n_t, spot = len(d.periods), d.spot
    rows = dict(zip((acc * n_t + quarter).tolist(), row.tolist()))
    hit = [(j, rows[code]) for j, code in enumerate((spot.acc * n_t + spot.quarter).tolist())
           if code in rows and per_server[spot.acc[j]] > 0]
    cols = np.array([j for j, _ in hit], dtype=np.int64)
    return Term(x["spot"][cols], np.array([r for _, r in hit], dtype=np.int64), -per_server[spot.acc[cols]])


def add_spot_purchase(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per spot column: servers bought spot are part of the quarter's purchases of the accelerator."""
    spot, n_t = d.spot, len(d.periods)
    codes = spot.acc * n_t + spot.quarter
    row = np.searchsorted(codes, d.cell_acc * n_t + d.cell_period)
    hit = np.flatnonzero(codes[np.minimum(row, max(codes.size - 1, 0))] == d.cell_acc * n_t + d.cell_period) \
        if codes.size else np.zeros(0, dtype=np.int64)
    b.add_rows("spot_purchase", b.keys(("accelerator", "quarter"), spot.acc, spot.quarter),
               [Term(x["spot"], _arange(codes.size), 1.0), Term(x["buy"][hit], row[hit], -1.0)], -INF, 0.0)


def _deal_terms(d: ModelData, x: Columns, kind: str, target: np.ndarray, quarter: np.ndarray) -> Term:
    """- amount x deal[d] in the row of each (target, quarter) a deal of `kind` raises."""
    deals = d.deals
    rows, cols, coef = [], [], []
    for j in np.flatnonzero(deals.kind == KINDS.index(kind)):
        hit = np.flatnonzero((target == deals.target[j]) & deals.covers[j][quarter])
        rows += hit.tolist()
        cols += [int(x["deal"][j])] * hit.size
        coef += [-float(deals.amount[j])] * hit.size
    return Term(np.asarray(cols, dtype=np.int64), np.asarray(rows, dtype=np.int64), np.asarray(coef, dtype=float))


def add_custom_volume(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per custom program and quarter in which its chip can be bought: within its volume when
    funded, plus the deals taken on its foundry capacity."""
    custom = d.acc_program[d.cell_acc] >= 0
    p, t, row = _per_quarter(d, d.acc_program[d.cell_acc][custom], d.cell_period[custom])
    b.add_rows("custom_volume", b.keys(("program", "quarter"), p, t),
               [Term(x["buy"][custom], row, 1.0), Term(x["fund"][p], _arange(p.size), -d.prog_volume[p]),
                _deal_terms(d, x, "program", p, t)], -INF, 0.0)


def add_deal_program(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per deal on a custom program's capacity: taken only with the program funded."""
    deals = np.flatnonzero(d.deals.kind == KINDS.index("program"))
    b.add_rows("deal_program", b.keys(("deal",), deals),
               [Term(x["deal"][deals], _arange(deals.size), 1.0),
                Term(x["fund"][d.deals.target[deals]], _arange(deals.size), -1.0)], -INF, 0.0)


def add_deal_take(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per prepaid deal and covered quarter: units credited within the extra supply taken."""
    deals = d.deals
    n = deals.take_deal.size
    b.add_rows("deal_take", b.keys(("deal", "quarter"), deals.take_deal, deals.take_quarter),
               [Term(x["take"], _arange(n), 1.0),
                Term(x["deal"][deals.take_deal], _arange(n), -deals.amount[deals.take_deal])], -INF, 0.0)


def add_deal_credit(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per supply raised by a prepaid deal and quarter: units credited, over the deals on it,
    within the units of it bought on allocation (purchases less spot, or the components in them)."""
    deals = d.deals
    supply, t, row = _per_quarter(d, deals.take_supply, deals.take_quarter)
    terms = [Term(x["take"], row, 1.0)]
    for i, label in enumerate(deals.supplies):
        kind, name = label.split(":", 1)
        mine = np.flatnonzero(supply == i)
        if kind == "component":
            per_server = d.component_use[:, d.components.index(name)]
        else:
            acc = d.acc_ids.index(name if kind == "accelerator" else f"custom:{name}")
            per_server = (np.arange(len(d.acc_ids)) == acc).astype(float)
        code = dict(zip(t[mine].tolist(), mine.tolist()))
        cells = np.flatnonzero((per_server[d.cell_acc] > 0) & np.isin(d.cell_period, t[mine]))
        terms.append(Term(x["buy"][cells], np.array([code[q] for q in d.cell_period[cells].tolist()], dtype=np.int64),
                          -per_server[d.cell_acc[cells]]))
        spot_row = np.array([code.get(q, -1) for q in d.spot.quarter.tolist()], dtype=np.int64)
        spot = np.flatnonzero((spot_row >= 0) & (per_server[d.spot.acc] > 0))
        terms.append(Term(x["spot"][spot], spot_row[spot], per_server[d.spot.acc[spot]]))
    b.add_rows("deal_credit", b.keys(("supply", "quarter"), supply, t), terms, -INF, 0.0)


def add_component_cap(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per shared component and quarter in which it is used, raised by the deals taken."""
    for c in range(len(d.components)):
        use = d.component_use[d.cell_acc, c]
        mask = use > 0
        t, row = _group(d.cell_period[mask])
        b.add_rows("component_cap", b.keys(("component", "quarter"), np.full(t.size, c), t),
                   [Term(x["buy"][mask], row, use[mask]), _deal_terms(d, x, "component", np.full(t.size, c), t),
                    _spot_terms(d, x, d.cell_acc[mask], d.cell_period[mask], row, d.component_use[:, c])],
                   -INF, d.component_supply[c])


def add_site_power(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per site: IT load of every purchase against existing plus new capacity."""
    sites = _arange(len(d.site_ids))
    b.add_rows("site_power", b.all_of("site"),
               [Term(x["buy"], d.cell_site, d.acc_it_mw[d.cell_acc]), Term(x["open"], sites, -d.site_existing_mw),
                Term(x["new_mw"], sites, -1.0)], -INF, 0.0)


def add_site_build(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per site: new capacity only at an opened site."""
    sites = _arange(len(d.site_ids))
    b.add_rows("site_build", b.all_of("site"),
               [Term(x["new_mw"], sites, 1.0), Term(x["open"], sites, -d.site_new_mw_max)], -INF, 0.0)


def add_site_energised(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per site that builds: hardware installed before new capacity is powered fits the existing MW."""
    early = (d.cell_ready < d.site_ready[d.cell_site]) & (d.site_new_mw_max[d.cell_site] > 0)
    s, row = _group(d.cell_site[early])
    b.add_rows("site_energised", b.keys(("site",), s),
               [Term(x["buy"][early], row, d.acc_it_mw[d.cell_acc[early]]),
                Term(x["open"][s], _arange(s.size), -d.site_existing_mw[s])], -INF, 0.0)


def add_installed_mw(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per per-quarter load key (site, quarter): the IT load installed there by the quarter [MW]."""
    load = d.site_load
    n_t = len(d.periods)
    code = load.site * n_t + load.quarter
    rows = _arange(code.size)
    # the row of the same site's previous quarter: the keys run over consecutive quarters per site
    previous = rows - 1
    has_previous = (previous >= 0) & (load.site[np.maximum(previous, 0)] == load.site) if code.size \
        else np.zeros(0, dtype=bool)
    cell_code = d.cell_site * n_t + d.cell_ready
    pos = np.searchsorted(code, cell_code)
    found = (pos < code.size) & (code[np.minimum(pos, max(code.size - 1, 0))] == cell_code) if code.size \
        else np.zeros(cell_code.size, dtype=bool)
    sold = d.sales.cell
    sale_code = d.cell_site[sold] * n_t + d.sales.quarter
    sale_pos = np.searchsorted(code, sale_code)
    sale_found = (sale_pos < code.size) & (code[np.minimum(sale_pos, max(code.size - 1, 0))] == sale_code) \
        if code.size else np.zeros(sale_code.size, dtype=bool)
    b.add_rows("installed_mw", b.keys(("site", "quarter"), load.site, load.quarter),
               [Term(x["installed"], rows, 1.0), Term(x["installed"][previous[has_previous]], rows[has_previous], -1.0),
                Term(x["buy"][found], pos[found], -d.acc_it_mw[d.cell_acc[found]]),
                Term(x["sell"][sale_found], sale_pos[sale_found], d.acc_it_mw[d.cell_acc[sold[sale_found]]])], 0.0, 0.0)


def _powered_positions(d: ModelData) -> np.ndarray:
    """For each per-quarter load key, its position in the `powered` family (-1 at a site not phased)."""
    phased = d.site_load.phased
    return np.where(phased, np.cumsum(phased) - 1, -1)


def add_site_lease(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per leased (site, quarter): installed load less the new build powered by then, leased."""
    load = d.site_load
    keys = np.flatnonzero(load.leased)
    rows = _arange(keys.size)
    powered = _powered_positions(d)[keys]
    phased = powered >= 0
    built = ~phased & (load.quarter[keys] >= d.site_ready[load.site[keys]])
    b.add_rows("site_lease", b.keys(("site", "quarter"), load.site[keys], load.quarter[keys]),
               [Term(x["installed"][keys], rows, 1.0), Term(x["new_mw"][load.site[keys][built]], rows[built], -1.0),
                Term(x["powered"][powered[phased]], rows[phased], -1.0), Term(x["lease"], rows, -1.0)], -INF, 0.0)


def add_site_phase(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (phased site, quarter): installed load within existing capacity plus the new MW
    powered by then."""
    load = d.site_load
    keys = np.flatnonzero(load.phased)
    rows = _arange(keys.size)
    s = load.site[keys]
    b.add_rows("site_phase", b.keys(("site", "quarter"), s, load.quarter[keys]),
               [Term(x["installed"][keys], rows, 1.0), Term(x["open"][s], rows, -d.site_existing_mw[s]),
                Term(x["powered"], rows, -1.0)], -INF, 0.0)


def add_phase_build(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (phased site, quarter): new MW powered within the MW built."""
    load = d.site_load
    keys = np.flatnonzero(load.phased)
    rows = _arange(keys.size)
    b.add_rows("phase_build", b.keys(("site", "quarter"), load.site[keys], load.quarter[keys]),
               [Term(x["powered"], rows, 1.0), Term(x["new_mw"][load.site[keys]], rows, -1.0)], -INF, 0.0)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each i, the positions lo[i]..hi[i]-1: (owner i of each position, position)."""
    counts = np.maximum(hi - lo, 0)
    owner = np.repeat(_arange(lo.size), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.repeat(lo, counts) + offset


def _rows_of(*codes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows keyed by the codes of several column families: (row codes, then the row of each column
    of each family in turn)."""
    rows, row = _group(np.concatenate([c.astype(np.int64) for c in codes]))
    ends = np.cumsum([c.size for c in codes])
    return (rows, *np.split(row, ends[:-1]))


def add_fleet(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (accelerator, site, quarter) a run may use or serving may: servers in runs (a
    growing run's ramp in its quarter) and serving within those installed."""
    sl, sv = d.slots, d.serving
    slot, t, _ = sl.unit_cover()
    n_s, n_t = len(d.site_ids), len(d.periods)
    code = (sl.unit_acc[slot] * n_s + sl.unit_site[slot]) * n_t + t
    ramp = sl.ramp_unit
    rows, row_of_slot, row_of_serve, row_of_ramp = _rows_of(
        code, (sv.unit_acc * n_s + sv.unit_site) * n_t + sv.unit_quarter,
        (sl.unit_acc[ramp] * n_s + sl.unit_site[ramp]) * n_t + sl.ramp_quarter)
    # A purchase counts in every row of its (accelerator, site) from the quarter it is installed:
    # rows are sorted by code, so those of one pair from a quarter on are one contiguous range.
    pair = d.cell_acc * n_s + d.cell_site
    lo = np.searchsorted(rows, pair * n_t + d.cell_ready)
    hi = np.searchsorted(rows, (pair + 1) * n_t)
    cell, cell_row = _ranges(lo, hi)
    # a sale counts in every row of its pair from the quarter sold
    sold = d.sales.cell
    sale, sale_row = _ranges(np.searchsorted(rows, pair[sold] * n_t + d.sales.quarter), hi[sold])
    a, rest = rows // (n_s * n_t), rows % (n_s * n_t)
    b.add_rows("fleet", b.keys(("accelerator", "site", "quarter"), a, rest // n_t, rest % n_t),
               [Term(x["units"][slot], row_of_slot, 1.0), Term(x["serve"], row_of_serve, 1.0),
                Term(x["ramp"], row_of_ramp, 1.0), Term(x["buy"][cell], cell_row, -1.0),
                Term(x["sell"][sale], sale_row, 1.0)], -INF, 0.0)


def add_sale_cohort(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per purchase cell that may be sold: its sales, over all quarters, within the purchase."""
    cells, row = _group(d.sales.cell)
    b.add_rows("sale_cohort", b.keys(("accelerator", "site", "quarter"), d.cell_acc[cells], d.cell_site[cells],
                                     d.cell_period[cells]),
               [Term(x["sell"], row, 1.0), Term(x["buy"][cells], _arange(cells.size), -1.0)], -INF, 0.0)


def add_run_fleet(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, accelerator, site): over all the run's windows, servers within every purchase
    there. Implied by fleet (a run takes one window), it stops a relaxation from counting the same
    servers once in each of a run's windows."""
    sl, w = d.slots, d.runs.windows
    n_a, n_s = len(d.acc_ids), len(d.site_ids)
    code = (w.run[sl.unit_window] * n_a + sl.unit_acc) * n_s + sl.unit_site
    rows, row_of_slot = _group(code)
    pair = rows % (n_a * n_s)
    cell_pair = d.cell_acc * n_s + d.cell_site
    order = np.argsort(cell_pair, kind="stable")
    lo, hi = np.searchsorted(cell_pair[order], pair, "left"), np.searchsorted(cell_pair[order], pair, "right")
    counts = hi - lo
    cell_rows = np.repeat(_arange(rows.size), counts)
    cells = order[np.concatenate([np.arange(a, z) for a, z in zip(lo, hi)])] if rows.size else np.zeros(0, int)
    run, rest = rows // (n_a * n_s), pair
    b.add_rows("run_fleet", b.keys(("run", "accelerator", "site"), run, rest // n_s, rest % n_s),
               [Term(x["units"], row_of_slot, 1.0), Term(x["buy"][cells], cell_rows, -1.0)], -INF, 0.0)


def add_energy_balance(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (site, window) with hardware: facility energy of the run against its contracted energy."""
    sl, w = d.slots, d.runs.windows
    n_w = len(w.days)
    per_hour = d.acc_it_mw[sl.unit_acc] * d.acc_draw[sl.unit_acc] * d.site_pue[sl.unit_site] / 1000.0
    gwh = per_hour * sl.unit_days * 24.0
    rows, row = _group(sl.unit_site * n_w + sl.unit_window)
    ramp = sl.ramp_unit
    energy_code = d.con_site[sl.energy_contract] * n_w + sl.energy_window
    pos = np.searchsorted(rows, energy_code)
    found = (pos < rows.size) & (rows[np.minimum(pos, rows.size - 1)] == energy_code) if rows.size else pos < 0
    b.add_rows("energy_balance", b.keys(("site", "window"), rows // n_w, rows % n_w),
               [Term(x["units"], row, gwh), Term(x["ramp"], row[ramp], per_hour[ramp] * sl.ramp_days * 24.0),
                Term(x["energy"][found], pos[found], -1.0)], -INF, 0.0)


def add_firm_power(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (site, quarter) with hardware in a run or serving: peak facility load against firm
    contracted MW."""
    sl, sv = d.slots, d.serving
    slot, t, _ = sl.unit_cover()
    n_t = len(d.periods)
    ramp = sl.ramp_unit
    rows, row_of_slot, row_of_serve, row_of_ramp = _rows_of(
        sl.unit_site[slot] * n_t + t, sv.unit_site * n_t + sv.unit_quarter, sl.unit_site[ramp] * n_t + sl.ramp_quarter)
    s, tt = rows // n_t, rows % n_t
    k_rows, k_cols = [], []
    for i, (site, quarter) in enumerate(zip(s.tolist(), tt.tolist())):
        for k in np.flatnonzero((d.con_site == site) & (d.con_live_from <= quarter)).tolist():
            k_rows.append(i)
            k_cols.append(k)
    k_cols_arr = np.array(k_cols, dtype=np.int64)
    b.add_rows("firm_power", b.keys(("site", "quarter"), s, tt),
               [Term(x["units"][slot], row_of_slot, d.acc_it_mw[sl.unit_acc[slot]] * d.site_pue[sl.unit_site[slot]]),
                Term(x["serve"], row_of_serve, d.acc_it_mw[sv.unit_acc] * d.site_pue[sv.unit_site]),
                Term(x["ramp"], row_of_ramp, d.acc_it_mw[sl.unit_acc[ramp]] * d.site_pue[sl.unit_site[ramp]]),
                Term(x["contract_mw"][k_cols_arr], np.array(k_rows, dtype=np.int64), -d.con_firm[k_cols_arr])],
               -INF, 0.0)


def add_contract_size(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per contract: MW only under a signed contract."""
    k = _arange(len(d.con_ids))
    b.add_rows("contract_size", b.all_of("contract"),
               [Term(x["contract_mw"], k, 1.0), Term(x["sign"], k, -d.con_max_mw)], -INF, 0.0)


def _live_days(d: ModelData, k: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Days of quarter t the contract delivers for: all of them from its first whole quarter [days]."""
    return np.where(d.con_live_from[k] > t, 0.0, d.period_hours[t] / 24.0)


def add_contract_output(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (contract, quarter) with energy: energy taken in the quarter within the contract's output.

    A window's energy is drawn evenly over its days, so the quarter's share is its days inside.
    """
    sl, w = d.slots, d.runs.windows
    cover: dict[int, list[tuple[int, float]]] = {}
    for cw, ct, cd in zip(w.cover_window.tolist(), w.cover_period.tolist(), w.cover_days.tolist()):
        cover.setdefault(cw, []).append((ct, cd))
    cols, ks, ts, shares = [], [], [], []
    for e, (k, win) in enumerate(zip(sl.energy_contract.tolist(), sl.energy_window.tolist())):
        for t, days in cover[win]:
            cols.append(e)
            ks.append(k)
            ts.append(t)
            shares.append(days / w.days[win])
    n_t = len(d.periods)
    sv = d.serving
    rows, row, row_of_serve = _rows_of(np.array(ks, dtype=np.int64) * n_t + np.array(ts, dtype=np.int64),
                                       sv.energy_contract * n_t + sv.energy_quarter)
    con, quarter = rows // n_t, rows % n_t
    deliver = d.con_capacity_factor[con] * _live_days(d, con, quarter) * 24.0 / 1000.0
    b.add_rows("contract_output", b.keys(("contract", "quarter"), con, quarter),
               [Term(x["energy"][np.array(cols, dtype=np.int64)], row, np.array(shares)),
                Term(x["serve_energy"], row_of_serve, 1.0),
                Term(x["contract_mw"][con], _arange(con.size), -deliver)], -INF, 0.0)


def add_contract_min_take(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (contract with a minimum take, window): a run at the site takes the minimum share
    of the contract's output over its window; `active[s, w]` is 1 when the window's run uses the site."""
    sl, w = d.slots, d.runs.windows
    take = np.flatnonzero(d.con_min_take[sl.energy_contract] > 0)
    k, win = sl.energy_contract[take], sl.energy_window[take]
    per_mw = d.con_min_take[k] * d.con_capacity_factor[k] * w.hours[win] / 1000.0
    active = {(int(s), int(ww)): i for i, (s, ww) in enumerate(zip(*_active_keys(b)))}
    act = np.array([active[(int(d.con_site[kk]), int(ww))] for kk, ww in zip(k, win)], dtype=np.int64)
    rows = _arange(take.size)
    b.add_rows("contract_min_take", b.keys(("contract", "window"), k, win),
               [Term(x["contract_mw"][k], rows, per_mw), Term(x["energy"][take], rows, -1.0),
                Term(x["active"][act], rows, per_mw * d.con_max_mw[k])], -INF, per_mw * d.con_max_mw[k])


def _active_keys(b: ProgramBuilder) -> tuple[np.ndarray, np.ndarray]:
    keys = b.column_keys("active")
    return keys.codes[0], keys.codes[1]


def add_site_active(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (site, window) with a minimum-take contract: active when the window is chosen and
    its run uses the site."""
    s, win = _active_keys(b)
    run = d.runs.windows.run[win]
    use = _use_positions(b, run, s)
    rows = _arange(s.size)
    b.add_rows("site_active", b.keys(("site", "window"), s, win),
               [Term(x["use"][use], rows, 1.0), Term(x["window"][win], rows, 1.0), Term(x["active"], rows, -1.0)],
               -INF, 1.0)


def _use_positions(b: ProgramBuilder, run: np.ndarray, location: np.ndarray) -> np.ndarray:
    """Position in the `use` family of each (run, location)."""
    keys = b.column_keys("use")
    n_loc = len(b.sets["location"])
    lookup = {int(c): i for i, c in enumerate(keys.codes[0] * n_loc + keys.codes[1])}
    return np.array([lookup[int(c)] for c in run * n_loc + location], dtype=np.int64)


def add_contract_site(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per contract: signed only at an opened site."""
    k = _arange(len(d.con_ids))
    b.add_rows("contract_site", b.all_of("contract"),
               [Term(x["sign"], k, 1.0), Term(x["open"][d.con_site], k, -1.0)], -INF, 0.0)


def add_cloud_quota(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (offer, quarter) a rental window covers: rentals of the runs then within the quota."""
    sl, w = d.slots, d.runs.windows
    cover: dict[int, list[int]] = {}
    for cw, ct in zip(w.cover_window.tolist(), w.cover_period.tolist()):
        cover.setdefault(cw, []).append(ct)
    cols, codes = [], []
    n_t = len(d.periods)
    for v, (o, win) in enumerate(zip(sl.rent_offer.tolist(), sl.rent_window.tolist())):
        for t in cover[win]:
            cols.append(v)
            codes.append(o * n_t + t)
    sv = d.serving
    rows, row, row_of_serve = _rows_of(np.array(codes, dtype=np.int64), sv.rent_offer * n_t + sv.rent_quarter)
    b.add_rows("cloud_quota", b.keys(("offer", "quarter"), rows // n_t, rows % n_t),
               [Term(x["rent"][np.array(cols, dtype=np.int64)], row, 1.0), Term(x["serve_rent"], row_of_serve, 1.0)],
               -INF, d.cloud_max[rows // n_t])


def add_commitment_cover(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (committed offer, quarter) a rental window covers: rentals within the terms running then."""
    sl, w, m = d.slots, d.runs.windows, d.money
    committed = m.commit_cover > 0
    cover: dict[int, list[int]] = {}
    for cw, ct in zip(w.cover_window.tolist(), w.cover_period.tolist()):
        cover.setdefault(cw, []).append(ct)
    n_t = len(d.periods)
    cols, codes = [], []
    for v, (o, win) in enumerate(zip(sl.rent_offer.tolist(), sl.rent_window.tolist())):
        if committed[o]:
            for t in cover[win]:
                cols.append(v)
                codes.append(o * n_t + t)
    sv = d.serving
    serving = np.flatnonzero(committed[sv.rent_offer]) if sv.rent_offer.size else np.zeros(0, dtype=np.int64)
    rows, row, row_of_serve = _rows_of(np.array(codes, dtype=np.int64),
                                       sv.rent_offer[serving] * n_t + sv.rent_quarter[serving])
    c_cols, c_rows = [], []
    for i, (o, q) in enumerate(zip(m.commit_offer.tolist(), m.commit_quarter.tolist())):
        for t in range(q, q + int(m.commit_cover[o])):
            at = np.searchsorted(rows, o * n_t + t)
            if at < rows.size and rows[at] == o * n_t + t:
                c_cols.append(i)
                c_rows.append(at)
    b.add_rows("commitment_cover", b.keys(("offer", "quarter"), rows // n_t, rows % n_t),
               [Term(x["rent"][np.array(cols, dtype=np.int64)], row, 1.0), Term(x["serve_rent"][serving], row_of_serve, 1.0),
                Term(x["commit"][np.array(c_cols, dtype=np.int64)], np.array(c_rows, dtype=np.int64), -1.0)], -INF, 0.0)


def add_run_location(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, location): hardware at a site or rentals from an offer only where the run uses it."""
    sl, runs = d.slots, d.runs
    keys = b.column_keys("use")
    r, loc = keys.codes
    n_sites = len(d.site_ids)
    n_loc = len(sl.location_ids)
    row_of = {int(c): i for i, c in enumerate(r * n_loc + loc)}
    unit_row = np.array([row_of[int(c)] for c in runs.windows.run[sl.unit_window] * n_loc + sl.unit_site], dtype=np.int64)
    rent_row = np.array([row_of[int(c)] for c in runs.windows.run[sl.rent_window] * n_loc + n_sites + sl.rent_offer],
                        dtype=np.int64)
    capacity = np.where(loc < n_sites, d.site_max_mw[np.minimum(loc, n_sites - 1)] if n_sites else 0.0,
                        d.cloud_max[np.maximum(loc - n_sites, 0)] if len(d.cloud_ids) else 0.0)
    b.add_rows("run_location", b.keys(("run", "location"), r, loc),
               [Term(x["units"], unit_row, d.acc_it_mw[sl.unit_acc]), Term(x["rent"], rent_row, 1.0),
                Term(x["use"], _arange(r.size), -capacity)], -INF, 0.0)


def add_location_open(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, site): a run uses only opened sites."""
    r, loc = b.column_keys("use").codes
    site = np.flatnonzero(loc < len(d.site_ids))
    b.add_rows("location_open", b.keys(("run", "location"), r[site], loc[site]),
               [Term(x["use"][site], _arange(site.size), 1.0), Term(x["open"][loc[site]], _arange(site.size), -1.0)],
               -INF, 0.0)


def add_cluster_size(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (window, site) with a fabric limit: a run's cluster at the site within it [accelerators]."""
    sl = d.slots
    limited = np.isfinite(d.site_max_cluster[sl.unit_site])
    n_s = len(d.site_ids)
    rows, row = _group(sl.unit_window[limited] * n_s + sl.unit_site[limited])
    b.add_rows("cluster_size", b.keys(("window", "site"), rows // n_s, rows % n_s),
               [Term(x["units"][limited], row, d.acc_units_per_server[sl.unit_acc[limited]])],
               -INF, d.site_max_cluster[rows % n_s] if rows.size else 0.0)


def add_max_sites(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run: locations used within max_sites."""
    r, _ = b.column_keys("use").codes
    b.add_rows("max_sites", b.all_of("run"), [Term(x["use"], r, 1.0)], -INF, d.runs.max_sites.astype(float))


def add_span_locations(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run with a region span level: more than one location means spread[region] = 1."""
    _level_span(b, d, x, "span_locations", "use", "region", spread_runs_only=True)


def _membership(b: ProgramBuilder, d: ModelData, x: Columns, family: str, group: str, names: list[str]) -> None:
    """use[r, loc] <= group_use[r, group(loc)] for every location of a run with that group family."""
    r_group, g = b.column_keys(group).codes
    sets = b.sets[group.replace("_use", "")]
    lookup = {(int(r), int(c)): i for i, (r, c) in enumerate(zip(r_group, g))}
    r_use, loc = b.column_keys("use").codes
    pos = [lookup.get((int(r), sets.index(names[int(lc)]))) for r, lc in zip(r_use, loc)]
    keep = np.array([p is not None for p in pos], dtype=bool)
    rows = _arange(int(keep.sum()))
    b.add_rows(family, b.keys(("run", "location"), r_use[keep], loc[keep]),
               [Term(x["use"][keep], rows, 1.0),
                Term(x[group][np.array([p for p in pos if p is not None], dtype=np.int64)], rows, -1.0)], -INF, 0.0)


def add_location_region(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, location) where the run may span regions: its region counts as used."""
    _membership(b, d, x, "location_region", "region_use", d.slots.location_region)


def add_location_continent(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, location) where the run may span continents: its continent counts as used."""
    _membership(b, d, x, "location_continent", "continent_use", d.slots.location_continent)


def _level_span(b: ProgramBuilder, d: ModelData, x: Columns, family: str, members: str, level: str,
                spread_runs_only: bool = False) -> None:
    """sum of a run's used members - (N - 1) spread[level] <= 1 (without the spread column: <= 1),
    for every run with such members (or only those with the spread column)."""
    r_members, _ = b.column_keys(members).codes
    r_spread, h = b.column_keys("spread").codes
    runs = np.unique(r_members)
    if spread_runs_only:
        runs = np.intersect1d(runs, r_spread[h == SPAN_CODE[level]])
    mine = np.isin(r_members, runs)
    spread = np.flatnonzero((h == SPAN_CODE[level]) & np.isin(r_spread, runs))
    b.add_rows(family, b.keys(("run",), runs),
               [Term(x[members][mine], np.searchsorted(runs, r_members[mine]), 1.0),
                Term(x["spread"][spread], np.searchsorted(runs, r_spread[spread]),
                     -(d.runs.max_sites[r_spread[spread]] - 1.0))], -INF, 1.0)


def add_span_regions(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run that may span regions: more than one region means spread[continent] = 1."""
    _level_span(b, d, x, "span_regions", "region_use", "continent")


def add_span_continents(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run whose locations lie on several continents: one continent unless the run may
    cross an ocean, and then spread[world] = 1."""
    _level_span(b, d, x, "span_continents", "continent_use", "world")


def add_span_order(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """spread[wider level] <= spread[narrower level]: spanning continents spans regions and locations."""
    r_spread, h = b.column_keys("spread").codes
    lookup = {(int(r), int(level)): i for i, (r, level) in enumerate(zip(r_spread, h))}
    pairs = [(lookup[(r, level)], lookup[(r, level - 1)]) for (r, level) in lookup if (r, level - 1) in lookup]
    rows = _arange(len(pairs))
    wide = np.array([p[0] for p in pairs], dtype=np.int64)
    narrow = np.array([p[1] for p in pairs], dtype=np.int64)
    b.add_rows("span_order", b.keys(("run", "span"), r_spread[wide], h[wide]),
               [Term(x["spread"][wide], rows, 1.0), Term(x["spread"][narrow], rows, -1.0)], -INF, 0.0)


def add_window_choice(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run: exactly one window."""
    w = d.runs.windows
    b.add_rows("window_choice", b.all_of("run"), [Term(x["window"], w.run, 1.0)], 1.0, 1.0)


def add_window_units(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per window of a run with several: hardware only in the chosen window [accelerators]."""
    sl, w = d.slots, d.runs.windows
    several = np.bincount(w.run)[w.run] > 1
    win = np.flatnonzero(several)
    row_of = np.full(len(w.days), -1)
    row_of[win] = _arange(win.size)
    u = row_of[sl.unit_window] >= 0
    v = row_of[sl.rent_window] >= 0
    b.add_rows("window_units", b.keys(("window",), win),
               [Term(x["units"][u], row_of[sl.unit_window[u]], d.acc_units_per_server[sl.unit_acc[u]]),
                Term(x["rent"][v], row_of[sl.rent_window[v]], d.cloud_units_per_instance[sl.rent_offer[v]]),
                Term(x["window"][win], _arange(win.size), -d.slots.unit_bound[win])], -INF, 0.0)


def add_slot_window(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per slot of a run with several windows: servers or instances in a slot only if its
    window is chosen, within the most the slot could hold. The disaggregated form of window_units,
    it keeps the relaxation from spreading a run thinly over many windows [servers; instances]."""
    sl, w = d.slots, d.runs.windows
    several = np.bincount(w.run)[w.run] > 1
    u = np.flatnonzero(several[sl.unit_window])
    v = np.flatnonzero(several[sl.rent_window])
    rows_u, rows_v = _arange(u.size), u.size + _arange(v.size)
    members = np.concatenate([sl.unit_acc[u], len(d.acc_ids) + sl.rent_offer[v]])
    b.add_rows("slot_window", b.keys(("member", "window"), members,
                                     np.concatenate([sl.unit_window[u], sl.rent_window[v]])),
               [Term(x["units"][u], rows_u, 1.0), Term(x["window"][sl.unit_window[u]], rows_u, -sl.unit_slot_bound[u]),
                Term(x["rent"][v], rows_v, 1.0),
                Term(x["window"][sl.rent_window[v]], rows_v, -d.cloud_max[sl.rent_offer[v]])], -INF, 0.0)


def _member_terms(d: ModelData, x: Columns, run: int, keep_acc: np.ndarray, keep_offer: np.ndarray,
                  per_accelerator: np.ndarray | float, per_offer: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Columns and coefficients of a run's units and rentals whose accelerator or offer is kept."""
    sl, w = d.slots, d.runs.windows
    u = (w.run[sl.unit_window] == run) & keep_acc[sl.unit_acc]
    v = (w.run[sl.rent_window] == run) & keep_offer[sl.rent_offer]
    cu = np.broadcast_to(per_accelerator, sl.unit_acc.shape)[u]
    cv = np.broadcast_to(per_offer, sl.rent_offer.shape)[v]
    return np.concatenate([x["units"][u], x["rent"][v]]), np.concatenate([cu, cv])


def _ramp_terms(d: ModelData, x: Columns, run: int, keep_acc: np.ndarray,
                rate: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Ramp columns of a growing run whose accelerator is kept, and their compute at `rate` (a
    number, or one per ramp column) over the days each works [EFLOP/s-day]."""
    sl, w = d.slots, d.runs.windows
    u = sl.ramp_unit
    keep = (w.run[sl.unit_window[u]] == run) & keep_acc[sl.unit_acc[u]]
    coef = np.broadcast_to(rate, u.shape) * d.acc_units_per_server[sl.unit_acc[u]] * sl.ramp_days
    return x["ramp"][keep], coef[keep]


def add_ramp_cluster(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per ramp column of a growing run: the part of the cluster working in a quarter within
    the full cluster [servers]."""
    sl = d.slots
    rows = _arange(sl.ramp_unit.size)
    u = sl.ramp_unit
    b.add_rows("ramp_cluster", b.keys(("accelerator", "site", "window", "quarter"), sl.unit_acc[u], sl.unit_site[u],
                                      sl.unit_window[u], sl.ramp_quarter),
               [Term(x["ramp"], rows, 1.0), Term(x["units"][u], rows, -1.0)], -INF, 0.0)


def add_pace_choice(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run: exactly one pace level (its group and its slowest member's rate)."""
    b.add_rows("pace_choice", b.all_of("run"), [Term(x["pace"], d.runs.level_run, 1.0)], 1.0, 1.0)


def _member_bounds(d: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """Most accelerators of each kind, and of each offer, one run could hold [accelerators]: a window's
    bound, and the accelerator's whole supply or what every site's power holds."""
    sl = d.slots
    per_acc = np.zeros(len(d.acc_ids))
    np.maximum.at(per_acc, sl.unit_acc, d.slots.unit_bound[sl.unit_window])
    return np.minimum(per_acc, sl.acc_servers * d.acc_units_per_server), d.cloud_max * d.cloud_units_per_instance


def add_pace_member(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, accelerator or offer) of a run with several pace levels: a member joins only
    at a level of its group no faster than itself [accelerators]."""
    r = d.runs
    acc_bound, offer_bound = _member_bounds(d)
    keys_r: list[int] = []
    keys_loc: list[int] = []
    terms = []
    n_rows = 0
    for run in np.flatnonzero(np.bincount(r.level_run, minlength=len(r.ids)) > 1):
        levels = np.flatnonzero(r.level_run == run)
        members = [("a", a, r.acc_group[run][a], r.acc_rate[run, a]) for a in np.flatnonzero(r.acc_rate[run] > 0)]
        members += [("o", o, r.offer_group[run][o], r.offer_rate[run, o]) for o in np.flatnonzero(r.offer_rate[run] > 0)]
        for kind, m, group, rate in members:
            keep_acc = np.zeros(len(d.acc_ids), bool)
            keep_offer = np.zeros(len(d.cloud_ids), bool)
            (keep_acc if kind == "a" else keep_offer)[m] = True
            cols, coef = _member_terms(d, x, int(run), keep_acc, keep_offer, d.acc_units_per_server[d.slots.unit_acc],
                                       d.cloud_units_per_instance[d.slots.rent_offer])
            allowed = [lv for lv in levels if r.level_group[lv] == group and r.level_rate[lv] <= round(rate, 12) + 1e-15]
            bound = acc_bound[m] if kind == "a" else offer_bound[m]
            terms += [Term(cols, n_rows, coef), Term(x["pace"][np.array(allowed, dtype=np.int64)], n_rows, -bound)]
            keys_r.append(int(run))
            keys_loc.append(int(m) if kind == "a" else len(d.acc_ids) + int(m))
            n_rows += 1
    b.add_rows("pace_member", b.keys(("run", "member"), keys_r, keys_loc), terms, -INF, 0.0)


def add_stack_member(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, stack) of a run that mixes stacks: members of a stack only if it is used."""
    r = d.runs
    r_st, st = b.column_keys("stack_used").codes
    stacks = b.sets["stack"]
    acc_bound, offer_bound = _member_bounds(d)
    terms = []
    for i, (run, k) in enumerate(zip(r_st.tolist(), st.tolist())):
        keep_acc = np.array([s == stacks[k] for s in r.acc_stack])
        keep_offer = np.array([s == stacks[k] for s in r.offer_stack], dtype=bool)
        cols, coef = _member_terms(d, x, run, keep_acc, keep_offer, d.acc_units_per_server[d.slots.unit_acc],
                                   d.cloud_units_per_instance[d.slots.rent_offer])
        bound = acc_bound[keep_acc].sum() + offer_bound[keep_offer].sum()
        terms += [Term(cols, i, coef), Term(x["stack_used"][[i]], i, -bound)]
    b.add_rows("stack_member", b.keys(("run", "stack"), r_st, st), terms, -INF, 0.0)


def add_stack_count(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run that mixes stacks: every stack beyond the first is an extra one."""
    r_st, _ = b.column_keys("stack_used").codes
    r_ex, _ = b.column_keys("extra").codes
    runs = np.unique(r_st)
    b.add_rows("stack_count", b.keys(("run",), runs),
               [Term(x["stack_used"], np.searchsorted(runs, r_st), 1.0),
                Term(x["extra"], np.searchsorted(runs, r_ex), -1.0)], -INF, 1.0)


def add_band_choice(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run: exactly one goodput band."""
    b.add_rows("band_choice", b.all_of("run"), [Term(x["band"], d.runs.band_run, 1.0)], 1.0, 1.0)


def add_band_size(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run with several bands: its accelerators within the chosen band's size."""
    r, sl, w = d.runs, d.slots, d.runs.windows
    several = np.flatnonzero(np.bincount(r.band_run, minlength=len(r.ids)) > 1)
    row_of = np.full(len(r.ids), -1)
    row_of[several] = _arange(several.size)
    u = row_of[w.run[sl.unit_window]] >= 0
    v = row_of[w.run[sl.rent_window]] >= 0
    bands = np.flatnonzero(row_of[r.band_run] >= 0)
    largest = np.array([sl.unit_bound[w.run == run].max() for run in range(len(r.ids))])
    cap = np.where(np.isfinite(r.band_units), r.band_units, largest[r.band_run])
    b.add_rows("band_size", b.keys(("run",), several),
               [Term(x["units"][u], row_of[w.run[sl.unit_window[u]]], d.acc_units_per_server[sl.unit_acc[u]]),
                Term(x["rent"][v], row_of[w.run[sl.rent_window[v]]], d.cloud_units_per_instance[sl.rent_offer[v]]),
                Term(x["band"][bands], row_of[r.band_run[bands]], -cap[bands])], -INF, 0.0)


def loss_combinations(d: ModelData, b: ProgramBuilder) -> list[tuple[int, int, int, int, float]]:
    """(run, band, span code, extra stacks, 1/(goodput x span efficiency x stack efficiency^extra))
    for every combination a run can be in whose factor exceeds 1."""
    r = d.runs
    r_sp, h = b.column_keys("spread").codes
    r_ex, ex = b.column_keys("extra").codes
    combos = []
    for band in range(len(r.band_run)):
        run = int(r.band_run[band])
        spans = [0] + [int(c) for c in h[r_sp == run]]
        extras = [0] + [int(j) + 1 for j in ex[r_ex == run]]
        for span in spans:
            for n in extras:
                kept = r.band_goodput[band] * (r.span_efficiency[run, span - 1] if span else 1.0) \
                    * r.stack_efficiency[run] ** n
                if 1.0 / kept > 1.0 + 1e-12:
                    combos.append((run, band, span, n, 1.0 / kept))
    return combos


def add_efficiency_loss(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, band, span level, extra stacks): the compute lost to goodput, span and stack
    mixing, loss[r] >= T (f - 1) when the run is in that band, spans that level and mixes that many
    stacks (f = 1 / product of the factors kept) [EFLOP/s-day]:

        loss[r] - T (f - 1) sum(binaries) >= -T (f - 1) (len(binaries) - 1)

    With a shortfall penalty the loss is that of the compute delivered, (T - shortfall[r]) (f - 1):
    the row gains + (f - 1) shortfall[r].
    """
    r = d.runs
    r_sp, h = b.column_keys("spread").codes
    r_ex, ex = b.column_keys("extra").codes
    spread_pos = {(int(a), int(c)): i for i, (a, c) in enumerate(zip(r_sp, h))}
    extra_pos = {(int(a), int(j) + 1): i for i, (a, j) in enumerate(zip(r_ex, ex))}
    fixed_band = np.bincount(r.band_run, minlength=len(r.ids))[r.band_run] == 1
    combos = loss_combinations(d, b)
    terms, lower = [], np.zeros(len(combos))
    for i, (run, band, span, n, f) in enumerate(combos):
        need = r.target[run] * (f - 1.0)
        binaries = [] if fixed_band[band] else [x["band"][band]]
        binaries += [x["spread"][spread_pos[(run, span)]]] if span else []
        binaries += [x["extra"][extra_pos[(run, n)]]] if n else []
        terms += [Term(x["loss"][[run]], i, 1.0), Term(np.array(binaries, dtype=np.int64), i, -need),
                  Term(_shortfall_of(x, [run]), i, f - 1.0)]
        lower[i] = -need * (len(binaries) - 1)
    keys = [np.array([c[i] for c in combos], dtype=np.int64) for i in range(4)]
    b.add_rows("efficiency_loss", b.keys(("run", "band", "span", "extras"), *keys), terms, lower, INF)


def add_goodput_loss(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run with several bands: loss[r] >= T sum_b (1/g[b] - 1) band[b]. Implied by
    efficiency_loss (one band is chosen), it holds in the relaxation for fractional bands too. With a
    shortfall penalty the row gains + c_max shortfall[r], c_max the run's largest 1/g - 1: valid
    whichever band is chosen, as the loss of the compute delivered is (T - shortfall) (1/g - 1)."""
    r = d.runs
    several = np.flatnonzero(np.bincount(r.band_run, minlength=len(r.ids)) > 1)
    bands = np.flatnonzero(np.isin(r.band_run, several))
    row_of = np.searchsorted(several, r.band_run[bands])
    factor = 1.0 / r.band_goodput[bands] - 1.0
    largest = np.zeros(several.size)
    np.maximum.at(largest, row_of, factor)
    b.add_rows("goodput_loss", b.keys(("run",), several),
               [Term(x["loss"][several], _arange(several.size), 1.0),
                Term(x["band"][bands], row_of, -r.target[r.band_run[bands]] * factor),
                Term(_shortfall_of(x, several), _arange(several.size) if x["shortfall"].size else 0, largest
                     if x["shortfall"].size else 0.0)],
               0.0, INF)


def _shortfall_of(x: Columns, runs: np.ndarray | list[int]) -> np.ndarray:
    """The shortfall columns of some runs; none when targets are hard."""
    return x["shortfall"][np.asarray(runs, dtype=np.int64)] if x["shortfall"].size else np.zeros(0, dtype=np.int64)


def add_compute_target(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per pace level: at the level's rate, the run's compute less its losses reaches the
    target when the level is chosen; otherwise the row is slack (big-M = T x largest factor)
    [EFLOP/s-day]."""
    r, sl, w = d.runs, d.slots, d.runs.windows
    several = np.bincount(r.level_run, minlength=len(r.ids))[r.level_run] > 1
    combos = loss_combinations(d, b)
    worst = np.ones(len(r.ids))
    for run, _, _, _, f in combos:
        worst[run] = max(worst[run], f)
    terms, lower = [], np.zeros(len(r.level_run))
    unit_days = sl.unit_days
    for lv in range(len(r.level_run)):
        run, group, rate = int(r.level_run[lv]), r.level_group[lv], r.level_rate[lv]
        keep_acc = np.array([g == group and x_ >= rate - 1e-15 for g, x_ in zip(r.acc_group[run],
                                                                                np.round(r.acc_rate[run], 12))], bool)
        keep_offer = np.array([g == group and x_ >= rate - 1e-15 for g, x_ in zip(r.offer_group[run],
                                                                                  np.round(r.offer_rate[run], 12))], bool)
        per_acc = rate * d.acc_units_per_server[sl.unit_acc] * unit_days
        per_offer = rate * d.cloud_units_per_instance[sl.rent_offer] * w.days[sl.rent_window]
        cols, coef = _member_terms(d, x, run, keep_acc, keep_offer, per_acc, per_offer)
        ramp_cols, ramp_coef = _ramp_terms(d, x, run, keep_acc, rate)
        terms += [Term(cols, lv, coef), Term(ramp_cols, lv, ramp_coef), Term(x["loss"][[run]], lv, -1.0),
                  Term(_shortfall_of(x, [run]), lv, 1.0)]
        big_m = r.target[run] * worst[run]
        if several[lv]:
            terms.append(Term(x["pace"][[lv]], lv, -big_m))
            lower[lv] = r.target[run] - big_m
        else:
            lower[lv] = r.target[run]
    b.add_rows("compute_target", b.all_of("level"), terms, lower, INF)


def add_export_cap(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per capped country: TPP bought into it within the cap."""
    for g in range(len(d.cap_countries)):
        mask = d.cell_capped == g
        b.add_rows("export_cap", b.keys(("country",), [g]), [Term(x["buy"][mask], 0, d.acc_mtpp[d.cell_acc[mask]])],
                   -INF, d.cap_mtpp[g])


def add_compute_bound(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run: its compute with every member at its own rate, less its losses, reaches the
    target. Implied by compute_target (the pace is no faster than any member), it keeps the LP
    relaxation's bound strong where fractional pace levels would otherwise relax every target row."""
    r, sl, w = d.runs, d.slots, d.runs.windows
    # With one pace level the row would repeat compute_target (and take its dual): runs with several only.
    several = np.flatnonzero(np.bincount(r.level_run, minlength=len(r.ids)) > 1)
    row_of = np.full(len(r.ids), -1)
    row_of[several] = _arange(several.size)
    own = own_compute(d)
    run_u, run_v, run_g = w.run[sl.unit_window], w.run[sl.rent_window], w.run[sl.unit_window[sl.ramp_unit]]
    u, v, g = row_of[run_u] >= 0, row_of[run_v] >= 0, row_of[run_g] >= 0
    b.add_rows("compute_bound", b.keys(("run",), several),
               [Term(x["units"][u], row_of[run_u[u]], own.unit[u]), Term(x["rent"][v], row_of[run_v[v]], own.rent[v]),
                Term(x["ramp"][g], row_of[run_g[g]], own.ramp[g]),
                Term(x["loss"][several], _arange(several.size), -1.0),
                Term(_shortfall_of(x, several), _arange(several.size) if x["shortfall"].size else 0, 1.0)],
               r.target[several], INF)


def _need(d: ModelData) -> np.ndarray:
    """Per run, the compute it must deliver at its members' own rates: its target plus its least
    loss [EFLOP/s-day] (the N[r] of location_reach and location_cover)."""
    return np.asarray(d.runs.target + least_loss(d))


def add_run_site_power(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, site) the run may use: its load there within the site's existing MW, only
    when used, plus the new MW built [MW]. A valid inequality (site_power holds all the site's load within
    E open + new_mw, and use <= open) that keeps the relaxation from harvesting the existing MW of
    more sites than max_sites allows at a fraction of each."""
    r, loc = b.column_keys("use").codes
    site = np.flatnonzero(loc < len(d.site_ids))
    sl, w = d.slots, d.runs.windows
    row_of = np.full((len(d.runs.ids), len(d.site_ids)), -1)
    row_of[r[site], loc[site]] = _arange(site.size)
    b.add_rows("run_site_power", b.keys(("run", "location"), r[site], loc[site]),
               [Term(x["units"], row_of[w.run[sl.unit_window], sl.unit_site], d.acc_it_mw[sl.unit_acc]),
                Term(x["use"][site], _arange(site.size), -d.site_existing_mw[loc[site]]),
                Term(x["new_mw"][loc[site]], _arange(site.size), -1.0)], -INF, 0.0)


def add_location_reach(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (run, site) the run may use: its own compute there within the site's reach, only
    when used [EFLOP/s-day]. A valid inequality, tighter than run_location's MW: the reach counts the site's firm
    contracted MW and its slots' supply."""
    r, loc = b.column_keys("use").codes
    site = np.flatnonzero(loc < len(d.site_ids))
    sl, w = d.slots, d.runs.windows
    own = own_compute(d)
    # Raising a tiny reach only weakens the row; it keeps the matrix well scaled.
    reach = np.maximum(location_reach(d, own)[r[site], loc[site]], LEAST_SHARE * _need(d)[r[site]])
    row_of = np.full((len(d.runs.ids), len(d.site_ids)), -1)
    row_of[r[site], loc[site]] = _arange(site.size)
    unit_row = row_of[w.run[sl.unit_window], sl.unit_site]
    ramp_row = unit_row[sl.ramp_unit]
    b.add_rows("location_reach", b.keys(("run", "location"), r[site], loc[site]),
               [Term(x["units"], unit_row, own.unit), Term(x["ramp"], ramp_row, own.ramp),
                Term(x["use"][site], _arange(site.size), -reach)], -INF, 0.0)


def _spanned_need(b: ProgramBuilder, d: ModelData, x: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per run: its need N[r] = target + least loss [EFLOP/s-day]; its need Nk[r] when it spans
    several locations, N[r] over its region span efficiency (N[r] without a span column, or when it
    may fall short); and the column of spread[r,region] (-1 without one)."""
    r = d.runs
    need = _need(d)
    spread = np.full(len(r.ids), -1)
    spread_r, level = b.column_keys("spread").codes
    region = level == SPAN_CODE["region"]
    spread[spread_r[region]] = x["spread"][region]
    spans = (spread >= 0) & (x["shortfall"].size == 0)
    return need, np.where(spans, need / r.span_efficiency[:, 0], need), spread


def _spread_terms(x: Columns, spread: np.ndarray, runs: np.ndarray, rows: np.ndarray, extra: np.ndarray) -> Term:
    """-extra[i] spread[run, region] in row rows[i] for the runs that have the column."""
    has = spread[runs] >= 0
    return Term(spread[runs[has]], rows[has], -extra[has])


def add_location_cover(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per run with locations: the locations it uses can reach what it must compute [EFLOP/s-day].

    A run must compute at its members' own rates at least N = target + least loss (less any
    shortfall), Nk = N / its region span efficiency when it spans several locations (spread), and a
    location gives at most its reach (data/reach.py), only when used; with `use` binary, a
    coefficient above Nk can be lowered to Nk. The row cuts off the relaxation's mixes of locations
    none of which, within max_sites, could carry the run."""
    r, loc = b.column_keys("use").codes
    runs = np.unique(r)
    need, spanned, spread = _spanned_need(b, d, x)
    reach = location_reach(d, own_compute(d))[r, loc]
    row_of = np.full(len(d.runs.ids), -1)
    row_of[runs] = _arange(runs.size)
    coef = np.clip(reach, LEAST_SHARE * need[r], spanned[r])   # as in location_reach
    b.add_rows("location_cover", b.keys(("run",), runs),
               [Term(x["use"], row_of[r], coef),
                Term(_shortfall_of(x, runs), _arange(runs.size) if x["shortfall"].size else 0, 1.0),
                _spread_terms(x, spread, runs, _arange(runs.size), spanned[runs] - need[runs])],
               need[runs], INF)


def add_serving_energy(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per (site, quarter) with servers that may serve: their facility energy against the
    contracted energy taken for serving then [GWh]."""
    sv = d.serving
    n_t = len(d.periods)
    gwh = d.acc_it_mw[sv.unit_acc] * d.acc_draw[sv.unit_acc] * d.site_pue[sv.unit_site] \
        * d.period_hours[sv.unit_quarter] / 1000.0
    rows, row = _group(sv.unit_site * n_t + sv.unit_quarter)
    energy_code = d.con_site[sv.energy_contract] * n_t + sv.energy_quarter
    pos = np.searchsorted(rows, energy_code)     # every energy column's (site, quarter) has a row: see data/serving.py
    b.add_rows("serving_energy", b.keys(("site", "quarter"), rows // n_t, rows % n_t),
               [Term(x["serve"], row, gwh), Term(x["serve_energy"], pos, -1.0)], -INF, 0.0)


def add_sustained_demand(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per quarter with sustained demand: dense BF16 peak of the servers and rented
    instances serving it reaches the demand [PFLOP/s]."""
    sv = d.serving
    quarters = sv.quarters
    row_of = np.full(len(d.periods), -1, dtype=np.int64)
    row_of[quarters] = _arange(quarters.size)
    b.add_rows("sustained_demand", b.keys(("quarter",), quarters),
               [Term(x["serve"], row_of[sv.unit_quarter], sv.acc_pflops[sv.unit_acc]),
                Term(x["serve_rent"], row_of[sv.rent_quarter], sv.offer_pflops[sv.rent_offer])],
               sv.demand[quarters], INF)


def add_budget(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row when the problem states a budget: the plan's cost on its basis within it [$M]."""
    if d.budget_musd is None:
        return
    cost = b.column_costs()
    used = np.flatnonzero(cost)
    b.add_rows("budget", b.keys(("objective",), [0]), [Term(used, 0, cost[used])], -INF, d.budget_musd)


def add_annual_budget(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per calendar year with cash when the problem limits yearly spending: nominal cash paid
    that year, the resale credit left out [$M]."""
    if d.budget_per_year_musd is None:
        return
    m = d.money
    not_cash = [LINES.index(line) for line in NOT_CASH]
    terms = []
    for family, flows in m.flows.items():
        for f in flows:
            position, row, amount = m.per_year(f)
            keep = ~np.isin(f.line[position], not_cash)
            terms.append(Term(x[family][f.column[position[keep]]], row[keep], amount[keep]))
    b.add_rows("annual_budget", b.keys(("year",), _arange(np.unique(m.years).size)), terms, -INF,
               d.budget_per_year_musd)


ROW_BUILDERS: dict[str, RowBuilder] = {
    "supply_cap": add_supply_cap, "custom_volume": add_custom_volume, "component_cap": add_component_cap,
    "deal_program": add_deal_program,
    "spot_purchase": add_spot_purchase,
    "sale_cohort": add_sale_cohort,
    "deal_take": add_deal_take,
    "deal_credit": add_deal_credit,
    "site_power": add_site_power, "site_build": add_site_build, "site_energised": add_site_energised,
    "installed_mw": add_installed_mw, "site_lease": add_site_lease, "commitment_cover": add_commitment_cover,
    "site_phase": add_site_phase, "phase_build": add_phase_build,
    "fleet": add_fleet, "run_fleet": add_run_fleet, "energy_balance": add_energy_balance, "firm_power": add_firm_power,
    "serving_energy": add_serving_energy, "sustained_demand": add_sustained_demand, "ramp_cluster": add_ramp_cluster,
    "contract_size": add_contract_size, "contract_output": add_contract_output,
    "contract_min_take": add_contract_min_take, "site_active": add_site_active, "contract_site": add_contract_site,
    "cloud_quota": add_cloud_quota, "run_location": add_run_location, "location_open": add_location_open,
    "cluster_size": add_cluster_size, "max_sites": add_max_sites, "span_locations": add_span_locations,
    "location_region": add_location_region, "location_continent": add_location_continent,
    "span_regions": add_span_regions, "span_continents": add_span_continents, "span_order": add_span_order,
    "window_choice": add_window_choice, "window_units": add_window_units,
    "slot_window": add_slot_window, "pace_choice": add_pace_choice,
    "pace_member": add_pace_member, "stack_member": add_stack_member, "stack_count": add_stack_count,
    "band_choice": add_band_choice, "band_size": add_band_size, "efficiency_loss": add_efficiency_loss,
    "goodput_loss": add_goodput_loss,
    "compute_target": add_compute_target, "compute_bound": add_compute_bound,
    "run_site_power": add_run_site_power, "location_reach": add_location_reach, "location_cover": add_location_cover,
    "export_cap": add_export_cap,
    "budget": add_budget, "annual_budget": add_annual_budget,
}
"""The package's implementation of each family declared in families.py, by name."""
