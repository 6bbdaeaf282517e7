"""Problems of the spot, sales and prepaid-deal tests (test_spot.py, test_sales.py,
test_prepaid_deals.py, test_supply_reports.py), built on the base case of conftest.py."""

from __future__ import annotations

import copy
import datetime as dt

from conftest import base_problem

REL = 1e-6


def spot_problem(limit: str = "allocation", **market: object) -> dict:
    doc = base_problem()
    if limit == "allocation":
        doc["accelerators"]["alpha"]["supply_per_quarter"] = 300
    else:       # 8 HBM stacks a unit, 2,400 stacks a quarter: 300 units' worth
        doc["accelerators"]["alpha"]["components"] = {"hbm": 8}
        doc["components"] = {"hbm": 2400}
    doc["spot"] = {"alpha": {"premium": 0.25, "units_per_quarter": 80, **market}}
    return doc


# Sales before the last deadline (costs.sell_surplus). Two runs on the base case's terms: the first
# needs 1,000 alpha from 2027-04-01 for 100 days, the second 200 from 2027-10-01 to 2028-01-09.
# The best plan orders 1,000 in 2027Q2 and sells 800 at the start of 2027Q4, 183 days later, at
# 10^(-0.1 x 183 / 365.25) x (1 - 0.2) of the price: $7,129.74 a unit.
SALE_VALUE = 10_000 * 10 ** (-0.1 * 183 / 365.25) * 0.8
ENERGY = 1000 * 2400 * 0.05 + 200 * 2400 * 0.05         # 100 days x 24 h x 1 kW per unit at $50/MWh


def surplus_problem(sell: bool = True) -> dict:
    doc = base_problem()
    shape = {k: v for k, v in doc.pop("run").items() if k not in ("start", "deadline")}
    del doc["target"]
    doc["runs"] = {"first": {"flop": 4.32e24, "start": dt.date(2027, 4, 1), "deadline": dt.date(2027, 7, 10), **shape},
                   "second": {"flop": 0.864e24, "start": dt.date(2027, 10, 1), "deadline": dt.date(2028, 1, 9), **shape}}
    doc["costs"].update(price_performance_ooms_per_year=0.1, resale_haircut=0.2, sell_surplus=sell)
    return doc


# Prepaid supply deals. Alpha's allocation is 300 a quarter in 2027Q1-Q3 (900 units); a deal adds
# more for a prepayment per unit, paid at signing and credited against each unit of it bought.
def prepaid_problem(per_quarter: float, first: str, quarters: int, prepay: float) -> dict:
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 300
    doc["supply_deals"] = {"alloc": {"accelerator": "alpha", "units_per_quarter": per_quarter, "first_quarter": first,
                                     "quarters": quarters, "fee_usd": 0.0, "prepay_usd_per_unit": prepay}}
    return doc


def tampered(plan, table: str, **changes):
    """A copy of `plan` with the first row of `table` edited."""
    clone = copy.deepcopy(plan)
    clone.tables = {k: v.copy() for k, v in plan.tables.items()}
    frame = clone.tables[table]
    for column, value in changes.items():
        frame.loc[frame.index[0], column] = value
    return clone
