"""What a plan's decisions add up to, recomputed from its tables and the problem alone.

The verifier's tally, in user units (accelerators, USD, MW, MWh, FLOP, TPP), straight from the
validated problem. It imports no solver, formulation or model-data code, so a mistake there
shows up as a violation rather than being repeated here. While tallying it checks that each
decision is allowed at all (known option, whole servers, for sale, ordered in time, not
prohibited, a legal window): those rules are pruning in the model, not rows, so no family
checks them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..periods import quarter_index, quarter_label, quarter_start
from ..schema.derived import purchase_unit_cost_usd
from ..schema.exportcontrol import decide, duty_of, total_processing_performance
from ..schema.problem import Accelerator, Chip, Contract, Problem
from ..schema.runs import PlannedRun, accelerator_mfu, planned_runs, region_of, stack_of
from .plan import SERVING, Plan

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


@dataclass(frozen=True)
class Member:
    """Accelerators of one kind at one location in a run's cluster; rate [TFLOP/s] per accelerator."""

    location: str
    kind: str          # "site" or "cloud"
    model: str         # accelerator id (an offer's accelerator for cloud)
    stack: str
    units: float
    rate_tflops: float
    chip: Chip


@dataclass(frozen=True)
class Ramp:
    """Accelerators of a growing run's cluster at one site working in one quarter before the last."""

    quarter: int
    location: str
    model: str
    units: float
    days: float        # of the window in that quarter, as the plan states it [days]
    chip: Chip


@dataclass
class RunTally:
    """One run as the plan states it and as the verifier recomputes it."""

    run: PlannedRun
    start: dt.date
    days: float
    members: list[Member] = field(default_factory=list)
    ramp: list[Ramp] = field(default_factory=list)
    shortfall_flop: float = 0.0     # compute the plan says the run falls short of its target [FLOP]

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days)

    @property
    def units(self) -> float:
        return sum(m.units for m in self.members)

    @property
    def pace_tflops(self) -> float:
        """The synchronous step's rate per accelerator: the slowest member's [TFLOP/s]."""
        return min((m.rate_tflops for m in self.members), default=0.0)

    @property
    def stacks(self) -> list[str]:
        return sorted({m.stack for m in self.members})

    @property
    def locations(self) -> list[str]:
        return list(dict.fromkeys(m.location for m in self.members))

    def full_days(self, member: Member, last_quarter_days: float) -> float:
        """Days a member works at full size: the window, or a growing run's last quarter of it for owned
        accelerators (the ramp works before) [days]."""
        return last_quarter_days if self.run.grow and member.kind == "site" else self.days

    def units_at(self, kind: str) -> dict[str, float]:
        """The run's accelerators per location of a kind ("site" or "cloud") [units]."""
        found: dict[str, float] = defaultdict(float)
        for m in self.members:
            if m.kind == kind:
                found[m.location] += m.units
        return found


@dataclass(frozen=True)
class Serve:
    """One serving row of the plan: accelerators at a site or rented from an offer in a quarter."""

    location: str
    kind: str          # "site" or "cloud"
    accelerator: str   # the offer's accelerator for cloud
    quarter: int
    units: float
    chip: Chip


