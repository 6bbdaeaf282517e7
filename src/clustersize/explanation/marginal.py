"""Marginal values of a plan's limits (solving/duals.py) as records, and the value of one more day of run.

They are local to this plan: they price one more unit of a limit while the sites opened,
contracts signed, offers used and programs funded stay as they are, and counts may be
fractional (positive: relaxing the limit lowers cost).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from ..data.modeldata import USD_PER_MUSD, ModelData, build_model_data
from ..families import FAMILIES
from ..formulation import LinearProgram, build
from ..schema.problem import Problem
from ..solvers import Status
from ..solving.duals import lp_solve, row_values

MARGINAL_COLUMNS = ["family", "index", "meaning", "value_usd", "unit", "lp_objective_usd"]


def marginal_values(problem: Problem, data: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """One row per limit on a chosen option with a nonzero value, in user units (solving/duals.py)."""
    result = lp_solve(lp, x)
    if result.status is not Status.OPTIMAL or result.objective is None:
        return pd.DataFrame(columns=MARGINAL_COLUMNS)
    values = row_values(data, lp, x, result)
    families = {f.name: f for f in FAMILIES}
    rows = []
    for i in np.flatnonzero(np.nan_to_num(np.abs(values)) > 0):
        family, key = families[str(lp.row_family[i])], lp.row_keys.key(int(i))
        rows.append({"family": family.name, "index": ",".join(key), "meaning": family.describe(key),
                     "value_usd": values[i], "unit": family.dual_unit, "lp_objective_usd": result.objective * USD_PER_MUSD})
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
