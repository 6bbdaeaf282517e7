"""Purchases that could wait: the verifier's report of orders that could move one quarter later,
stay feasible and cost less (prices decline over time).

An order of accelerator a at site s in quarter t is installed from quarter `ready`. Moving some of
it to t + 1 installs it a quarter later: it stays feasible when the runs working and the servers
serving at (a, s) in quarter `ready` still fit without it, when quarter t + 1 has supply (and components, and custom volume)
left, and the order can still be placed then. It costs less when the all-in unit cost of t + 1 is
lower on the problem's cost basis: a lower price, a later payment at a positive discount rate, fewer
quarters of operating cost, a smaller amortised share.
Supply caps often force early buying; such an order is not reported. Like the rest of the
verifier, this reads only the plan's tables and the problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .cashflows import unit_charge_usd
from .checks import _supply_limit
from .ledger import Ledger

MIN_SAVING_USD = 1.0


@dataclass(frozen=True)
class EarlyPurchase:
    """Units of an order that could be placed a quarter later for `saving_usd` less."""

    accelerator: str
    site: str
    quarter: str
    units: float
    saving_usd: float


def _room(ledger: Ledger, accelerator: str, quarter: str) -> float:
    """Units of supply left in an order quarter [units]."""
    used = ledger.supply_used.get((accelerator, quarter), 0.0)
    if accelerator.startswith("custom:"):
        program = ledger.problem.custom_programs[accelerator.split(":", 1)[1]]
        return program.volume_per_quarter - used if ledger.funded.get(accelerator.split(":", 1)[1]) else 0.0
    return _supply_limit(ledger, accelerator, quarter) - used


def _component_room(ledger: Ledger, accelerator: str, quarter: str) -> float:
    """Units whose shared components quarter `quarter` still has [units]."""
    chip = ledger.chips[accelerator]
    room = math.inf
    for component, per_unit in chip.components.items():
        if per_unit > 0:
            left = ledger.problem.components[component] - ledger.component_used.get((component, quarter), 0.0)
            room = min(room, left / per_unit)
    return room


def early_purchases(ledger: Ledger) -> list[EarlyPurchase]:
    """Every order of which some units could move a quarter later, stay feasible and cost less."""
    labels = ledger.labels
    working = ledger.busy()
    found = []
    for row in ledger.plan.table("purchases").itertuples():
        chip = ledger.chips.get(row.accelerator)
        if chip is None or row.quarter not in labels or row.ready not in labels:
            continue
        t, ready = labels.index(row.quarter), labels.index(row.ready)
        if t + 1 >= len(labels) or ready + 1 >= len(labels):
            continue
        later = labels[t + 1]
        spare = ledger.installed.get((row.accelerator, row.site, ready), 0.0) - working.get(
            (row.accelerator, row.site, ready), 0.0)
        movable = min(float(row.units), spare, _room(ledger, row.accelerator, later),
                      _component_room(ledger, row.accelerator, later))
        movable = math.floor(movable / chip.units_per_server + 1e-9) * chip.units_per_server
        now = unit_charge_usd(ledger, chip, row.site, t, ready)
        then = unit_charge_usd(ledger, chip, row.site, t + 1, ready + 1)
        if movable > 0 and (now - then) * movable >= MIN_SAVING_USD:
            found.append(EarlyPurchase(row.accelerator, row.site, row.quarter, movable, (now - then) * movable))
    return found
