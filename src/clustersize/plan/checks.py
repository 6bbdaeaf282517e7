"""The verifier's check of each constraint family declared in families.py, by name.

Each check reads the ledger (the plan's decisions tallied in user units) and the problem, never
the model. Families that only define a model quantity (a choice indicator, a membership, a loss
variable) are checked through what they define: the run's stack, pace, locations, span, goodput
and compute are recomputed from its cluster directly.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from ..costlines import NOT_CASH
from ..periods import quarter_start
from ..schema.sustained import demand_by_quarter
from .cashflows import cash_flows
from .costing import recomputed_cost
from .ledger import REL_TOL, Checker, Ledger, deal_extra, delivered_flop, span_of, spot_components

Check = Callable[[Ledger, Checker], None]


def _supply_limit(ledger: Ledger, acc: str, quarter: str) -> float:
    a = ledger.problem.accelerators[acc]
    default = a.supply_per_quarter if a.supply_per_quarter is not None else math.inf
    return a.supply_by_quarter.get(quarter, default) + deal_extra(ledger, "accelerator", acc, quarter) \
        + ledger.spot.get((acc, quarter), 0.0)


def check_supply_cap(ledger: Ledger, c: Checker) -> None:
    """Purchases of each catalog accelerator per quarter within its supply [units]."""
    for (acc, quarter), units in ledger.supply_used.items():
        if not acc.startswith("custom:"):
            c.at_most("supply_cap", f"{acc},{quarter}", units, _supply_limit(ledger, acc, quarter), "units",
                      "purchases exceed supply")


def check_custom_volume(ledger: Ledger, c: Checker) -> None:
    """Custom chips only from a funded program, within its volume per quarter [units]."""
    for (acc, quarter), units in ledger.supply_used.items():
        if acc.startswith("custom:"):
            pid = acc.split(":", 1)[1]
            funded = ledger.funded.get(pid, False)
            limit = ledger.problem.custom_programs[pid].volume_per_quarter + deal_extra(ledger, "program", pid, quarter) \
                if funded else 0.0
            c.at_most("custom_volume", f"{pid},{quarter}", units, limit, "units",
                      "custom chips beyond the program's volume" if funded else f"program {pid} not funded")


def check_component_cap(ledger: Ledger, c: Checker) -> None:
    """Shared components per quarter within their supply [units]."""
    for (component, quarter), used in ledger.component_used.items():
        c.at_most("component_cap", f"{component},{quarter}", used - spot_components(ledger, component, quarter),
                  ledger.problem.components[component] + deal_extra(ledger, "component", component, quarter), "units",
                  "component use exceeds supply")


def check_spot_purchase(ledger: Ledger, c: Checker) -> None:
    """Accelerators bought spot are part of the quarter's purchases [units]."""
    for (acc, quarter), units in ledger.spot.items():
        c.at_most("spot_purchase", f"{acc},{quarter}", units, ledger.supply_used.get((acc, quarter), 0.0), "units",
                  "bought spot but not purchased")


def check_sale_cohort(ledger: Ledger, c: Checker) -> None:
    """Accelerators sold from each order within the order [units]."""
    for order, units in ledger.sold.items():
        c.at_most("sale_cohort", ",".join(order), units, ledger.orders[order][0], "units", "more sold than ordered")


def check_deal_take(ledger: Ledger, c: Checker) -> None:
    """Units credited against a prepaid deal within the extra supply of the share taken [units]."""
    for (name, quarter), units in ledger.credits.items():
        deal = ledger.problem.supply_deals[name]
        c.at_most("deal_take", f"{name},{quarter}", units, ledger.deals.get(name, 0.0) * deal.units_per_quarter,
                  "units", "more credited than the deal taken supplies")


