"""Independent verifier: recompute every constraint and the cost from the plan and the problem.

It works in user units (accelerators, USD, MW, MWh, FLOP, TPP) straight from the validated
problem, and imports no solver, formulation or model-data code: a mistake in those shows
up here as a violation rather than being repeated. It shares only input interpretation
(calendar quarters, export-rule classification) with the model.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass

import pandas as pd

from ..schema.exportcontrol import decide, total_processing_performance
from ..periods import derived_run_start, quarter_index, quarter_label
from ..schema.problem import Problem
from .plan import Plan

REL_TOL = 1e-6
COST_REL_TOL = 1e-6


@dataclass(frozen=True)
class Violation:
    """One failed check: which, where, by how much (in the check's unit)."""

    check: str
    index: str
    amount: float
    message: str


class _Checker:
    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.checks = 0

    def at_most(self, check: str, index: str, value: float, limit: float, unit: str, what: str) -> None:
        """Record a violation when value exceeds limit beyond the tolerance."""
        self.checks += 1
        if value > limit + REL_TOL * max(1.0, abs(limit)):
            self.violations.append(Violation(check, index, value - limit,
                                             f"{what}: {value:,.6g} {unit} > {limit:,.6g} {unit}"))

    def true(self, check: str, index: str, condition: bool, message: str) -> None:
        """Record a violation when the condition fails."""
        self.checks += 1
        if not condition:
            self.violations.append(Violation(check, index, 1.0, message))


def _run_quarter(problem: Problem):
    run = problem.run
    start = run.start or derived_run_start(run.deadline, run.length_days, problem.planning_start)
    return start, quarter_index(start, problem.planning_start)


def _peak(chip, precision: str) -> float:
    return chip.fp8_tflops if precision == "fp8" and chip.fp8_tflops is not None else chip.bf16_tflops


def _whole(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) <= 1e-6 * max(1.0, abs(ratio))


def verify(plan: Plan, problem: Problem) -> dict:
    """Check the plan against the problem; returns {'ok', 'checks', 'violations', 'cost_usd'}."""
    c = _Checker()
    if not plan.has_plan:
        return {"ok": False, "checks": 0, "violations": [], "cost_usd": None, "note": "no plan to verify"}
    run, costs = problem.run, problem.costs
    start, R = _run_quarter(problem)
    labels = [quarter_label(problem.planning_start, t) for t in range(R + 1)]
    hours, seconds = run.length_days * 24.0, run.length_days * 86400.0
    rules, hq = problem.export.rules, problem.export.headquarters
    chips = dict(problem.accelerators)
    chips.update({f"custom:{pid}": prog.chip for pid, prog in problem.custom_programs.items()})
    purchases, sites_t = plan.table("purchases"), plan.table("sites")
    contracts_t, rentals, programs = plan.table("contracts"), plan.table("rentals"), plan.table("custom_programs")
    opened = {r.site: bool(r.opened) for r in sites_t.itertuples()} if len(sites_t) else {}
    new_mw = {r.site: float(r.new_mw) for r in sites_t.itertuples()} if len(sites_t) else {}
    funded = {r.program: bool(r.funded) for r in programs.itertuples()} if len(programs) else {}

    hardware_usd = 0.0
    compute_flop = 0.0
    supply_used: dict[tuple[str, str], float] = defaultdict(float)
    component_used: dict[tuple[str, str], float] = defaultdict(float)
    load_mw: dict[str, float] = defaultdict(float)
    cap_used: dict[str, float] = defaultdict(float)
    caps: dict[str, float] = {}
    for row in purchases.itertuples():
        idx = f"{row.accelerator},{row.site},{row.quarter}"
        chip, site = chips.get(row.accelerator), problem.sites.get(row.site)
        c.true("known_option", idx, chip is not None and site is not None, "unknown accelerator or site")
        if chip is None or site is None:
            continue
        units = float(row.units)
        c.true("non_negative", idx, units >= -REL_TOL, f"negative purchase {units}")
        c.true("whole_servers", idx, _whole(units, chip.units_per_server),
               f"{units:g} units is not a whole number of {chip.units_per_server}-unit servers")
        c.true("for_sale", idx, chip.for_sale, "accelerator is not for sale")
        c.true("quarter", idx, row.quarter in labels, f"quarter {row.quarter} outside {labels[0]}..{labels[-1]}")
        if row.quarter not in labels:
            continue
        t = labels.index(row.quarter)
        decision = decide(chip, site.country, hq, rules)
        c.true("export_prohibition", idx, decision.action != "prohibited", decision.reason)
        extra = (problem.export.licence_lead_quarters or 0) if decision.action == "licence" else 0
        c.true("delivery_by_run_start", idx, t + chip.lead_time_quarters + extra <= R,
               f"ordered {row.quarter}, lead {chip.lead_time_quarters}+{extra} quarters, run starts {labels[R]}")
        if row.accelerator.startswith("custom:"):
            pid = row.accelerator.split(":", 1)[1]
            program = problem.custom_programs[pid]
            c.true("custom_volume_start", idx, t >= math.ceil(program.months_to_volume / 3.0 - 1e-9),
                   f"custom chip ordered before volume ({program.months_to_volume:g} months)")
            c.true("custom_funded", idx, funded.get(pid, False), f"program {pid} not funded")
            supply_used[(row.accelerator, row.quarter)] += units
        else:
            supply_used[(row.accelerator, row.quarter)] += units
            if chip.available_from is not None:
                c.true("available_from", idx, t >= quarter_index(chip.available_from, problem.planning_start),
                       f"ordered before {chip.available_from}")
        for comp, per_unit in chip.components.items():
            component_used[(comp, row.quarter)] += units * per_unit
        c.true("site_opened", idx, opened.get(row.site, False), f"site {row.site} not opened")
        load_mw[row.site] += units * chip.it_power_kw / 1000.0
        age = chip.price_age_quarters(problem.planning_start, t)
        unit_cost = (chip.price_usd + chip.server_network_usd) * (1 - chip.price_decline_per_quarter) ** age
        hardware_usd += units * unit_cost
        compute_flop += units * _peak(chip, run.precision) * 1e12 * (chip.mfu or run.mfu) * seconds
        if decision.action == "cap":
            cap_used[site.country] += units * total_processing_performance(chip)
            caps[site.country] = max(0.0, decision.cap_tpp - problem.export.cap_used_tpp.get(site.country, 0.0))

    for (acc, quarter), units in supply_used.items():
        if acc.startswith("custom:"):
            limit = problem.custom_programs[acc.split(":", 1)[1]].volume_per_quarter
        else:
            a = problem.accelerators[acc]
            limit = a.supply_by_quarter.get(quarter, a.supply_per_quarter if a.supply_per_quarter is not None else math.inf)
        c.at_most("supply_cap", f"{acc},{quarter}", units, limit, "units", "purchases exceed supply")
    for (comp, quarter), used in component_used.items():
        c.at_most("component_cap", f"{comp},{quarter}", used, problem.components[comp], "units", "component use exceeds supply")
    for country, used in cap_used.items():
        c.at_most("export_cap", country, used, caps[country], "TPP", "export cap exceeded")

    site_usd = 0.0
    for sid, site in problem.sites.items():
        is_open, built = opened.get(sid, False), new_mw.get(sid, 0.0)
        c.true("new_capacity_at_open_site", sid, is_open or built <= REL_TOL, "capacity built at an unopened site")
        c.at_most("site_build", sid, built, (site.max_mw - site.existing_mw) if site.build_lead_quarters <= R else 0.0,
                  "MW", "new capacity beyond what can be built by the run start")
        capacity = (site.existing_mw if is_open else 0.0) + built
        c.at_most("site_power", sid, load_mw.get(sid, 0.0), capacity, "MW", "IT load exceeds powered capacity")
        site_usd += (site.fixed_cost_usd if is_open else 0.0) + built * site.build_cost_usd_per_mw

    energy_usd = carbon_usd = contract_fixed_usd = 0.0
    energy_at: dict[str, float] = defaultdict(float)
    firm_at: dict[str, float] = defaultdict(float)
    for row in contracts_t.itertuples():
        con = problem.contracts.get(row.contract)
        c.true("known_option", row.contract, con is not None, "unknown contract")
        if con is None:
            continue
        signed, mw, energy = bool(row.signed), float(row.contracted_mw), float(row.energy_mwh)
        c.at_most("contract_size", row.contract, mw, con.max_mw if signed else 0.0, "MW", "contracted MW beyond the contract")
        c.at_most("contract_output", row.contract, energy, con.capacity_factor * mw * hours, "MWh", "energy beyond output")
        c.at_most("contract_min_take", row.contract, con.min_take_fraction * con.capacity_factor * mw * hours, energy,
                  "MWh", "energy below the minimum take")
        if signed:
            c.true("contract_site", row.contract, opened.get(con.site, False), f"signed at unopened site {con.site}")
            c.true("contract_available", row.contract, con.first_available is None or con.first_available <= start,
                   f"energy flows from {con.first_available}, after the run start {start}")
        energy_at[con.site] += energy
        firm_at[con.site] += con.firm_fraction * mw
        energy_usd += energy * con.price_usd_per_mwh
        carbon_usd += energy * con.carbon_g_per_kwh / 1000.0 * costs.carbon_price_usd_per_t
        contract_fixed_usd += (con.fixed_cost_usd if signed else 0.0) + mw * con.fixed_cost_usd_per_mw
    for sid, load in load_mw.items():
        site = problem.sites[sid]
        c.at_most("energy_balance", sid, load * site.pue * run.average_draw_fraction * hours, energy_at.get(sid, 0.0),
                  "MWh", "facility energy exceeds contracted energy")
        c.at_most("firm_power", sid, load * site.pue, firm_at.get(sid, 0.0), "MW", "peak facility load exceeds firm power")

    cloud_usd, offers_used = 0.0, 0
    for row in rentals.itertuples():
        offer = problem.cloud.get(row.offer)
        c.true("known_option", row.offer, offer is not None, "unknown cloud offer")
        if offer is None:
            continue
        units = float(row.units)
        c.at_most("cloud_capacity", row.offer, units, offer.max_units, "units", "rental beyond the offer")
        c.true("whole_instances", row.offer, _whole(units, offer.units_per_instance), "not whole instances")
        offers_used += units > REL_TOL
        cloud_usd += units * offer.price_usd_per_hour * hours
        chip = problem.cloud_chips[offer.accelerator]
        compute_flop += units * _peak(chip, run.precision) * 1e12 * (offer.mfu or run.mfu) * seconds

    locations = sum(opened.values()) + offers_used
    c.at_most("max_sites", "run", locations, run.max_sites, "locations", "run spans too many locations")
    efficiency = run.multi_site_efficiency if locations > 1 and run.multi_site_efficiency else 1.0
    delivered = compute_flop * efficiency
    c.at_most("compute_target", "run", problem.target.total_flop, delivered, "FLOP", "target exceeds delivered compute")

    nre_usd = sum(problem.custom_programs[p].nre_usd for p, f in funded.items() if f)
    hw_share = run.length_days / (costs.hardware_life_years * 365.25) if costs.basis == "amortised" else 1.0
    site_share = (run.length_days / (costs.facility_life_years * 365.25)
                  if costs.basis == "amortised" and costs.facility_life_years else 1.0)
    total = (hardware_usd * hw_share + site_usd * site_share + energy_usd + carbon_usd + contract_fixed_usd
             + cloud_usd + nre_usd)
    if plan.objective_usd is not None:
        c.at_most("cost", "total", abs(total - plan.objective_usd), COST_REL_TOL * max(1.0, abs(total)), "USD",
                  f"recomputed cost {total:,.2f} differs from the plan's {plan.objective_usd:,.2f}")
    return {"ok": not c.violations, "checks": c.checks, "violations": [asdict(v) for v in c.violations],
            "cost_usd": total, "delivered_flop": delivered, "locations": locations}


def verification_frame(report: dict) -> pd.DataFrame:
    """The violations as a table."""
    return pd.DataFrame(report.get("violations", []), columns=["check", "index", "amount", "message"])
