"""Tell the planner why: what binds and what it is worth, break-even prices, why infeasible."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..data.modeldata import ModelData, build_model_data
from ..families import definitional_names
from ..formulation import LinearProgram, build
from ..plan.plan import Plan
from ..records import Record
from ..schema.problem import Problem
from ..solving.diagnosis import Diagnosis, diagnose
from ..solving.pipeline import solve
from .breakeven import break_even_table, check_tolerance
from .marginal import MARGINAL_COLUMNS, marginal_values, run_length_value

LOCAL_NOTE = ("Marginal values are local to this plan: each prices one more unit of a limit while the sites, "
              "contracts, cloud offers and programs chosen stay as they are (counts may be fractional).")


def solution_from_tables(plan: Plan, data: ModelData, lp: LinearProgram) -> np.ndarray:
    """The plan's decisions as the model's column vector (for a plan read from JSON): purchases
    (spot and sold among them), sites, contracts, programs and supply deals (with their credits),
    each run's window, pace, band, locations and span, its cluster, rentals and energy. Continuous
    bookkeeping (losses, region use) is left to the LP."""
    x = np.zeros(lp.shape[1])
    position = lp.col_keys.positions()

    def put(family: str, key: tuple[str, ...], value: float) -> None:
        j = position.get((family, key))
        if j is not None:
            x[j] = value

    ups = dict(zip(data.acc_ids, data.acc_units_per_server))
    upi = dict(zip(data.cloud_ids, data.cloud_units_per_instance))
    for r in plan.table("purchases").itertuples():
        put("buy", (r.accelerator, r.site, r.quarter), r.units / ups[r.accelerator])
    for r in plan.table("spot").itertuples():
        put("spot", (r.accelerator, r.quarter), r.units / ups[r.accelerator])
    for r in plan.table("sales").itertuples():
        put("sell", (r.accelerator, r.site, r.ordered, r.quarter), r.units / ups[r.accelerator])
    _put_deals(put, plan, data)
    for r in plan.table("sites").itertuples():
        put("open", (r.site,), float(r.opened))
        put("new_mw", (r.site,), r.new_mw)
    for r in plan.table("contracts").itertuples():
        put("sign", (r.contract,), float(r.signed))
        put("contract_mw", (r.contract,), r.contracted_mw)
    for r in plan.table("custom_programs").itertuples():
        put("fund", (r.program,), float(r.funded))
    windows = {str(row.run): f"{row.run}@{row.start}+{row.days:g}d" for row in plan.table("runs").itertuples()}
    for r in plan.table("energy").itertuples():
        put("energy", (r.contract, windows.get(str(r.run), "")), r.energy_mwh / 1000.0)
    for r in plan.table("cluster").itertuples():
        window = windows.get(str(r.run), "")
        if r.kind == "site":
            put("units", (r.accelerator, r.location, window), r.units / ups[r.accelerator])
        else:
            put("rent", (r.location, window), r.units / upi[r.location])
    for row in plan.table("runs").itertuples():
        _put_run_choices(put, data, row, windows[str(row.run)])
    return x


def _put_deals(put: Any, plan: Plan, data: ModelData) -> None:
    """Each supply deal's share taken, and the units credited against a prepaid one (in model units:
    servers, or component units)."""
    per_unit = dict(zip(data.deals.ids, data.deals.per_unit.tolist()))
    for r in plan.table("supply_deals").itertuples():
        put("deal", (r.deal,), float(r.taken))
    for r in plan.table("deal_credits").itertuples():
        put("take", (r.deal, r.quarter), r.units / per_unit.get(str(r.deal), 1.0))


def _put_run_choices(put: Any, data: ModelData, row: Any, window: str) -> None:
    """One run's window, pace level, goodput band, locations and span levels."""
    run = str(row.run)
    put("window", (window,), 1.0)
    put("pace", (f"{run}:{row.group}@{row.pace_tflops:.4g}",), 1.0)
    r = data.runs
    bands = np.flatnonzero(r.band_run == r.ids.index(run))
    band = bands[min(int(np.searchsorted(r.band_units[bands], row.units - 1e-6)), bands.size - 1)]
    put("band", (f"{run}:<={r.band_units[band]:g}",), 1.0)
    for location in str(row.locations).split(";") if row.locations else []:
        put("use", (run, location), 1.0)
    for stack in str(row.stacks).split(";") if row.stacks else []:
        put("stack_used", (run, stack), 1.0)
    for extra in range(1, int(row.extra_stacks) + 1):
        put("extra", (run, str(extra)), 1.0)
    reached = {"one": 0, "region": 1, "continent": 2, "world": 3}[str(row.span)]
    for level, name in enumerate(("region", "continent", "world"), start=1):
        put("spread", (run, name), float(level <= reached))