def check_deal_credit(ledger: Ledger, c: Checker) -> None:
    """Prepayments credited only against units bought on allocation in the quarter [units]."""
    credited: dict[tuple[str, str, str], float] = defaultdict(float)
    for (name, quarter), units in ledger.credits.items():
        credited[(*ledger.problem.supply_deals[name].target, quarter)] += units
    for (kind, target, quarter), units in credited.items():
        if kind == "component":
            bought = ledger.component_used.get((target, quarter), 0.0) - spot_components(ledger, target, quarter)
        else:
            acc = target if kind == "accelerator" else f"custom:{target}"
            bought = ledger.supply_used.get((acc, quarter), 0.0) - ledger.spot.get((acc, quarter), 0.0)
        c.at_most("deal_credit", f"{kind}:{target},{quarter}", units, bought, "units",
                  "prepayment credited against units not bought")


def check_deal_program(ledger: Ledger, c: Checker) -> None:
    """A deal on a custom program's capacity only with the program funded."""
    for name, deal in ledger.problem.supply_deals.items():
        kind, target = deal.target
        if kind == "program" and ledger.deals.get(name, 0.0) > REL_TOL:
            c.true("deal_program", name, ledger.funded.get(target, False),
                   f"deal {name} on program {target}, which is not funded")


def check_site_power(ledger: Ledger, c: Checker) -> None:
    """IT load of all hardware bought within existing capacity (if opened) plus new capacity [MW]."""
    for sid, site in ledger.problem.sites.items():
        capacity = (site.existing_mw if ledger.opened.get(sid, False) else 0.0) + ledger.new_mw.get(sid, 0.0)
        c.at_most("site_power", sid, ledger.load_mw.get(sid, 0.0), capacity, "MW", "IT load exceeds powered capacity")


def check_site_build(ledger: Ledger, c: Checker) -> None:
    """New capacity only at an opened site, within its maximum [MW]."""
    for sid, site in ledger.problem.sites.items():
        built, is_open = ledger.new_mw.get(sid, 0.0), ledger.opened.get(sid, False)
        c.at_most("site_build", sid, built, (site.max_mw - site.existing_mw) if is_open else 0.0, "MW",
                  "new capacity beyond the site's maximum" if is_open else "capacity built at an unopened site")


def check_site_energised(ledger: Ledger, c: Checker) -> None:
    """Hardware installed before a site's new capacity is powered fits its existing capacity [MW]."""
    for sid, early in ledger.early_mw.items():
        existing = ledger.problem.sites[sid].existing_mw if ledger.opened.get(sid, False) else 0.0
        c.at_most("site_energised", sid, early, existing, "MW", "hardware installed before the site is energised")


def check_fleet(ledger: Ledger, c: Checker) -> None:
    """Accelerators in runs or serving at each site and quarter within those installed there by then [units]."""
    for (acc, site, quarter), units in ledger.busy().items():
        installed = ledger.installed.get((acc, site, quarter), 0.0)
        c.at_most("fleet", f"{acc},{site},{ledger.label(quarter)}", units, installed, "units",
                  "accelerators in runs or serving beyond those installed")


def check_serving_energy(ledger: Ledger, c: Checker) -> None:
    """Facility energy of the accelerators serving at each site and quarter within the contracted
    energy taken for serving then [MWh]."""
    need: dict[tuple[str, int], float] = defaultdict(float)
    for serve in ledger.serving:
        if serve.kind == "site":
            draw = serve.chip.average_draw_fraction or ledger.default_draw
            need[(serve.location, serve.quarter)] += ledger.serve_mw(serve) * draw \
                * ledger.quarter_hours(serve.quarter)
    taken: dict[tuple[str, int], float] = defaultdict(float)
    for (contract, quarter), mwh in ledger.serving_energy.items():
        taken[(ledger.problem.contracts[contract].site, quarter)] += mwh
    for (sid, quarter), mwh in sorted(need.items()):
        c.at_most("serving_energy", f"{sid},{ledger.label(quarter)}", mwh, taken.get((sid, quarter), 0.0), "MWh",
                  "facility energy of serving exceeds contracted energy")


def check_sustained_demand(ledger: Ledger, c: Checker) -> None:
    """Dense BF16 peak serving each quarter reaches the sustained demand then [PFLOP/s]."""
    problem = ledger.problem
    demand = demand_by_quarter(dict(problem.sustained), problem.planning_start, len(ledger.labels))
    served = [0.0] * len(ledger.labels)
    for serve in ledger.serving:
        served[serve.quarter] += serve.units * serve.chip.bf16_tflops / 1000.0
    for quarter, need in enumerate(demand):
        if need > 0:
            c.at_most("sustained_demand", ledger.label(quarter), need, served[quarter], "PFLOP/s",
                      "sustained demand beyond what serves it")