@dataclass
class Ledger:
    """The plan's decisions tallied per limit, in user units; costs in USD on the full basis."""

    plan: Plan
    problem: Problem
    labels: list[str]
    chips: dict[str, Accelerator]
    runs: dict[str, RunTally] = field(default_factory=dict)
    opened: dict[str, bool] = field(default_factory=dict)
    new_mw: dict[str, float] = field(default_factory=dict)
    funded: dict[str, bool] = field(default_factory=dict)
    deals: dict[str, float] = field(default_factory=dict)          # share of each supply deal taken
    spot: dict[tuple[str, str], float] = field(default_factory=dict)   # (accelerator, quarter) -> bought spot
    credits: dict[tuple[str, str], float] = field(default_factory=dict)  # (deal, quarter) -> units on prepayment
    orders: dict[tuple[str, str, str], tuple[float, int, int]] = field(default_factory=dict)  # (acc, site, quarter)
    # -> (units, order quarter, quarter installed)
    sold: dict[tuple[str, str, str], float] = field(default_factory=lambda: defaultdict(float))   # by order
    sales: list[tuple[str, str, int, int, float]] = field(default_factory=list)  # acc, site, order, sold, units
    supply_used: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    component_used: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    load_mw: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    early_mw: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    installed: dict[tuple[str, str, int], float] = field(default_factory=lambda: defaultdict(float))
    cap_used: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    caps: dict[str, float] = field(default_factory=dict)
    cap_policy: dict[str, str] = field(default_factory=dict)
    contracts: list[ContractUse] = field(default_factory=list)
    energy: list[tuple[str, str, float]] = field(default_factory=list)      # (contract, run, MWh)
    rentals: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))  # (run, offer)
    leases: dict[tuple[str, int], float] = field(default_factory=lambda: defaultdict(float))   # (site, quarter) [MW]
    commitments: list[tuple[str, int, float]] = field(default_factory=list)   # (offer, first quarter, units)
    serving: list[Serve] = field(default_factory=list)
    serving_energy: dict[tuple[str, int], float] = field(default_factory=lambda: defaultdict(float))  # (contract, quarter) [MWh]
    amortised_hardware: float = 0.0
    # line -> quarter -> USD, computed once from the complete tally by plan/cashflows.cash_flows
    cash: dict[str, dict[int, float]] | None = None

    @property
    def locations(self) -> int:
        """Locations used, summed over the runs."""
        return sum(len(r.locations) for r in self.runs.values())

    @property
    def delivered_flop(self) -> float:
        """Compute delivered by every run after goodput, span and stack losses [FLOP]."""
        return sum(delivered_flop(self, name) for name in self.runs)

    @property
    def horizon_end(self) -> dt.date:
        return max(run.deadline for run in planned_runs(self.problem).values())

    def site_work(self, tally_: RunTally) -> list[tuple[int, float, str, str, float, Chip]]:
        """When a run's owned accelerators work: (quarter, days, site, accelerator, units, chip) for each
        quarter of its window, or for a growing run its full cluster in the last quarter and its ramp before."""
        quarters = self.quarters(tally_)
        if tally_.run.grow:
            quarters = quarters[-1:]
        found = [(q, days, m.location, m.model, m.units, m.chip) for q, days in quarters
                 for m in tally_.members if m.kind == "site"]
        return found + [(r.quarter, r.days, r.location, r.model, r.units, r.chip) for r in tally_.ramp]

    def last_quarter_days(self, tally_: RunTally) -> float:
        """Days of a run's window in its last quarter [days]."""
        quarters = self.quarters(tally_)
        return quarters[-1][1] if quarters else 0.0

    def working(self) -> dict[tuple[str, str, int], float]:
        """Accelerators working in runs per (accelerator, site, quarter) [units]."""
        found: dict[tuple[str, str, int], float] = defaultdict(float)
        for tally_ in self.runs.values():
            for quarter, _, site, model, units, _ in self.site_work(tally_):
                found[(model, site, quarter)] += units
        return found

    def serving_at(self, kind: str) -> dict[tuple[str, str, int], float]:
        """Accelerators serving sustained demand per (accelerator, location, quarter) of a kind [units]."""
        found: dict[tuple[str, str, int], float] = defaultdict(float)
        for serve in self.serving:
            if serve.kind == kind:
                found[(serve.accelerator, serve.location, serve.quarter)] += serve.units
        return found

    def busy(self) -> dict[tuple[str, str, int], float]:
        """Accelerators in runs or serving per (accelerator, site, quarter) [units]."""
        found: dict[tuple[str, str, int], float] = defaultdict(float, self.working())
        for key, units in self.serving_at("site").items():
            found[key] += units
        return found

    @cached_property
    def default_draw(self) -> float:
        """Average draw of a chip without its own figure when it serves: the first run's, as the model reads it."""
        return next(iter(planned_runs(self.problem).values())).average_draw_fraction

    def serve_mw(self, serve: Serve) -> float:
        """Facility load of owned accelerators serving [MW]."""
        return serve.units * (serve.chip.it_power_kw or 0.0) / 1000.0 * self.problem.sites[serve.location].pue

    def quarter_hours(self, quarter: int) -> float:
        """Hours in a quarter [h]."""
        origin = self.problem.planning_start
        return (quarter_start(origin, quarter + 1) - quarter_start(origin, quarter)).days * 24.0

    def label(self, quarter: int) -> str:
        """A quarter's label, also for a quarter past the horizon (a tampered window can reach one)."""
        if 0 <= quarter < len(self.labels):
            return self.labels[quarter]
        return quarter_label(self.problem.planning_start, quarter)

    def quarters(self, tally_: RunTally) -> list[tuple[int, float]]:
        """(quarter index, days of the run's window inside it) for every quarter the window overlaps;
        the last takes the fractional remainder of the window's length."""
        origin = self.problem.planning_start
        found, t = [], quarter_index(tally_.start, origin)
        while quarter_start(origin, t) < tally_.end:
            lo, hi = max(tally_.start, quarter_start(origin, t)), min(tally_.end, quarter_start(origin, t + 1))
            if hi > lo:
                found.append((t, float((hi - lo).days)))
            t += 1
        if found:
            found[-1] = (found[-1][0], tally_.days - sum(days for _, days in found[:-1]))
        return found


