"""A plan file cannot lie: recompute every figure it states from its decisions and the problem.

The verifier (verify.py) checks that the decisions obey the constraints. This module checks that
everything else the plan states follows from those decisions: each derived table column, each
top-level figure, the hashes, and that status, bound and gap agree with each other and with the
objective. It cannot re-prove a bound (that needs a solver): it checks only that the bound is
finite and does not exceed the cost, and that a plan called optimal is within its gap. Fields
that cannot be recomputed at all (solver name, messages, model statistics, the binding table) are
covered by per-field digests, which catch careless edits but not a forger who recomputes them
(docs/security.md).

Like the verifier it works in user units straight from the validated problem and imports no
solver, formulation or model-data code.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pandas as pd

from ..costlines import BASES, CATEGORY, ECONOMICS, HOURS_PER_MONTH
from ..errors import InputError
from ..periods import label_index, quarter_label, quarter_start
from ..schema.derived import all_in_unit_cost_usd
from ..schema.exportcontrol import decide
from ..schema.load import input_hash
from ..schema.problem import Problem
from ..schema.runs import planned_runs
from ..status import Status
from .cashflows import Cash, cash_flows, discount_at, resale_fraction
from .ledger import Checker, Ledger, delivered_flop, goodput_of, open_ledger, span_of, tally, unit_cost_usd
from .plan import SERVING, Plan

REL_TOL = 1e-9          # derived columns: the same arithmetic in another order
OBJECTIVE_REL_TOL = 1e-6  # the objective: the solver's sum over scaled columns (as verify.py)
GAP_ABS_TOL = 1e-9


@dataclass(frozen=True)
class Mismatch:
    """A figure in the plan that disagrees with its recomputation."""

    field: str        # path in the plan document, e.g. "tables.purchases[2].capex_usd"
    stored: Any
    recomputed: Any
    message: str


class _Recorder:
    def __init__(self, plan: Plan) -> None:
        self.found: list[Mismatch] = []
        self.plan = plan
        self._rows: dict[str, list[SimpleNamespace]] = {}

    def rows(self, table: str) -> list[SimpleNamespace]:
        """The rows of one of the plan's tables (read once: pandas row iteration is slow)."""
        if table not in self._rows:
            frame = self.plan.table(table)
            columns = {str(c): frame[c].tolist() for c in frame.columns}
            self._rows[table] = [SimpleNamespace(**dict(zip(columns, values))) for values in zip(*columns.values())]
        return self._rows[table]

    def number(self, field: str, stored: Any, expected: float, what: str, rel: float = REL_TOL) -> None:
        """Record a mismatch unless `stored` is a finite number within `rel` of `expected`."""
        ok = (isinstance(stored, (int, float)) and not isinstance(stored, bool) and math.isfinite(stored)
              and abs(stored - expected) <= rel * max(1.0, abs(expected), abs(stored)))
        if not ok:
            self.found.append(Mismatch(field, stored, expected, f"{what}: the plan says {stored!r}, "
                                                                f"recomputed {expected:,.9g}"))

    def equal(self, field: str, stored: Any, expected: Any, what: str) -> None:
        """Record a mismatch unless `stored == expected`."""
        if stored != expected:
            self.found.append(Mismatch(field, stored, expected, f"{what}: the plan says {stored!r}, "
                                                                f"recomputed {expected!r}"))

    def fail(self, field: str, stored: Any, message: str) -> None:
        """Record a mismatch with no single recomputed value."""
        self.found.append(Mismatch(field, stored, None, message))


def _value(row: Any, column: str) -> Any:
    value = getattr(row, column)
    if hasattr(value, "item"):
        value = value.item()
    return value


