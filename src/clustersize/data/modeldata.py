"""Model data: the validated problem as arrays in the solver's internal units.

Internal units keep every coefficient within about 1e-3..1e6:

========== ==================================== =========================
quantity   internal unit                        user unit
========== ==================================== =========================
compute    EFLOP/s-day (8.64e22 FLOP)           FLOP
money      $M                                   USD
power      MW                                   MW
energy     GWh                                  MWh
export     MTPP (1e6 TPP)                       TPP
purchases  servers (units_per_server units)     accelerators
rentals    instances (units_per_instance)       accelerators
========== ==================================== =========================

Options that can never be used (export-prohibited, delivered too late, a site that
cannot be powered by the run start, a contract that starts too late) are pruned here
and listed in `exclusions` with the reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..periods import quarter_index, quarter_label, quarter_start
from ..schema.derived import all_in_unit_cost_usd
from ..schema.exportcontrol import decide, duty_of, total_processing_performance
from ..schema.problem import Accelerator, Chip, Problem
from ..schema.runs import PlannedRun, planned_runs, region_of
from ..schema.sustained import demand_by_quarter
from .deals import Deals, build_deals
from .money import FLOP_PER_EFLOPS_DAY as FLOP_PER_EFLOPS_DAY  # re-exported: the model and the plan read it here
from .money import Money, build_money, capital_recovery_factor
from .runs import RunData, Windows, build_run_data, build_windows
from .sales import Sales, build_sales
from .serving import PFLOPS_PER_TFLOPS, Serving, build_serving
from .siteload import SiteLoad, build_site_load
from .slots import Slots, build_slots
from .spot import Spot, build_spot, spot_depth

USD_PER_MUSD = 1e6
TPP_PER_MTPP = 1e6
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Exclusion:
    """An option pruned before the solve, and why."""

    kind: str
    option: str
    where: str
    reason: str
    rule: str | None = None


@dataclass
class ModelData:
    """Everything the formulation needs, as arrays indexed by position."""

    periods: list[str]
    period_hours: np.ndarray                       # [t] hours in each quarter [h]
    horizon_end: dt.date                           # the latest deadline of any run
    runs: RunData
    # purchasable accelerators (catalog and custom chips), index a
    acc_ids: list[str]
    acc_units_per_server: np.ndarray
    acc_program: np.ndarray                        # program index, -1 for none
    acc_it_mw: np.ndarray                          # per server [MW]
    acc_mtpp: np.ndarray                           # per server [MTPP]
    acc_price: np.ndarray                          # [a, t] per server incl. server/network share [$M]
    acc_chip_price: np.ndarray                     # [a, t] the accelerators' own price per server [$M]
    acc_supply: np.ndarray                         # [a, t] servers, inf = unlimited
    components: list[str]
    component_use: np.ndarray                      # [a, c] per server
    component_supply: np.ndarray                   # [c] per quarter
    # sites, index s
    site_ids: list[str]
    site_country: list[str]
    site_pue: np.ndarray
    site_fixed: np.ndarray                         # [$M] opening a site
    site_build: np.ndarray                         # [$M/MW] new capacity
    site_existing_mw: np.ndarray
    site_new_mw_max: np.ndarray
    site_max_mw: np.ndarray
    site_run_mw: np.ndarray                        # [s] most IT MW hardware there can draw (see _run_mw)
    site_ready: np.ndarray                         # [s] first quarter new capacity is powered
    site_region: list[str]
    site_continent: list[str]
    site_max_cluster: np.ndarray                   # [s] most accelerators in one run's cluster (inf: no limit)
    # contracts, index k
    con_ids: list[str]
    con_site: np.ndarray
    con_kind: list[str]
    con_max_mw: np.ndarray
    con_capacity_factor: np.ndarray                # average output / contracted MW
    con_live_from: np.ndarray                      # [k] first quarter its energy flows for a whole quarter
    con_first_day: list[dt.date]                   # first day its energy flows
    con_min_take: np.ndarray
    con_firm: np.ndarray
    con_price: np.ndarray                          # [$M/GWh] incl. carbon price
    con_fixed: np.ndarray                          # [$M]
    con_fixed_per_mw: np.ndarray                   # [$M/MW]
    con_carbon: np.ndarray                         # [gCO2/kWh] = [t/GWh]
    # cloud offers, index o
    cloud_ids: list[str]
    cloud_cost_per_hour: np.ndarray                # per instance [$M/h]
    cloud_region: list[str]
    cloud_accelerator: list[str]                   # accelerator id each offer rents
    cloud_continent: list[str]
    cloud_max: np.ndarray                          # instances
    cloud_units_per_instance: np.ndarray
    # custom programs, index p
    prog_ids: list[str]
    prog_nre: np.ndarray                           # [$M]
    prog_volume: np.ndarray                        # servers per quarter
    # purchase cells (a, s, t) that can be used by the run start
    cell_acc: np.ndarray
    cell_site: np.ndarray
    cell_period: np.ndarray
    cell_ready: np.ndarray                         # first quarter the order is installed and usable
    cell_share: np.ndarray                         # amortised share of the server's cost [fraction]
    cell_duty: np.ndarray                          # duty on the chip price at the cell's site [fraction]
    cell_price: np.ndarray                         # what a server of the cell costs, duty included [$M]
    site_share: float                              # amortised share of site costs [fraction]
    amortised: bool                                # costs are charged on the amortised basis
    # export caps, index g
    cap_countries: list[str]
    cap_mtpp: np.ndarray
    cap_policy: list[str]
    cell_capped: np.ndarray                        # [cells] index into cap_countries, -1 when uncapped
    acc_draw: np.ndarray                           # [a] average draw / full-load IT power [fraction]
    integer_units: bool
    slots: Slots
    budget_musd: float | None                      # most the plan may cost on its basis [$M]
    budget_per_year_musd: float | None             # most the plan may pay in a calendar year [$M]
    exclusions: list[Exclusion] = field(default_factory=list)
    licences: list[tuple[str, str, str]] = field(default_factory=list)
    money: Money = field(default_factory=Money)     # cash flows of every column family (data/money.py)
    site_load: SiteLoad = field(default_factory=SiteLoad)   # per-quarter load of leased and phased sites
    serving: Serving = field(default_factory=Serving)       # sustained demand and its serving columns
    deals: Deals = field(default_factory=Deals)             # supply deals (data/deals.py)
    spot: Spot = field(default_factory=Spot)                # spot purchases beyond the allocation (data/spot.py)
    sales: Sales = field(default_factory=Sales)             # servers sold before the last deadline (data/sales.py)
    acc_supply_max: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # [a, t] servers, every deal taken
    prog_volume_max: np.ndarray = field(default_factory=lambda: np.zeros(0))      # [p] servers, every deal taken


@dataclass
class _Context:
    """The planning horizon as the translation needs it, and the exclusions found along the way.

    `last_start` is the last quarter hardware can be used: the latest window start of any run (the
    last quarter of a growing run's window), or the last quarter with sustained demand; an order
    must be installed by then to serve at all. `horizon_end` is the latest deadline of any run.
    """

    problem: Problem
    last_start: int
    horizon_end: dt.date
    periods: list[str]
    epoch_window: tuple[dt.date, float] = (dt.date.min, 0.0)
    default_draw: float = 0.75
    exclusions: list[Exclusion] = field(default_factory=list)


@dataclass(frozen=True)
class _Accelerators:
    """Accelerators that can be bought: (id, spec, program index or -1), first order quarter, supply."""

    rows: list[tuple[str, Accelerator, int]]
    first_period: np.ndarray
    supply: np.ndarray
    spot_depth: np.ndarray          # [a, t] servers the spot market sells beyond the allocation
    fields: dict[str, Any]


def _hardware_share(ctx: _Context, acc: Chip, ready: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Share of a server's cost charged on the amortised basis, per purchase cell [fraction].

    Straight-line amortisation charges the hardware from installation to the end of the horizon
    (idle quarters included) over its life. Epoch's amortisation (one fixed window) charges
    ln(10) x trend [OOM/year] of the value at the run start per year of run; the value falls by
    the trend from the purchase (the order quarter's first day, or the price's date if later).
    """
    costs, origin = ctx.problem.costs, ctx.problem.planning_start
    # Both shares depend on a quarter only: computed once per quarter, then looked up per cell.
    quarters = range(int(max(ready.max(initial=0), order.max(initial=0))) + 1)
    if costs.amortisation == "epoch":
        window = ctx.epoch_window
        bought = [max(quarter_start(origin, t), acc.price_date or origin) for t in quarters]
        held = np.array([max(0, (window[0] - day).days) / 365.25 for day in bought])
        k = costs.price_performance_ooms_per_year
        return np.asarray((10.0 ** (-k * held) * k * math.log(10.0) * window[1] / 365.25)[order])
    held = np.array([max(0, (ctx.horizon_end - quarter_start(origin, t)).days) / 365.25 for t in quarters])
    life = costs.hardware_life_years
    return np.asarray((capital_recovery_factor(costs.discount_rate, life) * np.minimum(held, life))[ready])


def _site_share(ctx: _Context) -> float:
    """Share of site capital charged on the amortised basis: capital recovery over the facility life
    for the years from the planning start to the last deadline; none under Epoch's scope [fraction]."""
    costs = ctx.problem.costs
    if costs.amortisation == "epoch":
        return 0.0
    years = (ctx.horizon_end - ctx.problem.planning_start).days / 365.25
    life = costs.facility_life_years
    return capital_recovery_factor(costs.discount_rate, life) * min(years, life)


def _purchasable(ctx: _Context) -> list[tuple[str, Accelerator, int]]:
    """Catalog accelerators and custom chips that are for sale, each with a price and IT power."""
    problem = ctx.problem
    chips = [(aid, acc, -1) for aid, acc in problem.accelerators.items()]
    chips += [(f"custom:{pid}", prog.chip, p) for p, (pid, prog) in enumerate(problem.custom_programs.items())]
    rows = []
    for aid, acc, prog in chips:
        ruled_out = problem.filters.allows_accelerator(aid)
        if ruled_out:
            ctx.exclusions.append(Exclusion("accelerator", aid, "-", f"ruled out by {ruled_out}"))
            continue
        if not acc.for_sale:
            ctx.exclusions.append(Exclusion("accelerator", aid, "-", "not for sale (cloud offers only)"))
            continue
        if acc.it_power_kw is None:
            raise InputError("no IT power per accelerator", file=problem.source,
                             path=_acc_path(aid) + ".it_power_kw", fix="give it_power_kw [kW]")
        if acc.price_usd is None:
            raise InputError("no unit price", file=problem.source, path=_acc_path(aid) + ".price_usd",
                             fix="give price_usd [USD]")
        rows.append((aid, acc, prog))
    return rows


def _it_power_kw(acc: Chip) -> float:
    """IT power per accelerator [kW]; `_purchasable` keeps only accelerators that give it."""
    assert acc.it_power_kw is not None
    return acc.it_power_kw


def _supply_row(ctx: _Context, aid: str, acc: Accelerator, per_server: float) -> tuple[np.ndarray, int]:
    """Supply per quarter [servers] and the first quarter a catalog accelerator can be ordered."""
    periods = ctx.periods
    per_quarter = acc.supply_per_quarter if acc.supply_per_quarter is not None else np.inf
    unknown = set(acc.supply_by_quarter) - set(periods)
    if unknown:
        raise InputError(f"quarter(s) {sorted(unknown)} are outside the planning periods {periods[0]}..{periods[-1]}",
                         file=ctx.problem.source, path=f"accelerators.{aid}.supply_by_quarter",
                         fix="use quarters between planning_start and the run start")
    first = max(0, quarter_index(acc.available_from, ctx.problem.planning_start)) if acc.available_from else 0
    return np.array([acc.supply_by_quarter.get(label, per_quarter) / per_server for label in periods]), first


def _accelerators(ctx: _Context) -> _Accelerators:
    """Per-server prices by quarter [$M], supply [servers], power, TPP and component use."""
    problem, rows = ctx.problem, _purchasable(ctx)
    n_a, n_t = len(rows), len(ctx.periods)
    ups = np.array([acc.units_per_server for _, acc, _ in rows], dtype=float)
    price, supply = np.zeros((n_a, n_t)), np.full((n_a, n_t), np.inf)
    chip_price = np.zeros((n_a, n_t))
    first_period = np.zeros(n_a, dtype=int)
    programs = list(problem.custom_programs.values())
    for a, (aid, acc, prog) in enumerate(rows):
        unit_cost = all_in_unit_cost_usd(acc, problem.costs, np.arange(n_t), problem.planning_start)
        price[a] = unit_cost * ups[a] / USD_PER_MUSD
        age = acc.price_age_quarters(problem.planning_start, np.arange(n_t))
        chip_price[a] = (acc.price_usd or 0.0) * (1 - acc.price_decline_per_quarter) ** age * ups[a] / USD_PER_MUSD
        if prog >= 0:
            first_period[a] = math.ceil(programs[prog].months_to_volume / 3.0 - 1e-9)
        else:
            supply[a], first_period[a] = _supply_row(ctx, aid, acc, ups[a])
    components = list(problem.components)
    fields = dict(
        acc_ids=[aid for aid, _, _ in rows], acc_units_per_server=ups,
        acc_program=np.array([prog for _, _, prog in rows], dtype=int),
        acc_it_mw=np.array([_it_power_kw(acc) / 1000.0 for _, acc, _ in rows]) * ups,
        acc_mtpp=np.array([total_processing_performance(acc) / TPP_PER_MTPP for _, acc, _ in rows]) * ups,
        acc_draw=np.array([acc.average_draw_fraction or ctx.default_draw for _, acc, _ in rows]),
        acc_price=price, acc_chip_price=chip_price, acc_supply=supply, components=components,
        component_use=np.array([[acc.components.get(c, 0.0) for c in components] for _, acc, _ in rows],
                               dtype=float).reshape(n_a, len(components)) * ups[:, None],
        component_supply=np.array([problem.components[c] for c in components], dtype=float))
    depth = spot_depth(problem, fields["acc_ids"], ups, ctx.periods)
    for a, aid in enumerate(fields["acc_ids"]):
        if aid in problem.spot and not depth[a].any():
            ctx.exclusions.append(Exclusion("spot", aid, "-", f"the spot market opens {problem.spot[aid].first_quarter}, "
                                                              f"after the last planning quarter {ctx.periods[-1]}"))
    return _Accelerators(rows, first_period, supply, depth, fields)


def _sites(ctx: _Context) -> dict[str, Any]:
    """Usable sites: a site whose new capacity cannot be powered by the last window start keeps only existing MW."""
    rows = []
    for sid, site in ctx.problem.sites.items():
        ruled_out = ctx.problem.filters.allows_site(sid, site.country)
        if ruled_out:
            ctx.exclusions.append(Exclusion("site", sid, site.country, f"ruled out by {ruled_out}"))
            continue
        can_build = site.build_lead_quarters <= ctx.last_start
        if not can_build and site.existing_mw == 0:
            ctx.exclusions.append(Exclusion("site", sid, site.country, f"build lead {site.build_lead_quarters} "
                                                                       f"quarters; the last run starts by quarter "
                                                                       f"{ctx.last_start}"))
            continue
        rows.append((sid, site, can_build))
    places = [region_of(s.country, s.region) for _, s, _ in rows]
    return dict(
        site_ids=[sid for sid, _, _ in rows], site_country=[s.country for _, s, _ in rows],
        site_pue=np.array([s.pue for _, s, _ in rows]),
        site_fixed=np.array([s.fixed_cost_usd for _, s, _ in rows]) / USD_PER_MUSD,
        site_build=np.array([s.build_cost_usd_per_mw for _, s, _ in rows]) / USD_PER_MUSD,
        site_existing_mw=np.array([s.existing_mw for _, s, _ in rows]),
        site_new_mw_max=np.array([(s.max_mw - s.existing_mw) if ok else 0.0 for _, s, ok in rows]),
        site_max_mw=np.array([s.max_mw for _, s, _ in rows]),
        site_ready=np.array([s.build_lead_quarters for _, s, _ in rows], dtype=int),
        site_region=[p[0] for p in places], site_continent=[p[1] for p in places],
        site_max_cluster=np.array([getattr(s, "max_cluster_units", None) or np.inf for _, s, _ in rows]))


@dataclass
class _Cells:
    """Purchase cells found so far, per (accelerator, country) block, and the caps and licences met."""

    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str | None, float]] = field(default_factory=list)
    caps: dict[str, tuple[float, str | None]] = field(default_factory=dict)
    licences: list[tuple[str, str, str]] = field(default_factory=list)