def peak_tflops(chip: Chip, precision: str) -> float:
    """Dense peak at the run's precision [TFLOP/s]; chips without FP8 run at BF16."""
    return chip.fp8_tflops if precision == "fp8" and chip.fp8_tflops is not None else chip.bf16_tflops


def unit_rate_tflops(problem: Problem, run: PlannedRun, chip: Chip, override: float | None) -> float:
    """Effective rate of one accelerator in a run: peak x MFU [TFLOP/s]. MFU: the run's wall-clock
    figure, else the accelerator's or offer's override, else the catalog's for the precision."""
    if run.mfu is not None:
        mfu = run.mfu
    elif override is not None:
        mfu = override
    else:
        mfu = accelerator_mfu(problem, chip, run.precision)
    return peak_tflops(chip, run.precision) * mfu


def span_of(ledger: Ledger, tally_: RunTally) -> str:
    """How far apart a run's locations are: one, region, continent or world."""
    places = [location_place(ledger.problem, m.location, m.kind) for m in tally_.members]
    if len({m.location for m in tally_.members}) <= 1:
        return "one"
    if len({p[1] for p in places}) > 1:
        return "world"
    return "continent" if len({p[0] for p in places}) > 1 else "region"


def location_place(problem: Problem, location: str, kind: str) -> tuple[str, str]:
    """(region, continent) of a site or cloud offer."""
    if kind == "site":
        site = problem.sites[location]
        return region_of(site.country, site.region)
    offer = problem.cloud[location]
    return region_of(offer.country, getattr(offer, "region", None))


def goodput_of(run: PlannedRun, units: float) -> float:
    """Goodput of the smallest band that holds the run's accelerators [fraction]."""
    for max_units, goodput in run.goodput_bands:
        if units <= max_units * (1 + 1e-9):
            return goodput
    return run.goodput_bands[-1][1]


def unit_days(ledger: Ledger, tally_: RunTally) -> float:
    """Accelerator-days a run works: its full cluster over the days each member works at full size,
    plus a growing run's ramp [unit-days]."""
    last = ledger.last_quarter_days(tally_)
    full = sum(m.units * tally_.full_days(m, last) for m in tally_.members)
    return full + sum(r.units * r.days for r in tally_.ramp)


def delivered_flop(ledger: Ledger, name: str) -> float:
    """A run's compute: unit-days x pace x 86,400 s x goodput x span efficiency x stack efficiency^extra [FLOP]."""
    tally_ = ledger.runs[name]
    run = tally_.run
    span = span_of(ledger, tally_)
    kept = goodput_of(run, tally_.units) * (run.span_efficiency[span] if span != "one" else 1.0)
    kept *= run.stack_efficiency ** max(0, len(tally_.stacks) - 1)
    return unit_days(ledger, tally_) * tally_.pace_tflops * 1e12 * 86400.0 * kept


def _whole(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) <= 1e-6 * max(1.0, abs(ratio))


def open_ledger(plan: Plan, problem: Problem) -> Ledger:
    """An empty ledger for the plan: the quarters to the latest deadline, every chip by id."""
    end = max(run.deadline for run in planned_runs(problem).values())
    n_quarters = quarter_index(end - dt.timedelta(days=1), problem.planning_start) + 1
    chips: dict[str, Accelerator] = dict(problem.accelerators)
    chips.update({f"custom:{pid}": prog.chip for pid, prog in problem.custom_programs.items()})
    return Ledger(plan, problem, [quarter_label(problem.planning_start, t) for t in range(n_quarters)], chips)


def tally(plan: Plan, problem: Problem, c: Checker) -> Ledger:
    """Tally every decision table of the plan, checking each decision is allowed."""
    ledger = open_ledger(plan, problem)
    _tally_sites(ledger, plan.table("sites"), plan.table("custom_programs"), c)
    _tally_deals(ledger, plan.table("supply_deals"), c)
    _tally_spot(ledger, plan.table("spot"), c)
    _tally_credits(ledger, plan.table("deal_credits"), c)
    _tally_runs(ledger, plan.table("runs"), plan.table("cluster"), c)
    for row in plan.table("purchases").itertuples():
        _tally_purchase(ledger, row, c)
    for row in plan.table("sales").itertuples():
        _tally_sale(ledger, row, c)
    for row in plan.table("contracts").itertuples():
        _tally_contract(ledger, row, c)
    for row in plan.table("rentals").itertuples():
        _tally_rental(ledger, row, c)
    for row in plan.table("energy").itertuples():
        if str(row.run) == SERVING:
            _tally_serving_energy(ledger, row, c)
        else:
            _tally_energy(ledger, row, c)
    for row in plan.table("serving").itertuples():
        _tally_serving(ledger, row, c)
    for row in plan.table("leases").itertuples():
        _tally_lease(ledger, row, c)
    for row in plan.table("commitments").itertuples():
        _tally_commitment(ledger, row, c)
    return ledger