def binding_summary(plan: Plan) -> list[dict[str, Any]]:
    """Tight limits (and near-tight ones with their slack), definitional rows left out."""
    frame = plan.table("binding")
    if frame.empty:
        return []
    frame = frame[~frame.family.isin(definitional_names())]
    records: list[dict[str, Any]] = frame.assign(state=np.where(frame.binding, "binding", "near")).to_dict(
        orient="records")
    return records


@dataclass(frozen=True)
class Explanation(Record):
    """Why the plan is what it is: what binds and its worth, break-even prices, or why infeasible.

    marginal_values : one record per binding limit, value_usd [USD per unit] (families.py).
    run_length : the cost change of one more day of run [USD per day], or None.
    break_even : one record per option with the price at which it enters or leaves the plan.
    diagnosis : for a problem without a plan, why.
    """

    status: str
    objective_usd: float | None
    note: str = LOCAL_NOTE
    binding: list[dict[str, Any]] = field(default_factory=list)
    marginal_values: list[dict[str, Any]] = field(default_factory=list)
    run_length: dict[str, Any] | None = None
    break_even: list[dict[str, Any]] = field(default_factory=list)
    break_even_tolerance: float = 0.01
    diagnosis: Diagnosis | None = None
    frame_field = "marginal_values"
    frame_columns = tuple(MARGINAL_COLUMNS)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The explanation's lists as tables."""
        return {key: pd.DataFrame(getattr(self, key) or []) for key in ("binding", "marginal_values", "break_even")}


def explain(problem: Problem, plan: Plan | None = None, *, break_even: bool = True, tolerance: float = 0.01,
            workers: int | None = None, solver: str | None = None, time_limit: float | None = None,
            gap: float | None = None, base: dict[str, Any] | None = None) -> Explanation:
    """Explain a plan (solved here if not given): what binds and its worth, break-even prices, or why infeasible."""
    settings = {"solver": solver, "time_limit": time_limit, "gap": gap}
    if break_even:
        check_tolerance(tolerance)   # before any solve: a tolerance that can never be met would hang
    if plan is None:
        plan = solve(problem, check=False, solver=solver, time_limit=time_limit, gap=gap)
    data = build_model_data(problem)
    lp = build(data)
    if not plan.has_plan:
        diagnosis = diagnose(problem, data, lp, solver=solver or problem.solver.name,
                             time_limit=time_limit or problem.solver.time_limit_s)
        return Explanation(plan.status.value, plan.objective_usd, break_even_tolerance=tolerance, diagnosis=diagnosis)
    same = plan.solution is not None and plan.structure == lp.structure_key()
    x = plan.solution if same and plan.solution is not None else solution_from_tables(plan, data, lp)
    breaks: list[dict[str, Any]] = []
    if break_even:
        from ..whatif import base_document

        doc = base if base is not None else base_document(problem)
        breaks = break_even_table(doc, problem, settings, tolerance, workers, exclusions=data.exclusions,
                                  solved=plan)
    return Explanation(plan.status.value, plan.objective_usd, binding=binding_summary(plan),
                       marginal_values=marginal_values(problem, data, lp, x).to_dict(orient="records"),
                       run_length=run_length_value(problem, data, lp, x), break_even=breaks,
                       break_even_tolerance=tolerance)


def frames(explanation: Explanation) -> dict[str, pd.DataFrame]:
    """The explanation's lists as tables."""
    return explanation.frames()


__all__ = ["Diagnosis", "Explanation", "explain", "frames", "solution_from_tables"]
