"""Cash flows: when each decision is paid, and what it is charged on each cost basis.

Every cost of the model is a cash flow of one column family per unit of that column, dated on
the quarter grid from the planning start (a flow is dated at the start of its quarter). Cash
quarters may pass the last deadline: a commitment or a contract term outlasts the runs, and the
resale credit falls at the first quarter start after the last deadline.

=============== ========================================= ===========================================
line            column (unit)                             paid
=============== ========================================= ===========================================
hardware        buy (server)                              in the order quarter, at its all-in price
opex            buy, new_mw                               each quarter in service to the last deadline
residual        buy (npv only, a credit)                  at the first quarter start after the last deadline
site_fixed      open (site)                               in quarter 0
site_build      new_mw (MW)                               evenly over the build lead quarters
site_lease      lease (MW in a quarter); open (book value) each quarter leased; the book value in quarter 0
contract_fixed  sign, contract_mw                         in the quarter of the first flow
capacity        contract_mw (MW)                          every quarter from the first flow to the term end
energy, carbon  energy (GWh in a run window)              over the window's quarters, by days
                serve_energy (GWh serving in a quarter)   in that quarter
cloud           rent (instance in a run window)           over the window's quarters, by days (on demand)
                serve_rent (instance serving a quarter)   in that quarter (on demand)
commitments     commit (instance for a term)              monthly over the term
custom_nre      fund (program)                            evenly to the quarter of volume supply
supply_deals    deal (share of a supply deal taken)        its fee and prepayment, in quarter 0 (the deal is signed now)
                take (prepaid unit bought under a deal)     minus its prepayment, in the quarter bought (a credit)
spot_premium    spot (server bought beyond the allocation) in the order quarter, whole on every basis
sales           sell (server sold before the last deadline) its trend value less the haircut, a credit in the quarter
                                                          sold; it also saves the opex from then and the residual
shortfall       shortfall (EFLOP/s-day short of a target)  in the quarter of the run's deadline (a penalty, no cash)
=============== ========================================= ===========================================

Each flow carries its nominal amount (the full basis and the per-year budget), and its charge on
the amortised basis; the npv basis discounts the amounts (with the resale credit) at the
problem's rate. Money in $M (data/modeldata.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..costlines import HOURS_PER_MONTH, LINES
from ..errors import InputError
from ..periods import quarter_index, quarter_label, quarter_start
from ..schema.problem import DAYS_PER_YEAR, MONTHS_PER_QUARTER, Problem
from ..schema.risk import FLOP_PER_SHORTFALL_UNIT
from ..schema.runs import first_energy_quarter

if TYPE_CHECKING:
    from .modeldata import ModelData

USD_PER_MUSD = 1e6
FLOP_PER_EFLOPS_DAY = 1e18 * 86400.0


def capital_recovery_factor(rate: float, years: float) -> float:
    """Share of a capital sum charged per year to repay it with interest at `rate` over `years` [1/year];
    1 / years at a zero rate (a straight line)."""
    if abs(rate) < 1e-12:
        return 1.0 / years
    return float(rate / (1.0 - (1.0 + rate) ** -years))


def discount_factor(rate: float, years: np.ndarray | float) -> np.ndarray:
    """(1 + rate) ^ -years: the present value of one dollar paid `years` after the planning start."""
    return np.asarray((1.0 + rate) ** -np.asarray(years, dtype=float))


@dataclass(frozen=True)
class Flows:
    """Cash flows of one column family: per unit of column `column`, `amount` [$M] in every cash
    quarter from `quarter` to `until` - 1, on cost line `line` (index into LINES); `amortised` is
    the charge on that basis per quarter paid [$M]. A recurring flow (operating cost) is one entry."""

    family: str
    column: np.ndarray
    line: np.ndarray
    quarter: np.ndarray
    until: np.ndarray
    amount: np.ndarray
    amortised: np.ndarray

    @property
    def count(self) -> np.ndarray:
        """Quarters each flow is paid in."""
        return np.asarray(self.until - self.quarter)

    def expanded(self, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The flows `keep` (a mask) one row per quarter paid: (position in the flows, column, quarter, amount)."""
        index = np.flatnonzero(keep)
        n = self.count[index]
        owner = np.repeat(index, n)
        offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        return owner, self.column[owner], self.quarter[owner] + offset, self.amount[owner]