def _tally_sites(ledger: Ledger, sites: Any, programs: Any, c: Checker) -> None:
    for r in sites.itertuples():
        ledger.opened[r.site], ledger.new_mw[r.site] = bool(r.opened), float(r.new_mw)
        site = ledger.problem.sites.get(r.site)
        if site is not None and bool(r.opened):
            ruled_out = ledger.problem.filters.allows_site(r.site, site.country)
            c.true("filters", r.site, ruled_out is None, f"site opened though ruled out by {ruled_out}")
    for r in programs.itertuples():
        ledger.funded[r.program] = bool(r.funded)


def _tally_deals(ledger: Ledger, deals: Any, c: Checker) -> None:
    """The share of each supply deal taken: a known deal, in [0, 1], whole unless divisible."""
    for r in deals.itertuples():
        deal = ledger.problem.supply_deals.get(str(r.deal))
        c.true("known_option", str(r.deal), deal is not None, f"unknown supply deal {r.deal}")
        if deal is None:
            continue
        taken = float(r.taken)
        c.true("deal_share", str(r.deal), -REL_TOL <= taken <= 1.0 + REL_TOL, f"deal {r.deal} taken {taken:g} times")
        c.true("deal_share", str(r.deal), deal.divisible or abs(taken - round(taken)) <= REL_TOL,
               f"deal {r.deal} is all or nothing, taken {taken:g}")
        ledger.deals[str(r.deal)] = taken


def _tally_spot(ledger: Ledger, spot: Any, c: Checker) -> None:
    """Accelerators bought on a spot market: a market the problem declares, open in the quarter, within
    its depth; one row per accelerator and quarter."""
    for r in spot.itertuples():
        key, where = (str(r.accelerator), str(r.quarter)), f"{r.accelerator},{r.quarter}"
        market = ledger.problem.spot.get(key[0])
        c.true("known_option", where, market is not None, f"no spot market for {r.accelerator}")
        c.true("known_option", where, key not in ledger.spot, "two spot rows for one accelerator and quarter")
        if market is None or key in ledger.spot:
            continue
        units = float(r.units)
        c.true("spot_market", where, market.open_in(key[1]) and key[1] in ledger.labels,
               f"bought spot in {r.quarter}, when the market does not sell")
        if key[1] not in ledger.labels:
            continue
        c.true("spot_market", where, units >= -REL_TOL, f"{units:g} units bought spot")
        c.at_most("spot_market", where, units, market.units_per_quarter, "units", "more than the spot market sells")
        ledger.spot[key] = units


def _tally_sale(ledger: Ledger, row: Any, c: Checker) -> None:
    """Accelerators sold from an order of the plan, from the quarter it is installed to the last; they
    leave the fleet from the quarter sold."""
    order = (str(row.accelerator), str(row.site), str(row.ordered))
    where = f"{order[0]},{order[1]},{order[2]}->{row.quarter}"
    c.true("sales_allowed", where, ledger.problem.costs.sell_surplus,
           "accelerators sold, but costs.sell_surplus is false")
    bought = ledger.orders.get(order)
    c.true("known_option", where, bought is not None, "sold from an order the plan does not place")
    if bought is None:
        return
    units, t, ready = float(row.units), bought[1], bought[2]
    sold = ledger.labels.index(row.quarter) if row.quarter in ledger.labels else -1
    c.true("sales_allowed", where, ready <= sold, f"sold in {row.quarter}, before it is installed or after the horizon")
    c.true("sales_allowed", where, units >= -REL_TOL, f"{units:g} units sold")
    if sold < ready:
        return
    ledger.sold[order] += units
    ledger.sales.append((order[0], order[1], t, sold, units))
    for quarter in range(sold, len(ledger.labels)):
        ledger.installed[(order[0], order[1], quarter)] -= units


