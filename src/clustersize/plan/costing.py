"""The plan's cost lines on every basis, recomputed by the verifier from its own cash flows."""

from __future__ import annotations

from ..costlines import LINES as COST_LINES
from .cashflows import Cash, amortised_lines, cash_flows, discount_at
from .ledger import Ledger


def lines_from_cash(ledger: Ledger, cash: Cash) -> dict[str, dict[str, float]]:
    """Each cost line [USD] on each basis: full (nominal, no resale credit), npv (discounted, resale
    credited) and amortised (docs/costs.md)."""
    problem = ledger.problem
    amortised = amortised_lines(ledger, cash)
    lines = {}
    for line in COST_LINES:
        per = cash.get(line, {})
        lines[line] = {"full": 0.0 if line == "residual" else sum(per.values()),
                       "npv": sum(usd * discount_at(problem, q) for q, usd in per.items()),
                       "amortised": amortised.get(line, 0.0)}
    return lines


def cost_lines(ledger: Ledger) -> dict[str, dict[str, float]]:
    """Each cost line [USD] on each basis, from the ledger's decisions."""
    return lines_from_cash(ledger, cash_flows(ledger))


def recomputed_cost(ledger: Ledger) -> float:
    """The plan's cost [USD] on the problem's basis: the sum of its cost lines."""
    basis = ledger.problem.costs.basis
    return sum(line[basis] for line in cost_lines(ledger).values())
