"""Independent verifier: recompute every constraint and the cost from the plan and the problem.

It tallies the plan's decisions in user units straight from the validated problem (ledger.py),
runs the check of every constraint family declared in families.py (checks.py), recomputes the
cost on the problem's basis, and compares every figure the plan states with its recomputation
(integrity.py). It imports no solver, formulation or model-data code: a
mistake in those shows up here as a violation rather than being repeated. It shares only input
interpretation (calendar quarters, export-rule classification) with the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..families import FAMILIES, Family
from ..records import Record
from ..schema.problem import Problem
from .cashflows import cash_flows
from .checks import CHECKS
from .costing import lines_from_cash
from .integrity import Mismatch, check_integrity
from .ledger import Checker, Violation, tally
from .plan import Plan
from .timing import EarlyPurchase, early_purchases

COST_REL_TOL = 1e-6


@dataclass(frozen=True)
class Verification(Record):
    """The verifier's verdict: every check counted, each violation named, figures recomputed.

    violations: decisions that break a constraint; mismatches: figures the plan states (table
    columns, totals, hashes, status and gap) that disagree with their recomputation (integrity.py).
    cost_usd [USD] on the problem's cost basis, delivered_flop [FLOP] by every run after goodput,
    span and stack losses, locations [count] used, summed over the runs. early_purchases: orders
    that could be placed a quarter later, stay feasible and cost less (reported, not violations: a
    plan within its gap may keep a few dollars of such savings).
    """

    ok: bool                 # no violation and no mismatch
    checks: int
    violations: list[Violation] = field(default_factory=list)
    cost_usd: float | None = None
    delivered_flop: float | None = None
    locations: int | None = None
    note: str = ""
    mismatches: list[Mismatch] = field(default_factory=list)
    cost_lines: dict[str, dict[str, float]] = field(default_factory=dict)   # line -> {full, npv, amortised} [USD]
    early_purchases: list[EarlyPurchase] = field(default_factory=list)       # orders that could wait a quarter
    frame_field = "violations"
    frame_columns = ("check", "index", "amount", "message")


def verify(plan: Plan, problem: Problem, families: tuple[Family, ...] = FAMILIES) -> Verification:
    """Check the plan against the problem: every decision allowed, every family's rows, the cost.

    families : the constraint families to check; a family declared with its own `verify` (a
        plug-in or a test) is checked by it, the package's own by name.
    """
    if not plan.has_plan:
        return Verification(ok=False, checks=0, note="no plan to verify")
    c = Checker()
    ledger = tally(plan, problem, c)
    for family in families:
        check = family.verify or CHECKS[family.name]
        check(ledger, c)
    cash = cash_flows(ledger)
    lines = lines_from_cash(ledger, cash)
    total = sum(line[problem.costs.basis] for line in lines.values())
    if plan.objective_usd is not None:
        c.at_most("cost", "total", abs(total - plan.objective_usd), COST_REL_TOL * max(1.0, abs(total)), "USD",
                  f"recomputed cost {total:,.2f} differs from the plan's {plan.objective_usd:,.2f}")
    figures = {"cost_usd": total, "delivered_flop": ledger.delivered_flop, "locations": ledger.locations,
               "ok": not c.violations, "cost_lines": lines, "cash": cash}
    mismatches = check_integrity(plan, problem, figures, ledger)
    return Verification(ok=not c.violations and not mismatches, checks=c.checks, violations=c.violations,
                        cost_usd=total, delivered_flop=ledger.delivered_flop, locations=ledger.locations,
                        mismatches=mismatches, cost_lines=lines, early_purchases=early_purchases(ledger))
