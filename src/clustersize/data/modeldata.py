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

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..periods import derived_run_start, quarter_index, quarter_label, quarter_start
from ..schema.derived import all_in_unit_cost_usd
from ..schema.exportcontrol import decide, total_processing_performance
from ..schema.problem import Accelerator, Chip, Problem

FLOP_PER_EFLOPS_DAY = 1e18 * 86400.0
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
    run_start: dt.date
    run_period: int
    run_hours: float
    target: float                                  # [EFLOP/s-day]
    max_sites: int
    multi_site_efficiency: float
    # purchasable accelerators (catalog and custom chips), index a
    acc_ids: list[str]
    acc_units_per_server: np.ndarray
    acc_program: np.ndarray                        # program index, -1 for none
    acc_compute: np.ndarray                        # per server [EFLOP/s-day]
    acc_it_mw: np.ndarray                          # per server [MW]
    acc_mtpp: np.ndarray                           # per server [MTPP]
    acc_price: np.ndarray                          # [a, t] per server incl. server/network share [$M]
    acc_hardware_share: np.ndarray                 # [a, t] share of the server's cost charged to the run [fraction]
    acc_supply: np.ndarray                         # [a, t] servers, inf = unlimited
    components: list[str]
    component_use: np.ndarray                      # [a, c] per server
    component_supply: np.ndarray                   # [c] per quarter
    # sites, index s
    site_ids: list[str]
    site_country: list[str]
    site_pue: np.ndarray
    site_fixed: np.ndarray                         # [$M] (cost-basis multiplier applied)
    site_build: np.ndarray                         # [$M/MW] (cost-basis multiplier applied)
    site_existing_mw: np.ndarray
    site_new_mw_max: np.ndarray
    # contracts, index k
    con_ids: list[str]
    con_site: np.ndarray
    con_kind: list[str]
    con_max_mw: np.ndarray
    con_energy_per_mw: np.ndarray                  # deliverable over the run [GWh/MW]
    con_min_take: np.ndarray
    con_firm: np.ndarray
    con_price: np.ndarray                          # [$M/GWh] incl. carbon price
    con_fixed: np.ndarray                          # [$M]
    con_fixed_per_mw: np.ndarray                   # [$M/MW]
    con_carbon: np.ndarray                         # [gCO2/kWh] = [t/GWh]
    # cloud offers, index o
    cloud_ids: list[str]
    cloud_compute: np.ndarray                      # per instance [EFLOP/s-day]
    cloud_cost: np.ndarray                         # per instance over the run [$M]
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
    # export caps, index g
    cap_countries: list[str]
    cap_mtpp: np.ndarray
    cap_policy: list[str]
    cell_capped: np.ndarray                        # [cells] index into cap_countries, -1 when uncapped
    energy_gwh_per_it_mw: np.ndarray               # [s] facility energy over the run per MW of IT load drawn [GWh/MW]
    acc_draw: np.ndarray                           # [a] average draw / full-load IT power [fraction]
    hardware_cost_multiplier: float
    site_cost_multiplier: float
    integer_units: bool
    exclusions: list[Exclusion] = field(default_factory=list)
    licences: list[tuple[str, str, str]] = field(default_factory=list)


def run_start_of(problem: Problem) -> dt.date:
    """The run start: given, or the latest quarter start that meets the deadline."""
    run = problem.run
    start = run.start or derived_run_start(run.deadline, run.length_days, problem.planning_start)
    if start + dt.timedelta(days=run.length_days) > run.deadline:
        raise InputError(f"a {run.length_days:g}-day run from {start} ends after the deadline {run.deadline}",
                         file=problem.source, path="run.start", fix="start earlier, shorten the run or move the deadline")
    if start < problem.planning_start:
        raise InputError(f"the run would start on {start}, before planning_start {problem.planning_start}",
                         file=problem.source, path="run.deadline", fix="move the deadline later or shorten the run")
    return start


def peak_tflops(chip: Chip, precision: str) -> float:
    """Dense peak in the run's precision [TFLOP/s]; chips without FP8 run at BF16."""
    if precision == "fp8" and chip.fp8_tflops is not None:
        return chip.fp8_tflops
    return chip.bf16_tflops


