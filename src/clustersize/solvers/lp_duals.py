"""An LP with row duals, from GLOP (OR-Tools), for marginal values."""

from __future__ import annotations

import time

import numpy as np

from ..formulation import LinearProgram
from .base import Capabilities, SolveOptions, SolverResult, Status
from .mapping import map_status


class GlopDuals:
    """Solve a continuous LP and return its duals; integer flags must be cleared beforehand."""

    name = "glop"
    # An LP solver: no MIP gap, no seed, no start; the one backend that returns duals.
    capabilities = Capabilities(seed=False, gap=False, warm_start=False, duals=True)

    def available(self) -> bool:
        """GLOP ships with OR-Tools."""
        return True

    def version(self) -> str:
        """OR-Tools version (GLOP is part of it)."""
        import ortools

        # OR-Tools sets __version__ in ortools/__init__.py, but ships no types for that package.
        return f"ortools {ortools.__version__} glop"  # type: ignore[attr-defined]

    def solve(self, lp: LinearProgram, options: SolveOptions) -> SolverResult:
        """Solve in the watchdog child; duals are d(objective)/d(row bound) in internal units."""
        from ortools.linear_solver.python import model_builder as mb

        started = time.perf_counter()
        model = mb.Model()  # type: ignore[no-untyped-call]  # model_builder.Model.__init__ is unannotated
        # OR-Tools' stub types each array as ndarray[float64], which no array is; it takes float64 arrays.
        model.helper.fill_model_from_sparse_data(
            lp.lower, lp.upper, lp.cost, lp.row_lower, lp.row_upper, lp.matrix)  # type: ignore[arg-type]
        solver = mb.Solver("GLOP")
        solver.set_time_limit_in_seconds(options.time_limit_s)
        raw = solver.solve(model)
        optimal = raw == mb.SolveStatus.OPTIMAL
        # An LP optimum is its own lower bound (strong duality), so it maps to OPTIMAL.
        objective = float(solver.objective_value) if optimal else None
        status = map_status(has_solution=optimal, proved_optimal=optimal, objective=objective, bound=objective,
                            gap=options.gap, proved_infeasible=raw == mb.SolveStatus.INFEASIBLE,
                            proved_unbounded=raw == mb.SolveStatus.UNBOUNDED)
        if status is not Status.OPTIMAL:
            return SolverResult(status, self.name, self.version(), raw.name, seconds=time.perf_counter() - started)
        return SolverResult(status, self.name, self.version(), raw.name, objective, objective,
                            np.asarray(solver.values(model.get_variables()), float), time.perf_counter() - started,
                            duals=np.asarray(solver.dual_values(model.get_linear_constraints()), float))
