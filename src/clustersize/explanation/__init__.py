"""Tell the planner why: what binds and what it is worth, break-even prices, why infeasible."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..formulation import LinearProgram, build
from ..data.modeldata import ModelData, build_model_data
from ..solving.pipeline import solve
from ..plan.plan import Plan
from ..reports.terminal import DEFINITIONAL
from ..schema.problem import Problem
from .breakeven import break_even_table
from .infeasible import diagnose
from .marginal import marginal_values, run_length_value

LOCAL_NOTE = ("Marginal values are local to this plan: each prices one more unit of a limit while the sites, "
              "contracts, cloud offers and programs chosen stay as they are (counts may be fractional).")


def solution_from_tables(plan: Plan, data: ModelData, lp: LinearProgram) -> np.ndarray:
    """The plan's decisions as the model's column vector (for a plan read from JSON)."""
    x = np.zeros(lp.shape[1])
    position = {(f, label): j for j, (f, label) in enumerate(zip(lp.col_family, lp.col_label))}

    def put(family, label, value):
        if (family, label) in position:
            x[position[(family, label)]] = value

    ups = dict(zip(data.acc_ids, data.acc_units_per_server))
    for r in plan.table("purchases").itertuples():
        put("buy", f"{r.accelerator},{r.site},{r.quarter}", r.units / ups[r.accelerator])
    for r in plan.table("sites").itertuples():
        put("open", r.site, float(r.opened))
        put("new_mw", r.site, r.new_mw)
    for r in plan.table("contracts").itertuples():
        put("sign", r.contract, float(r.signed))
        put("contract_mw", r.contract, r.contracted_mw)
        put("energy", r.contract, r.energy_mwh / 1000.0)
    for r in plan.table("rentals").itertuples():
        put("rent", r.offer, r.instances)
        put("use_cloud", r.offer, 1.0)
    for r in plan.table("custom_programs").itertuples():
        put("fund", r.program, float(r.funded))
    put("multi_site", "run", float(plan.locations_used > 1))
    return x


def binding_summary(plan: Plan) -> list[dict]:
    """Tight limits (and near-tight ones with their slack), definitional rows left out."""
    frame = plan.table("binding")
    if frame.empty:
        return []
    frame = frame[~frame.family.isin(DEFINITIONAL)]
    return frame.assign(state=np.where(frame.binding, "binding", "near")).to_dict(orient="records")


def explain(problem: Problem, plan: Plan | None = None, *, break_even: bool = True, tolerance: float = 0.01,
            workers: int | None = None, solver: str | None = None, time_limit: float | None = None,
            gap: float | None = None, base: dict | None = None) -> dict[str, Any]:
    """Explain a plan (solved here if not given): what binds and its worth, break-even prices, or why infeasible."""
    settings = {"solver": solver, "time_limit": time_limit, "gap": gap}
    if plan is None:
        plan = solve(problem, check=False, **settings)
    data = build_model_data(problem)
    lp = build(data)
    explanation: dict[str, Any] = {"status": plan.status.value, "objective_usd": plan.objective_usd,
                                   "note": LOCAL_NOTE, "binding": [], "marginal_values": [], "run_length": None,
                                   "break_even": [], "break_even_tolerance": tolerance, "diagnosis": None}
    if not plan.has_plan:
        explanation["diagnosis"] = diagnose(problem, data, lp, solver=solver or problem.solver.name,
                                            time_limit=time_limit or problem.solver.time_limit_s)
        return explanation
    same = plan.solution is not None and plan.structure == lp.structure_key()
    x = plan.solution if same else solution_from_tables(plan, data, lp)
    explanation["binding"] = binding_summary(plan)
    explanation["marginal_values"] = marginal_values(problem, data, lp, x).to_dict(orient="records")
    explanation["run_length"] = run_length_value(problem, data, lp, x)
    if break_even:
        from ..whatif import base_document

        doc = base if base is not None else base_document(problem)
        explanation["break_even"] = break_even_table(doc, problem, plan, settings, tolerance, workers,
                                                     exclusions=data.exclusions)
    return explanation


def frames(explanation: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The explanation's lists as tables."""
    return {key: pd.DataFrame(explanation.get(key) or []) for key in ("binding", "marginal_values", "break_even")}


__all__ = ["explain", "frames", "solution_from_tables"]