@dataclass
class _Context:
    """The run as the translation needs it, and the exclusions found along the way."""

    problem: Problem
    start: dt.date
    run_period: int
    periods: list[str]
    exclusions: list[Exclusion] = field(default_factory=list)

    @property
    def run_hours(self) -> float:
        return self.problem.run.length_days * 24.0

    def compute_per_unit(self, chip: Chip, mfu_override: float | None) -> float:
        """Compute of one accelerator over the run [EFLOP/s-day]."""
        run = self.problem.run
        seconds = run.length_days * SECONDS_PER_DAY
        return peak_tflops(chip, run.precision) * 1e12 * (mfu_override or run.mfu) * seconds / FLOP_PER_EFLOPS_DAY


@dataclass(frozen=True)
class _Accelerators:
    """Accelerators that can be bought: (id, spec, program index or -1), first order quarter, supply."""

    rows: list[tuple[str, Accelerator, int]]
    first_period: np.ndarray
    supply: np.ndarray
    fields: dict[str, Any]


def _cost_multipliers(problem: Problem) -> tuple[float, float]:
    """Share of hardware and of site cost charged to the run: 1 on the full basis [fraction].

    Epoch's amortisation charges ln(10) x trend [OOM/year] of the hardware's value per year of
    run, and no site cost (its scope is hardware, network and energy); the value's fall from
    purchase to the run start is `_epoch_value_factor`.
    """
    run, costs = problem.run, problem.costs
    years = run.length_days / 365.25
    if costs.basis == "amortised" and costs.amortisation == "epoch":
        return costs.price_performance_ooms_per_year * math.log(10.0) * years, 0.0
    hardware = 1.0 if costs.basis == "full" else years / costs.hardware_life_years
    site = (run.length_days / (costs.facility_life_years * 365.25)
            if costs.basis == "amortised" and costs.facility_life_years else 1.0)
    return hardware, site


def _epoch_value_factor(ctx: _Context, acc: Chip, n_periods: int) -> np.ndarray:
    """Value at the run start / price paid, for an order in each planning quarter [fraction].

    1 unless the problem uses Epoch's amortisation. Otherwise the value falls by
    price_performance_ooms_per_year from the purchase (the order quarter's first day, or the
    price's date when later) to the run start, never rising when the purchase is later.
    """
    costs = ctx.problem.costs
    if costs.basis != "amortised" or costs.amortisation != "epoch":
        return np.ones(n_periods)
    bought = [quarter_start(ctx.problem.planning_start, t) for t in range(n_periods)]
    if acc.price_date is not None:
        bought = [max(day, acc.price_date) for day in bought]
    held_years = np.array([max(0, (ctx.start - day).days) / 365.25 for day in bought])
    return 10.0 ** (-costs.price_performance_ooms_per_year * held_years)


def _purchasable(ctx: _Context) -> list[tuple[str, Accelerator, int]]:
    """Catalog accelerators and custom chips that are for sale, each with a price and IT power."""
    problem = ctx.problem
    chips = [(aid, acc, -1) for aid, acc in problem.accelerators.items()]
    chips += [(f"custom:{pid}", prog.chip, p) for p, (pid, prog) in enumerate(problem.custom_programs.items())]
    rows = []
    for aid, acc, prog in chips:
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


def _accelerators(ctx: _Context, hardware_share: float) -> _Accelerators:
    """Per-server prices by quarter [$M], supply [servers], compute, power, TPP and component use."""
    problem, rows = ctx.problem, _purchasable(ctx)
    n_a, n_t = len(rows), len(ctx.periods)
    ups = np.array([acc.units_per_server for _, acc, _ in rows], dtype=float)
    price, supply, share = np.zeros((n_a, n_t)), np.full((n_a, n_t), np.inf), np.ones((n_a, n_t))
    first_period = np.zeros(n_a, dtype=int)
    programs = list(problem.custom_programs.values())
    for a, (aid, acc, prog) in enumerate(rows):
        unit_cost = all_in_unit_cost_usd(acc, problem.costs, np.arange(n_t), problem.planning_start)
        share[a] = hardware_share * _epoch_value_factor(ctx, acc, n_t)
        price[a] = unit_cost * ups[a] / USD_PER_MUSD * share[a]
        if prog >= 0:
            first_period[a] = math.ceil(programs[prog].months_to_volume / 3.0 - 1e-9)
        else:
            supply[a], first_period[a] = _supply_row(ctx, aid, acc, ups[a])
    components = list(problem.components)
    fields = dict(
        acc_ids=[aid for aid, _, _ in rows], acc_units_per_server=ups,
        acc_program=np.array([prog for _, _, prog in rows], dtype=int),
        acc_compute=np.array([ctx.compute_per_unit(acc, acc.mfu) for _, acc, _ in rows]) * ups,
        acc_it_mw=np.array([_it_power_kw(acc) / 1000.0 for _, acc, _ in rows]) * ups,
        acc_mtpp=np.array([total_processing_performance(acc) / TPP_PER_MTPP for _, acc, _ in rows]) * ups,
        acc_draw=np.array([acc.average_draw_fraction or problem.run.average_draw_fraction for _, acc, _ in rows]),
        acc_price=price, acc_hardware_share=share, acc_supply=supply, components=components,
        component_use=np.array([[acc.components.get(c, 0.0) for c in components] for _, acc, _ in rows],
                               dtype=float).reshape(n_a, len(components)) * ups[:, None],
        component_supply=np.array([problem.components[c] for c in components], dtype=float))
    return _Accelerators(rows, first_period, supply, fields)


