"""Why a problem is infeasible: instant pre-checks, then an elastic solve.

The pre-checks bound deliverable compute by supply alone and by power alone; each ignores
every other constraint, so a shortfall it finds is certain, while a problem that passes them
may still be infeasible through their interaction.

In the elastic program every relaxable row (families with a `relaxation` in families.py) may
be violated at its stated price, far above any real cost, so the solve finds the cheapest set of
violations that makes the target reachable, and says by how much each limit is exceeded, in
the planner's units. The compute target itself is relaxed last, at the highest price, so the
elastic solve always has a plan. None of the installed backends computes an irreducible infeasible
subset (IIS), so the diagnosis says so rather than offering one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..data.modeldata import FLOP_PER_EFLOPS_DAY, USD_PER_MUSD, ModelData
from ..data.units import user_per_internal
from ..families import FAMILIES, Family, family_named
from ..formulation import Keys, LinearProgram
from ..formulation.variables import ROW_REPEATED_BOUNDS
from ..records import Record
from ..schema.problem import Problem
from ..solvers import SolveOptions, get_backend, solve_with_watchdog

BINARIES = ("open", "sign", "fund", "use", "window", "pace", "band", "spread", "stack_used", "extra")
BIG = 1e5   # [MW, servers, instances]: far above any real quantity in a problem
NO_IIS = "not available: no installed backend computes an irreducible infeasible subset"


@dataclass(frozen=True)
class Excess:
    """One limit the cheapest relaxation exceeds: which, where, by how much [unit], at what price."""

    family: str
    index: str
    amount: float
    unit: str
    relaxation_price_usd: float
    message: str


@dataclass(frozen=True)
class Diagnosis(Record):
    """Pre-check findings and the cheapest relaxation that makes the problem feasible."""

    findings: list[str]
    sites_excluded: list[str]
    violations: list[Excess] = field(default_factory=list)
    elastic_status: str = ""
    iis: str = NO_IIS
    relaxation_prices: dict[str, str] = field(default_factory=dict)
    frame_field = "violations"
    frame_columns = ("family", "index", "amount", "unit", "relaxation_price_usd", "message")


def _flop(ef_days: float) -> str:
    return f"{ef_days * FLOP_PER_EFLOPS_DAY:.3g} FLOP"


def _latest_start(d: ModelData, run: int) -> int:
    """The last quarter hardware can join the run: its latest start, a growing run's last quarter."""
    w = d.runs.windows
    if d.runs.runs[run].grow:
        return int(w.cover_period[w.run[w.cover_window] == run].max())
    return int(w.start_period[w.run == run].max())


def supply_bound(d: ModelData, run: int) -> float:
    """Compute [EFLOP/s-day] a run could get at its own members' rates over its longest window from
    all supply installed by its latest start, each (accelerator, quarter) counted once, and every offer."""
    r = d.runs
    ready = d.cell_ready <= _latest_start(d, run)
    seen = np.unique(d.cell_acc[ready] * len(d.periods) + d.cell_period[ready]) if ready.any() else np.zeros(0, int)
    a, t = seen // len(d.periods), seen % len(d.periods)
    program = d.acc_program[a] if len(a) else np.zeros(0, dtype=int)
    servers = np.where(program >= 0, d.prog_volume[np.maximum(program, 0)] if d.prog_ids else 0.0,
                       d.acc_supply[a, t]) if len(a) else np.zeros(0)
    days = float(r.windows.days[r.windows.run == run].max())
    owned = float((servers * d.acc_units_per_server[a] * r.acc_rate[run, a]).sum())
    rented = float((d.cloud_max * d.cloud_units_per_instance * r.offer_rate[run]).sum())
    return (owned + rented) * days


def powered_by(d: ModelData, run: int) -> tuple[np.ndarray, list[str]]:
    """IT capacity each site can have powered by the run's latest start [MW], and the sites whose new
    capacity (or part of it) is energised only later, as 'site (quarter)'."""
    start = _latest_start(d, run)
    new = d.site_new_mw_max.copy()
    late = []
    load = d.site_load
    for s, sid in enumerate(d.site_ids):
        if new[s] <= 0:
            continue
        phased = np.flatnonzero(load.phased & (load.site == s))
        if phased.size:
            by = load.powered_cap[phased][load.quarter[phased] <= start]
            allowed = float(by.max()) if by.size else 0.0
            later = load.quarter[phased][load.powered_cap[phased] > allowed]
        else:
            allowed = new[s] if d.site_ready[s] <= start else 0.0
            later = np.array([d.site_ready[s]]) if d.site_ready[s] > start else np.zeros(0, dtype=int)
        if allowed < new[s] and later.size:
            late.append(f"{sid} ({d.periods[int(later.min())] if later.min() < len(d.periods) else 'later'})")
        new[s] = min(new[s], allowed)
    return d.site_existing_mw + new, late


