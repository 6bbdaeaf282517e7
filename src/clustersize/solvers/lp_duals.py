"""An LP with row duals, from GLOP (OR-Tools), for marginal values."""

from __future__ import annotations

import time

import numpy as np

from ..formulation import LinearProgram
from .base import Capabilities, SolveOptions, SolverResult, Status


class GlopDuals:
    """Solve a continuous LP and return its duals; integer flags must be cleared beforehand."""

    name = "glop"
    capabilities = Capabilities(integer=False)

    def available(self) -> bool:
        """GLOP ships with OR-Tools."""
        return True

    def solve(self, lp: LinearProgram, options: SolveOptions) -> SolverResult:
        """Solve in the watchdog child; duals are d(objective)/d(row bound) in internal units."""
        from ortools.linear_solver.python import model_builder as mb

        started = time.perf_counter()
        model = mb.Model()
        model.helper.fill_model_from_sparse_data(lp.lower, lp.upper, lp.cost, lp.row_lower, lp.row_upper, lp.matrix)
        solver = mb.Solver("GLOP")
        solver.set_time_limit_in_seconds(options.time_limit_s)
        raw = solver.solve(model)
        if raw != mb.SolveStatus.OPTIMAL:
            status = Status.INFEASIBLE if raw == mb.SolveStatus.INFEASIBLE else Status.NO_SOLUTION
            return SolverResult(status, self.name, "glop", raw.name, seconds=time.perf_counter() - started)
        return SolverResult(Status.OPTIMAL, self.name, "glop", raw.name, float(solver.objective_value),
                            float(solver.objective_value), np.asarray(solver.values(model.get_variables()), float),
                            time.perf_counter() - started,
                            duals=np.asarray(solver.dual_values(model.get_linear_constraints()), float))