def _energy_by(ledger: Ledger) -> dict[tuple[str, str], float]:
    """Energy taken per (site, run) [MWh]."""
    taken: dict[tuple[str, str], float] = defaultdict(float)
    for contract, run, mwh in ledger.energy:
        taken[(ledger.problem.contracts[contract].site, run)] += mwh
    return taken


def check_energy_balance(ledger: Ledger, c: Checker) -> None:
    """Facility energy of each run at each site within the contracted energy it takes [MWh]."""
    taken = _energy_by(ledger)
    for name, tally_ in ledger.runs.items():
        need: dict[str, float] = defaultdict(float)
        for _, days, sid, _, units, chip in ledger.site_work(tally_):
            draw = chip.average_draw_fraction or tally_.run.average_draw_fraction
            need[sid] += units * (chip.it_power_kw or 0.0) / 1000.0 * draw * ledger.problem.sites[sid].pue * days * 24.0
        for sid, mwh in need.items():
            c.at_most("energy_balance", f"{sid},{name}", mwh, taken.get((sid, name), 0.0), "MWh",
                      "facility energy exceeds contracted energy")


def _live(ledger: Ledger, quarter: int, first_available: object) -> bool:
    """A contract counts in a quarter when its energy flows from the quarter's first day."""
    return first_available is None or first_available <= quarter_start(ledger.problem.planning_start, quarter)  # type: ignore[operator]


def check_firm_power(ledger: Ledger, c: Checker) -> None:
    """Peak facility load of the runs at each site and quarter within firm contracted MW live then [MW]."""
    load: dict[tuple[str, int], float] = defaultdict(float)
    for tally_ in ledger.runs.values():
        for quarter, _, sid, _, units, chip in ledger.site_work(tally_):
            load[(sid, quarter)] += units * (chip.it_power_kw or 0.0) / 1000.0 * ledger.problem.sites[sid].pue
    for serve in ledger.serving:
        if serve.kind == "site":
            load[(serve.location, serve.quarter)] += ledger.serve_mw(serve)
    for (sid, quarter), mw in load.items():
        firm = sum(u.terms.firm_fraction * u.mw for u in ledger.contracts
                   if u.terms.site == sid and _live(ledger, quarter, u.terms.first_available))
        c.at_most("firm_power", f"{sid},{ledger.label(quarter)}", mw, firm, "MW", "peak facility load exceeds firm power")


def check_contract_size(ledger: Ledger, c: Checker) -> None:
    """Contracted MW only under a signed contract, within its maximum [MW]."""
    for use in ledger.contracts:
        c.at_most("contract_size", use.contract, use.mw, use.terms.max_mw if use.signed else 0.0, "MW",
                  "contracted MW beyond the contract")


def check_contract_output(ledger: Ledger, c: Checker) -> None:
    """Energy taken in each quarter within what the contracted MW deliver then [MWh]; a window's
    energy is drawn evenly over its days."""
    taken: dict[tuple[str, int], float] = defaultdict(float)
    for contract, run, mwh in ledger.energy:
        tally_ = ledger.runs[run]
        for quarter, days in ledger.quarters(tally_):
            taken[(contract, quarter)] += mwh * days / tally_.days
    for key, mwh in ledger.serving_energy.items():
        taken[key] += mwh
    mw = {u.contract: u for u in ledger.contracts}
    origin = ledger.problem.planning_start
    for (contract, quarter), mwh in taken.items():
        use = mw.get(contract)
        hours = (quarter_start(origin, quarter + 1) - quarter_start(origin, quarter)).days * 24.0
        deliver = use.terms.capacity_factor * use.mw * hours if use and _live(ledger, quarter, use.terms.first_available) else 0.0
        c.at_most("contract_output", f"{contract},{ledger.label(quarter)}", mwh, deliver, "MWh", "energy beyond output")