def power_bound(d: ModelData, run: int) -> tuple[float, str]:
    """Compute [EFLOP/s-day] the run's max_sites best locations can hold at the best usable density,
    with the capacity powered by its latest start."""
    r = d.runs
    days = float(r.windows.days[r.windows.run == run].max())
    density = r.acc_rate[run] * d.acc_units_per_server / d.acc_it_mw
    best_density = float(density[np.unique(d.cell_acc)].max())
    capacity, late = powered_by(d, run)
    rented = d.cloud_max * d.cloud_units_per_instance * r.offer_rate[run]
    per_location = np.sort(np.concatenate([capacity * best_density, rented]) * days)[::-1]
    n = int(r.max_sites[run])
    where = (f"the {n} best of {len(per_location)} locations (max_sites)" if len(per_location) > n
             else f"all {len(per_location)} locations")
    if late:
        where += f"; energised only after the run's latest start: {', '.join(late)}"
    return float(per_location[:n].sum()), where


def precheck(d: ModelData) -> list[str]:
    """Shortfalls visible without solving: supply and power bounds on each run's compute."""
    if len(d.cell_acc) == 0 and len(d.cloud_ids) == 0:
        return ["no accelerator can be bought, delivered and installed by the last run start, and no cloud offer "
                "is available (see the exclusions)"]
    findings = []
    for run, name in enumerate(d.runs.ids):
        target = float(d.runs.target[run])
        by = d.periods[_latest_start(d, run)]
        supply = supply_bound(d, run)
        if supply < target * (1 - 1e-9):
            findings.append(f"run {name} short {_flop(target - supply)}: all supply installed by {by} "
                            f"(purchases and cloud) gives {_flop(supply)}, the target is {_flop(target)}")
        if len(d.cell_acc):
            power, where = power_bound(d, run)
            if power < target * (1 - 1e-9):
                findings.append(f"run {name} short {_flop(target - power)}: power that can be built by {by} at "
                                f"{where} holds at most {_flop(power)}; the target is {_flop(target)}")
    return findings + serving_precheck(d)


def serving_precheck(d: ModelData) -> list[str]:
    """Quarters whose sustained demand exceeds what could ever serve it: every site's maximum MW at
    the accelerator with the most peak per MW installed there by then, plus every offer's quota."""
    sv = d.serving
    cloud = float(d.cloud_max @ sv.offer_pflops) if sv.offer_pflops.size else 0.0
    per_mw = sv.acc_pflops[sv.unit_acc] / np.maximum(d.acc_it_mw[sv.unit_acc], 1e-12)
    findings = []
    for t in sv.quarters.tolist():
        best = np.zeros(len(d.site_ids))
        here = sv.unit_quarter == t
        np.maximum.at(best, sv.unit_site[here], per_mw[here])
        most = float(best @ d.site_max_mw) + cloud
        if d.serving.demand[t] > most * (1 + 1e-9):
            findings.append(f"sustained demand in {d.periods[t]} is {d.serving.demand[t]:,.0f} PFLOP/s; at most "
                            f"{most:,.0f} can serve it (every site's maximum MW at its most efficient accelerator "
                            f"installed by then, plus every cloud offer's quota): lower sustained, or add sites or "
                            f"offers")
    return findings


def _link_rows(lp: LinearProgram, families: tuple[Family, ...]) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Each linked row `x - M y <= 0` as its hard link `x - BIG y <= 0`; returns (hard matrix, rows, capacity).

    The elastic capacity `x <= M` is added back by the caller under the family's name.
    """
    linked = [f.name for f in families if f.linked]
    matrix = lp.matrix.tocsr()
    is_binary = np.isin(lp.col_family, BINARIES)
    data = matrix.data.copy()
    # A loose family's bound `x - M y <= 0` takes M from other limits: with BIG instead, relaxing
    # those limits is never blocked by the bound derived from them.
    loose = np.flatnonzero(np.isin(lp.row_family, [f.name for f in families if f.loose]))
    for i in loose:
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        data[start:end] = np.where(is_binary[matrix.indices[start:end]], -BIG, data[start:end])
    rows = np.flatnonzero(np.isin(lp.row_family, linked))
    capacity = np.zeros(rows.size)
    for n, i in enumerate(rows):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        binary = is_binary[matrix.indices[start:end]]
        capacity[n] = -float(data[start:end][binary].sum()) + lp.row_upper[i]
        data[start:end] = np.where(binary, -BIG, data[start:end])
    return sp.csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape), rows, capacity


def _site_links(lp: LinearProgram) -> sp.csr_matrix:
    """`load - BIG open <= 0` per site: a site's power may be relaxed, never used unopened."""
    power = np.flatnonzero(lp.row_family == "site_power")
    loads = lp.matrix[power].tocsr().copy()
    loads.data[~np.isin(lp.col_family[loads.indices], ("buy",))] = 0.0
    opens = lp.columns_of("open")
    link = sp.csr_matrix((np.full(power.size, -BIG), (np.arange(power.size), opens)), shape=loads.shape)
    return (loads + link).tocsr()


