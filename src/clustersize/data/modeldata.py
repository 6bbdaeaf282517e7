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

import numpy as np

from ..errors import InputError
from ..schema.exportcontrol import decide, total_processing_performance
from ..periods import derived_run_start, quarter_index, quarter_label
from ..schema.problem import Accelerator, Problem

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
    energy_gwh_per_it_mw: np.ndarray               # [s] facility energy over the run per MW of IT load [GWh/MW]
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
                         file=problem._source, path="run.start", fix="start earlier, shorten the run or move the deadline")
    if start < problem.planning_start:
        raise InputError(f"the run would start on {start}, before planning_start {problem.planning_start}",
                         file=problem._source, path="run.deadline", fix="move the deadline later or shorten the run")
    return start


def peak_tflops(chip, precision: str) -> float:
    """Dense peak in the run's precision [TFLOP/s]; chips without FP8 run at BF16."""
    if precision == "fp8" and chip.fp8_tflops is not None:
        return chip.fp8_tflops
    return chip.bf16_tflops


def build_model_data(problem: Problem) -> ModelData:
    """Translate a validated problem into arrays in internal units."""
    run, costs = problem.run, problem.costs
    start = run_start_of(problem)
    run_period = quarter_index(start, problem.planning_start)
    periods = [quarter_label(problem.planning_start, t) for t in range(run_period + 1)]
    run_seconds = run.length_days * SECONDS_PER_DAY
    run_hours = run.length_days * 24.0
    hw_mult = 1.0 if costs.basis == "full" else run.length_days / (costs.hardware_life_years * 365.25)
    site_mult = (run.length_days / (costs.facility_life_years * 365.25)
                 if costs.basis == "amortised" and costs.facility_life_years else 1.0)
    exclusions: list[Exclusion] = []

    chips: list[tuple[str, Accelerator, int]] = [(aid, acc, -1) for aid, acc in problem.accelerators.items()]
    prog_ids = list(problem.custom_programs)
    for p, pid in enumerate(prog_ids):
        chips.append((f"custom:{pid}", problem.custom_programs[pid].chip, p))
    n_t = len(periods)
    components = list(problem.components)

    def per_server_compute(chip, mfu_override) -> float:
        mfu = mfu_override or run.mfu
        return peak_tflops(chip, run.precision) * 1e12 * mfu * run_seconds / FLOP_PER_EFLOPS_DAY

    acc_rows = []
    for aid, acc, prog in chips:
        if not acc.for_sale:
            exclusions.append(Exclusion("accelerator", aid, "-", "not for sale (cloud offers only)"))
            continue
        if acc.it_power_kw is None:
            raise InputError("no IT power per accelerator", file=problem._source,
                             path=_acc_path(aid) + ".it_power_kw", fix="give it_power_kw [kW]")
        if acc.price_usd is None:
            raise InputError("no unit price", file=problem._source, path=_acc_path(aid) + ".price_usd",
                             fix="give price_usd [USD]")
        acc_rows.append((aid, acc, prog))

    n_a = len(acc_rows)
    ups = np.array([acc.units_per_server for _, acc, _ in acc_rows], dtype=float)
    price = np.zeros((n_a, n_t))
    supply = np.full((n_a, n_t), np.inf)
    first_period = np.zeros(n_a, dtype=int)
    for a, (aid, acc, prog) in enumerate(acc_rows):
        # The server-level cost declines from the price's own date, so a 2023 price is aged to 2027.
        age = np.array([acc.price_age_quarters(problem.planning_start, t) for t in range(n_t)])
        unit_cost = (acc.price_usd + acc.server_network_usd) * (1 - acc.price_decline_per_quarter) ** age
        price[a] = unit_cost * ups[a] / USD_PER_MUSD * hw_mult
        if prog >= 0:
            program = problem.custom_programs[prog_ids[prog]]
            first_period[a] = math.ceil(program.months_to_volume / 3.0 - 1e-9)
        else:
            per_quarter = acc.supply_per_quarter if acc.supply_per_quarter is not None else np.inf
            supply[a] = [acc.supply_by_quarter.get(label, per_quarter) / ups[a] for label in periods]
            unknown = set(acc.supply_by_quarter) - set(periods)
            if unknown:
                raise InputError(f"quarter(s) {sorted(unknown)} are outside the planning periods {periods[0]}..{periods[-1]}",
                                 file=problem._source, path=f"accelerators.{aid}.supply_by_quarter",
                                 fix="use quarters between planning_start and the run start")
            if acc.available_from is not None:
                first_period[a] = max(0, quarter_index(acc.available_from, problem.planning_start))
    acc_ids = [aid for aid, _, _ in acc_rows]
    acc_compute = np.array([per_server_compute(acc, acc.mfu) for _, acc, _ in acc_rows]) * ups
    acc_it_mw = np.array([acc.it_power_kw / 1000.0 for _, acc, _ in acc_rows]) * ups
    acc_mtpp = np.array([total_processing_performance(acc) / TPP_PER_MTPP for _, acc, _ in acc_rows]) * ups
    component_use = np.array([[acc.components.get(c, 0.0) for c in components] for _, acc, _ in acc_rows],
                             dtype=float).reshape(n_a, len(components)) * ups[:, None]

    # Sites: a site whose new capacity cannot be powered by the run start keeps only existing MW.
    site_ids, site_rows = [], []
    for sid, site in problem.sites.items():
        can_build = site.build_lead_quarters <= run_period
        if not can_build and site.existing_mw == 0:
            exclusions.append(Exclusion("site", sid, site.country,
                                        f"build lead {site.build_lead_quarters} quarters; run starts after {run_period}"))
            continue
        site_ids.append(sid)
        site_rows.append((site, can_build))
    energy_per_mw = np.array([s.pue * run.average_draw_fraction * run_hours / 1000.0 for s, _ in site_rows])

    # Purchase cells and export decisions. Decisions depend on the country only, so cells are
    # built per (accelerator, country), vectorised over that country's sites and quarters.
    rules, hq = problem.export.rules, problem.export.headquarters
    by_country: dict[str, list[int]] = {}
    for s, (site, _) in enumerate(site_rows):
        by_country.setdefault(site.country, []).append(s)
    caps, licences = {}, []
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, str | None]] = []
    for a, (aid, acc, _) in enumerate(acc_rows):
        late_reported = False
        for country, sites_here in by_country.items():
            where = _site_list([site_ids[s] for s in sites_here], country)
            decision = decide(acc, country, hq, rules)
            extra = 0
            if decision.action == "prohibited":
                exclusions.append(Exclusion("purchase", aid, where, decision.reason, decision.policy))
                continue
            if decision.action == "licence":
                if problem.export.licence_lead_quarters is None:
                    raise InputError(f"{decision.reason}: the licence lead time is needed", file=problem._source,
                                     path="export.licence_lead_quarters", fix="give the extra quarters a licence takes")
                extra = problem.export.licence_lead_quarters
                licences.append((aid, where, decision.reason))
            if decision.action == "cap":
                used = problem.export.cap_used_tpp.get(country, 0.0)
                caps.setdefault(country, (max(0.0, decision.cap_tpp - used) / TPP_PER_MTPP, decision.policy))
            last = run_period - acc.lead_time_quarters - extra
            usable = np.array([t for t in range(first_period[a], last + 1) if supply[a, t] > 0], dtype=int)
            if usable.size == 0:
                if extra or not late_reported:
                    first = quarter_label(problem.planning_start, int(first_period[a]))
                    lead = f"lead {acc.lead_time_quarters}{f' + licence {extra}' if extra else ''} quarters"
                    why = (f"no supply in the quarters that deliver in time ({first}.."
                           f"{quarter_label(problem.planning_start, last)}, {lead})" if first_period[a] <= last else
                           f"first order quarter {first} with {lead} is too late for the run start {start}")
                    exclusions.append(Exclusion("purchase", aid, f"{where} (licence)" if extra else "every site", why))
                late_reported = late_reported or not extra
                continue
            sites_arr = np.array(sites_here, dtype=int)
            blocks.append((np.full(sites_arr.size * usable.size, a), np.repeat(sites_arr, usable.size),
                           np.tile(usable, sites_arr.size), country if decision.action == "cap" else None))
    cell = (np.column_stack([np.concatenate([b[i] for b in blocks]) for i in range(3)]) if blocks
            else np.zeros((0, 3), dtype=int))
    cap_countries = sorted(caps)
    cell_capped = (np.concatenate([np.full(b[0].size, cap_countries.index(b[3]) if b[3] else -1, dtype=int)
                                   for b in blocks]) if blocks else np.zeros(0, dtype=int))

    contracts = [(cid, c) for cid, c in problem.contracts.items()]
    con_rows = []
    for cid, c in contracts:
        if c.site not in site_ids:
            exclusions.append(Exclusion("contract", cid, c.site, "its site cannot be used"))
        elif c.first_available is not None and c.first_available > start:
            exclusions.append(Exclusion("contract", cid, c.site, f"energy flows from {c.first_available}, after the run start {start}"))
        else:
            con_rows.append((cid, c))
    carbon_price = costs.carbon_price_usd_per_t
    # carbon [g/kWh] = [t/GWh]; cost per GWh [$M] = price [$/MWh] / 1e3 + carbon price x t/GWh / 1e6
    con_price = np.array([c.price_usd_per_mwh / 1e3 + carbon_price * c.carbon_g_per_kwh / 1e6 for _, c in con_rows])

    offers = []
    for oid, offer in problem.cloud.items():
        chip = problem.cloud_chips[offer.accelerator]
        offers.append((oid, offer, chip))
    cloud_compute = np.array([per_server_compute(chip, o.mfu) * o.units_per_instance for _, o, chip in offers])
    cloud_cost = np.array([o.price_usd_per_hour * o.units_per_instance * run_hours / USD_PER_MUSD for _, o, _ in offers])

    return ModelData(
        periods=periods, run_start=start, run_period=run_period, run_hours=run_hours,
        target=problem.target.total_flop / FLOP_PER_EFLOPS_DAY,
        max_sites=run.max_sites, multi_site_efficiency=run.multi_site_efficiency or 1.0,
        acc_ids=acc_ids, acc_units_per_server=ups,
        acc_program=np.array([prog for _, _, prog in acc_rows], dtype=int),
        acc_compute=acc_compute, acc_it_mw=acc_it_mw, acc_mtpp=acc_mtpp, acc_price=price, acc_supply=supply,
        components=components, component_use=component_use,
        component_supply=np.array([problem.components[c] for c in components], dtype=float),
        site_ids=site_ids, site_country=[s.country for s, _ in site_rows],
        site_pue=np.array([s.pue for s, _ in site_rows]),
        site_fixed=np.array([s.fixed_cost_usd for s, _ in site_rows]) / USD_PER_MUSD * site_mult,
        site_build=np.array([s.build_cost_usd_per_mw for s, _ in site_rows]) / USD_PER_MUSD * site_mult,
        site_existing_mw=np.array([s.existing_mw for s, _ in site_rows]),
        site_new_mw_max=np.array([(s.max_mw - s.existing_mw) if ok else 0.0 for s, ok in site_rows]),
        con_ids=[cid for cid, _ in con_rows],
        con_site=np.array([site_ids.index(c.site) for _, c in con_rows], dtype=int),
        con_kind=[c.kind for _, c in con_rows],
        con_max_mw=np.array([c.max_mw for _, c in con_rows]),
        con_energy_per_mw=np.array([c.capacity_factor * run_hours / 1000.0 for _, c in con_rows]),
        con_min_take=np.array([c.min_take_fraction for _, c in con_rows]),
        con_firm=np.array([c.firm_fraction for _, c in con_rows]),
        con_price=con_price,
        con_fixed=np.array([c.fixed_cost_usd for _, c in con_rows]) / USD_PER_MUSD,
        con_fixed_per_mw=np.array([c.fixed_cost_usd_per_mw for _, c in con_rows]) / USD_PER_MUSD,
        con_carbon=np.array([c.carbon_g_per_kwh for _, c in con_rows]),
        cloud_ids=[oid for oid, _, _ in offers], cloud_compute=cloud_compute, cloud_cost=cloud_cost,
        cloud_max=np.array([o.max_units / o.units_per_instance for _, o, _ in offers]),
        cloud_units_per_instance=np.array([o.units_per_instance for _, o, _ in offers], dtype=float),
        prog_ids=prog_ids,
        prog_nre=np.array([problem.custom_programs[p].nre_usd for p in prog_ids]) / USD_PER_MUSD,
        prog_volume=np.array([problem.custom_programs[p].volume_per_quarter / problem.custom_programs[p].chip.units_per_server
                              for p in prog_ids]),
        cell_acc=cell[:, 0], cell_site=cell[:, 1], cell_period=cell[:, 2],
        cap_countries=cap_countries, cap_mtpp=np.array([caps[c][0] for c in cap_countries]),
        cap_policy=[caps[c][1] for c in cap_countries],
        cell_capped=cell_capped,
        energy_gwh_per_it_mw=energy_per_mw,
        hardware_cost_multiplier=hw_mult, site_cost_multiplier=site_mult,
        integer_units=problem.solver.integer_units, exclusions=exclusions, licences=licences,
    )


def _site_list(sites: list[str], country: str, shown: int = 5) -> str:
    """'a, b, c (US)' or 'a, b, c, d, e +7 more (US)'."""
    more = f" +{len(sites) - shown} more" if len(sites) > shown else ""
    return f"{', '.join(sites[:shown])}{more} ({country})"


def _acc_path(aid: str) -> str:
    if aid.startswith("custom:"):
        return f"custom_programs.{aid.split(':', 1)[1]}.chip"
    return f"accelerators.{aid}"