def _check_purchases(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    chips, labels = ledger.chips, ledger.labels
    for i, row in enumerate(rec.rows("purchases")):
        where = f"tables.purchases[{i}]"
        chip, site = chips.get(row.accelerator), problem.sites.get(row.site)
        if chip is None or site is None or row.quarter not in labels:
            continue  # the verifier reports unknown options and quarters
        units = float(_value(row, "units"))
        t = labels.index(row.quarter)
        unit_cost = unit_cost_usd(ledger, chip, row.site, t)
        decision = decide(chip, site.country, problem.export.headquarters, problem.export.rules)
        extra = (problem.export.licence_lead_quarters or 0) if decision.action == "licence" else 0
        ready = t + chip.lead_time_quarters + extra
        rec.equal(f"{where}.country", row.country, site.country, "country of the site")
        rec.equal(f"{where}.ready", row.ready, labels[ready] if ready < len(labels) else None,
                  "quarter installed: order + lead + licence")
        rec.number(f"{where}.servers", _value(row, "servers"), units / chip.units_per_server,
                   f"servers of {chip.units_per_server} units")
        rec.number(f"{where}.unit_cost_usd", _value(row, "unit_cost_usd"), unit_cost,
                   "price plus server share, plus any duty [USD]")
        rec.number(f"{where}.capex_usd", _value(row, "capex_usd"), units * unit_cost, "units x unit cost [USD]")


def _site_runs(ledger: Ledger) -> tuple[dict[str, float], dict[str, float]]:
    """Per site: peak facility load of the runs and serving over the quarters [MW], and their facility
    energy [MWh]."""
    load: dict[tuple[str, int], float] = defaultdict(float)
    energy: dict[str, float] = defaultdict(float)
    for tally_ in ledger.runs.values():
        for quarter, days, sid, _, units, chip in ledger.site_work(tally_):
            mw = units * (chip.it_power_kw or 0.0) / 1000.0 * ledger.problem.sites[sid].pue
            energy[sid] += mw * (chip.average_draw_fraction or tally_.run.average_draw_fraction) * days * 24.0
            load[(sid, quarter)] += mw
    for serve in ledger.serving:
        if serve.kind == "site":
            mw = ledger.serve_mw(serve)
            load[(serve.location, serve.quarter)] += mw
            energy[serve.location] += mw * (serve.chip.average_draw_fraction or ledger.default_draw) \
                * ledger.quarter_hours(serve.quarter)
    peak: dict[str, float] = defaultdict(float)
    for (sid, _), mw in load.items():
        peak[sid] = max(peak[sid], mw)
    return peak, energy


def _check_sites(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    peak, energy = _site_runs(ledger)
    for i, row in enumerate(rec.rows("sites")):
        where, site = f"tables.sites[{i}]", problem.sites.get(row.site)
        if site is None:
            rec.fail(f"{where}.site", row.site, f"unknown site {row.site!r}")
            continue
        opened, new_mw = bool(_value(row, "opened")), float(_value(row, "new_mw"))
        existing = site.existing_mw if opened else 0.0
        rec.equal(f"{where}.country", row.country, site.country, "country of the site")
        rec.equal(f"{where}.existing_basis", row.existing_basis, site.existing_basis,
                  "how the existing capacity is paid for")
        rec.number(f"{where}.existing_mw", _value(row, "existing_mw"), existing, "existing capacity if opened [MW]")
        rec.number(f"{where}.it_capacity_mw", _value(row, "it_capacity_mw"), existing + new_mw,
                   "existing plus new capacity [MW]")
        rec.number(f"{where}.it_load_mw", _value(row, "it_load_mw"), ledger.load_mw.get(row.site, 0.0),
                   "IT load of the purchases [MW]")
        rec.number(f"{where}.facility_peak_mw", _value(row, "facility_peak_mw"), peak.get(row.site, 0.0),
                   "largest quarterly IT load of the runs and serving x PUE [MW]")
        rec.number(f"{where}.facility_energy_mwh", _value(row, "facility_energy_mwh"), energy.get(row.site, 0.0),
                   "IT load of runs and serving x average draw x PUE x hours [MWh]")


def _check_contracts(rec: _Recorder, plan: Plan, problem: Problem) -> None:
    carbon_price = problem.costs.carbon_price_usd_per_t
    energy_rows = rec.rows("energy")
    for i, row in enumerate(rec.rows("contracts")):
        where, con = f"tables.contracts[{i}]", problem.contracts.get(row.contract)
        if con is None:
            continue  # the verifier reports unknown contracts
        mw, energy = float(_value(row, "contracted_mw")), float(_value(row, "energy_mwh"))
        emissions = energy * con.carbon_g_per_kwh / 1000.0
        fixed = (con.fixed_cost_usd if bool(_value(row, "signed")) else 0.0) + mw * con.fixed_cost_usd_per_mw
        rec.equal(f"{where}.site", row.site, con.site, "site of the contract")
        rec.equal(f"{where}.kind", row.kind, getattr(con.kind, "value", con.kind), "kind of the contract")
        rec.number(f"{where}.energy_mwh", energy, sum(float(_value(e, "energy_mwh")) for e in energy_rows
                                                     if e.contract == row.contract), "sum of its run windows [MWh]")
        rec.number(f"{where}.firm_mw", _value(row, "firm_mw"), mw * con.firm_fraction, "contracted x firm share [MW]")
        rec.number(f"{where}.price_usd_per_mwh", _value(row, "price_usd_per_mwh"), con.price_usd_per_mwh,
                   "energy price [USD/MWh]")
        rec.number(f"{where}.energy_cost_usd", _value(row, "energy_cost_usd"), energy * con.price_usd_per_mwh,
                   "energy x price [USD]")
        rec.number(f"{where}.emissions_t", _value(row, "emissions_t"), emissions, "energy x carbon intensity [t]")
        rec.number(f"{where}.carbon_cost_usd", _value(row, "carbon_cost_usd"), emissions * carbon_price,
                   "emissions x carbon price [USD]")
        rec.number(f"{where}.fixed_cost_usd", _value(row, "fixed_cost_usd"), fixed, "signing plus per-MW cost [USD]")


def _check_windows(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    """Rentals and energy rows carry their run's window."""
    for i, row in enumerate(rec.rows("rentals")):
        where, offer, run = f"tables.rentals[{i}]", problem.cloud.get(row.offer), ledger.runs.get(str(row.run))
        if offer is None or run is None:
            continue  # the verifier reports unknown offers and runs
        units = float(_value(row, "instances")) * offer.units_per_instance
        hours = run.days * 24.0
        rec.equal(f"{where}.accelerator", row.accelerator, offer.accelerator, "accelerator of the offer")
        rec.equal(f"{where}.country", row.country, offer.country, "country of the offer")
        rec.number(f"{where}.units", _value(row, "units"), units, "instances x units per instance")
        rec.number(f"{where}.hours", _value(row, "hours"), hours, "the run's window [h]")
        rec.equal(f"{where}.committed", bool(_value(row, "committed")), offer.committed, "the offer has a term")
        rec.number(f"{where}.cost_usd", _value(row, "cost_usd"),
                   0.0 if offer.committed else units * offer.price_usd_per_hour * hours,
                   "units x price x hours, 0 under a commitment [USD]")
    for i, row in enumerate(rec.rows("commitments")):
        offer = problem.cloud.get(str(row.offer))
        if offer is None:
            continue
        where, units = f"tables.commitments[{i}]", float(_value(row, "instances")) * offer.units_per_instance
        rec.number(f"{where}.units", _value(row, "units"), units, "instances x units per instance")
        rec.number(f"{where}.term_months", _value(row, "term_months"), offer.term_months, "the offer's term [months]")
        rec.number(f"{where}.cost_usd", _value(row, "cost_usd"), units * offer.price_usd_per_hour * offer.term_months
                   * HOURS_PER_MONTH * (1.0 - offer.resale_fraction), "units x price x every hour of the term, "
                   "less resale [USD]")
    for i, row in enumerate(rec.rows("energy")):
        run = ledger.runs.get(str(row.run))
        if run is not None:
            rec.equal(f"tables.energy[{i}].start", row.start, run.start.isoformat(), "the run's start")
            rec.number(f"tables.energy[{i}].days", _value(row, "days"), run.days, "the run's window [days]")


def _check_runs(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    """The runs table and the rates of the cluster table against the tally of each run's cluster."""
    for i, row in enumerate(rec.rows("runs")):
        where, tally_ = f"tables.runs[{i}]", ledger.runs.get(str(row.run))
        if tally_ is None:
            continue  # the verifier reports unknown runs
        span = span_of(ledger, tally_)
        rec.number(f"{where}.pace_tflops", _value(row, "pace_tflops"), tally_.pace_tflops,
                   "rate of the slowest member [TFLOP/s]")
        rec.equal(f"{where}.end", row.end, tally_.end.isoformat(), "start + days")
        rec.equal(f"{where}.locations", row.locations, ";".join(tally_.locations), "locations of its cluster")
        rec.equal(f"{where}.stacks", row.stacks, ";".join(tally_.stacks), "stacks of its cluster")
        rec.equal(f"{where}.span", row.span, span, "how far apart its locations are")
        rec.number(f"{where}.span_efficiency", _value(row, "span_efficiency"),
                   tally_.run.span_efficiency[span] if span != "one" else 1.0, "span efficiency")
        rec.number(f"{where}.units", _value(row, "units"), tally_.units, "accelerators in its cluster")
        rec.number(f"{where}.goodput", _value(row, "goodput"), goodput_of(tally_.run, tally_.units),
                   "goodput of its size band")
        rec.equal(f"{where}.extra_stacks", _value(row, "extra_stacks"), max(0, len(tally_.stacks) - 1),
                  "stacks beyond the first")
        rec.number(f"{where}.flop", _value(row, "flop"), delivered_flop(ledger, str(row.run)),
                   "compute after goodput, span and stack losses [FLOP]")
        rec.number(f"{where}.target_flop", _value(row, "target_flop"), tally_.run.flop, "the run's target [FLOP]")
    for i, row in enumerate(rec.rows("cluster")):
        stated = ledger.runs.get(str(row.run))
        member = next((m for m in stated.members if m.location == row.location and m.kind == row.kind
                       and m.model == row.accelerator), None) if stated else None
        if member is not None and stated is not None:
            rec.number(f"tables.cluster[{i}].rate_tflops", _value(row, "rate_tflops"), member.rate_tflops,
                       "peak x MFU [TFLOP/s]")
            rec.number(f"tables.cluster[{i}].days", _value(row, "days"),
                       stated.full_days(member, ledger.last_quarter_days(stated)),
                       "days at full size: the window, a growing run's last quarter of it [days]")
    for i, row in enumerate(rec.rows("ramp")):
        stated = ledger.runs.get(str(row.run))
        window = dict(ledger.quarters(stated)) if stated else {}
        if row.quarter in ledger.labels and ledger.labels.index(row.quarter) in window:
            rec.number(f"tables.ramp[{i}].days", _value(row, "days"), window[ledger.labels.index(row.quarter)],
                       "days of the window in the quarter")


def _check_fleet(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    """The fleet table: installed from the purchases, in runs from the clusters, serving from the
    serving table, idle the rest."""
    working, serving = ledger.working(), ledger.serving_at("site")
    expected = {key: units for key, units in ledger.installed.items() if units > 1e-9}
    stated = set()
    for i, row in enumerate(rec.rows("fleet")):
        if row.quarter not in ledger.labels:
            rec.fail(f"tables.fleet[{i}].quarter", row.quarter, "quarter outside the horizon")
            continue
        key = (row.accelerator, row.site, ledger.labels.index(row.quarter))
        stated.add(key)
        installed, busy, serves = expected.get(key, 0.0), working.get(key, 0.0), serving.get(key, 0.0)
        rec.number(f"tables.fleet[{i}].installed", _value(row, "installed"), installed, "installed by then [units]")
        rec.number(f"tables.fleet[{i}].in_run", _value(row, "in_run"), busy, "in a run then [units]")
        rec.number(f"tables.fleet[{i}].serving", _value(row, "serving"), serves, "serving sustained demand then [units]")
        rec.number(f"tables.fleet[{i}].idle", _value(row, "idle"), installed - busy - serves,
                   "installed - in a run - serving [units]")
    missing = sorted(set(expected) - stated)
    if missing:
        rec.fail("tables.fleet", len(missing), f"{len(missing)} installed (accelerator, site, quarter) missing, "
                                               f"e.g. {missing[0]}")


def _check_serving(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    """The serving table's peak and rental cost from its units; serving energy rows span their quarter."""
    served = {(s.location, s.kind, s.accelerator, ledger.label(s.quarter)): s for s in ledger.serving}
    for i, row in enumerate(rec.rows("serving")):
        serve = served.get((row.location, row.kind, row.accelerator, row.quarter))
        if serve is None:
            continue
        units = float(_value(row, "units"))
        rec.number(f"tables.serving[{i}].pflops", _value(row, "pflops"), units * serve.chip.bf16_tflops / 1000.0,
                   "units x dense BF16 peak [PFLOP/s]")
        offer = problem.cloud.get(str(row.location)) if row.kind == "cloud" else None
        cost = units * offer.price_usd_per_hour * ledger.quarter_hours(serve.quarter) \
            if offer is not None and not offer.committed else 0.0
        rec.number(f"tables.serving[{i}].cost_usd", _value(row, "cost_usd"), cost,
                   "on-demand units x price x hours of the quarter [USD]")
    starts = {quarter_start(problem.planning_start, t).isoformat(): t for t in range(len(ledger.labels))}
    for i, row in enumerate(rec.rows("energy")):
        if str(row.run) == SERVING and str(row.start) in starts:
            rec.number(f"tables.energy[{i}].days", _value(row, "days"), ledger.quarter_hours(starts[str(row.start)]) / 24.0,
                       "days of the quarter served")


def _check_programs(rec: _Recorder, plan: Plan, problem: Problem) -> None:
    purchases = plan.table("purchases")
    for i, row in enumerate(rec.rows("custom_programs")):
        where, program = f"tables.custom_programs[{i}]", problem.custom_programs.get(row.program)
        if program is None:
            rec.fail(f"{where}.program", row.program, f"unknown custom program {row.program!r}")
            continue
        units = float(purchases.loc[purchases.accelerator == f"custom:{row.program}", "units"].sum()) \
            if len(purchases) else 0.0
        rec.number(f"{where}.nre_usd", _value(row, "nre_usd"), program.nre_usd if bool(_value(row, "funded")) else 0.0,
                   "NRE if funded [USD]")
        rec.number(f"{where}.units", _value(row, "units"), units, "custom units purchased")
        rec.number(f"{where}.success_probability", _value(row, "success_probability"), program.success_probability,
                   "success probability of the program")


def _check_deals(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    for i, row in enumerate(rec.rows("supply_deals")):
        where, deal = f"tables.supply_deals[{i}]", problem.supply_deals.get(row.deal)
        if deal is None:
            rec.fail(f"{where}.deal", row.deal, f"unknown supply deal {row.deal!r}")
            continue
        whole = deal.fee_usd + deal.prepaid_usd(ledger.labels)
        rec.number(f"{where}.cost_usd", _value(row, "cost_usd"), float(_value(row, "taken")) * whole,
                   "the fee and prepayment of the share taken [USD]")
    for i, row in enumerate(rec.rows("deal_credits")):
        deal = problem.supply_deals.get(row.deal)
        if deal is not None:
            rec.number(f"tables.deal_credits[{i}].credit_usd", _value(row, "credit_usd"),
                       float(_value(row, "units")) * deal.prepay_usd_per_unit, "units x prepayment per unit [USD]")


def _check_spot(rec: _Recorder, plan: Plan, problem: Problem) -> None:
    for i, row in enumerate(rec.rows("spot")):
        where, market, chip = f"tables.spot[{i}]", problem.spot.get(row.accelerator), problem.accelerators.get(row.accelerator)
        order = label_index(str(row.quarter), problem.planning_start)
        if market is None or chip is None or order is None:
            rec.fail(f"{where}.accelerator", row.accelerator, f"no spot market for {row.accelerator!r} in {row.quarter!r}")
            continue
        rec.number(f"{where}.premium_usd", _value(row, "premium_usd"), float(_value(row, "units")) * market.premium
                   * all_in_unit_cost_usd(chip, problem.costs, order, problem.planning_start),
                   "units x premium x all-in price of the quarter [USD]")


def _check_sales(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    for i, row in enumerate(rec.rows("sales")):
        where = f"tables.sales[{i}]"
        order = ledger.orders.get((str(row.accelerator), str(row.site), str(row.ordered)))
        sold = label_index(str(row.quarter), problem.planning_start)
        if order is None or sold is None:
            rec.fail(f"{where}.ordered", row.ordered, f"no order of {row.accelerator} at {row.site} in {row.ordered!r}")
            continue
        rec.number(f"{where}.proceeds_usd", _value(row, "proceeds_usd"), float(_value(row, "units"))
                   * unit_cost_usd(ledger, ledger.chips[str(row.accelerator)], str(row.site), order[1])
                   * resale_fraction(problem, order[1], sold), "units x all-in price x trend value less haircut [USD]")


def _check_costs(rec: _Recorder, plan: Plan, problem: Problem, lines: dict[str, dict[str, float]]) -> None:
    """The cost table against the verifier's cost lines on every basis, and the objective against it."""
    frame = plan.table("costs")
    basis = problem.costs.basis
    lines = {**lines, "total": {key: sum(line[key] for line in lines.values()) for key in BASES}}
    rec.equal("tables.costs.component", list(frame.get("component", [])), list(lines), "cost components and total")
    for i, row in enumerate(rec.rows("costs")):
        if row.component not in lines:
            continue
        where, line = f"tables.costs[{i}]", lines[row.component]
        for key in BASES:
            rec.number(f"{where}.{key}_usd", _value(row, f"{key}_usd"), line[key],
                       f"{row.component} on the {key} basis [USD]")
        rec.number(f"{where}.cost_usd", _value(row, "cost_usd"), line[basis],
                   f"{row.component} on the {basis} basis [USD]")
    totals = frame[frame.component == "total"] if len(frame) else frame
    if len(totals):
        rec.number("objective_usd", plan.objective_usd, float(pd.to_numeric(totals.cost_usd).iloc[0]),
                   "the cost table's total [USD]", OBJECTIVE_REL_TOL)


def _check_cashflows(rec: _Recorder, plan: Plan, problem: Problem, cash: Cash) -> None:
    """The cashflows table against the verifier's cash per quarter and category [USD]."""
    per: dict[tuple[str, int], float] = defaultdict(float)
    for line, quarters in cash.items():
        for quarter, usd in quarters.items():
            per[(CATEGORY[line], quarter)] += usd
    frame = plan.table("cashflows")
    last = max([q for q, usd in ((q, usd) for (_, q), usd in per.items()) if abs(usd) > 1e-6] + [0])
    labels = [quarter_label(problem.planning_start, q) for q in range(max(last + 1, len(frame)))]
    stated = list(frame.get("quarter", []))
    rec.equal("tables.cashflows.quarter", stated, labels[:max(len(stated), last + 1)],
              "every quarter from the planning start to the last cash flow")
    for i, row in enumerate(rec.rows("cashflows")):
        where = f"tables.cashflows[{i}]"
        net = 0.0
        for category in ("capex", "opex", "commitments", "residual"):
            net += per.get((category, i), 0.0)
            rec.number(f"{where}.{category}_usd", _value(row, f"{category}_usd"), per.get((category, i), 0.0),
                       f"{category} paid in {labels[i]} [USD]")
        rec.number(f"{where}.net_usd", _value(row, "net_usd"), net, "capex + opex + commitments + residual [USD]")
        rec.number(f"{where}.discount_factor", _value(row, "discount_factor"), discount_at(problem, i),
                   "(1 + discount_rate) ^ -years from the planning start")
        rec.number(f"{where}.discounted_usd", _value(row, "discounted_usd"), net * discount_at(problem, i),
                   "net cash x discount factor [USD]")


def _check_economics(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    """Cost per delivered PFLOP-day and idle capital, from the objective, the runs and the fleet."""
    busy = ledger.busy()
    per_unit: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in plan.table("purchases").itertuples():
        chip, t = ledger.chips.get(row.accelerator), ledger.labels.index(row.quarter) if row.quarter in ledger.labels else None
        if chip is not None and t is not None:
            spent = per_unit[(row.accelerator, row.site)]
            spent[0] += float(row.units) * unit_cost_usd(ledger, chip, row.site, t)
            spent[1] += float(row.units)
    idle = {key: units - busy.get(key, 0.0) for key, units in ledger.installed.items() if units > 1e-9}
    installed = sum(units for units in ledger.installed.values() if units > 1e-9)
    capital = sum(units * per_unit[(acc, site)][0] / per_unit[(acc, site)][1] for (acc, site, _), units in idle.items()
                  if per_unit[(acc, site)][1] > 0)
    delivered = ledger.delivered_flop
    expected = {"cost_per_pflop_day_usd": (plan.objective_usd or 0.0) / (delivered / 8.64e19) if delivered else 0.0,
                "idle_unit_quarters": sum(idle.values()), "idle_share": sum(idle.values()) / installed if installed else 0.0,
                "idle_capital_usd_quarters": capital}
    rec.equal("tables.economics.metric", list(plan.table("economics").get("metric", [])), list(expected),
              "the economics metrics")
    for i, row in enumerate(rec.rows("economics")):
        if row.metric in expected:
            rec.number(f"tables.economics[{i}].value", _value(row, "value"), expected[row.metric], str(row.metric))
            rec.equal(f"tables.economics[{i}].meaning", row.meaning, ECONOMICS[row.metric], "what the metric means")


def _check_compute(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    """Compute per run and source at the run's pace [FLOP], before goodput and span losses."""
    expected: dict[tuple[str, str], float] = defaultdict(float)
    unit_days: dict[tuple[str, str], float] = defaultdict(float)
    for name, tally_ in ledger.runs.items():
        last = ledger.last_quarter_days(tally_)
        for m in tally_.members:
            source = (name, m.model if m.kind == "site" else f"cloud:{m.location}")
            expected[source] += m.units
            unit_days[source] += m.units * tally_.full_days(m, last)
        for r in tally_.ramp:
            unit_days[(name, r.model)] += r.units * r.days
    for i, row in enumerate(rec.rows("compute")):
        stated = ledger.runs.get(str(row.run))
        key = (str(row.run), str(row.source))
        if stated is None or key not in expected:
            rec.fail(f"tables.compute[{i}].source", row.source, "a source that is not in the run's cluster")
            continue
        units = expected[key]
        rec.number(f"tables.compute[{i}].units", _value(row, "units"), units, f"units of {row.source}")
        rec.number(f"tables.compute[{i}].flop", _value(row, "flop"),
                   unit_days[key] * stated.pace_tflops * 1e12 * 86400.0, f"compute of {row.source} [FLOP]")


def _check_export(rec: _Recorder, plan: Plan, problem: Problem, ledger: Ledger) -> None:
    used = ledger.cap_used
    caps = {country: (cap, ledger.cap_policy[country]) for country, cap in ledger.caps.items()}
    for i, row in enumerate(rec.rows("export_usage")):
        where = f"tables.export_usage[{i}]"
        stated_used = _value(row, "used_tpp")
        if row.country not in caps:
            rec.number(f"{where}.used_tpp", stated_used, 0.0, f"capped TPP bought in {row.country}")
            continue
        cap, policy = caps[row.country]
        rec.equal(f"{where}.policy", row.policy, policy, f"export policy capping {row.country}")
        rec.number(f"{where}.cap_tpp", _value(row, "cap_tpp"), cap, f"export cap left in {row.country} [TPP]")
        rec.number(f"{where}.used_tpp", stated_used, used[row.country], f"capped TPP bought in {row.country}")
        if cap > 0:
            rec.number(f"{where}.share", _value(row, "share"), used[row.country] / cap, "used / cap")


def _check_head(rec: _Recorder, plan: Plan, problem: Problem, recomputed: dict[str, Any], ledger: Ledger) -> None:
    """Top-level figures that follow from the problem and the decisions."""
    labels = ledger.labels
    rec.equal("input_hash", plan.input_hash, input_hash(problem), "hash of the problem the plan answers")
    rec.equal("cost_basis", plan.cost_basis, problem.costs.basis, "cost basis of the problem")
    rec.number("target_flop", plan.target_flop, sum(r.flop for r in planned_runs(problem).values()),
               "compute targets of the runs [FLOP]")
    if not plan.has_plan:
        return
    starts = [t.start.isoformat() for t in ledger.runs.values()]
    rec.equal("run_start", plan.run_start, min(starts) if starts else None, "first run start")
    rec.equal("periods", list(plan.periods), labels, "planning quarters up to the latest deadline")
    rec.number("objective_usd", plan.objective_usd, float(recomputed.get("cost_usd") or 0.0),
               "cost recomputed from the decisions [USD]", OBJECTIVE_REL_TOL)
    rec.number("delivered_flop", plan.delivered_flop, float(recomputed.get("delivered_flop") or 0.0),
               "compute recomputed from the decisions [FLOP]")
    rec.equal("locations_used", plan.locations_used, recomputed.get("locations"), "sites opened plus offers rented")
    success = 1.0
    for row in rec.rows("custom_programs"):
        program = problem.custom_programs.get(row.program)
        if program is not None and bool(_value(row, "funded")) and float(_value(row, "units")) > 0:
            success *= program.success_probability
    rec.number("success_probability", plan.success_probability, success, "product over funded programs used")


def _check_status(rec: _Recorder, plan: Plan) -> None:
    """Status, objective, bound and gap must agree with each other (a bound cannot be re-proved)."""
    objective, bound = plan.objective_usd, plan.bound_usd
    for name in ("requested_gap", "time_limit_s", "solve_seconds"):
        value = getattr(plan, name)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            rec.fail(name, value, f"{name} must be a finite number >= 0")
    if not plan.has_plan:
        if objective is not None or any(len(plan.table(t)) for t in ("purchases", "rentals", "sites")):
            rec.fail("status", plan.status.value, f"status {plan.status.value} carries no plan, yet the file has one")
        return
    if objective is None or not math.isfinite(objective):
        rec.fail("objective_usd", objective, f"a {plan.status.value} plan needs a finite cost")
        return
    if bound is not None and (not math.isfinite(bound) or bound > objective + OBJECTIVE_REL_TOL * max(1.0, abs(objective))):
        rec.fail("bound_usd", bound, f"the lower bound {bound!r} exceeds the cost {objective:,.2f}")
    gap = plan.gap
    if plan.status is Status.OPTIMAL and (gap is None or gap > plan.requested_gap + GAP_ABS_TOL):
        rec.fail("status", plan.status.value,
                 f"optimal within {plan.requested_gap:g} claimed, but the bound gives a gap of {gap!r}")
    if plan.stored:
        stored_gap = plan.stored.get("gap")
        if gap is None:
            rec.equal("gap", stored_gap, None, "gap of a plan without a bound")
        else:
            rec.number("gap", stored_gap, gap, "(cost - bound) / cost", REL_TOL)


def _check_hashes(rec: _Recorder, plan: Plan) -> None:
    """plan_hash and the per-field digests of a plan read from a file."""
    if not plan.stored:
        return
    rec.equal("plan_hash", plan.stored.get("plan_hash"), plan.decision_hash() if plan.has_plan else None,
              "SHA-256 of the decisions")
    stated, actual = plan.stored.get("digests"), plan.stored.get("actual_digests") or {}
    if not isinstance(stated, dict):
        rec.fail("digests", stated, "the plan has no field digests (written by an older clustersize, or edited)")
        return
    for name in sorted(set(stated) | set(actual)):
        if stated.get(name) != actual.get(name):
            rec.fail(name, stated.get(name), f"{name} was edited after the plan was written (its digest differs)")


def _check_stored_verification(rec: _Recorder, plan: Plan, recomputed: dict[str, Any]) -> None:
    stated = plan.stored.get("verification") if plan.stored else None
    if not isinstance(stated, dict):
        return
    for key in ("cost_usd", "delivered_flop"):
        if stated.get(key) is not None and recomputed.get(key) is not None:
            rec.number(f"verification.{key}", stated.get(key), float(recomputed[key]), f"verifier's {key}",
                       OBJECTIVE_REL_TOL)
    if stated.get("ok") is not None and recomputed.get("ok") is not None:
        rec.equal("verification.ok", stated.get("ok"), bool(recomputed.get("ok")), "verifier's verdict")


def check_integrity(plan: Plan, problem: Problem, recomputed: dict[str, Any],
                    ledger: Ledger | None = None) -> list[Mismatch]:
    """Every figure the plan states that disagrees with its recomputation from the plan's decisions
    and `problem`; `recomputed` holds the verifier's own figures (cost_usd [USD], delivered_flop [FLOP],
    locations, cost_lines [USD] and ok: the verdict of the constraint checks), `ledger` its tally of the
    decisions (tallied here when not given). `verify` calls it, so its report
    carries these mismatches. An empty list means the plan states nothing false that
    can be checked without a solver."""
    if not isinstance(plan, Plan) or not isinstance(problem, Problem):
        raise InputError(f"expected a Plan and a Problem, found {type(plan).__name__} and {type(problem).__name__}",
                         path="check_integrity", fix="read the plan with Plan.from_dict and load the problem")
    rec = _Recorder(plan)
    tallied = ledger if ledger is not None else (tally(plan, problem, Checker()) if plan.has_plan
                                                 else open_ledger(plan, problem))
    _check_status(rec, plan)
    _check_head(rec, plan, problem, recomputed, tallied)
    _check_hashes(rec, plan)
    if plan.has_plan:
        for check in (_check_purchases, _check_sites, _check_compute, _check_export, _check_windows, _check_runs,
                      _check_fleet, _check_serving, _check_economics, _check_sales, _check_deals):
            check(rec, plan, problem, tallied)
        for plain in (_check_contracts, _check_programs, _check_spot):
            plain(rec, plan, problem)
        _check_costs(rec, plan, problem, recomputed.get("cost_lines") or {})
        _check_cashflows(rec, plan, problem, recomputed.get("cash") or cash_flows(tallied))
        _check_stored_verification(rec, plan, recomputed)
    return rec.found