def _sites(ctx: _Context, site_share: float) -> dict[str, Any]:
    """Usable sites: a site whose new capacity cannot be powered by the run start keeps only existing MW."""
    rows = []
    for sid, site in ctx.problem.sites.items():
        can_build = site.build_lead_quarters <= ctx.run_period
        if not can_build and site.existing_mw == 0:
            ctx.exclusions.append(Exclusion("site", sid, site.country, f"build lead {site.build_lead_quarters} "
                                                                       f"quarters; run starts after {ctx.run_period}"))
            continue
        rows.append((sid, site, can_build))
    return dict(
        site_ids=[sid for sid, _, _ in rows], site_country=[s.country for _, s, _ in rows],
        site_pue=np.array([s.pue for _, s, _ in rows]),
        site_fixed=np.array([s.fixed_cost_usd for _, s, _ in rows]) / USD_PER_MUSD * site_share,
        site_build=np.array([s.build_cost_usd_per_mw for _, s, _ in rows]) / USD_PER_MUSD * site_share,
        site_existing_mw=np.array([s.existing_mw for _, s, _ in rows]),
        site_new_mw_max=np.array([(s.max_mw - s.existing_mw) if ok else 0.0 for _, s, ok in rows]),
        energy_gwh_per_it_mw=np.array([s.pue * ctx.run_hours / 1000.0 for _, s, _ in rows]))


@dataclass
class _Cells:
    """Purchase cells found so far, per (accelerator, country) block, and the caps and licences met."""

    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, str | None]] = field(default_factory=list)
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
    return f"first order quarter {label} with {lead} is too late for the run start {ctx.start}"


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
        last = ctx.run_period - acc.lead_time_quarters - extra
        usable = np.array([t for t in range(accs.first_period[a], last + 1) if accs.supply[a, t] > 0], dtype=int)
        if usable.size == 0:
            if extra or not late_reported:
                why = _late_reason(ctx, acc, int(accs.first_period[a]), last, extra)
                ctx.exclusions.append(Exclusion("purchase", aid, f"{where} (licence)" if extra else "every site", why))
            late_reported = late_reported or not extra
            continue
        sites_arr = np.array(sites_here, dtype=int)
        cells.blocks.append((np.full(sites_arr.size * usable.size, a), np.repeat(sites_arr, usable.size),
                             np.tile(usable, sites_arr.size), country if decision.action == "cap" else None))


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
    cell = (np.column_stack([np.concatenate([b[i] for b in blocks]) for i in range(3)]) if blocks
            else np.zeros((0, 3), dtype=int))
    capped = sorted(cells.caps)
    cell_capped = (np.concatenate([np.full(b[0].size, capped.index(b[3]) if b[3] else -1, dtype=int)
                                   for b in blocks]) if blocks else np.zeros(0, dtype=int))
    return dict(cell_acc=cell[:, 0], cell_site=cell[:, 1], cell_period=cell[:, 2], cap_countries=capped,
                cap_mtpp=np.array([cells.caps[c][0] for c in capped]), cap_policy=[cells.caps[c][1] for c in capped],
                cell_capped=cell_capped), cells.licences