def _tally_credits(ledger: Ledger, credits: Any, c: Checker) -> None:
    """Units bought under a prepaid deal: a deal with a prepayment, in a quarter it covers, one row per
    deal and quarter."""
    for r in credits.itertuples():
        key, where = (str(r.deal), str(r.quarter)), f"{r.deal},{r.quarter}"
        deal = ledger.problem.supply_deals.get(key[0])
        c.true("known_option", where, deal is not None and deal.prepay_usd_per_unit > 0 and key not in ledger.credits,
               f"no prepaid deal {r.deal}, or two rows for it in {r.quarter}")
        if deal is None or deal.prepay_usd_per_unit <= 0 or key in ledger.credits:
            continue
        c.true("deal_take", where, deal.covers(key[1]) and key[1] in ledger.labels,
               f"credited in {r.quarter}, a quarter the deal does not cover")
        c.true("deal_take", where, float(r.units) >= -REL_TOL, f"{float(r.units):g} units credited")
        if key[1] in ledger.labels:
            ledger.credits[key] = float(r.units)


def spot_components(ledger: Ledger, component: str, quarter: str) -> float:
    """Units of `component` in the accelerators bought spot in `quarter`: built already, so no supply used."""
    return sum(units * ledger.chips[acc].components.get(component, 0.0)
               for (acc, q), units in ledger.spot.items() if q == quarter and acc in ledger.chips)


def deal_extra(ledger: Ledger, kind: str, target: str, quarter: str) -> float:
    """Extra supply the deals taken give `target` (an accelerator, component or program) in `quarter`
    [accelerators, or component units]."""
    return sum(ledger.deals.get(name, 0.0) * deal.units_per_quarter
               for name, deal in ledger.problem.supply_deals.items()
               if deal.target == (kind, target) and deal.covers(quarter))


def _allowed_purchase(ledger: Ledger, row: Any, c: Checker) -> tuple[int, int] | None:
    """Check the purchase may happen at all; (order quarter, quarter installed), or None when it cannot be tallied."""
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
    ruled_out = problem.filters.allows_accelerator(row.accelerator) or problem.filters.allows_site(row.site, site.country)
    c.true("filters", idx, ruled_out is None, f"ruled out by {ruled_out}")
    c.true("site_opened", idx, ledger.opened.get(row.site, False), f"site {row.site} not opened")
    labels = ledger.labels
    c.true("quarter", idx, row.quarter in labels, f"quarter {row.quarter} outside {labels[0]}..{labels[-1]}")
    if row.quarter not in labels:
        return None
    t = labels.index(row.quarter)
    decision = decide(chip, site.country, problem.export.headquarters, problem.export.rules)
    c.true("export_prohibition", idx, decision.action != "prohibited", decision.reason)
    extra = (problem.export.licence_lead_quarters or 0) if decision.action == "licence" else 0
    ready = t + chip.lead_time_quarters + extra
    c.true("delivery_in_horizon", idx, ready < len(labels),
           f"ordered {row.quarter}, lead {chip.lead_time_quarters}+{extra} quarters: "
           f"installed after the last deadline")
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
    return t, ready


def _tally_purchase(ledger: Ledger, row: Any, c: Checker) -> None:
    allowed = _allowed_purchase(ledger, row, c)
    if allowed is None:
        return
    t, ready = allowed
    chip, units, problem = ledger.chips[row.accelerator], float(row.units), ledger.problem
    ledger.supply_used[(row.accelerator, row.quarter)] += units
    for component, per_unit in chip.components.items():
        ledger.component_used[(component, row.quarter)] += units * per_unit
    mw = units * (chip.it_power_kw or 0.0) / 1000.0
    ledger.load_mw[row.site] += mw
    if ready < problem.sites[row.site].build_lead_quarters:
        ledger.early_mw[row.site] += mw
    for quarter in range(ready, len(ledger.labels)):
        ledger.installed[(row.accelerator, row.site, quarter)] += units
    key = (str(row.accelerator), str(row.site), str(row.quarter))
    ledger.orders[key] = (ledger.orders.get(key, (0.0, t, ready))[0] + units, t, ready)
    unit_cost = unit_cost_usd(ledger, chip, row.site, t)
    ledger.amortised_hardware += units * unit_cost * amortised_share(ledger, chip, t, ready)


def unit_cost_usd(ledger: Ledger, chip: Chip, site: str, quarter: int) -> float:
    """What one accelerator ordered in `quarter` for `site` costs [USD]: all-in, plus any duty the
    export ruleset puts on its price for the site's country."""
    problem = ledger.problem
    where = problem.sites.get(site)   # an unknown site is reported by the checks; it carries no duty here
    duty = duty_of(chip, where.country, problem.export.headquarters, problem.export.rules)[0] if where else 0.0
    return purchase_unit_cost_usd(chip, problem.costs, quarter, problem.planning_start, duty)


