"""The verifier's cash flows: every cost line per quarter, recomputed from the plan's decisions.

Reads the ledger (the plan's tables tallied) and the problem, never the model: the timing rules
are those of docs/costs.md, implemented here a second time. Amounts in USD, nominal; a quarter
index counts from the planning start and may pass the last deadline (terms that outlast the runs).
"""

from __future__ import annotations

import math
from collections import defaultdict

from ..costlines import HOURS_PER_MONTH
from ..periods import quarter_index, quarter_start
from ..schema.derived import all_in_unit_cost_usd
from ..schema.problem import DAYS_PER_YEAR, MONTHS_PER_QUARTER, Chip, Problem
from ..schema.risk import FLOP_PER_SHORTFALL_UNIT
from ..schema.runs import first_energy_quarter
from .ledger import Ledger, amortised_share, unit_cost_usd

Cash = dict[str, dict[int, float]]          # line -> quarter -> USD


def _pay(cash: Cash, line: str, quarter: int, usd: float) -> None:
    if usd:
        cash[line][quarter] = cash[line].get(quarter, 0.0) + usd


def _pay_evenly(cash: Cash, line: str, first: int, quarters: int, usd: float) -> None:
    for q in range(first, first + max(quarters, 1)):
        _pay(cash, line, q, usd / max(quarters, 1))


def n_quarters(ledger: Ledger) -> int:
    """Quarters of the horizon: the last deadline falls in the last of them."""
    return len(ledger.labels)


def resale_fraction(problem: Problem, order: int, horizon: int) -> float:
    """Resale value at the first quarter start after the last deadline of hardware ordered in
    quarter `order`, as a share of its all-in cost: the price-performance trend, less the haircut."""
    origin = problem.planning_start
    years = (quarter_start(origin, horizon) - quarter_start(origin, order)).days / DAYS_PER_YEAR
    return float(10.0 ** (-problem.costs.price_performance_ooms_per_year * years) * (1.0 - problem.costs.resale_haircut))


def _hardware(ledger: Ledger, cash: Cash) -> None:
    problem, horizon = ledger.problem, n_quarters(ledger)
    opex = problem.costs.opex_fraction_per_year / 4.0
    for row in ledger.plan.table("purchases").itertuples():
        chip = ledger.chips.get(row.accelerator)
        if chip is None or row.quarter not in ledger.labels or row.ready not in ledger.labels:
            continue
        t, ready = ledger.labels.index(row.quarter), ledger.labels.index(row.ready)
        capex = float(row.units) * unit_cost_usd(ledger, chip, row.site, t)
        _pay(cash, "hardware", t, capex)
        for q in range(ready, horizon):
            _pay(cash, "opex", q, capex * opex)
        _pay(cash, "residual", horizon, -capex * resale_fraction(problem, t, horizon))


def _sales(ledger: Ledger, cash: Cash) -> None:
    """A sale at the start of quarter t: the order's value then (its price-performance trend less the
    haircut), a credit; the operating cost from t and the resale at the horizon no longer accrue."""
    problem, horizon = ledger.problem, n_quarters(ledger)
    opex = problem.costs.opex_fraction_per_year / 4.0
    for acc, site, order, sold, units in ledger.sales:
        capex = units * unit_cost_usd(ledger, ledger.chips[acc], site, order)
        _pay(cash, "sales", sold, -capex * resale_fraction(problem, order, sold))
        for q in range(sold, horizon):
            _pay(cash, "opex", q, -capex * opex)
        _pay(cash, "residual", horizon, capex * resale_fraction(problem, order, horizon))


def unit_charge_usd(ledger: Ledger, chip: Chip, site: str, order: int, ready: int) -> float:
    """What one unit ordered in quarter `order` for `site` and installed from `ready` is charged on
    the problem's basis [USD]: its price, its operating cost while in service and, on the npv
    basis, its resale."""
    problem, horizon = ledger.problem, n_quarters(ledger)
    capex = unit_cost_usd(ledger, chip, site, order)
    opex = capex * problem.costs.opex_fraction_per_year / 4.0
    basis = problem.costs.basis
    if basis == "npv":
        return capex * (discount_at(problem, order) - resale_fraction(problem, order, horizon) * discount_at(problem, horizon)) \
            + opex * sum(discount_at(problem, q) for q in range(ready, horizon))
    in_service = opex * max(0, horizon - ready)
    if basis == "amortised":
        return capex * amortised_share(ledger, chip, order, ready) \
            + (0.0 if problem.costs.amortisation == "epoch" else in_service)
    return capex + in_service


