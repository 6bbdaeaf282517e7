"""The two-stage plan checked without the model: each scenario's plan verified on its own problem,
the decisions before the reveal read from the plans' tables and found equal in every scenario, and
every figure recomputed from the scenario plans' costs and the probabilities.

The figures are recomputed by a different method from the solve's: CVaR as the mean of the costliest
scenarios that carry (1 - level) of the probability, quantiles by walking the sorted costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..periods import quarter_label, reveal_quarter
from ..plan.plan import Plan
from ..schema.problem import Problem

REL_TOL = 1e-6
DATED_DECISIONS = (   # (table, its date column, the decision's key, its amount): first-stage when dated before the reveal
    ("purchases", "quarter", "buy {accelerator} at {site} in {quarter}", "units"),
    ("sales", "quarter", "sell {accelerator} at {site} ordered {ordered} in {quarter}", "units"),
    ("spot", "quarter", "buy {accelerator} spot in {quarter}", "units"),
    ("commitments", "start", "commit {offer} from {start}", "instances"),
    ("leases", "quarter", "lease {site} in {quarter} [MW]", "leased_mw"),
)


def first_stage_decisions(plan: Plan, problem: Problem) -> dict[str, float]:
    """Every decision of a plan taken before the reveal, by a readable key, from its tables."""
    assert problem.risk.reveal is not None, "a two-stage problem has a reveal date"
    first = quarter_label(problem.planning_start, reveal_quarter(problem.planning_start, problem.risk.reveal))
    reveal = problem.risk.reveal.isoformat()
    found: dict[str, float] = {}

    def add(key: str, value: Any) -> None:
        found[key] = found.get(key, 0.0) + float(value)

    for table, date, label, value in DATED_DECISIONS:
        for record in plan.table(table).to_dict("records"):
            if str(record[date]) < first:
                add(label.format(**record), record[value])
    for row in plan.table("sites").itertuples():
        add(f"open {row.site}", bool(row.opened))
        add(f"build {row.site} [MW]", row.new_mw)
    for row in plan.table("contracts").itertuples():
        add(f"sign {row.contract}", bool(row.signed))
        add(f"contract {row.contract} [MW]", row.contracted_mw)
    for row in plan.table("custom_programs").itertuples():
        add(f"fund {row.program}", bool(row.funded))
    for row in plan.table("supply_deals").itertuples():
        add(f"deal {row.deal}", row.taken)
    early = {str(r.run): r for r in plan.table("runs").itertuples() if str(r.start) < reveal}
    for name, row in early.items():
        add(f"run {name} from {row.start} for {row.days:g} days", 1.0)
    for row in plan.table("cluster").itertuples():
        if str(row.run) in early:
            add(f"run {row.run}: {row.accelerator} at {row.location}", row.units)
    return {k: v for k, v in found.items() if abs(v) > 1e-9}


def _quantile(costs: list[tuple[float, float]], level: float) -> float:
    total = 0.0
    for cost, probability in sorted(costs):
        total += probability
        if total >= level - 1e-12:
            return cost
    return max(c for c, _ in costs)


def _cvar(costs: list[tuple[float, float]], level: float) -> float:
    """Mean of the costliest outcomes holding (1 - level) of the probability (split at the boundary)."""
    left, total = 1.0 - level, 0.0
    for cost, probability in sorted(costs, reverse=True):
        take = min(probability, left)
        total += take * cost
        left -= take
        if left <= 1e-15:
            break
    return total / (1.0 - level)


def expected_figures(costs: list[tuple[float, float]], weight: float, level: float) -> dict[str, float]:
    """Mean, quantiles, CVaR and the objective of (cost, probability) pairs [USD]."""
    mean = sum(c * p for c, p in costs)
    cvar = _cvar(costs, level)
    return {"expected_usd": mean, "p10_usd": _quantile(costs, 0.1), "p50_usd": _quantile(costs, 0.5),
            "p90_usd": _quantile(costs, 0.9), "cvar_usd": cvar, "objective_usd": (1 - weight) * mean + weight * cvar}


def verify_two_stage(figures: Mapping[str, float | None], scenarios: pd.DataFrame, plans: Mapping[str, Plan],
                     problems: Mapping[str, Problem]) -> dict[str, Any]:
    """{"ok", "checks", "violations"}: scenario plans verified, one first stage, every figure recomputed."""
    violations: list[dict[str, Any]] = []
    checks = 0

    def check(ok: bool, name: str, index: str, message: str) -> None:
        nonlocal checks
        checks += 1
        if not ok:
            violations.append({"check": name, "index": index, "message": message})

    for name, plan in plans.items():
        check(plan.verified, "scenario_plan", name, f"scenario {name}'s plan failed verification")
    decisions = {name: first_stage_decisions(plan, problems[name]) for name, plan in plans.items()}
    names = list(plans)
    for name in names[1:]:
        for key in sorted(set(decisions[names[0]]) | set(decisions[name])):
            a, b = decisions[names[0]].get(key, 0.0), decisions[name].get(key, 0.0)
            check(abs(a - b) <= REL_TOL * max(1.0, abs(a)), "nonanticipativity", f"{name}: {key}",
                  f"{key}: {b:g} in scenario {name}, {a:g} in {names[0]}: a decision before the reveal differs")
    rows = {str(r.scenario): r for r in scenarios.itertuples()}
    for name, plan in plans.items():
        stated = float(rows[name].cost_usd) if name in rows else float("nan")
        check(plan.objective_usd is not None and abs(stated - plan.objective_usd) <= REL_TOL * max(1.0, abs(stated)),
              "scenario_cost", name, f"scenarios.{name}.cost_usd {stated:,.2f} is not its plan's cost {plan.objective_usd}")
    level = float(figures.get("cvar_level") or 0.9)
    weight = float(figures.get("cvar_weight") or 0.0)
    pairs = [(float(plans[n].objective_usd or 0.0), float(rows[n].probability)) for n in names]
    recomputed = expected_figures(pairs, weight, level)
    for key in ("eev", "wait_and_see"):
        column = f"{key}_usd"
        if column in scenarios and scenarios[column].notna().all():
            recomputed[column] = expected_figures([(float(getattr(rows[n], column)), float(rows[n].probability))
                                                   for n in names], weight, level)["objective_usd"]
    if figures.get("eev_usd") is not None and "eev_usd" in recomputed:
        recomputed["vss_usd"] = recomputed["eev_usd"] - recomputed["objective_usd"]
    if figures.get("wait_and_see_usd") is not None and "wait_and_see_usd" in recomputed:
        recomputed["evpi_usd"] = recomputed["objective_usd"] - recomputed["wait_and_see_usd"]
    for key, value in recomputed.items():
        stated_figure = figures.get(key)
        check(stated_figure is not None and abs(float(stated_figure) - value) <= REL_TOL * max(1.0, abs(value)),
              "figure", key, f"{key}: stated {stated_figure}, recomputed {value:,.2f}")
    return {"ok": not violations, "checks": checks, "violations": violations}