def amortised_share(ledger: Ledger, chip: Chip, order: int, ready: int) -> float:
    """Share of a purchase charged on the amortised basis [fraction].

    Straight line: capital recovery at the discount rate over the hardware life, for the years from
    the quarter it is installed to the latest deadline (idle quarters included; a plain straight
    line at a zero rate). Epoch AI's method (one fixed window): the value at the run start
    (falling by the price-performance trend from the purchase: the order quarter's first day, or
    the price's date if later) x trend x ln 10 per year of run.
    """
    problem = ledger.problem
    costs, origin = problem.costs, problem.planning_start
    if costs.amortisation == "epoch":
        if len(ledger.runs) != 1:
            return math.nan
        (run,) = ledger.runs.values()
        bought = max(quarter_start(origin, order), chip.price_date or origin)
        held = max(0, (run.start - bought).days) / 365.25
        k = costs.price_performance_ooms_per_year
        return float(10.0 ** (-k * held) * k * math.log(10.0) * run.days / 365.25)
    held = max(0, (ledger.horizon_end - quarter_start(origin, ready)).days) / 365.25
    life, rate = costs.hardware_life_years, costs.discount_rate
    recovery = 1.0 / life if abs(rate) < 1e-12 else rate / (1.0 - (1.0 + rate) ** -life)
    return recovery * min(held, life)


def _tally_contract(ledger: Ledger, row: Any, c: Checker) -> None:
    problem = ledger.problem
    terms = problem.contracts.get(row.contract)
    c.true("known_option", row.contract, terms is not None, "unknown contract")
    if terms is None:
        return
    use = ContractUse(row.contract, terms, bool(row.signed), float(row.contracted_mw), float(row.energy_mwh))
    ledger.contracts.append(use)


def _tally_runs(ledger: Ledger, runs: Any, cluster: Any, c: Checker) -> None:
    """Each run's window and cluster; the window must be one the run may take."""
    problem = ledger.problem
    planned = planned_runs(problem)
    stated = {str(r.run): r for r in runs.itertuples()}
    for name, run in planned.items():
        c.true("run_planned", name, name in stated, f"run {name} has no window in the plan")
        if name not in stated:
            continue
        row = stated[name]
        try:
            start, days = dt.date.fromisoformat(str(row.start)), float(row.days)
        except ValueError:
            c.true("window", name, False, f"start {str(row.start)[:40]!r} is not a date (YYYY-MM-DD)")
            continue
        _check_window(ledger, run, start, days, c)
        ledger.runs[name] = RunTally(run, start, days, shortfall_flop=_shortfall(problem, name, row, c))
    for name in stated:
        c.true("known_option", name, name in planned, f"unknown run {name}")
    for row in cluster.itertuples():
        if str(row.run) in ledger.runs:
            _tally_member(ledger, ledger.runs[str(row.run)], row, c)
    for row in ledger.plan.table("ramp").itertuples():
        _tally_ramp(ledger, row, c)


def _shortfall(problem: Problem, name: str, row: Any, c: Checker) -> float:
    """The compute a run's row says it falls short [FLOP]: never negative, never more than its target,
    and none unless the problem prices a shortfall (its targets are hard otherwise)."""
    short = float(getattr(row, "shortfall_flop", 0.0) or 0.0)
    c.true("shortfall", name, short >= -REL_TOL * max(1.0, float(row.target_flop)),
           f"run {name} has a negative shortfall {short:,.6g} FLOP")
    c.at_most("shortfall", name, short, float(row.target_flop), "FLOP", f"run {name} falls short by more than its target")
    if problem.risk.shortfall_usd_per_1e24_flop is None:
        c.at_most("shortfall", name, short, 0.0, "FLOP",
                  f"run {name} falls short of its target, but the problem prices no shortfall (risk.shortfall_usd_per_1e24_flop)")
    return short


def _check_window(ledger: Ledger, run: PlannedRun, start: dt.date, days: float, c: Checker) -> None:
    origin = ledger.problem.planning_start
    on_grid = quarter_start(origin, quarter_index(start, origin)) == start
    c.true("window", run.name, (start == run.start) if run.start else (on_grid and start >= run.earliest_start),
           f"start {start} is not the run's start, or not a quarter start from {run.earliest_start}")
    c.true("window", run.name, run.min_days - 1e-6 <= days <= run.max_days + 1e-6,
           f"{days:g} days outside {run.min_days:g}..{run.max_days:g}")
    c.true("window", run.name, start + dt.timedelta(days=days) <= run.deadline,
           f"ends {start + dt.timedelta(days=days)}, after the deadline {run.deadline}")