def _licence_quarters(ctx: _Context, reason: str) -> int:
    extra = ctx.problem.export.licence_lead_quarters
    if extra is None:
        raise InputError(f"{reason}: the licence lead time is needed", file=ctx.problem.source,
                         path="export.licence_lead_quarters", fix="give the extra quarters a licence takes")
    return extra


def _late_reason(ctx: _Context, acc: Accelerator, first: int, last: int, extra: int) -> str:
    """Why no order quarter of an accelerator delivers by the run start."""
    label = quarter_label(ctx.problem.planning_start, first)
    lead = f"lead {acc.lead_time_quarters}{f' + licence {extra}' if extra else ''} quarters"
    if first <= last:
        return (f"no supply in the quarters that deliver in time ({label}.."
                f"{quarter_label(ctx.problem.planning_start, last)}, {lead})")
    return f"first order quarter {label} with {lead} is too late for the last run start"


def _cells_of(ctx: _Context, accs: _Accelerators, a: int, by_country: dict[str, list[int]],
              site_ids: list[str], cells: _Cells) -> None:
    """Purchase cells of accelerator a, one block per country its export decision allows."""
    export = ctx.problem.export
    aid, acc, _ = accs.rows[a]
    late_reported = False
    for country, sites_here in by_country.items():
        where = _site_list([site_ids[s] for s in sites_here], country)
        decision = decide(acc, country, export.headquarters, export.rules)
        if decision.action == "prohibited":
            ctx.exclusions.append(Exclusion("purchase", aid, where, decision.reason, decision.policy))
            continue
        extra = _licence_quarters(ctx, decision.reason) if decision.action == "licence" else 0
        if extra:
            cells.licences.append((aid, where, decision.reason))
        if decision.action == "cap":
            used = export.cap_used_tpp.get(country, 0.0)
            cells.caps.setdefault(country, (max(0.0, (decision.cap_tpp or 0.0) - used) / TPP_PER_MTPP, decision.policy))
        last = ctx.last_start - acc.lead_time_quarters - extra
        usable = np.array([t for t in range(accs.first_period[a], last + 1) if accs.supply[a, t] + accs.spot_depth[a, t] > 0],
                          dtype=int)
        if usable.size == 0:
            if extra or not late_reported:
                why = _late_reason(ctx, acc, int(accs.first_period[a]), last, extra)
                ctx.exclusions.append(Exclusion("purchase", aid, f"{where} (licence)" if extra else "every site", why))
            late_reported = late_reported or not extra
            continue
        sites_arr = np.array(sites_here, dtype=int)
        duty, _ = duty_of(acc, country, export.headquarters, export.rules)
        cells.blocks.append((np.full(sites_arr.size * usable.size, a), np.repeat(sites_arr, usable.size),
                             np.tile(usable, sites_arr.size), np.full(sites_arr.size * usable.size,
                                                                      acc.lead_time_quarters + extra),
                             country if decision.action == "cap" else None, duty))