def _contracts(ctx: _Context, site_ids: list[str]) -> dict[str, Any]:
    """Contracts at usable sites whose energy flows by the run start; prices incl. carbon [$M/GWh]."""
    rows = []
    for cid, c in ctx.problem.contracts.items():
        if c.site not in site_ids:
            ctx.exclusions.append(Exclusion("contract", cid, c.site, "its site cannot be used"))
        elif c.first_available is not None and c.first_available > ctx.start:
            ctx.exclusions.append(Exclusion("contract", cid, c.site,
                                            f"energy flows from {c.first_available}, after the run start {ctx.start}"))
        else:
            rows.append((cid, c))
    carbon_price = ctx.problem.costs.carbon_price_usd_per_t
    # carbon [g/kWh] = [t/GWh]; cost per GWh [$M] = price [$/MWh] / 1e3 + carbon price x t/GWh / 1e6
    return dict(
        con_ids=[cid for cid, _ in rows], con_site=np.array([site_ids.index(c.site) for _, c in rows], dtype=int),
        con_kind=[c.kind for _, c in rows], con_max_mw=np.array([c.max_mw for _, c in rows]),
        con_energy_per_mw=np.array([c.capacity_factor * ctx.run_hours / 1000.0 for _, c in rows]),
        con_min_take=np.array([c.min_take_fraction for _, c in rows]),
        con_firm=np.array([c.firm_fraction for _, c in rows]),
        con_price=np.array([c.price_usd_per_mwh / 1e3 + carbon_price * c.carbon_g_per_kwh / 1e6 for _, c in rows]),
        con_fixed=np.array([c.fixed_cost_usd for _, c in rows]) / USD_PER_MUSD,
        con_fixed_per_mw=np.array([c.fixed_cost_usd_per_mw for _, c in rows]) / USD_PER_MUSD,
        con_carbon=np.array([c.carbon_g_per_kwh for _, c in rows]))


def _cloud_and_programs(ctx: _Context) -> dict[str, Any]:
    """Cloud offers per instance over the run [EFLOP/s-day, $M] and custom programs [$M, servers]."""
    problem = ctx.problem
    offers = [(oid, offer, problem.cloud_chips[offer.accelerator]) for oid, offer in problem.cloud.items()]
    programs = list(problem.custom_programs.values())
    return dict(
        cloud_ids=[oid for oid, _, _ in offers],
        cloud_compute=np.array([ctx.compute_per_unit(chip, o.mfu) * o.units_per_instance for _, o, chip in offers]),
        cloud_cost=np.array([o.price_usd_per_hour * o.units_per_instance * ctx.run_hours / USD_PER_MUSD
                             for _, o, _ in offers]),
        cloud_max=np.array([o.max_units / o.units_per_instance for _, o, _ in offers]),
        cloud_units_per_instance=np.array([o.units_per_instance for _, o, _ in offers], dtype=float),
        prog_ids=list(problem.custom_programs), prog_nre=np.array([p.nre_usd for p in programs]) / USD_PER_MUSD,
        prog_volume=np.array([p.volume_per_quarter / p.chip.units_per_server for p in programs]))


def build_model_data(problem: Problem) -> ModelData:
    """Translate a validated problem into arrays in internal units."""
    start = run_start_of(problem)
    run_period = quarter_index(start, problem.planning_start)
    ctx = _Context(problem, start, run_period,
                   [quarter_label(problem.planning_start, t) for t in range(run_period + 1)])
    hardware_share, site_share = _cost_multipliers(problem)
    accs = _accelerators(ctx, hardware_share)
    sites = _sites(ctx, site_share)
    cells, licences = _purchase_cells(ctx, accs, sites["site_ids"], sites["site_country"])
    contracts = _contracts(ctx, sites["site_ids"])
    run = problem.run
    return ModelData(
        periods=ctx.periods, run_start=start, run_period=run_period, run_hours=ctx.run_hours,
        target=problem.target.total_flop / FLOP_PER_EFLOPS_DAY, max_sites=run.max_sites,
        multi_site_efficiency=run.multi_site_efficiency or 1.0, **accs.fields, **sites, **contracts,
        **_cloud_and_programs(ctx), **cells, hardware_cost_multiplier=hardware_share,
        site_cost_multiplier=site_share, integer_units=problem.solver.integer_units, exclusions=ctx.exclusions,
        licences=licences)


def _site_list(sites: list[str], country: str, shown: int = 5) -> str:
    """'a, b, c (US)' or 'a, b, c, d, e +7 more (US)'."""
    more = f" +{len(sites) - shown} more" if len(sites) > shown else ""
    return f"{', '.join(sites[:shown])}{more} ({country})"


def _acc_path(aid: str) -> str:
    if aid.startswith("custom:"):
        return f"custom_programs.{aid.split(':', 1)[1]}.chip"
    return f"accelerators.{aid}"