def _tally_member(ledger: Ledger, tally_: RunTally, row: Any, c: Checker) -> None:
    problem, idx = ledger.problem, f"{tally_.run.name},{row.location},{row.accelerator}"
    units = float(row.units)
    chip: Chip
    if row.kind == "site":
        bought = ledger.chips.get(str(row.accelerator))
        c.true("known_option", idx, bought is not None and row.location in problem.sites, "unknown accelerator or site")
        if bought is None or row.location not in problem.sites:
            return
        chip = bought
        program = row.accelerator.split(":", 1)[1] if str(row.accelerator).startswith("custom:") else None
        model, stack = str(row.accelerator), stack_of(chip, program)
        rate = unit_rate_tflops(problem, tally_.run, chip, bought.mfu)
    else:
        offer = problem.cloud.get(str(row.location))
        c.true("known_option", idx, offer is not None, "unknown cloud offer")
        if offer is None:
            return
        chip = problem.cloud_chips[offer.accelerator]
        model, stack = offer.accelerator, stack_of(chip)
        rate = unit_rate_tflops(problem, tally_.run, chip, offer.mfu)
    fits = tally_.run.memory_gb is None or chip.memory_gb is None or chip.memory_gb >= tally_.run.memory_gb
    c.true("memory", idx, fits, f"{chip.memory_gb} GB per accelerator, the run needs {tally_.run.memory_gb} GB")
    tally_.members.append(Member(str(row.location), str(row.kind), model, stack, units, rate, chip))


def _tally_ramp(ledger: Ledger, row: Any, c: Checker) -> None:
    """A growing run's accelerators working before the last quarter of its window: a quarter of the
    window before its last, a site and accelerator of the run's cluster, no more than the cluster holds."""
    idx = f"{row.run},{row.quarter},{row.location},{row.accelerator}"
    tally_ = ledger.runs.get(str(row.run))
    member = next((m for m in tally_.members if m.kind == "site" and m.location == row.location
                   and m.model == row.accelerator), None) if tally_ else None
    c.true("known_option", idx, member is not None and row.quarter in ledger.labels,
           "ramp of an unknown run, quarter, or site and accelerator not in the run's cluster")
    if tally_ is None or member is None or row.quarter not in ledger.labels:
        return
    quarter, units = ledger.labels.index(row.quarter), float(row.units)
    before_last = [q for q, _ in ledger.quarters(tally_)][:-1]
    c.true("window", idx, tally_.run.grow and quarter in before_last,
           "a ramp is for a run with grow: true, in a quarter of its window before the last")
    c.true("non_negative", idx, units >= -REL_TOL, f"negative ramp {units}")
    tally_.ramp.append(Ramp(quarter, str(row.location), str(row.accelerator), units, float(row.days), member.chip))


def _tally_rental(ledger: Ledger, row: Any, c: Checker) -> None:
    problem = ledger.problem
    offer = problem.cloud.get(row.offer)
    c.true("known_option", row.offer, offer is not None, "unknown cloud offer")
    run = ledger.runs.get(str(row.run))
    c.true("known_option", str(row.run), run is not None, f"rental for unknown run {row.run}")
    if offer is None or run is None:
        return
    units = float(row.units)
    c.true("whole_instances", row.offer, _whole(units, offer.units_per_instance), "not whole instances")
    ruled_out = problem.filters.allows_offer(offer.accelerator, offer.country)
    c.true("filters", row.offer, ruled_out is None, f"rented though ruled out by {ruled_out}")
    ledger.rentals[(str(row.run), row.offer)] += units


def _tally_energy(ledger: Ledger, row: Any, c: Checker) -> None:
    terms = ledger.problem.contracts.get(row.contract)
    run = ledger.runs.get(str(row.run))
    c.true("known_option", f"{row.contract},{row.run}", terms is not None and run is not None,
           "energy from an unknown contract or to an unknown run")
    if terms is None or run is None:
        return
    c.true("contract_available", f"{row.contract},{row.run}",
           terms.first_available is None or terms.first_available <= run.start,
           f"energy flows from {terms.first_available}, after the run starts {run.start}")
    ledger.energy.append((row.contract, str(row.run), float(row.energy_mwh)))


