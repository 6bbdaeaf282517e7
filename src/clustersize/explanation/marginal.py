"""Marginal values: duals of the plan's LP with every discrete decision fixed, in user units.

They are local to this plan: they price one more unit of a limit while the sites opened,
contracts signed, offers used and programs funded stay as they are, and counts may be
fractional. A dual of d $M per internal unit is reported as the saving per user unit
(positive: relaxing the limit lowers cost).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from ..data.modeldata import USD_PER_MUSD, ModelData, build_model_data
from ..data.units import user_per_internal
from ..families import FAMILIES
from ..formulation import LinearProgram, build
from ..formulation.variables import ROW_REPEATED_BOUNDS
from ..schema.problem import Problem
from ..solvers import SolveOptions, SolverResult, Status, solve_with_watchdog
from ..solvers.lp_duals import GlopDuals
from ..solving.rounding import COUNT_FAMILIES

DUAL_TOL = 1e-9


def fixed_discrete_lp(lp: LinearProgram, x: np.ndarray) -> LinearProgram:
    """The LP with binaries fixed at x, counts continuous, and capacity bounds left to their rows."""
    lower = lp.lower.copy()
    upper = np.where(np.isin(lp.col_family, ROW_REPEATED_BOUNDS), np.inf, lp.upper)
    binaries = np.flatnonzero(lp.integer & ~np.isin(lp.col_family, COUNT_FAMILIES))
    lower[binaries] = upper[binaries] = np.round(x[binaries])
    return dataclasses.replace(lp, lower=lower, upper=upper, integer=np.zeros_like(lp.integer))


def lp_solve(lp: LinearProgram, x: np.ndarray, time_limit: float = 30.0) -> SolverResult:
    """Solve the fixed-discrete LP; returns the SolverResult (duals included)."""
    return solve_with_watchdog(GlopDuals(), fixed_discrete_lp(lp, x), SolveOptions(time_limit_s=time_limit))


def _chosen(lp: LinearProgram, x: np.ndarray, family: str) -> set[str]:
    """First key element of each column of a binary family chosen (value 1) in the plan."""
    cols = lp.columns_of(family)
    return {lp.col_keys.key(int(j))[0] for j in cols[x[cols] > 0.5]}


MARGINAL_COLUMNS = ["family", "index", "meaning", "value_usd", "unit", "lp_objective_usd"]


def marginal_values(problem: Problem, data: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """One row per binding limit on a chosen option with a nonzero dual, in user units.

    A limit on an option the plan did not choose cannot be used without changing that choice:
    its dual is an artefact of degeneracy, and its value is a break-even question instead.
    """
    result = lp_solve(lp, x)
    if result.status is not Status.OPTIMAL or result.duals is None or result.objective is None:
        return pd.DataFrame(columns=MARGINAL_COLUMNS)
    reported = {f.name: f for f in FAMILIES if f.meaning is not None}
    chosen = {f.hangs_on: _chosen(lp, x, f.hangs_on) for f in reported.values() if f.hangs_on}
    rows = []
    for i in np.flatnonzero(np.abs(result.duals) > DUAL_TOL):
        family = reported.get(str(lp.row_family[i]))
        key = lp.row_keys.key(int(i))
        if family is None or (family.hangs_on and key[0] not in chosen[family.hangs_on]):
            continue
        # A <= limit saves -dual per unit of relaxation; a >= target costs +dual per unit.
        dual = result.duals[i] if np.isinf(lp.row_upper[i]) else -result.duals[i]
        rows.append({"family": family.name, "index": ",".join(key), "meaning": family.describe(key),
                     "value_usd": dual * USD_PER_MUSD / user_per_internal(family, key, data),
                     "unit": family.dual_unit, "lp_objective_usd": result.objective * USD_PER_MUSD})
    frame = pd.DataFrame(rows, columns=MARGINAL_COLUMNS)
    return frame.sort_values("value_usd", key=abs, ascending=False).reset_index(drop=True)


def _same_layout(a: LinearProgram, b: LinearProgram) -> bool:
    """Same columns, rows and sparsity in the same order (labels aside: a window's carries its length)."""
    return (a.shape == b.shape and np.array_equal(a.col_family, b.col_family)
            and np.array_equal(a.row_family, b.row_family) and np.array_equal(a.matrix.indptr, b.matrix.indptr)
            and np.array_equal(a.matrix.indices, b.matrix.indices))


def run_length_value(problem: Problem, data: ModelData, lp: LinearProgram, x: np.ndarray) -> dict[str, Any] | None:
    """Cost change of one more day of run length (start fixed, deadline a day later), same discrete choices.

    A finite difference of the fixed-discrete LP: run length changes coefficients, not a bound.
    """
    run = problem.run
    if run is None or run.length_days is None:
        return None  # several runs, or a window of chosen length: no single run length to extend
    windows = data.runs.windows
    start = windows.starts[int(np.argmax(x[lp.columns_of("window")]))]
    base = lp_solve(lp, x)
    longer = problem.with_({
        "run.start": start,
        "run.deadline": max(run.deadline, start + dt.timedelta(days=run.length_days + 1)),
        "run.length_days": run.length_days + 1,
    })
    longer_data = build_model_data(longer)
    longer_lp = build(longer_data)
    if base.status is not Status.OPTIMAL or not _same_layout(lp, longer_lp):
        return None
    extended = lp_solve(longer_lp, x)
    if extended.status is not Status.OPTIMAL or base.objective is None or extended.objective is None:
        return None
    return {"meaning": "one more day of run length (same start, same discrete choices)",
            "value_usd": (base.objective - extended.objective) * USD_PER_MUSD, "unit": "USD per day"}
