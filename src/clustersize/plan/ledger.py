"""What a plan's decisions add up to, recomputed from its tables and the problem alone.

The verifier's tally, in user units (accelerators, USD, MW, MWh, FLOP, TPP), straight from the
validated problem. It imports no solver, formulation or model-data code, so a mistake there
shows up as a violation rather than being repeated here. While tallying it checks that each
decision is allowed at all (known option, whole servers, for sale, ordered in time, not
prohibited): those rules are pruning in the model, not rows, so no family checks them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..periods import derived_run_start, quarter_index, quarter_label, quarter_start
from ..schema.derived import all_in_unit_cost_usd
from ..schema.exportcontrol import decide, total_processing_performance
from ..schema.problem import Accelerator, Chip, Contract, Problem
from .plan import Plan

REL_TOL = 1e-6


@dataclass(frozen=True)
class Violation:
    """One failed check: which, where, by how much (in the check's unit)."""

    check: str
    index: str
    amount: float
    message: str


class Checker:
    """Counts checks and collects violations."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.checks = 0

    def at_most(self, check: str, index: str, value: float, limit: float, unit: str, what: str) -> None:
        """Record a violation when value exceeds limit beyond the tolerance."""
        self.checks += 1
        if not value <= limit + REL_TOL * max(1.0, abs(limit)):
            self.violations.append(Violation(check, index, value - limit,
                                             f"{what}: {value:,.6g} {unit} > {limit:,.6g} {unit}"))

    def true(self, check: str, index: str, condition: bool, message: str) -> None:
        """Record a violation when the condition fails."""
        self.checks += 1
        if not condition:
            self.violations.append(Violation(check, index, 1.0, message))


@dataclass(frozen=True)
class ContractUse:
    """One contract row of the plan: signed, contracted MW, energy taken [MWh]."""

    contract: str
    terms: Contract
    signed: bool
    mw: float
    energy_mwh: float


@dataclass
class Ledger:
    """The plan's decisions tallied per limit, in user units; costs in USD on the full basis."""

    plan: Plan
    problem: Problem
    start: dt.date
    run_quarter: int
    labels: list[str]
    chips: dict[str, Accelerator]
    opened: dict[str, bool] = field(default_factory=dict)
    new_mw: dict[str, float] = field(default_factory=dict)
    funded: dict[str, bool] = field(default_factory=dict)
    supply_used: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    component_used: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    load_mw: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    drawn_mw: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cap_used: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    caps: dict[str, float] = field(default_factory=dict)
    cap_policy: dict[str, str] = field(default_factory=dict)
    contracts: list[ContractUse] = field(default_factory=list)
    rentals: dict[str, float] = field(default_factory=dict)
    compute_flop: float = 0.0
    costs: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def hours(self) -> float:
        """Run length [h]."""
        return self.problem.run.length_days * 24.0

    @property
    def locations(self) -> int:
        """Sites opened plus cloud offers used."""
        return sum(self.opened.values()) + sum(units > REL_TOL for units in self.rentals.values())

    @property
    def delivered_flop(self) -> float:
        """Compute after the multi-site efficiency [FLOP]."""
        efficiency = self.problem.run.multi_site_efficiency if self.locations > 1 else None
        return self.compute_flop * (efficiency or 1.0)


def peak_tflops(chip: Chip, precision: str) -> float:
    """Dense peak at the run's precision [TFLOP/s]; chips without FP8 run at BF16."""
    return chip.fp8_tflops if precision == "fp8" and chip.fp8_tflops is not None else chip.bf16_tflops


def _whole(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) <= 1e-6 * max(1.0, abs(ratio))


def open_ledger(plan: Plan, problem: Problem) -> Ledger:
    """An empty ledger for the plan: run quarter, quarter labels, every chip by id."""
    run = problem.run
    start = run.start or derived_run_start(run.deadline, run.length_days, problem.planning_start)
    quarter = quarter_index(start, problem.planning_start)
    chips = dict(problem.accelerators)
    chips.update({f"custom:{pid}": prog.chip for pid, prog in problem.custom_programs.items()})
    return Ledger(plan, problem, start, quarter,
                  [quarter_label(problem.planning_start, t) for t in range(quarter + 1)], chips)


def tally(plan: Plan, problem: Problem, c: Checker) -> Ledger:
    """Tally every decision table of the plan, checking each decision is allowed."""
    ledger = open_ledger(plan, problem)
    _tally_sites(ledger, plan.table("sites"), plan.table("custom_programs"))
    for row in plan.table("purchases").itertuples():
        _tally_purchase(ledger, row, c)
    for row in plan.table("contracts").itertuples():
        _tally_contract(ledger, row, c)
    for row in plan.table("rentals").itertuples():
        _tally_rental(ledger, row, c)
    return ledger


def _tally_sites(ledger: Ledger, sites: Any, programs: Any) -> None:
    for r in sites.itertuples():
        ledger.opened[r.site], ledger.new_mw[r.site] = bool(r.opened), float(r.new_mw)
    for r in programs.itertuples():
        ledger.funded[r.program] = bool(r.funded)
    for sid, site in ledger.problem.sites.items():
        ledger.costs["site_fixed"] += site.fixed_cost_usd if ledger.opened.get(sid) else 0.0
        ledger.costs["site_build"] += ledger.new_mw.get(sid, 0.0) * site.build_cost_usd_per_mw
    ledger.costs["custom_nre"] = sum(ledger.problem.custom_programs[p].nre_usd for p, f in ledger.funded.items() if f)


def _allowed_purchase(ledger: Ledger, row: Any, c: Checker) -> int | None:
    """Check the purchase may happen at all; its quarter's index, or None when it cannot be tallied."""
    problem, idx = ledger.problem, f"{row.accelerator},{row.site},{row.quarter}"
    chip, site = ledger.chips.get(row.accelerator), problem.sites.get(row.site)
    c.true("known_option", idx, chip is not None and site is not None, "unknown accelerator or site")
    if chip is None or site is None:
        return None
    units = float(row.units)
    c.true("non_negative", idx, units >= -REL_TOL, f"negative purchase {units}")
    c.true("whole_servers", idx, _whole(units, chip.units_per_server),
           f"{units:g} units is not a whole number of {chip.units_per_server}-unit servers")
    c.true("for_sale", idx, chip.for_sale, "accelerator is not for sale")
    c.true("site_opened", idx, ledger.opened.get(row.site, False), f"site {row.site} not opened")
    labels = ledger.labels
    c.true("quarter", idx, row.quarter in labels, f"quarter {row.quarter} outside {labels[0]}..{labels[-1]}")
    if row.quarter not in labels:
        return None
    t = labels.index(row.quarter)
    decision = decide(chip, site.country, problem.export.headquarters, problem.export.rules)
    c.true("export_prohibition", idx, decision.action != "prohibited", decision.reason)
    extra = (problem.export.licence_lead_quarters or 0) if decision.action == "licence" else 0
    c.true("delivery_by_run_start", idx, t + chip.lead_time_quarters + extra <= ledger.run_quarter,
           f"ordered {row.quarter}, lead {chip.lead_time_quarters}+{extra} quarters, run starts {labels[-1]}")
    if row.accelerator.startswith("custom:"):
        program = problem.custom_programs[row.accelerator.split(":", 1)[1]]
        c.true("custom_volume_start", idx, t >= math.ceil(program.months_to_volume / 3.0 - 1e-9),
               f"custom chip ordered before volume ({program.months_to_volume:g} months)")
    elif chip.available_from is not None:
        c.true("available_from", idx, t >= quarter_index(chip.available_from, problem.planning_start),
               f"ordered before {chip.available_from}")
    if decision.action == "cap":
        country = site.country
        ledger.caps[country] = max(0.0, (decision.cap_tpp or 0.0) - problem.export.cap_used_tpp.get(country, 0.0))
        ledger.cap_policy[country] = decision.policy or ""
        ledger.cap_used[country] += units * total_processing_performance(chip)
    return t


def _tally_purchase(ledger: Ledger, row: Any, c: Checker) -> None:
    t = _allowed_purchase(ledger, row, c)
    if t is None:
        return
    chip, units, run = ledger.chips[row.accelerator], float(row.units), ledger.problem.run
    ledger.supply_used[(row.accelerator, row.quarter)] += units
    for component, per_unit in chip.components.items():
        ledger.component_used[(component, row.quarter)] += units * per_unit
    ledger.load_mw[row.site] += units * (chip.it_power_kw or 0.0) / 1000.0
    draw = chip.average_draw_fraction or run.average_draw_fraction
    ledger.drawn_mw[row.site] += units * (chip.it_power_kw or 0.0) / 1000.0 * draw
    unit_cost = all_in_unit_cost_usd(chip, ledger.problem.costs, t, ledger.problem.planning_start)
    ledger.costs["hardware"] += units * unit_cost
    ledger.costs["hardware_value_at_run_start"] += units * unit_cost * _value_kept(ledger, chip, t)
    ledger.compute_flop += units * peak_tflops(chip, run.precision) * 1e12 * (chip.mfu or run.mfu) * run.length_days * 86400


def _value_kept(ledger: Ledger, chip: Chip, t: int) -> float:
    """Share of a purchase's value left at the run start by the price-performance trend [fraction].

    Bought on the first day of order quarter t, or on the price's date if that is later;
    the value falls by costs.price_performance_ooms_per_year from then to the run start.
    """
    bought = quarter_start(ledger.problem.planning_start, t)
    if chip.price_date is not None and chip.price_date > bought:
        bought = chip.price_date
    years = max(0, (ledger.start - bought).days) / 365.25
    return float(10.0 ** (-ledger.problem.costs.price_performance_ooms_per_year * years))


def _tally_contract(ledger: Ledger, row: Any, c: Checker) -> None:
    problem = ledger.problem
    terms = problem.contracts.get(row.contract)
    c.true("known_option", row.contract, terms is not None, "unknown contract")
    if terms is None:
        return
    use = ContractUse(row.contract, terms, bool(row.signed), float(row.contracted_mw), float(row.energy_mwh))
    if use.signed:
        c.true("contract_available", row.contract, terms.first_available is None or terms.first_available <= ledger.start,
               f"energy flows from {terms.first_available}, after the run start {ledger.start}")
    ledger.contracts.append(use)
    ledger.costs["energy"] += use.energy_mwh * terms.price_usd_per_mwh
    ledger.costs["carbon"] += use.energy_mwh * terms.carbon_g_per_kwh / 1000.0 * problem.costs.carbon_price_usd_per_t
    ledger.costs["contract_fixed"] += (terms.fixed_cost_usd if use.signed else 0.0) \
        + use.mw * terms.fixed_cost_usd_per_mw


def _tally_rental(ledger: Ledger, row: Any, c: Checker) -> None:
    problem = ledger.problem
    offer = problem.cloud.get(row.offer)
    c.true("known_option", row.offer, offer is not None, "unknown cloud offer")
    if offer is None:
        return
    units, run = float(row.units), problem.run
    c.true("whole_instances", row.offer, _whole(units, offer.units_per_instance), "not whole instances")
    ledger.rentals[row.offer] = ledger.rentals.get(row.offer, 0.0) + units
    ledger.costs["cloud"] += units * offer.price_usd_per_hour * ledger.hours
    chip = problem.cloud_chips[offer.accelerator]
    ledger.compute_flop += units * peak_tflops(chip, run.precision) * 1e12 * (offer.mfu or run.mfu) * run.length_days * 86400
