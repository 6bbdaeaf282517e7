"""Marginal values: duals of the plan's LP with every discrete decision fixed, in user units.

They are local to this plan: they price one more unit of a limit while the sites opened,
contracts signed, offers used and programs funded stay as they are, and counts may be
fractional. A dual of d $M per internal unit is reported as the saving per user unit
(positive: relaxing the limit lowers cost).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from ..formulation import LinearProgram, build
from ..formulation.variables import ROW_REPEATED_BOUNDS
from ..data.modeldata import FLOP_PER_EFLOPS_DAY, TPP_PER_MTPP, USD_PER_MUSD, ModelData, build_model_data
from ..solving.rounding import COUNT_FAMILIES
from ..schema.problem import Problem
from ..solvers import SolveOptions, Status, solve_with_watchdog
from ..solvers.lp_duals import GlopDuals

H100_TPP = 15_832.0
DUAL_TOL = 1e-9


def fixed_discrete_lp(lp: LinearProgram, x: np.ndarray) -> LinearProgram:
    """The LP with binaries fixed at x, counts continuous, and capacity bounds left to their rows."""
    lower = lp.lower.copy()
    upper = np.where(np.isin(lp.col_family, ROW_REPEATED_BOUNDS), np.inf, lp.upper)
    binaries = np.flatnonzero(lp.integer & ~np.isin(lp.col_family, COUNT_FAMILIES))
    lower[binaries] = upper[binaries] = np.round(x[binaries])
    return dataclasses.replace(lp, lower=lower, upper=upper, integer=np.zeros_like(lp.integer))


def lp_solve(lp: LinearProgram, x: np.ndarray, time_limit: float = 30.0):
    """Solve the fixed-discrete LP; returns the SolverResult (duals included)."""
    return solve_with_watchdog(GlopDuals(), fixed_discrete_lp(lp, x), SolveOptions(time_limit_s=time_limit))


def _meaning(family: str, index: str, d: ModelData) -> tuple[str, str, float] | None:
    """(what one more unit is, user unit, user units per internal unit) for a family's row."""
    if family == "site_power":
        return f"one more MW of powered IT capacity at {index}", "USD per MW", 1.0
    if family == "site_build":
        return f"one more MW of buildable capacity at {index}", "USD per MW", 1.0
    if family == "supply_cap":
        acc = index.split(",")[0]
        ups = d.acc_units_per_server[d.acc_ids.index(acc)]
        return f"one more {acc} in {index.split(',')[1]} (supply)", "USD per accelerator", ups
    if family == "custom_volume":
        return f"one more custom-chip server of volume in {index}", "USD per server", 1.0
    if family == "component_cap":
        return f"one more unit of {index.split(',')[0]} in {index.split(',')[1]}", "USD per unit", 1.0
    if family == "export_cap":
        return f"one more H100-equivalent ({H100_TPP:,.0f} TPP) of export cap in {index}", "USD per H100e", \
            TPP_PER_MTPP / H100_TPP
    if family == "firm_power":
        return f"one more MW of firm power at {index}", "USD per MW", 1.0
    if family == "contract_size":
        return f"one more MW under contract {index}", "USD per MW", 1.0
    if family == "cloud_capacity":
        return f"one more rented instance of {index}", "USD per instance", 1.0
    if family == "compute_target":
        return "1e24 FLOP more training compute (target)", "USD per 1e24 FLOP", FLOP_PER_EFLOPS_DAY / 1e24
    return None


def _chosen(lp: LinearProgram, x: np.ndarray, family: str) -> set[str]:
    """Labels of a binary family chosen (value 1) in the plan."""
    cols = lp.col_slices[family]
    return {str(label) for label, value in zip(lp.col_label[cols], x[cols]) if value > 0.5}


def _about_chosen_option(family: str, index: str, chosen: dict[str, set[str]], d: ModelData) -> bool:
    """A limit on an option the plan did not choose cannot be used without changing that choice:
    its dual is an artefact of degeneracy, and its value is a break-even question instead."""
    if family in ("site_power", "site_build", "firm_power", "energy_balance"):
        return index in chosen["open"]
    if family == "contract_size":
        return index in chosen["sign"]
    if family == "cloud_capacity":
        return index in chosen["use_cloud"]
    if family == "custom_volume":
        return index.split(",")[0] in chosen["fund"]
    return True


def marginal_values(problem: Problem, data: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """One row per binding limit on a chosen option with a nonzero dual, in user units."""
    result = lp_solve(lp, x)
    chosen = {family: _chosen(lp, x, family) for family in ("open", "sign", "use_cloud", "fund")}
    columns = ["family", "index", "meaning", "value_usd", "unit", "lp_objective_usd"]
    if result.status is not Status.OPTIMAL:
        return pd.DataFrame(columns=columns)
    rows = []
    for i in np.flatnonzero(np.abs(result.duals) > DUAL_TOL):
        family, index = lp.row_family[i], lp.row_label[i]
        meaning = _meaning(family, index, data)
        if meaning is None or not _about_chosen_option(family, index, chosen, data):
            continue
        what, unit, per_internal = meaning
        dual = result.duals[i]
        # A <= limit saves -dual per unit of relaxation; the >= target costs +dual per unit.
        value = (dual if family == "compute_target" else -dual) * USD_PER_MUSD / per_internal
        rows.append({"family": family, "index": index, "meaning": what, "value_usd": value, "unit": unit,
                     "lp_objective_usd": result.objective * USD_PER_MUSD})
    return pd.DataFrame(rows, columns=columns).sort_values("value_usd", key=abs, ascending=False).reset_index(drop=True)


def run_length_value(problem: Problem, data: ModelData, lp: LinearProgram, x: np.ndarray) -> dict | None:
    """Cost change of one more day of run length (start fixed, deadline a day later), same discrete choices.

    A finite difference of the fixed-discrete LP: run length changes coefficients, not a bound.
    """
    base = lp_solve(lp, x)
    longer = problem.with_({
        "run.start": data.run_start,
        "run.deadline": max(problem.run.deadline, data.run_start + dt.timedelta(days=problem.run.length_days + 1)),
        "run.length_days": problem.run.length_days + 1,
    })
    longer_data = build_model_data(longer)
    longer_lp = build(longer_data)
    if base.status is not Status.OPTIMAL or longer_lp.structure_key() != lp.structure_key():
        return None
    extended = lp_solve(longer_lp, x)
    if extended.status is not Status.OPTIMAL:
        return None
    return {"meaning": "one more day of run length (same start, same discrete choices)",
            "value_usd": (base.objective - extended.objective) * USD_PER_MUSD, "unit": "USD per day"}