def _purchase_cells(ctx: _Context, accs: _Accelerators, site_ids: list[str],
                    countries: list[str]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """Purchase cells (a, s, t) and export caps. Export decisions depend on the country only, so
    cells are built per (accelerator, country), vectorised over that country's sites and quarters."""
    by_country: dict[str, list[int]] = {}
    for s, country in enumerate(countries):
        by_country.setdefault(country, []).append(s)
    cells = _Cells()
    for a in range(len(accs.rows)):
        _cells_of(ctx, accs, a, by_country, site_ids, cells)
    blocks = cells.blocks
    cell = (np.column_stack([np.concatenate([b[i] for b in blocks]) for i in range(4)]) if blocks
            else np.zeros((0, 4), dtype=int))
    capped = sorted(cells.caps)
    cell_capped = (np.concatenate([np.full(b[0].size, capped.index(b[4]) if b[4] else -1, dtype=int)
                                   for b in blocks]) if blocks else np.zeros(0, dtype=int))
    ready = cell[:, 2] + cell[:, 3]
    duty = (np.concatenate([np.full(b[0].size, b[5]) for b in blocks]) if blocks else np.zeros(0))
    price = accs.fields["acc_price"][cell[:, 0], cell[:, 2]] + duty * accs.fields["acc_chip_price"][cell[:, 0], cell[:, 2]] \
        if blocks else np.zeros(0)
    share = np.ones(ready.size)
    for a in np.unique(cell[:, 0]):
        mine = cell[:, 0] == a
        share[mine] = _hardware_share(ctx, accs.rows[a][1], ready[mine], cell[mine, 2])
    return dict(cell_acc=cell[:, 0], cell_site=cell[:, 1], cell_period=cell[:, 2], cell_ready=ready,
                cell_share=share, cell_duty=duty, cell_price=price, cap_countries=capped,
                cap_mtpp=np.array([cells.caps[c][0] for c in capped]), cap_policy=[cells.caps[c][1] for c in capped],
                cell_capped=cell_capped), cells.licences


def _contracts(ctx: _Context, site_ids: list[str]) -> dict[str, Any]:
    """Contracts at usable sites whose energy flows by the last window start; prices incl. carbon [$M/GWh]."""
    rows = []
    origin = ctx.problem.planning_start
    last_start = quarter_start(origin, ctx.last_start)
    for cid, c in ctx.problem.contracts.items():
        if c.site not in site_ids:
            ctx.exclusions.append(Exclusion("contract", cid, c.site, "its site cannot be used"))
        elif c.first_available is not None and c.first_available > last_start:
            ctx.exclusions.append(Exclusion("contract", cid, c.site,
                                            f"energy flows from {c.first_available}, after the last run start {last_start}"))
        else:
            rows.append((cid, c))
    carbon_price = ctx.problem.costs.carbon_price_usd_per_t
    first = [c.first_available or origin for _, c in rows]
    # carbon [g/kWh] = [t/GWh]; cost per GWh [$M] = price [$/MWh] / 1e3 + carbon price x t/GWh / 1e6
    return dict(
        con_ids=[cid for cid, _ in rows], con_site=np.array([site_ids.index(c.site) for _, c in rows], dtype=int),
        con_kind=[c.kind for _, c in rows], con_max_mw=np.array([c.max_mw for _, c in rows]),
        con_capacity_factor=np.array([c.capacity_factor for _, c in rows]),
        con_live_from=np.array([quarter_index(day, origin) + (quarter_start(origin, quarter_index(day, origin)) < day)
                                for day in first], dtype=int),
        con_first_day=first,
        con_min_take=np.array([c.min_take_fraction for _, c in rows]),
        con_firm=np.array([c.firm_fraction for _, c in rows]),
        con_price=np.array([c.price_usd_per_mwh / 1e3 + carbon_price * c.carbon_g_per_kwh / 1e6 for _, c in rows]),
        con_fixed=np.array([c.fixed_cost_usd for _, c in rows]) / USD_PER_MUSD,
        con_fixed_per_mw=np.array([c.fixed_cost_usd_per_mw for _, c in rows]) / USD_PER_MUSD,
        con_carbon=np.array([c.carbon_g_per_kwh for _, c in rows]))


def _run_mw(sites: dict[str, Any], contracts: dict[str, Any]) -> np.ndarray:
    """Most IT load hardware at each site can draw [MW]: its maximum capacity, and its contracts' firm
    MW over its PUE, since `firm_power` holds a site's peak facility load within the firm MW of its
    live contracts, each at most its size. A site's reach (data/reach.py) uses it."""
    firm = np.bincount(contracts["con_site"], weights=contracts["con_firm"] * contracts["con_max_mw"],
                       minlength=len(sites["site_ids"]))
    run_mw: np.ndarray = np.minimum(np.asarray(sites["site_max_mw"], dtype=float), firm / np.asarray(sites["site_pue"]))
    return run_mw


def _cloud_and_programs(ctx: _Context) -> dict[str, Any]:
    """Cloud offers per instance [$M/h, instances] and custom programs [$M, servers]."""
    problem = ctx.problem
    offers = list(problem.cloud.values())
    programs = list(problem.custom_programs.values())
    # An offer ruled out keeps its index (runs and slots count every offer) and rents nothing.
    ruled_out = [problem.filters.allows_offer(o.accelerator, o.country) for o in offers]
    for oid, offer, why in zip(problem.cloud, offers, ruled_out):
        if why:
            ctx.exclusions.append(Exclusion("cloud", oid, offer.country, f"ruled out by {why}"))
    places = [region_of(o.country, getattr(o, "region", None)) for o in offers]
    return dict(
        cloud_ids=list(problem.cloud),
        cloud_cost_per_hour=np.array([o.price_usd_per_hour * o.units_per_instance / USD_PER_MUSD for o in offers]),
        cloud_max=np.array([0.0 if why else o.max_units / o.units_per_instance for o, why in zip(offers, ruled_out)]),
        cloud_units_per_instance=np.array([o.units_per_instance for o in offers], dtype=float),
        cloud_region=[p[0] for p in places], cloud_continent=[p[1] for p in places],
        cloud_accelerator=[o.accelerator for o in offers],
        prog_ids=list(problem.custom_programs), prog_nre=np.array([p.nre_usd for p in programs]) / USD_PER_MUSD,
        prog_volume=np.array([p.volume_per_quarter / p.chip.units_per_server for p in programs]))


def _horizon(problem: Problem, planned: list[PlannedRun], w: Windows) -> _Context:
    """Quarters from the planning start to the latest deadline, and Epoch's fixed window."""
    horizon_end = max(run.deadline for run in planned)
    n_periods = quarter_index(horizon_end - dt.timedelta(days=1), problem.planning_start) + 1
    # Hardware, sites and contracts are useful until the last run starts (a growing run's last
    # quarter), or the last quarter with sustained demand to serve.
    served = np.flatnonzero(demand_by_quarter(dict(problem.sustained), problem.planning_start, n_periods))
    growing = np.array([planned[r].grow for r in w.run[w.cover_window]], dtype=bool)
    last_use = max(int(w.start_period.max()), int(served.max(initial=0)), int(w.cover_period[growing].max(initial=0)))
    ctx = _Context(problem, last_use, horizon_end,
                   [quarter_label(problem.planning_start, t) for t in range(n_periods)],
                   default_draw=planned[0].average_draw_fraction)
    if problem.costs.amortisation == "epoch":
        if len(w.days) != 1:
            raise InputError("Epoch's amortisation charges hardware by the one run it serves at a fixed start",
                             file=problem.source, path="costs.amortisation",
                             fix="give the run a start and a fixed length_days, or use straight-line")
        ctx.epoch_window = (w.starts[0], float(w.days[0]))
    return ctx


def build_model_data(problem: Problem, *, finish_by: dt.date | None = None, prune: bool = True,
                     targets: dict[str, float] | None = None) -> ModelData:
    """Translate a validated problem into arrays in internal units.

    finish_by : a latest end for the objective's run (the finish objective's second stage).
    prune : drop windows that are never cheaper (off when minimising the finish).
    targets : compute targets by run name [FLOP] replacing the problem's (the compute objective).
    """
    stated = planned_runs(problem)
    planned = [dataclasses.replace(run, flop=(targets or {}).get(name, run.flop)) for name, run in stated.items()]
    windows = build_windows(problem, planned, finish_by, prune)
    ctx = _horizon(problem, planned, windows)
    accs = _accelerators(ctx)
    runs = build_run_data(problem, planned, windows, [(aid, acc, p) for aid, acc, p in accs.rows])
    runs.stated_flop = np.array([run.flop for run in stated.values()])
    amortised = problem.costs.basis == "amortised"
    sites = _sites(ctx)
    cells, licences = _purchase_cells(ctx, accs, sites["site_ids"], sites["site_country"])
    contracts = _contracts(ctx, sites["site_ids"])
    sites["site_run_mw"] = _run_mw(sites, contracts)
    origin = problem.planning_start
    hours = np.array([(quarter_start(origin, t + 1) - quarter_start(origin, t)).days * 24.0
                      for t in range(len(ctx.periods))])
    cloud = _cloud_and_programs(ctx)
    deals, supply_max, volume_max = _with_deals(problem, accs, cloud, list(problem.components), ctx.periods)
    supply_total = _supply_total(accs, cells, supply_max, volume_max)
    slots = build_slots(runs, cells, sites["site_ids"], sites, contracts, cloud, supply_total,
                        accs.fields["acc_it_mw"], accs.fields["acc_units_per_server"])
    budget, per_year = problem.budget_total_usd, problem.budget.per_year_usd
    data = ModelData(
        periods=ctx.periods, period_hours=hours, horizon_end=ctx.horizon_end, runs=runs, **accs.fields, **sites,
        **contracts, **cloud, **cells, integer_units=problem.solver.integer_units, slots=slots,
        site_share=_site_share(ctx), budget_musd=budget / USD_PER_MUSD if budget else None,
        budget_per_year_musd=per_year / USD_PER_MUSD if per_year else None,
        amortised=amortised, exclusions=ctx.exclusions, licences=licences)
    prices = [own if (own := problem.sites[sid].lease_usd_per_kw_month) is not None
              else problem.costs.lease_usd_per_kw_month for sid in data.site_ids]
    acc_pflops = np.array([acc.bf16_tflops for _, acc, _ in accs.rows]) * accs.fields["acc_units_per_server"] \
        * PFLOPS_PER_TFLOPS
    data.serving = build_serving(problem, len(data.periods), acc_pflops, cells, len(data.site_ids), data.con_site,
                                 data.con_live_from, data.cloud_max)
    data.site_load = build_site_load(problem, data.site_ids, data.cell_site, data.cell_ready, len(data.periods), prices)
    data.deals, data.acc_supply_max, data.prog_volume_max = deals, supply_max, volume_max
    data.sales = build_sales(problem.costs.sell_surplus, data.cell_ready, len(data.periods))
    data.spot = build_spot(problem, data.acc_ids, accs.spot_depth, data.acc_price, data.cell_acc, data.cell_period)
    data.money = build_money(problem, data)
    return data


def _with_deals(problem: Problem, accs: _Accelerators, cloud: dict[str, Any], components: list[str],
                periods: list[str]) -> tuple[Deals, np.ndarray, np.ndarray]:
    """The deals, and the most supply each accelerator and program could have with every deal taken and
    the spot markets' depth [servers per quarter]: the bounds the model derives from supply (the deals'
    and spot purchases' own rows add the rest)."""
    ids = [aid for aid, _, _ in accs.rows]
    ups = accs.fields["acc_units_per_server"]
    deals = build_deals(problem, ids, ups, components, cloud["prog_ids"], periods, USD_PER_MUSD)
    supply = accs.supply + deals.extra("accelerator", len(ids), len(periods)) + accs.spot_depth
    program_extra = deals.extra("program", len(cloud["prog_ids"]), len(periods)).max(axis=1) \
        if cloud["prog_ids"] else np.zeros(0)
    return deals, supply, cloud["prog_volume"] + program_extra


def _supply_total(accs: _Accelerators, cells: dict[str, Any], supply: np.ndarray, prog_volume: np.ndarray) -> np.ndarray:
    """Servers of each accelerator that all its order quarters could supply, every deal taken (inf: unlimited)."""
    n_t = supply.shape[1]
    seen = np.unique(cells["cell_acc"] * n_t + cells["cell_period"])
    a, t = seen // n_t, seen % n_t
    program = np.array([prog for _, _, prog in accs.rows], dtype=int)
    per_quarter = np.where(program[a] >= 0, prog_volume[np.maximum(program[a], 0)] if prog_volume.size else 0.0,
                           supply[a, t]) if a.size else np.zeros(0)
    return np.bincount(a, weights=per_quarter, minlength=len(accs.rows)) if a.size else np.zeros(len(accs.rows))


def _site_list(sites: list[str], country: str, shown: int = 5) -> str:
    """'a, b, c (US)' or 'a, b, c, d, e +7 more (US)'."""
    more = f" +{len(sites) - shown} more" if len(sites) > shown else ""
    return f"{', '.join(sites[:shown])}{more} ({country})"


def _acc_path(aid: str) -> str:
    if aid.startswith("custom:"):
        return f"custom_programs.{aid.split(':', 1)[1]}.chip"
    return f"accelerators.{aid}"