def _sites(ledger: Ledger, cash: Cash) -> None:
    problem, horizon = ledger.problem, n_quarters(ledger)
    opex = problem.costs.opex_fraction_per_year / 4.0
    for sid, site in problem.sites.items():
        if ledger.opened.get(sid):
            _pay(cash, "site_fixed", 0, site.fixed_cost_usd)
            if site.existing_basis == "book":
                _pay(cash, "site_lease", 0, site.existing_book_value_usd or 0.0)
        build = ledger.new_mw.get(sid, 0.0) * site.build_cost_usd_per_mw
        _pay_evenly(cash, "site_build", 0, site.build_lead_quarters, build)
        for q in range(site.build_lead_quarters, horizon):
            _pay(cash, "opex", q, build * opex)
    for (sid, quarter), mw in ledger.leases.items():
        site = problem.sites[sid]
        price = problem.costs.lease_usd_per_kw_month if site.lease_usd_per_kw_month is None \
            else site.lease_usd_per_kw_month
        _pay(cash, "site_lease", quarter, mw * 1000.0 * price * MONTHS_PER_QUARTER)


def contract_first_quarter(ledger: Ledger, contract: str) -> int:
    """Quarter a contract starts: its first flow (first_available), and no earlier than any run may start."""
    problem = ledger.problem
    day = problem.contracts[contract].first_available or problem.planning_start
    return max(quarter_index(day, problem.planning_start), first_energy_quarter(problem))


def _contracts(ledger: Ledger, cash: Cash) -> None:
    horizon = n_quarters(ledger)
    for use in ledger.contracts:
        first, terms = contract_first_quarter(ledger, use.contract), use.terms
        _pay(cash, "contract_fixed", first, (terms.fixed_cost_usd if use.signed else 0.0)
             + use.mw * terms.fixed_cost_usd_per_mw)
        per_month = terms.capacity_usd_per_mw_month() * use.mw
        for q in range(first, horizon):
            _pay(cash, "capacity", q, per_month * MONTHS_PER_QUARTER)
        months = terms.term_months or 0.0
        take_mwh = use.mw * terms.min_take_fraction * terms.capacity_factor * HOURS_PER_MONTH
        for j in range(math.ceil(months / MONTHS_PER_QUARTER - 1e-9)):
            if first + j >= horizon:        # the term outlasts the runs: minimum bill and take-or-pay
                paid = min(MONTHS_PER_QUARTER, months - MONTHS_PER_QUARTER * j)
                _pay(cash, "capacity", first + j, per_month * terms.min_bill_fraction * paid)
                _pay(cash, "energy", first + j, take_mwh * paid * terms.price_usd_per_mwh)
                _pay(cash, "carbon", first + j, take_mwh * paid * terms.carbon_g_per_kwh / 1000.0
                     * ledger.problem.costs.carbon_price_usd_per_t)


def _over_window(ledger: Ledger, cash: Cash, line: str, run: str, usd: float) -> None:
    """Pay `usd` over a run's window, by the days of it in each quarter."""
    tally_ = ledger.runs[run]
    for quarter, days in ledger.quarters(tally_):
        _pay(cash, line, quarter, usd * days / tally_.days)


