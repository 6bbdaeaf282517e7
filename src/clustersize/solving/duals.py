"""What each limit of a plan is worth: duals of its LP with every discrete decision fixed, per user unit.

They are local to the plan: they price one more unit of a limit while the sites opened, contracts
signed, offers used and programs funded stay as they are, and counts may be fractional. A dual of
d $M per internal unit is reported as the saving per user unit (positive: relaxing the limit
lowers cost). A limit on an option the plan did not choose cannot be used without changing that
choice: its dual is an artefact of degeneracy and is not reported.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data.modeldata import USD_PER_MUSD, ModelData
from ..data.units import user_per_internal
from ..families import FAMILIES, hangs_on
from ..formulation import LinearProgram
from ..formulation.variables import ROW_REPEATED_BOUNDS
from ..solvers import SolveOptions, SolverResult, Status, solve_with_watchdog
from ..solvers.lp_duals import GlopDuals
from .rounding import COUNT_FAMILIES

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


def row_values(data: ModelData, lp: LinearProgram, x: np.ndarray, result: SolverResult | None = None) -> np.ndarray:
    """What one more user unit of each row's limit saves [USD per the family's unit]: 0 where the dual
    is zero, NaN where the family's value is not reported (definitions), the limit hangs on an option
    not chosen, or the LP did not solve."""
    result = result or lp_solve(lp, x)
    values = np.full(lp.shape[0], np.nan)
    if result.status is not Status.OPTIMAL or result.duals is None:
        return values
    reported = {f.name: f for f in FAMILIES if f.meaning is not None}
    unchosen = lp.unchosen_rows(x, hangs_on())
    for name, family in reported.items():
        rows = np.flatnonzero(lp.row_family == name)
        values[rows] = 0.0
        for i in rows[np.abs(result.duals[rows]) > DUAL_TOL]:
            key = lp.row_keys.key(int(i))
            if unchosen[i]:
                values[i] = np.nan
                continue
            # A <= limit saves -dual per unit of relaxation; a >= target costs +dual per unit.
            dual = result.duals[i] if np.isinf(lp.row_upper[i]) else -result.duals[i]
            values[i] = dual * USD_PER_MUSD / user_per_internal(family, key, data)
    return values