def split_links(lp: LinearProgram, families: tuple[Family, ...] = FAMILIES) -> LinearProgram:
    """Separate each capacity from the choice it hangs on, so that slack can enlarge one but not bypass
    the other: linked rows become hard links (family `link`) plus elastic capacities under their own
    family; `site_power` gains the hard link `load - BIG open <= 0` (family `site_link`)."""
    hard, rows, capacity = _link_rows(lp, families)
    capacities = lp.matrix[rows].tocsr().copy()
    capacities.data[np.isin(lp.col_family[capacities.indices], BINARIES)] = 0.0
    capacities.eliminate_zeros()
    family = lp.row_family.copy()
    family[rows] = "link"
    split = dataclasses.replace(lp, matrix=hard, row_family=family)
    power = np.flatnonzero(lp.row_family == "site_power")
    split = split.with_rows("site_link", lp.row_keys.take(power), _site_links(lp),
                            np.full(power.size, -np.inf), np.zeros(power.size))
    for name in dict.fromkeys(lp.row_family[rows]):
        members = np.flatnonzero(lp.row_family[rows] == name)
        split = split.with_rows(str(name), lp.row_keys.take(rows[members]), capacities[members],
                                np.full(members.size, -np.inf), capacity[members])
    return split


def elastic_program(lp: LinearProgram, d: ModelData,
                    families: tuple[Family, ...] = FAMILIES) -> tuple[LinearProgram, np.ndarray]:
    """The program with a priced slack column on every relaxable row; returns it and the slack rows.

    Valid inequalities (`Family.implied`) are dropped: they follow from limits the elastic program
    may exceed, and would otherwise keep those limits hard."""
    lp = split_links(lp.without_rows([f.name for f in families if f.implied]), families)
    relaxable = {f.name: f for f in families if f.relaxation is not None}
    rows = np.flatnonzero(np.isin(lp.row_family, list(relaxable)))
    # A >= row (the target) gains from its slack; a <= limit gives.
    sign = np.where(np.isinf(lp.row_upper[rows]), 1.0, -1.0)
    keys = [lp.row_keys.key(int(i)) for i in rows]
    price = np.array([relaxable[str(f)].relaxation.price_usd  # type: ignore[union-attr]
                      * user_per_internal(relaxable[str(f)], k, d) for f, k in zip(lp.row_family[rows], keys)])
    slack = sp.csr_matrix((sign, (rows, np.arange(rows.size))), shape=(lp.shape[0], rows.size))
    # Column bounds that repeat a capacity row are lifted, so the priced row alone carries the limit.
    lifted = dataclasses.replace(lp, upper=np.where(np.isin(lp.col_family, ROW_REPEATED_BOUNDS), np.inf, lp.upper))
    slack_keys = Keys(("row",), ([",".join(k) for k in keys],), (np.arange(rows.size),))
    elastic = lifted.with_columns("slack", slack_keys, slack, np.zeros(rows.size), np.full(rows.size, np.inf),
                                  price / USD_PER_MUSD)
    return elastic, rows


def _excess(elastic: LinearProgram, row: int, amount_internal: float, d: ModelData) -> Excess:
    family = family_named(str(elastic.row_family[row]))
    key = elastic.row_keys.key(row)
    per = user_per_internal(family, key, d)
    amount = amount_internal * per
    bound = elastic.row_lower[row] if family.name == "compute_target" else elastic.row_upper[row]
    limit = bound * per if np.isfinite(bound) and bound > 0 else None
    price = family.relaxation.price_usd if family.relaxation else 0.0
    return Excess(family.name, ",".join(key), amount, family.unit, price * amount,
                  family.excess_message(key, amount, limit))


def diagnose(problem: Problem, d: ModelData, lp: LinearProgram, solver: str = "scip",
             time_limit: float = 60.0) -> Diagnosis:
    """Pre-check findings and the cheapest relaxation that makes the problem feasible."""
    findings = precheck(d)
    excluded = [f"site {e.option} cannot be powered in time ({e.reason})" if not e.reason.startswith("ruled out")
                else f"site {e.option} {e.reason}" for e in d.exclusions if e.kind == "site"]
    prohibited = [e for e in d.exclusions if e.kind == "purchase" and e.rule]
    if len(d.cell_acc) == 0 and prohibited:
        rules = sorted({str(e.rule) for e in prohibited})
        findings.insert(0, f"no accelerator can be bought at any site: {len(prohibited)} combinations prohibited by "
                           f"{', '.join(rules)}")
    elastic, rows = elastic_program(lp, d)
    result = solve_with_watchdog(get_backend(solver), elastic, SolveOptions(time_limit_s=time_limit, gap=1e-6))
    excesses = []
    if result.status.has_plan and result.x is not None:
        slack = result.x[elastic.columns_of("slack")]
        excesses = [_excess(elastic, int(rows[k]), float(slack[k]), d) for k in np.flatnonzero(slack > 1e-6)]
    excesses.sort(key=lambda v: -v.relaxation_price_usd)
    prices = {f.name: f"${f.relaxation.price_usd:,.0f} per {f.unit}" for f in FAMILIES if f.relaxation}
    return Diagnosis(findings, excluded, excesses, result.status.value, NO_IIS, prices)