@dataclass
class Money:
    """The model's cash flows, their quarters and discount factors, and the basis they are charged on."""

    basis: str = "full"
    labels: list[str] = field(default_factory=list)       # cash quarters
    years: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))    # [q] calendar year
    discount: np.ndarray = field(default_factory=lambda: np.zeros(0))             # [q] factor at its start
    flows: dict[str, list[Flows]] = field(default_factory=dict)
    lease_site: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))   # lease columns (s, t)
    lease_quarter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    commit_offer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # commitment columns (o, q)
    commit_quarter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    commit_cover: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # [o] quarters a term covers

    def charges(self, family: str, n: int, basis: str | None = None) -> np.ndarray:
        """Cost per unit of each of the family's n columns on `basis` (the problem's by default) [$M]."""
        basis = basis or self.basis
        cost = np.zeros(n)
        discounted = np.concatenate([[0.0], np.cumsum(self.discount)])     # sum of factors before quarter q
        for f in self.flows.get(family, []):
            if basis == "amortised":
                np.add.at(cost, f.column, f.amortised * f.count)
            elif basis == "npv":
                np.add.at(cost, f.column, f.amount * (discounted[f.until] - discounted[f.quarter]))
            else:
                keep = f.line != LINES.index("residual")
                np.add.at(cost, f.column[keep], (f.amount * f.count)[keep])
        return cost

    def per_year(self, flows: Flows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nominal cash of each flow in each calendar year: (flow position, year row in np.unique(years),
        amount [$M per unit of the column])."""
        years = np.unique(self.years)
        rows, positions, amounts = [], [], []
        for y, year in enumerate(years.tolist()):
            quarters = np.flatnonzero(self.years == year)
            overlap = np.minimum(flows.until, quarters.max() + 1) - np.maximum(flows.quarter, quarters.min())
            paid = np.flatnonzero(overlap > 0)
            positions.append(paid)
            rows.append(np.full(paid.size, y))
            amounts.append(flows.amount[paid] * overlap[paid])
        return np.concatenate(positions), np.concatenate(rows), np.concatenate(amounts)


def _flows(family: str, line: str, column: np.ndarray, quarter: np.ndarray, amount: np.ndarray,
           amortised: np.ndarray | None = None, until: np.ndarray | None = None) -> Flows:
    """Flows paid once in `quarter`, or every quarter from it to `until` - 1."""
    column, quarter, amount = (np.asarray(v) for v in (column, quarter, amount))
    quarter = quarter.astype(np.int64)
    return Flows(family, column.astype(np.int64), np.full(column.size, LINES.index(line)), quarter,
                 quarter + 1 if until is None else np.asarray(until, dtype=np.int64), amount.astype(float),
                 amount.astype(float) if amortised is None else np.asarray(amortised, float))


def _spread(n_units: int, first: np.ndarray, quarters: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each unit i paid `total[i]` evenly over quarters first[i] .. first[i] + quarters[i] - 1:
    (unit, quarter, amount) per payment."""
    quarters = np.maximum(quarters, 1)
    unit = np.repeat(np.arange(n_units), quarters)
    offset = np.arange(quarters.sum()) - np.repeat(np.cumsum(quarters) - quarters, quarters)
    return unit, first[unit] + offset, (total / quarters)[unit]


def _window_spread(d: ModelData, window: np.ndarray, per_unit: np.ndarray) -> tuple[np.ndarray, ...]:
    """Column i, in run window window[i], paid per_unit[i] over the window's quarters by days inside each."""
    w = d.runs.windows
    order = np.argsort(w.cover_window, kind="stable")
    cw, ct, cd = w.cover_window[order], w.cover_period[order], w.cover_days[order]
    first = np.searchsorted(cw, np.arange(len(w.days)))
    count = np.bincount(cw, minlength=len(w.days))
    n = count[window]
    col = np.repeat(np.arange(window.size), n)
    pick = first[window][col] + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return col, ct[pick], per_unit[col] * cd[pick] / w.days[window][col]


@dataclass(frozen=True)
class _Terms:
    """What the flows need from the problem: quarters, the rates, and the amortised site share."""

    n_periods: int                 # quarters of the horizon: the last deadline falls in quarter n_periods - 1
    opex_per_quarter: float        # [fraction of capital per quarter]
    site_share: float              # [fraction] charged of site capital on the amortised basis
    epoch: bool                    # Epoch AI's scope: hardware, network and energy only
    resale: np.ndarray             # [t] resale value at the last deadline of a server ordered in t [fraction]
    value: np.ndarray              # [t, t'] resale value at the start of t' of a server ordered in t [fraction]


def _hardware_flows(d: ModelData, terms: _Terms) -> list[Flows]:
    cells = np.arange(d.cell_acc.size)
    price = d.cell_price
    flows = [_flows("buy", "hardware", cells, d.cell_period, price, price * d.cell_share)]
    # operating cost each quarter in service, from installation to the last deadline: one recurring flow
    in_service = d.cell_ready < terms.n_periods
    opex = price[in_service] * terms.opex_per_quarter
    flows.append(_flows("buy", "opex", cells[in_service], d.cell_ready[in_service], opex,
                        np.zeros(opex.size) if terms.epoch else opex, np.full(opex.size, terms.n_periods)))
    residual = -price * terms.resale[d.cell_period] if cells.size else np.zeros(0)
    flows.append(_flows("buy", "residual", cells, np.full(cells.size, terms.n_periods), residual,
                        np.zeros(cells.size)))
    return flows


def _sale_flows(d: ModelData, terms: _Terms) -> list[Flows]:
    """A server sold at the start of quarter t brings its cohort's value then (a credit; nothing on the
    amortised basis, which charges the use of capital to the last deadline), and takes back the
    operating cost from t and the resale credit at the horizon that its purchase column pays."""
    cell, t = d.sales.cell, d.sales.quarter
    cols = np.arange(cell.size)
    price = d.cell_price[cell]
    order = d.cell_period[cell]
    opex = -price * terms.opex_per_quarter
    return [_flows("sell", "sales", cols, t, -price * terms.value[order, t], np.zeros(cols.size)),
            _flows("sell", "opex", cols, t, opex, np.zeros(cols.size) if terms.epoch else opex,
                   np.full(cols.size, terms.n_periods)),
            _flows("sell", "residual", cols, np.full(cols.size, terms.n_periods), price * terms.resale[order],
                   np.zeros(cols.size))]


def _site_flows(problem: Problem, d: ModelData, terms: _Terms) -> dict[str, list[Flows]]:
    sites = [problem.sites[sid] for sid in d.site_ids]
    n_s, zero = len(sites), np.zeros(len(sites), dtype=np.int64)
    fixed = d.site_fixed
    book = np.array([s.existing_book_value_usd or 0.0 if s.existing_basis == "book" else 0.0 for s in sites]) \
        / USD_PER_MUSD
    share = 0.0 if terms.epoch else terms.site_share
    col, quarter, amount = _spread(n_s, zero, d.site_ready, d.site_build)
    live = d.site_ready < terms.n_periods
    opex = d.site_build[live] * terms.opex_per_quarter
    return {
        "open": [_flows("open", "site_fixed", np.arange(n_s), zero, fixed, fixed * share),
                 _flows("open", "site_lease", np.arange(n_s), zero, book, book * share)],
        "new_mw": [_flows("new_mw", "site_build", col, quarter, amount, amount * share),
                   _flows("new_mw", "opex", np.flatnonzero(live), d.site_ready[live], opex,
                          np.zeros(opex.size) if terms.epoch else opex, np.full(opex.size, terms.n_periods))],
    }


def _lease_flows(problem: Problem, d: ModelData, money: Money, terms: _Terms) -> list[Flows]:
    """Lease of existing MW, one column per (site, quarter): the site's price x 1,000 kW x 3 months."""
    per_kw_month = np.array([_lease_price(problem, d.site_ids[s]) for s in money.lease_site.tolist()])
    amount = per_kw_month * 1000.0 * MONTHS_PER_QUARTER / USD_PER_MUSD
    cols = np.arange(money.lease_site.size)
    return [_flows("lease", "site_lease", cols, money.lease_quarter, amount,
                   np.zeros(cols.size) if terms.epoch else amount)]


def _lease_price(problem: Problem, site_id: str) -> float:
    """Lease of the site's existing capacity [USD per kW-month]: its own, else the problem's default."""
    own = problem.sites[site_id].lease_usd_per_kw_month
    return problem.costs.lease_usd_per_kw_month if own is None else own


def term_quarters(term_months: float) -> list[float]:
    """Months of a term falling in each of its quarters, from its first: 3, 3, ..., the remainder."""
    return [min(MONTHS_PER_QUARTER, term_months - MONTHS_PER_QUARTER * j)
            for j in range(math.ceil(term_months / MONTHS_PER_QUARTER - 1e-9))]


def capacity_months(first: int, n_periods: int, term_months: float | None) -> list[tuple[int, float, bool]]:
    """(quarter, months charged, after the last deadline) of a contract whose energy first flows in
    quarter `first`: whole quarters to the last deadline, and the rest of a longer term."""
    months = [(q, MONTHS_PER_QUARTER, False) for q in range(first, n_periods)]
    if term_months:
        months += [(first + j, paid, True) for j, paid in enumerate(term_quarters(term_months)) if first + j >= n_periods]
    return months


def _term_flows(problem: Problem, d: ModelData, first: np.ndarray, n_periods: int) -> dict[str, list[np.ndarray]]:
    """Per contracted MW: capacity charges from the contract's start to the last deadline, and for a
    term that outlasts the runs, its minimum bill and take-or-pay energy (min_take_fraction of the
    output, with its carbon) in each later quarter. (line -> [columns, quarters, amounts])"""
    found: dict[str, list[list[float]]] = {line: [[], [], []] for line in ("capacity", "energy", "carbon")}
    carbon_price = problem.costs.carbon_price_usd_per_t
    for k, cid in enumerate(d.con_ids):
        terms = problem.contracts[cid]
        per_month = terms.capacity_usd_per_mw_month() / USD_PER_MUSD
        gwh_per_month = terms.min_take_fraction * terms.capacity_factor * HOURS_PER_MONTH / 1000.0
        per_gwh = {"energy": terms.price_usd_per_mwh / 1e3, "carbon": carbon_price * terms.carbon_g_per_kwh / 1e6}
        for q, months, after in capacity_months(int(first[k]), n_periods, terms.term_months):
            amounts = {"capacity": per_month * months * (terms.min_bill_fraction if after else 1.0)}
            if after:
                amounts.update({line: gwh_per_month * months * price for line, price in per_gwh.items()})
            for line, amount in amounts.items():
                if amount:
                    for part, value in zip(found[line], (k, q, amount)):
                        part.append(value)
    return {line: [np.array(cols, dtype=np.int64), np.array(qs, dtype=np.int64), np.array(amts)]
            for line, (cols, qs, amts) in found.items()}


def _contract_flows(problem: Problem, d: ModelData, terms: _Terms) -> dict[str, list[Flows]]:
    origin = problem.planning_start
    n_k = len(d.con_ids)
    needed = first_energy_quarter(problem)
    first = np.array([max(needed, quarter_index(day, origin)) for day in d.con_first_day], dtype=np.int64)
    term = _term_flows(problem, d, first, terms.n_periods)
    price = np.array([problem.contracts[c].price_usd_per_mwh for c in d.con_ids]) / 1e3      # [$M/GWh]
    carbon = d.con_price - price
    sl = d.slots
    col, quarter, energy = _window_spread(d, sl.energy_window, price[sl.energy_contract])
    _, _, emissions = _window_spread(d, sl.energy_window, carbon[sl.energy_contract])
    return {
        "sign": [_flows("sign", "contract_fixed", np.arange(n_k), first, d.con_fixed)],
        "contract_mw": [_flows("contract_mw", "contract_fixed", np.arange(n_k), first, d.con_fixed_per_mw)]
        + [_flows("contract_mw", line, *parts) for line, parts in term.items()],
        "energy": [_flows("energy", "energy", col, quarter, energy), _flows("energy", "carbon", col, quarter, emissions)],
    }


def _cloud_flows(problem: Problem, d: ModelData, money: Money) -> dict[str, list[Flows]]:
    """On-demand rentals over their window; commitments monthly over their term, less resale."""
    sl = d.slots
    offers = [problem.cloud[o] for o in d.cloud_ids]
    on_demand = np.array([not o.committed for o in offers], dtype=bool)
    rent = np.flatnonzero(on_demand[sl.rent_offer]) if sl.rent_offer.size else np.zeros(0, dtype=np.int64)
    hours = d.runs.windows.hours
    col, quarter, amount = _window_spread(d, sl.rent_window[rent], d.cloud_cost_per_hour[sl.rent_offer[rent]]
                                          * hours[sl.rent_window[rent]])
    c_cols, c_quarters, c_amounts = [], [], []
    for i, (o, q) in enumerate(zip(money.commit_offer.tolist(), money.commit_quarter.tolist())):
        offer = offers[o]
        per_month = d.cloud_cost_per_hour[o] * HOURS_PER_MONTH * (1.0 - offer.resale_fraction)
        for j, paid in enumerate(term_quarters(offer.term_months)):
            c_cols.append(i)
            c_quarters.append(q + j)
            c_amounts.append(per_month * paid)
    return {"rent": [_flows("rent", "cloud", rent[col], quarter, amount)],
            "commit": [_flows("commit", "commitments", np.array(c_cols, dtype=np.int64),
                              np.array(c_quarters, dtype=np.int64), np.array(c_amounts))]}


def _serving_flows(problem: Problem, d: ModelData) -> dict[str, list[Flows]]:
    """Sustained demand: on-demand rentals and contracted energy, each paid in the quarter served
    (a committed offer's serving is paid by its commitments)."""
    sv = d.serving
    committed = np.array([problem.cloud[o].committed for o in d.cloud_ids], dtype=bool)
    rent = np.flatnonzero(~committed[sv.rent_offer]) if sv.rent_offer.size else np.zeros(0, dtype=np.int64)
    hours = d.period_hours
    price = np.array([problem.contracts[c].price_usd_per_mwh for c in d.con_ids]) / 1e3      # [$M/GWh]
    k, t = sv.energy_contract, sv.energy_quarter
    cols = np.arange(k.size)
    return {"serve_rent": [_flows("serve_rent", "cloud", rent, sv.rent_quarter[rent],
                                  d.cloud_cost_per_hour[sv.rent_offer[rent]] * hours[sv.rent_quarter[rent]])],
            "serve_energy": [_flows("serve_energy", "energy", cols, t, price[k] if k.size else np.zeros(0)),
                             _flows("serve_energy", "carbon", cols, t, (d.con_price - price)[k] if k.size else np.zeros(0))]}


def _program_flows(problem: Problem, d: ModelData) -> list[Flows]:
    """NRE paid evenly from the funding decision (quarter 0) to the quarter of volume supply."""
    quarters = np.array([math.ceil(problem.custom_programs[p].months_to_volume / MONTHS_PER_QUARTER - 1e-9)
                         for p in d.prog_ids], dtype=np.int64)
    col, quarter, amount = _spread(len(d.prog_ids), np.zeros(len(d.prog_ids), dtype=np.int64), quarters, d.prog_nre)
    return [_flows("fund", "custom_nre", col, quarter, amount)]


def _shortfall_flows(problem: Problem, d: ModelData) -> list[Flows]:
    """The penalty per EFLOP/s-day a run falls short, charged in the quarter of its deadline [$M]; no
    columns when the problem states no penalty (targets are then hard)."""
    penalty = problem.risk.shortfall_usd_per_1e24_flop
    if penalty is None:
        return []
    n = len(d.runs.ids)
    quarter = np.array([quarter_index(run.deadline, problem.planning_start) for run in d.runs.runs], dtype=np.int64)
    per_unit = penalty * FLOP_PER_EFLOPS_DAY / FLOP_PER_SHORTFALL_UNIT / USD_PER_MUSD
    return [_flows("shortfall", "shortfall", np.arange(n), np.minimum(quarter, len(d.periods) - 1), np.full(n, per_unit))]


def _commit_columns(problem: Problem, d: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """(offer, start quarter) of each commitment column: the offer's term_start, else every quarter in
    which a window the offer can serve starts (a term starting there covers the run from its first day),
    or in which it can serve sustained demand."""
    sl, w = d.slots, d.runs.windows
    offers, quarters = [], []
    for o, oid in enumerate(d.cloud_ids):
        offer = problem.cloud[oid]
        if not offer.committed:
            continue
        if offer.term_start is not None:
            start = quarter_index(offer.term_start, problem.planning_start)
            if start < 0:
                raise InputError(f"{offer.term_start} is before planning_start {problem.planning_start}",
                                 file=problem.source, path=f"cloud.{oid}.term_start",
                                 fix="a term already running is not a decision: leave the offer out, or give its "
                                     "remaining capacity as an offer of its own")
            starts = [start] if start < len(d.periods) else []      # a term after the last deadline serves nothing
        else:
            starts = sorted({int(w.start_period[win]) for win in sl.rent_window[sl.rent_offer == o].tolist()}
                            | set(d.serving.rent_quarter[d.serving.rent_offer == o].tolist()))
        offers += [o] * len(starts)
        quarters += starts
    return np.array(offers, dtype=np.int64), np.array(quarters, dtype=np.int64)


def _terms(problem: Problem, d: ModelData) -> _Terms:
    costs, origin = problem.costs, problem.planning_start
    n_t = len(d.periods)
    end = quarter_start(origin, n_t)
    years_held = np.array([(end - quarter_start(origin, t)).days / DAYS_PER_YEAR for t in range(n_t)])
    resale = 10.0 ** (-costs.price_performance_ooms_per_year * years_held) * (1.0 - costs.resale_haircut)
    age = years_held[:, None] - years_held[None, :]         # years from the start of t to the start of t'
    value = 10.0 ** (-costs.price_performance_ooms_per_year * age) * (1.0 - costs.resale_haircut)
    return _Terms(n_t, costs.opex_fraction_per_year / 4.0, d.site_share, costs.amortisation == "epoch", resale, value)


def build_money(problem: Problem, d: ModelData) -> Money:
    """Every column family's cash flows, the cash quarters (to the last one paid) and their discount factors."""
    money = Money(basis=problem.costs.basis)
    load = d.site_load
    money.lease_site, money.lease_quarter = load.site[load.leased], load.quarter[load.leased]
    money.commit_offer, money.commit_quarter = _commit_columns(problem, d)
    money.commit_cover = np.array([int(problem.cloud[o].term_months // MONTHS_PER_QUARTER) for o in d.cloud_ids],
                                  dtype=np.int64)
    terms = _terms(problem, d)
    flows = {"buy": _hardware_flows(d, terms), "lease": _lease_flows(problem, d, money, terms),
             "fund": _program_flows(problem, d), "shortfall": _shortfall_flows(problem, d),
             "deal": [_flows("deal", "supply_deals", np.arange(len(d.deals.ids)), np.zeros(len(d.deals.ids), dtype=np.int64),
                             d.deals.fee + d.deals.prepaid)],
             "take": [_flows("take", "supply_deals", np.arange(d.deals.take_deal.size), d.deals.take_quarter,
                             -d.deals.prepay[d.deals.take_deal])],
             "sell": _sale_flows(d, terms),
             "spot": [_flows("spot", "spot_premium", np.arange(d.spot.acc.size), d.spot.quarter, d.spot.premium)]}
    for part in (_site_flows(problem, d, terms), _contract_flows(problem, d, terms), _cloud_flows(problem, d, money),
                 _serving_flows(problem, d)):
        flows.update(part)
    money.flows = flows
    last = max([terms.n_periods] + [int(f.until.max()) - 1 for fs in flows.values() for f in fs if f.until.size])
    origin = problem.planning_start
    starts = [quarter_start(origin, q) for q in range(last + 1)]
    money.labels = [quarter_label(origin, q) for q in range(last + 1)]
    money.years = np.array([day.year for day in starts], dtype=np.int64)
    money.discount = discount_factor(problem.costs.discount_rate,
                                     np.array([(day - origin).days / DAYS_PER_YEAR for day in starts]))
    return money