def check_contract_min_take(ledger: Ledger, c: Checker) -> None:
    """A run window at a site takes at least the minimum share of each live contract's output [MWh]."""
    taken: dict[tuple[str, str], float] = defaultdict(float)
    for contract, run, mwh in ledger.energy:
        taken[(contract, run)] += mwh
    for name, tally_ in ledger.runs.items():
        sites = {m.location for m in tally_.members if m.kind == "site"}
        for use in ledger.contracts:
            terms = use.terms
            live = terms.first_available is None or terms.first_available <= tally_.start
            if terms.min_take_fraction > 0 and terms.site in sites and live:
                minimum = terms.min_take_fraction * terms.capacity_factor * use.mw * tally_.days * 24.0
                c.at_most("contract_min_take", f"{use.contract},{name}", minimum, taken.get((use.contract, name), 0.0),
                          "MWh", "energy below the minimum take")


def check_contract_site(ledger: Ledger, c: Checker) -> None:
    """Contracts signed only at opened sites."""
    for use in ledger.contracts:
        if use.signed:
            c.true("contract_site", use.contract, ledger.opened.get(use.terms.site, False),
                   f"signed at unopened site {use.terms.site}")


def check_cloud_quota(ledger: Ledger, c: Checker) -> None:
    """Rentals of the runs in each quarter within what each offer rents [units]."""
    rented: dict[tuple[str, int], float] = defaultdict(float)
    for (run, offer), units in ledger.rentals.items():
        for quarter, _ in ledger.quarters(ledger.runs[run]):
            rented[(offer, quarter)] += units
    for (_, offer, quarter), units in ledger.serving_at("cloud").items():
        rented[(offer, quarter)] += units
    for (offer, quarter), units in rented.items():
        c.at_most("cloud_quota", f"{offer},{ledger.label(quarter)}", units, ledger.problem.cloud[offer].max_units,
                  "units", "rental beyond the offer")


def check_run_location(ledger: Ledger, c: Checker) -> None:
    """A run's cluster and its rentals agree: every offer in the cluster rented for that run, and back."""
    for name, tally_ in ledger.runs.items():
        cloud = tally_.units_at("cloud")
        for offer in set(cloud) | {o for (r, o) in ledger.rentals if r == name}:
            rented = ledger.rentals.get((name, offer), 0.0)
            c.at_most("run_location", f"{name},{offer}", abs(cloud.get(offer, 0.0) - rented), 0.0, "units",
                      "the run's cluster and its rentals differ")


def check_location_open(ledger: Ledger, c: Checker) -> None:
    """A run uses only opened sites."""
    for name, tally_ in ledger.runs.items():
        for m in tally_.members:
            if m.kind == "site":
                c.true("location_open", f"{name},{m.location}", ledger.opened.get(m.location, False),
                       f"run {name} uses unopened site {m.location}")


def check_cluster_size(ledger: Ledger, c: Checker) -> None:
    """A run's cluster at each site within the site's largest fabric domain [units]."""
    for name, tally_ in ledger.runs.items():
        for sid, units in tally_.units_at("site").items():
            limit = getattr(ledger.problem.sites[sid], "max_cluster_units", None)
            if limit is not None:
                c.at_most("cluster_size", f"{name},{sid}", units, limit, "units", "cluster beyond the fabric")


def check_max_sites(ledger: Ledger, c: Checker) -> None:
    """Each run spans at most max_sites locations."""
    for name, tally_ in ledger.runs.items():
        c.at_most("max_sites", name, len(tally_.locations), tally_.run.max_sites, "locations",
                  "run spans too many locations")


def check_span_continents(ledger: Ledger, c: Checker) -> None:
    """A run stays on one continent unless it may cross an ocean."""
    for name, tally_ in ledger.runs.items():
        c.true("span_continents", name, span_of(ledger, tally_) != "world" or tally_.run.allow_cross_ocean,
               f"run {name} crosses an ocean, which it may not")


def check_pace_member(ledger: Ledger, c: Checker) -> None:
    """Every member of a run shares its group: one stack (mix: stack) or one model (mix: model)."""
    for name, tally_ in ledger.runs.items():
        if tally_.run.mix == "stack":
            c.true("pace_member", name, len(tally_.stacks) <= 1, f"run {name} mixes stacks {tally_.stacks}")
        elif tally_.run.mix == "model":
            models = sorted({m.model for m in tally_.members})
            c.true("pace_member", name, len(models) <= 1, f"run {name} mixes models {models}")