def _tally_serving_energy(ledger: Ledger, row: Any, c: Checker) -> None:
    """Energy a contract delivers to serving for one quarter: the row's start is the quarter's first day."""
    problem, idx = ledger.problem, f"{row.contract},{row.start}"
    terms = problem.contracts.get(row.contract)
    try:
        start = dt.date.fromisoformat(str(row.start))
    except ValueError:
        start = None
    quarter = quarter_index(start, problem.planning_start) if start else -1
    c.true("known_option", idx, terms is not None and start == quarter_start(problem.planning_start, quarter)
           and 0 <= quarter < len(ledger.labels), "serving energy from an unknown contract, or not for a quarter of the horizon")
    if terms is None or start is None or not 0 <= quarter < len(ledger.labels):
        return
    c.true("contract_available", idx, terms.first_available is None or terms.first_available <= start,
           f"energy flows from {terms.first_available}, after the quarter served starts {start}")
    c.true("non_negative", idx, float(row.energy_mwh) >= -REL_TOL, f"negative energy {row.energy_mwh}")
    ledger.serving_energy[(str(row.contract), quarter)] += float(row.energy_mwh)


def _tally_serving(ledger: Ledger, row: Any, c: Checker) -> None:
    """One serving row: a known site (opened) or offer, its accelerator, a quarter of the horizon."""
    problem, idx = ledger.problem, f"{row.quarter},{row.location},{row.accelerator}"
    units = float(row.units)
    c.true("non_negative", idx, units >= -REL_TOL, f"negative serving {units}")
    c.true("quarter", idx, row.quarter in ledger.labels, f"quarter {row.quarter} outside the horizon")
    chip: Chip | None
    if row.kind == "site":
        site = problem.sites.get(str(row.location))
        chip = ledger.chips.get(str(row.accelerator)) if site is not None else None
        c.true("known_option", idx, chip is not None, "unknown accelerator or site")
        if chip is not None and site is not None:
            c.true("site_opened", idx, ledger.opened.get(str(row.location), False), f"site {row.location} not opened")
    else:
        offer = problem.cloud.get(str(row.location))
        chip = problem.cloud_chips[offer.accelerator] if offer is not None and row.kind == "cloud" else None
        c.true("known_option", idx, chip is not None and offer is not None and offer.accelerator == row.accelerator,
               "unknown cloud offer, or not the accelerator it rents")
        if offer is not None:
            ruled_out = problem.filters.allows_offer(offer.accelerator, offer.country)
            c.true("filters", idx, ruled_out is None, f"rented though ruled out by {ruled_out}")
    if chip is not None and row.quarter in ledger.labels:
        ledger.serving.append(Serve(str(row.location), str(row.kind), str(row.accelerator),
                                    ledger.labels.index(row.quarter), units, chip))


def _tally_lease(ledger: Ledger, row: Any, c: Checker) -> None:
    site = ledger.problem.sites.get(str(row.site))
    idx = f"{row.site},{row.quarter}"
    c.true("known_option", idx, site is not None and row.quarter in ledger.labels, "unknown site or quarter")
    if site is None or row.quarter not in ledger.labels:
        return
    mw = float(row.leased_mw)
    c.true("non_negative", idx, mw >= -REL_TOL, f"negative lease {mw}")
    c.true("existing_basis", idx, site.existing_basis == "lease", f"site {row.site}'s existing capacity is "
                                                                   f"{site.existing_basis}, not leased")
    c.at_most("site_lease", idx, mw, site.existing_mw, "MW", "more leased than the site's existing capacity")
    ledger.leases[(str(row.site), ledger.labels.index(row.quarter))] += mw


def _tally_commitment(ledger: Ledger, row: Any, c: Checker) -> None:
    offer = ledger.problem.cloud.get(str(row.offer))
    idx = f"{row.offer},{row.start}"
    c.true("known_option", idx, offer is not None and offer.committed and row.start in ledger.labels,
           "unknown offer, an on-demand offer, or a start outside the horizon")
    if offer is None or not offer.committed or row.start not in ledger.labels:
        return
    start = ledger.labels.index(row.start)
    if offer.term_start is not None:
        c.true("commitment_start", idx, start == quarter_index(offer.term_start, ledger.problem.planning_start),
               f"the offer's term starts {offer.term_start}, not in {row.start}")
    units = float(row.units)
    c.true("whole_instances", idx, _whole(units, offer.units_per_instance), "not whole instances")
    ruled_out = ledger.problem.filters.allows_offer(offer.accelerator, offer.country)
    c.true("filters", idx, ruled_out is None, f"committed though ruled out by {ruled_out}")
    c.at_most("cloud_quota", idx, units, offer.max_units, "units", "commitment beyond what the offer rents")
    ledger.commitments.append((str(row.offer), start, units))