def _usage(ledger: Ledger, cash: Cash) -> None:
    problem = ledger.problem
    carbon_price = problem.costs.carbon_price_usd_per_t
    for contract, run, mwh in ledger.energy:
        terms = problem.contracts[contract]
        _over_window(ledger, cash, "energy", run, mwh * terms.price_usd_per_mwh)
        _over_window(ledger, cash, "carbon", run, mwh * terms.carbon_g_per_kwh / 1000.0 * carbon_price)
    for (run, offer_id), units in ledger.rentals.items():
        offer = problem.cloud[offer_id]
        if not offer.committed:
            _over_window(ledger, cash, "cloud", run, units * offer.price_usd_per_hour * ledger.runs[run].days * 24.0)
    for (contract, quarter), mwh in ledger.serving_energy.items():
        terms = problem.contracts[contract]
        _pay(cash, "energy", quarter, mwh * terms.price_usd_per_mwh)
        _pay(cash, "carbon", quarter, mwh * terms.carbon_g_per_kwh / 1000.0 * carbon_price)
    for (_, offer_id, quarter), units in ledger.serving_at("cloud").items():
        offer = problem.cloud[offer_id]
        if not offer.committed:
            _pay(cash, "cloud", quarter, units * offer.price_usd_per_hour * ledger.quarter_hours(quarter))
    for offer_id, start, units in ledger.commitments:
        offer = problem.cloud[offer_id]
        per_month = units * offer.price_usd_per_hour * HOURS_PER_MONTH * (1.0 - offer.resale_fraction)
        for j in range(math.ceil(offer.term_months / MONTHS_PER_QUARTER - 1e-9)):
            _pay(cash, "commitments", start + j, per_month * min(MONTHS_PER_QUARTER,
                                                                   offer.term_months - MONTHS_PER_QUARTER * j))
    for name, taken in ledger.deals.items():
        deal = problem.supply_deals[name]
        _pay(cash, "supply_deals", 0, taken * (deal.fee_usd + deal.prepaid_usd(ledger.labels)))
    for (name, label), units in ledger.credits.items():
        _pay(cash, "supply_deals", ledger.labels.index(label), -units * problem.supply_deals[name].prepay_usd_per_unit)
    for (acc, label), units in ledger.spot.items():
        if acc in ledger.chips:
            t = ledger.labels.index(label)
            _pay(cash, "spot_premium", t, units * problem.spot[acc].premium
                 * all_in_unit_cost_usd(ledger.chips[acc], problem.costs, t, problem.planning_start))
    for pid, funded in ledger.funded.items():
        if funded:
            program = problem.custom_programs[pid]
            _pay_evenly(cash, "custom_nre", 0, math.ceil(program.months_to_volume / MONTHS_PER_QUARTER - 1e-9),
                        program.nre_usd)


def _shortfalls(ledger: Ledger, cash: Cash) -> None:
    """The penalty for compute a run falls short, in the quarter of its deadline (no cash; docs/risk.md)."""
    problem = ledger.problem
    penalty = problem.risk.shortfall_usd_per_1e24_flop
    for tally_ in ledger.runs.values():
        if penalty is not None and tally_.shortfall_flop > 0:
            quarter = min(quarter_index(tally_.run.deadline, problem.planning_start), n_quarters(ledger) - 1)
            _pay(cash, "shortfall", quarter, penalty * tally_.shortfall_flop / FLOP_PER_SHORTFALL_UNIT)


def cash_flows(ledger: Ledger) -> Cash:
    """Every cost line's nominal cash per quarter [USD], the resale credit as a negative line;
    computed once per ledger (the checks, the cost lines and the integrity check all read it)."""
    if ledger.cash is None:
        cash: Cash = defaultdict(dict)
        for part in (_hardware, _sales, _sites, _contracts, _usage, _shortfalls):
            part(ledger, cash)
        ledger.cash = cash
    return ledger.cash


def discount_at(problem: Problem, quarter: int) -> float:
    """Discount factor of cash paid at the start of quarter `quarter`."""
    years = (quarter_start(problem.planning_start, quarter) - problem.planning_start).days / DAYS_PER_YEAR
    return float((1.0 + problem.costs.discount_rate) ** -years)


def site_share(ledger: Ledger) -> float:
    """Share of site capital charged on the amortised basis [fraction]."""
    costs = ledger.problem.costs
    if costs.amortisation == "epoch":
        return 0.0
    years = (ledger.horizon_end - ledger.problem.planning_start).days / DAYS_PER_YEAR
    life, rate = costs.facility_life_years, costs.discount_rate
    recovery = 1.0 / life if abs(rate) < 1e-12 else rate / (1.0 - (1.0 + rate) ** -life)
    return recovery * min(years, life)


def amortised_lines(ledger: Ledger, cash: Cash) -> dict[str, float]:
    """Each line on the amortised basis [USD]: hardware by its share, site capital by the site share,
    the rest as paid (no resale credit); under Epoch's scope no site, lease or opex lines."""
    epoch = ledger.problem.costs.amortisation == "epoch"
    lines = {line: sum(per.values()) for line, per in cash.items()}
    lines["hardware"] = ledger.amortised_hardware
    share = site_share(ledger)
    book = sum(ledger.problem.sites[s].existing_book_value_usd or 0.0 for s, site in ledger.problem.sites.items()
               if site.existing_basis == "book" and ledger.opened.get(s))
    for line in ("site_fixed", "site_build"):
        lines[line] = lines.get(line, 0.0) * share
    lines["site_lease"] = 0.0 if epoch else lines.get("site_lease", 0.0) - book + book * share
    if epoch:
        lines["opex"] = 0.0
    lines["residual"] = lines["sales"] = 0.0
    return lines