def check_compute_target(ledger: Ledger, c: Checker) -> None:
    """Each run's compute at the pace of its slowest member, after goodput, span and stack losses,
    reaches its target, less any shortfall the plan pays the penalty for [FLOP]."""
    for name, tally_ in ledger.runs.items():
        c.at_most("compute_target", name, tally_.run.flop, delivered_flop(ledger, name) + tally_.shortfall_flop, "FLOP",
                  "target exceeds delivered compute and the shortfall paid for")


def check_export_cap(ledger: Ledger, c: Checker) -> None:
    """TPP bought into each capped country within its remaining cap [TPP]."""
    for country, used in ledger.cap_used.items():
        c.at_most("export_cap", country, used, ledger.caps[country], "TPP", "export cap exceeded")


def check_budget(ledger: Ledger, c: Checker) -> None:
    """The plan's cost on its basis within the problem's budget [USD]."""
    budget = ledger.problem.budget_total_usd
    if budget is not None:
        c.at_most("budget", "budget", recomputed_cost(ledger), budget, "USD", "the plan costs more than the budget")


def check_annual_budget(ledger: Ledger, c: Checker) -> None:
    """Nominal cash paid in each calendar year, the resale credit left out, within the yearly budget [USD]."""
    limit = ledger.problem.budget.per_year_usd
    if limit is None:
        return
    per_year: dict[int, float] = defaultdict(float)
    origin = ledger.problem.planning_start
    for line, quarters in cash_flows(ledger).items():
        if line not in NOT_CASH:
            for quarter, usd in quarters.items():
                per_year[quarter_start(origin, quarter).year] += usd
    for year, usd in sorted(per_year.items()):
        c.at_most("annual_budget", str(year), usd, limit, "USD", f"the plan pays more than the yearly budget in {year}")


def new_powered_mw(ledger: Ledger, sid: str, quarter: int) -> float:
    """New MW of a site powered in a quarter: what was built, from the build lead, or within the
    phase of energised_mw in force then [MW]."""
    site, built = ledger.problem.sites[sid], ledger.new_mw.get(sid, 0.0)
    if not site.energised_mw:
        return built if quarter >= site.build_lead_quarters else 0.0
    phases = [mw for label, mw in site.energised_mw.items() if label <= ledger.label(quarter)]
    return min(built, max(phases, default=0.0))


def _installed_mw(ledger: Ledger) -> dict[tuple[str, int], float]:
    """IT load installed per (site, quarter) [MW]."""
    installed: dict[tuple[str, int], float] = defaultdict(float)
    for (acc, where, quarter), units in ledger.installed.items():
        installed[(where, quarter)] += units * (ledger.chips[acc].it_power_kw or 0.0) / 1000.0
    return installed


def check_site_lease(ledger: Ledger, c: Checker) -> None:
    """Existing capacity in use at a leased site is leased each quarter: installed load less the new
    build powered by then [MW]."""
    for (sid, quarter), mw in sorted(_installed_mw(ledger).items()):
        site = ledger.problem.sites[sid]
        if site.existing_basis != "lease" or site.existing_mw == 0 or mw <= 0:
            continue
        c.at_most("site_lease", f"{sid},{ledger.label(quarter)}", mw - new_powered_mw(ledger, sid, quarter),
                  ledger.leases.get((sid, quarter), 0.0), "MW", "existing capacity in use but not leased")


def check_site_phase(ledger: Ledger, c: Checker) -> None:
    """At a site energised in phases, the IT load of each quarter within its existing capacity (if
    opened) and the new MW powered by then [MW]."""
    for (sid, quarter), mw in sorted(_installed_mw(ledger).items()):
        site = ledger.problem.sites[sid]
        if site.energised_mw:
            existing = site.existing_mw if ledger.opened.get(sid, False) else 0.0
            c.at_most("site_phase", f"{sid},{ledger.label(quarter)}", mw, existing + new_powered_mw(ledger, sid, quarter),
                      "MW", "IT load beyond the capacity energised by then")


