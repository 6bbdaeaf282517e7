"""What a planner would do in a spreadsheet, as a reference for the optimizer (and a warm start).

The rules, run by run in deadline order:

1. Take the run's latest window (latest start, then the longest length from it).
2. Rank the pace groups the run may use (one software stack, one accelerator model, or for a run
   that mixes stacks still one stack) by the cost per unit of compute of their cheapest lot at
   the members' own rates; try them in that order and keep the first that reaches the target.
3. Within the group: first the hardware earlier runs bought that is installed by the window
   start and idle during it (the fleet persists), fastest first; then supply lots (accelerator x
   order quarter, installed by the window start) and cloud offers by cost per FLOP, energy at
   the cheapest contract included.
4. Place a lot at the cheapest site the run already uses that can power it; else open a new
   location: the cheapest site (one opened by an earlier run first, cost per MW next) that can
   take the rest of the need, else the roomiest, while the run's locations stay within max_sites
   and on one continent (unless it may cross an ocean). A cloud offer becomes the run's last
   location only if it covers the rest. A site powers what its existing MW (before its build is
   powered), its buildable MW, its firm contracts live in each quarter of the window, its
   contracted energy and its fabric size allow.
5. Take whole servers and instances until the compute at the pace of the slowest member, after
   the goodput of the run's size and the span efficiency of its locations, reaches the target.
6. At each opened site sign the cheapest firm contracts to cover the peak facility load in every
   quarter, then the cheapest contracts to cover the energy of every window.

No custom programs (a spreadsheet does not weigh NRE). The decisions (purchases, sites,
contracts, windows, paces, bands, locations, spans, stacks, servers and instances per window) are
then fixed and a linear program completes the rest: new MW, contracted MW, energy per window,
losses, regions and continents used. The result goes through the same plan extraction and
independent verifier as any solve.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from ..data.modeldata import ModelData
from ..formulation import LinearProgram
from ..formulation.shape import SPAN_CODE, RunShape, run_shape
from ..schema.runs import SPAN_LEVELS

EPS = 1e-9
TOLERANCE = 1e-9
"""Relative shortfall of compute the greedy accepts as meeting a target (the LP's tolerance is wider)."""
FIXED = ("buy", "open", "sign", "fund", "units", "rent", "window", "pace", "band", "use", "spread", "stack_used",
         "extra")
"""Column families the greedy decides; the completing LP sets the others."""


@dataclass
class _Fleet:
    """What the greedy has decided so far, across runs."""

    x: np.ndarray
    supply_left: dict[tuple[int, int], float]
    component_left: np.ndarray                      # [c, t] per quarter
    cap_left: np.ndarray                            # [g] MTPP
    load: np.ndarray                                # [s] IT MW bought
    early: np.ndarray                               # [s] IT MW installed before new capacity is powered
    installed: dict[tuple[int, int], list[tuple[int, float]]] = field(default_factory=dict)
    work: dict[tuple[int, int, int], float] = field(default_factory=dict)    # (a, s, t) servers in runs
    firm: dict[tuple[int, int], float] = field(default_factory=dict)         # (s, t) peak facility MW
    average: dict[tuple[int, int], float] = field(default_factory=dict)      # (s, t) average facility MW
    rented: dict[tuple[int, int], float] = field(default_factory=dict)       # (o, t) instances
    windows_at: dict[int, set[int]] = field(default_factory=dict)            # site -> windows with work
    opened: list[int] = field(default_factory=list)


@dataclass
class _Run:
    """One run as the greedy fills it."""

    r: int
    w: int
    level: int                                      # pace level
    key: str                                        # members' group: a stack or a model
    quarters: list[int]
    days: float
    pace: float                                     # the level's rate [EFLOP/s per accelerator]
    locations: list[int] = field(default_factory=list)
    units: float = 0.0                              # accelerators
    acc_days: float = 0.0                           # accelerator-days
    at_site: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Context:
    """Lookups shared by every step."""

    d: ModelData
    lp: LinearProgram
    shape: RunShape
    unit_slot: dict[tuple[int, int, int], int]
    rent_slot: dict[tuple[int, int], int]
    cells: dict[tuple[int, int, int], int]
    site_cost: np.ndarray


def _context(d: ModelData, lp: LinearProgram) -> _Context:
    sl = d.slots
    return _Context(
        d, lp, run_shape(d),
        {(int(a), int(s), int(w)): j for j, (a, s, w) in enumerate(zip(sl.unit_acc, sl.unit_site, sl.unit_window))},
        {(int(o), int(w)): j for j, (o, w) in enumerate(zip(sl.rent_offer, sl.rent_window))},
        {(int(a), int(s), int(t)): j for j, (a, s, t) in enumerate(zip(d.cell_acc, d.cell_site, d.cell_period))},
        np.array([_site_cost_per_mw(d, s) for s in range(len(d.site_ids))]))


def _site_cost_per_mw(d: ModelData, s: int) -> float:
    """Cost of a site per MW of IT capacity: opening, building and a year of its cheapest firm energy [$M/MW]."""
    capacity = d.site_existing_mw[s] + d.site_new_mw_max[s]
    firm = [k for k in np.flatnonzero(d.con_site == s) if d.con_firm[k] > 0]
    if capacity <= 0 or not firm:
        return math.inf
    energy = min(float(d.con_price[k]) for k in firm) * d.site_pue[s] * 8.76
    return float(d.site_fixed[s] / capacity + d.site_build[s] * d.site_new_mw_max[s] / capacity + energy)


def _latest_window(d: ModelData, r: int) -> int:
    """The run's window with the latest start, the longest of those."""
    w = d.runs.windows
    mine = np.flatnonzero(w.run == r)
    return int(max(mine, key=lambda i: (w.starts[i], w.days[i])))


def _keys(d: ModelData, r: int) -> tuple[list[str], list[str]]:
    """Candidate group of each accelerator and offer: its pace group, or its stack when the run mixes stacks."""
    runs = d.runs
    if runs.mixes[r] == "any":
        return list(runs.acc_stack), list(runs.offer_stack)
    return list(runs.acc_group[r]), list(runs.offer_group[r])


def _members(c: _Context, run: _Run) -> tuple[np.ndarray, np.ndarray]:
    """Accelerators and offers of the run's group no slower than its pace (they join at the pace)."""
    d, r = c.d, run.r
    acc_key, offer_key = _keys(d, r)
    fast_acc = np.round(d.runs.acc_rate[r], 12) >= run.pace - 1e-15
    fast_offer = np.round(d.runs.offer_rate[r], 12) >= run.pace - 1e-15
    return (fast_acc & (np.array(acc_key) == run.key) & (d.runs.acc_rate[r] > 0),
            fast_offer & (np.array(offer_key, dtype=object) == run.key) & (d.runs.offer_rate[r] > 0))


def _energy_per_server(c: _Context, a: int, hours: float) -> float:
    """Energy of one server over a window at the cheapest contract [$M]."""
    d = c.d
    price = float(d.con_price.min()) if len(d.con_ids) else 0.0
    pue = float(d.site_pue.mean()) if len(d.site_ids) else 1.0
    return float(d.acc_it_mw[a] * d.acc_draw[a] * pue * hours / 1000.0 * price)


def _lots(c: _Context, run: _Run, fleet: _Fleet) -> list[tuple[float, str, int, int, float]]:
    """The members' idle fleet, then their lots and offers by cost per unit of compute at the run's pace:
    (cost [$M per EFLOP/s-day], kind, accelerator or offer, site or order quarter, most compute [EFLOP/s-day])."""
    d = c.d
    acc_ok, offer_ok = _members(c, run)
    start, hours = int(d.runs.windows.start_period[run.w]), float(d.runs.windows.hours[run.w])
    per_server = run.pace * d.acc_units_per_server * run.days
    lots: list[tuple[float, str, int, int, float]] = []
    for a, s in sorted(fleet.installed):
        if acc_ok[a] and (a, s, run.w) in c.unit_slot:
            lots.append((0.0, "idle", a, s, _idle(fleet, run, a, s, start) * per_server[a]))
    ready = {(a, t) for (a, s, t), j in c.cells.items() if d.cell_ready[j] <= start and d.acc_program[a] < 0
             and acc_ok[a] and (a, s, run.w) in c.unit_slot}
    for a, t in sorted(ready):
        cost = float(d.acc_price[a, t] + _energy_per_server(c, a, hours)) / per_server[a]
        lots.append((cost, "buy", a, t, fleet.supply_left[(a, t)] * per_server[a]))
    for o in np.flatnonzero(offer_ok).tolist():
        if (o, run.w) in c.rent_slot:
            flop = run.pace * d.cloud_units_per_instance[o] * run.days
            lots.append((float(d.cloud_cost_per_hour[o] * hours) / flop, "rent", o, -1, d.cloud_max[o] * flop))
    lots.sort(key=lambda lot: (lot[1] != "idle", lot[0], lot[1], lot[2], lot[3]))
    return lots


def _estimate(c: _Context, run: _Run, fleet: _Fleet) -> tuple[bool, float]:
    """(cannot reach the target, cost of the target) from the cheapest lots, ignoring sites [$M]."""
    need, cost = float(c.d.runs.target[run.r]), 0.0
    for price, _, _, _, most in _lots(c, run, fleet):
        take = min(need, most)
        cost, need = cost + price * take, need - take
        if need <= 0:
            return False, cost
    return True, cost


def _candidates(c: _Context, r: int, w: int, fleet: _Fleet) -> list[_Run]:
    """The run at each pace level of each group, by the estimated cost of its target (reachable first)."""
    d = c.d
    acc_key, offer_key = _keys(d, r)
    found: list[tuple[tuple[bool, float], int, _Run]] = []
    for level in np.flatnonzero(d.runs.level_run == r).tolist():
        group = d.runs.level_group[level]
        keys = sorted(set(acc_key + offer_key)) if group == "*" else [group]
        for key in keys:
            run = _Run(r, w, level, key, _quarters(d, w), float(d.runs.windows.days[w]),
                       pace=float(d.runs.level_rate[level]))
            if any(m.any() for m in _members(c, run)):
                found.append((_estimate(c, run, fleet), len(found), run))
    return [run for _, _, run in sorted(found, key=lambda f: (f[0], f[1]))]


def _quarters(d: ModelData, w: int) -> list[int]:
    win = d.runs.windows
    return sorted(int(t) for t in win.cover_period[win.cover_window == w])


def _spans(c: _Context, locations: list[int]) -> list[str]:
    """Span levels a set of locations reaches: several locations, regions, continents."""
    sl = c.d.slots
    levels = [("region", len(locations) > 1), ("continent", len({sl.location_region[i] for i in locations}) > 1),
              ("world", len({sl.location_continent[i] for i in locations}) > 1)]
    return [name for name, reached in levels if reached]


def _may_use(c: _Context, run: _Run, loc: int) -> bool:
    """A location the run uses, or one more within max_sites whose span the model allows."""
    if loc in run.locations:
        return True
    if len(run.locations) >= c.d.runs.max_sites[run.r]:
        return False
    allowed = c.shape.levels(run.r)
    return all(SPAN_CODE[level] in allowed for level in _spans(c, run.locations + [loc]))


def _kept(c: _Context, run: _Run, units: float, locations: list[int]) -> float:
    """Share of compute kept: goodput of the run's size x the span efficiency of its widest level."""
    r = run.r
    eta = min([float(c.d.runs.span_efficiency[r, SPAN_LEVELS.index(lv)]) for lv in _spans(c, locations)] + [1.0])
    return c.d.runs.runs[r].goodput(units) * eta


def _short(c: _Context, run: _Run) -> bool:
    """The run's compute at its pace, after goodput and span losses, is below its target."""
    need = c.d.runs.target[run.r] * (1.0 - TOLERANCE) / _kept(c, run, run.units, run.locations)
    return run.pace * run.acc_days < need if run.acc_days > 0 else True


def _wanted(c: _Context, run: _Run, per_unit: float, loc: int) -> int:
    """Servers or instances of `per_unit` accelerators that would close the gap at today's goodput."""
    locations = run.locations + ([loc] if loc not in run.locations else [])
    need = float(c.d.runs.target[run.r]) / _kept(c, run, run.units + per_unit, locations)
    return max(1, math.ceil((need / run.pace - run.acc_days) / (per_unit * run.days) - 1e-6))


def _power_room(c: _Context, fleet: _Fleet, run: _Run, a: int, s: int) -> float:
    """Servers of accelerator a the site's contracts (firm MW per quarter, energy) and fabric can run."""
    d = c.d
    it_mw, pue = float(d.acc_it_mw[a]), float(d.site_pue[s])
    start = d.runs.windows.starts[run.w]
    mine = np.flatnonzero(d.con_site == s)
    flowing = [k for k in mine if d.con_first_day[k] <= start]
    energy = float(sum(d.con_max_mw[k] * d.con_capacity_factor[k] for k in flowing))
    rooms = [(d.site_max_cluster[s] - run.at_site.get(s, 0.0)) / d.acc_units_per_server[a]]
    for t in run.quarters:
        firm = float(sum(d.con_max_mw[k] * d.con_firm[k] for k in mine if d.con_live_from[k] <= t))
        rooms.append((firm - fleet.firm.get((s, t), 0.0)) / (it_mw * pue))
        rooms.append((energy - fleet.average.get((s, t), 0.0)) / (it_mw * pue * d.acc_draw[a]))
    return float(min(rooms))


def _purchase_room(c: _Context, fleet: _Fleet, a: int, s: int, t: int, supply: bool = True) -> float:
    """Servers of lot (a, t) that site s can take: its MW (existing only before its build is powered),
    the lot's supply (unless `supply` is False), shared components and export cap."""
    d = c.d
    cell = c.cells[(a, s, t)]
    it_mw = float(d.acc_it_mw[a])
    rooms = [(d.site_existing_mw[s] + d.site_new_mw_max[s] - fleet.load[s]) / it_mw]
    rooms += [fleet.supply_left[(a, t)]] if supply else []
    if d.cell_ready[cell] < d.site_ready[s] and d.site_new_mw_max[s] > 0:
        rooms.append((d.site_existing_mw[s] - fleet.early[s]) / it_mw)
    rooms += [fleet.component_left[i, t] / d.component_use[a, i] for i in range(len(d.components))
              if d.component_use[a, i] > 0]
    if d.cell_capped[cell] >= 0:
        rooms.append(fleet.cap_left[d.cell_capped[cell]] / d.acc_mtpp[a])
    return float(min(rooms))


def _idle(fleet: _Fleet, run: _Run, a: int, s: int, start: int) -> float:
    """Servers of a at s installed by the window start and working in no run during the window."""
    installed = sum(n for ready, n in fleet.installed.get((a, s), []) if ready <= start)
    return installed - max(fleet.work.get((a, s, t), 0.0) for t in run.quarters)


def _work(c: _Context, fleet: _Fleet, run: _Run, a: int, s: int, servers: float) -> None:
    """Servers of a at s work in the run's window: units, site load per quarter, the run's size and pace."""
    d = c.d
    per_server = float(d.acc_units_per_server[a])
    c_mw = float(d.acc_it_mw[a] * d.site_pue[s]) * servers
    fleet.x[c.lp.col_slices["units"].start + c.unit_slot[(a, s, run.w)]] += servers
    for t in run.quarters:
        fleet.work[(a, s, t)] = fleet.work.get((a, s, t), 0.0) + servers
        fleet.firm[(s, t)] = fleet.firm.get((s, t), 0.0) + c_mw
        fleet.average[(s, t)] = fleet.average.get((s, t), 0.0) + c_mw * float(d.acc_draw[a])
    fleet.windows_at.setdefault(s, set()).add(run.w)
    _join(run, s, servers * per_server)
    run.at_site[s] = run.at_site.get(s, 0.0) + servers * per_server


def _join(run: _Run, loc: int, units: float) -> None:
    """Units join the run at location `loc`."""
    if loc not in run.locations:
        run.locations.append(loc)
    run.units += units
    run.acc_days += units * run.days


def _buy(c: _Context, fleet: _Fleet, a: int, s: int, t: int, servers: float) -> None:
    """Buy servers of lot (a, t) for site s, opening the site."""
    d = c.d
    cell = c.cells[(a, s, t)]
    fleet.x[c.lp.col_slices["buy"].start + cell] += servers
    fleet.supply_left[(a, t)] -= servers
    fleet.component_left[:, t] -= d.component_use[a] * servers
    if d.cell_capped[cell] >= 0:
        fleet.cap_left[d.cell_capped[cell]] -= d.acc_mtpp[a] * servers
    fleet.load[s] += d.acc_it_mw[a] * servers
    if d.cell_ready[cell] < d.site_ready[s] and d.site_new_mw_max[s] > 0:
        fleet.early[s] += d.acc_it_mw[a] * servers
    fleet.installed.setdefault((a, s), []).append((int(d.cell_ready[cell]), servers))
    if s not in fleet.opened:
        fleet.opened.append(s)


def _take_idle(c: _Context, fleet: _Fleet, run: _Run, a: int, s: int) -> None:
    """Put idle servers of a at s to work in the run."""
    start = int(c.d.runs.windows.start_period[run.w])
    per_server = float(c.d.acc_units_per_server[a])
    while _short(c, run) and _may_use(c, run, s):
        servers = min(math.floor(_idle(fleet, run, a, s, start) + EPS),
                      math.floor(_power_room(c, fleet, run, a, s) + EPS), _wanted(c, run, per_server, s))
        if servers < 1:
            return
        _work(c, fleet, run, a, s, servers)


def _room(c: _Context, fleet: _Fleet, run: _Run, a: int, s: int, t: int) -> int:
    """Whole servers of lot (a, t) site s can take and power for the run."""
    return math.floor(min(_purchase_room(c, fleet, a, s, t), _power_room(c, fleet, run, a, s)) + EPS)


def _capacity(c: _Context, fleet: _Fleet, run: _Run, a: int, s: int, t: int) -> float:
    """Servers of lot (a, t) a site could still hold and power for the run, whatever the supply."""
    return min(_purchase_room(c, fleet, a, s, t, supply=False), _power_room(c, fleet, run, a, s))


def _last_slot(c: _Context, run: _Run, loc: int) -> bool:
    """A new location would be the last one the run may use."""
    return loc not in run.locations and len(run.locations) == c.d.runs.max_sites[run.r] - 1


def _next_site(c: _Context, fleet: _Fleet, run: _Run, a: int, t: int) -> int | None:
    """Where the next servers of lot (a, t) go: the cheapest site the run uses that has room, else a new
    location: the cheapest (sites opened by earlier runs first) that can take the rest of the need,
    else the roomiest; None when no site has room."""
    d = c.d
    start = int(d.runs.windows.start_period[run.w])
    room = {s: _room(c, fleet, run, a, s, t) for s in range(len(d.site_ids)) if (a, s, t) in c.cells
            and (a, s, run.w) in c.unit_slot and d.cell_ready[c.cells[(a, s, t)]] <= start}
    here = [s for s, n in room.items() if n >= 1 and s in run.locations]
    if here:
        return min(here, key=lambda s: (c.site_cost[s], s))
    new = [s for s, n in room.items() if n >= 1 and _may_use(c, run, s)]
    per_server = float(d.acc_units_per_server[a])
    whole = [s for s in new if _capacity(c, fleet, run, a, s, t) >= _wanted(c, run, per_server, s)]
    if whole:
        return min(whole, key=lambda s: (s not in fleet.opened, c.site_cost[s], s))
    return max(new, key=lambda s: (_capacity(c, fleet, run, a, s, t), -c.site_cost[s], -s), default=None)


def _take_buy(c: _Context, fleet: _Fleet, run: _Run, a: int, t: int) -> None:
    """Buy lot (a, t) for the run, site by site, as far as power, supply and need allow."""
    per_server = float(c.d.acc_units_per_server[a])
    while _short(c, run) and (s := _next_site(c, fleet, run, a, t)) is not None:
        servers = min(_room(c, fleet, run, a, s, t), _wanted(c, run, per_server, s))
        _buy(c, fleet, a, s, t, servers)
        _work(c, fleet, run, a, s, servers)


def _take_rent(c: _Context, fleet: _Fleet, run: _Run, o: int, _: int) -> None:
    """Rent instances of offer o for the run's window, within the quota left in its quarters; as the
    run's last location only if the offer covers the rest."""
    d = c.d
    loc = len(d.site_ids) + o
    per_instance = float(d.cloud_units_per_instance[o])
    room = math.floor(d.cloud_max[o] - max(fleet.rented.get((o, t), 0.0) for t in run.quarters) + EPS)
    if not (_short(c, run) and _may_use(c, run, loc)):
        return
    if _last_slot(c, run, loc) and _wanted(c, run, per_instance, loc) > room:
        return
    while _short(c, run) and (instances := min(room, _wanted(c, run, per_instance, loc))) >= 1:
        fleet.x[c.lp.col_slices["rent"].start + c.rent_slot[(o, run.w)]] += instances
        for t in run.quarters:
            fleet.rented[(o, t)] = fleet.rented.get((o, t), 0.0) + instances
        _join(run, loc, instances * per_instance)
        room -= instances


TAKE = {"idle": _take_idle, "buy": _take_buy, "rent": _take_rent}


def _plan_run(c: _Context, fleet: _Fleet, r: int) -> tuple[_Fleet, _Run] | None:
    """The run in its latest window at the first pace level and group, by estimated cost, that reaches
    its target."""
    w = _latest_window(c.d, r)
    for run in _candidates(c, r, w, fleet):
        trial = copy.deepcopy(fleet)
        for _, kind, i, j, _ in _lots(c, run, trial):
            if not _short(c, run):
                break
            TAKE[kind](c, trial, run, i, j)
        if not _short(c, run):
            return trial, run
    return None


def _position(codes: tuple[np.ndarray, np.ndarray], first: int, second: int) -> int:
    """Position of the key (first, second) in a two-index family."""
    return int(np.flatnonzero((codes[0] == first) & (codes[1] == second))[0])


def _choose(c: _Context, fleet: _Fleet, run: _Run) -> None:
    """The run's window, pace level, goodput band, locations, spans and stack as binaries."""
    d, sh, x, cols = c.d, c.shape, fleet.x, c.lp.col_slices
    runs, r = d.runs, run.r
    x[cols["window"].start + run.w] = 1.0
    x[cols["pace"].start + run.level] = 1.0
    bands = np.flatnonzero((runs.band_run == r) & (runs.band_units >= run.units - EPS))
    x[cols["band"].start + int(bands[np.argmin(runs.band_units[bands])])] = 1.0
    for loc in run.locations:
        x[cols["use"].start + _position((sh.use_run, sh.use_location), r, loc)] = 1.0
    for level_name in _spans(c, run.locations):
        x[cols["spread"].start + _position((sh.spread_run, sh.spread_level), r, SPAN_CODE[level_name])] = 1.0
    if np.any(sh.stack_run == r):
        stacks = sorted(set(runs.acc_stack) | set(runs.offer_stack))
        x[cols["stack_used"].start + _position((sh.stack_run, sh.stack), r, stacks.index(run.key))] = 1.0


def _covered(c: _Context, fleet: _Fleet, s: int, signed: list[int], firm: bool) -> bool:
    """Signed contracts cover the site's peak load in every quarter (firm) or the energy of every window."""
    d = c.d
    if firm:
        return all(sum(d.con_max_mw[k] * d.con_firm[k] for k in signed if d.con_live_from[k] <= t) >= mw - EPS
                   for (site, t), mw in fleet.firm.items() if site == s)
    for w in fleet.windows_at.get(s, set()):
        flowing = sum(d.con_max_mw[k] * d.con_capacity_factor[k] for k in signed
                      if d.con_first_day[k] <= d.runs.windows.starts[w])
        if any(flowing < fleet.average.get((s, t), 0.0) - EPS for t in _quarters(d, w)):
            return False
    return True


def _sign(c: _Context, fleet: _Fleet) -> None:
    """Open the sites; at each, sign the cheapest firm contracts for the peak, then the cheapest energy."""
    d, x, cols = c.d, fleet.x, c.lp.col_slices
    for s in fleet.opened:
        x[cols["open"].start + s] = 1.0
        mine = sorted(np.flatnonzero(d.con_site == s).tolist(), key=lambda k: (float(d.con_price[k]), k))
        signed: list[int] = []
        for k in [k for k in mine if d.con_firm[k] > 0]:
            if _covered(c, fleet, s, signed, firm=True):
                break
            signed.append(k)
        for k in [k for k in mine if k not in signed]:
            if _covered(c, fleet, s, signed, firm=False):
                break
            signed.append(k)
        x[cols["sign"].start + np.array(signed, dtype=int)] = 1.0


def _complete(c: _Context, x: np.ndarray) -> np.ndarray | None:
    """Fix the greedy's decisions and solve the LP of the rest; None when it has no solution."""
    from ..solvers import SolveOptions, Status
    from ..solvers.lp_duals import GlopDuals

    lp = c.lp
    lower, upper = lp.lower.copy(), lp.upper.copy()
    for family in FIXED:
        part = lp.col_slices.get(family)
        if part is not None:
            lower[part] = upper[part] = x[part]
    fixed = dataclasses.replace(lp, lower=lower, upper=upper, integer=np.zeros_like(lp.integer))
    result = GlopDuals().solve(fixed, SolveOptions(time_limit_s=60.0))
    if result.status is not Status.OPTIMAL or result.x is None:
        return None
    return np.asarray(np.clip(result.x, lower, upper), dtype=float)


def greedy_solution(d: ModelData, lp: LinearProgram) -> np.ndarray | None:
    """A whole-unit plan as a column vector, or None when the greedy rules cannot reach every target."""
    c = _context(d, lp)
    n_sites = len(d.site_ids)
    fleet = _Fleet(np.zeros(lp.shape[1]), {(a, t): float(d.acc_supply[a, t]) for (a, _, t) in c.cells},
                   np.tile(d.component_supply[:, None], (1, len(d.periods))), d.cap_mtpp.astype(float).copy(),
                   np.zeros(n_sites), np.zeros(n_sites))
    for r in sorted(range(len(d.runs.ids)), key=lambda i: (d.runs.runs[i].deadline, i)):
        found = _plan_run(c, fleet, r)
        if found is None:
            return None
        fleet, run = found
        _choose(c, fleet, run)
    _sign(c, fleet)
    return _complete(c, fleet.x)