def check_commitment_cover(ledger: Ledger, c: Checker) -> None:
    """A committed offer's rentals in each quarter within the commitments whose term covers it [units]."""
    rented: dict[tuple[str, int], float] = defaultdict(float)
    for (run, offer_id), units in ledger.rentals.items():
        if ledger.problem.cloud[offer_id].committed:
            for quarter, _ in ledger.quarters(ledger.runs[run]):
                rented[(offer_id, quarter)] += units
    for (_, offer_id, quarter), units in ledger.serving_at("cloud").items():
        if ledger.problem.cloud[offer_id].committed:
            rented[(offer_id, quarter)] += units
    for (offer_id, quarter), units in sorted(rented.items()):
        cover = int(ledger.problem.cloud[offer_id].term_months // 3)
        held = sum(u for o, start, u in ledger.commitments if o == offer_id and start <= quarter < start + cover)
        c.at_most("commitment_cover", f"{offer_id},{ledger.label(quarter)}", units, held, "units",
                  "rentals of a committed offer beyond the commitments running then")


def check_ramp_cluster(ledger: Ledger, c: Checker) -> None:
    """A growing run's accelerators working in a quarter before its last within its full cluster [units]."""
    for name, tally_ in ledger.runs.items():
        held = {(m.location, m.model): m.units for m in tally_.members if m.kind == "site"}
        ramping: dict[tuple[int, str, str], float] = defaultdict(float)
        for r in tally_.ramp:
            ramping[(r.quarter, r.location, r.model)] += r.units
        for (quarter, site, model), units in sorted(ramping.items()):
            c.at_most("ramp_cluster", f"{name},{ledger.label(quarter)},{site},{model}", units,
                      held.get((site, model), 0.0), "units", "more accelerators ramping than in the run's cluster")


def _defined(ledger: Ledger, c: Checker) -> None:
    """A family that defines a model quantity: what it defines is recomputed from the cluster by
    the checks above (run windows by the tally, pace and losses by compute_target)."""


CHECKS: dict[str, Check] = {
    "supply_cap": check_supply_cap, "custom_volume": check_custom_volume, "component_cap": check_component_cap,
    "deal_program": check_deal_program,
    "spot_purchase": check_spot_purchase,
    "sale_cohort": check_sale_cohort,
    "deal_take": check_deal_take,
    "deal_credit": check_deal_credit,
    "site_power": check_site_power, "site_build": check_site_build, "site_energised": check_site_energised,
    "fleet": check_fleet, "run_fleet": _defined, "energy_balance": check_energy_balance,
    "serving_energy": check_serving_energy, "sustained_demand": check_sustained_demand,
    "ramp_cluster": check_ramp_cluster,
    "firm_power": check_firm_power, "contract_size": check_contract_size, "contract_output": check_contract_output,
    "contract_min_take": check_contract_min_take, "site_active": _defined, "contract_site": check_contract_site,
    "cloud_quota": check_cloud_quota, "run_location": check_run_location, "location_open": check_location_open,
    "cluster_size": check_cluster_size, "max_sites": check_max_sites, "span_locations": _defined,
    "location_region": _defined, "location_continent": _defined, "span_regions": _defined,
    "span_continents": check_span_continents, "span_order": _defined, "window_choice": _defined,
    "window_units": _defined, "slot_window": _defined, "pace_choice": _defined, "pace_member": check_pace_member,
    "stack_member": _defined, "stack_count": _defined, "band_choice": _defined, "band_size": _defined,
    "efficiency_loss": _defined, "goodput_loss": _defined, "compute_target": check_compute_target,
    "compute_bound": _defined, "run_site_power": _defined, "location_reach": _defined, "location_cover": _defined,
    "export_cap": check_export_cap, "budget": check_budget,
    "annual_budget": check_annual_budget, "installed_mw": _defined, "site_lease": check_site_lease,
    "commitment_cover": check_commitment_cover, "site_phase": check_site_phase, "phase_build": _defined,
}
"""The verifier's implementation of each family declared in families.py, by name."""
