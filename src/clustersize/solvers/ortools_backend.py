"""SCIP, HiGHS and CP-SAT through OR-Tools model_builder, loaded from sparse arrays in one call."""

from __future__ import annotations

import time

import numpy as np

from ..formulation import LinearProgram
from .base import Capabilities, SolveOptions, SolverResult, Status

# model_builder's SolveStatus name -> ours. FEASIBLE from model_builder means "stopped with a
# plan before proving the gap"; NOT_SOLVED and UNKNOWN_STATUS carry no plan (HiGHS through
# model_builder drops its incumbent at a time limit and reports UNKNOWN_STATUS).
STATUS_MAP = {
    "OPTIMAL": Status.OPTIMAL,
    "FEASIBLE": Status.FEASIBLE,
    "INFEASIBLE": Status.INFEASIBLE,
    "UNBOUNDED": Status.UNBOUNDED,
    "ABNORMAL": Status.ERROR,
    "NOT_SOLVED": Status.NO_SOLUTION,
    "UNKNOWN_STATUS": Status.NO_SOLUTION,
    "CANCELLED_BY_USER": Status.NO_SOLUTION,
    "MODEL_IS_VALID": Status.ERROR,
    "MODEL_INVALID": Status.ERROR,
    "INVALID_SOLVER_PARAMETERS": Status.ERROR,
    "SOLVER_TYPE_UNAVAILABLE": Status.ERROR,
    "INCOMPATIBLE_OPTIONS": Status.ERROR,
}


class OrtoolsBackend:
    """One OR-Tools model_builder solver; `parameters` renders our options in its syntax."""

    def __init__(self, name: str, solver_id: str, capabilities: Capabilities) -> None:
        self.name, self.solver_id, self.capabilities = name, solver_id, capabilities

    def available(self) -> bool:
        """True when this OR-Tools build includes the solver."""
        try:
            from ortools.linear_solver.python import model_builder as mb
        except ImportError:
            return False
        return bool(mb.Solver(self.solver_id).solver_is_supported())

    def version(self) -> str:
        """OR-Tools version (the solver is bundled with it)."""
        import ortools

        return f"ortools {ortools.__version__}"

    def parameters(self, options: SolveOptions) -> str:
        """Solver-specific parameter text; each solver validates it and rejects unknown keys."""
        if self.solver_id == "SCIP":
            return f"limits/gap = {options.gap!r}\nrandomization/randomseedshift = {options.seed}"
        if self.solver_id == "HIGHS":
            return f"mip_rel_gap={options.gap!r}\nrandom_seed={options.seed}\nthreads={options.threads}"
        return f"relative_gap_limit:{options.gap!r},num_workers:{options.threads},random_seed:{options.seed}"

    def solve(self, lp: LinearProgram, options: SolveOptions) -> SolverResult:
        """Load the arrays, solve, and map the status. Runs inside the watchdog's child."""
        from ortools.linear_solver.python import model_builder as mb

        started = time.perf_counter()
        model = _load(lp, lp.integer)
        if options.hint is not None:
            for j, value in enumerate(options.hint):
                model.helper.add_hint(j, float(value))
        solver = mb.Solver(self.solver_id)
        solver.set_time_limit_in_seconds(options.time_limit_s)
        solver.set_solver_specific_parameters(self.parameters(options))
        raw = solver.solve(model)
        status = STATUS_MAP.get(raw.name, Status.ERROR)
        x = objective = bound = None
        message = solver.status_string or ""
        if status is Status.INFEASIBLE and not self.capabilities.exact_continuous and not lp.integer.all():
            # On its grid of continuous values a feasible model can look infeasible (found by
            # benchmarks/agreement.py: 7 of 200 instances): that is no proof.
            status = Status.NO_SOLUTION
            message = "CP-SAT found no plan on its grid of continuous values; this does not prove infeasibility"
        if status.has_plan:
            x = np.asarray(solver.values(model.get_variables()), dtype=float)
            objective = float(solver.objective_value)
            bound = float(solver.best_objective_bound) if np.isfinite(solver.best_objective_bound) else None
            if not lp.integer.any() and status is Status.OPTIMAL:
                bound = objective
            if not self.capabilities.exact_continuous and not lp.integer.all():
                x, objective = _complete_continuous(lp, x, options)
                status, bound = (Status.FEASIBLE, None) if x is not None else (Status.ERROR, None)
                message = "continuous columns re-solved exactly by GLOP; CP-SAT's bound is not a proof here"
        return SolverResult(status, self.name, self.version(), raw.name, objective, bound, x,
                            time.perf_counter() - started, message)


def _load(lp: LinearProgram, integer: np.ndarray):
    from ortools.linear_solver.python import model_builder as mb

    model = mb.Model()
    model.helper.fill_model_from_sparse_data(lp.lower, lp.upper, lp.cost, lp.row_lower, lp.row_upper, lp.matrix)
    for j in np.flatnonzero(integer):
        model.helper.set_var_integrality(int(j), True)
    return model


def _complete_continuous(lp: LinearProgram, x: np.ndarray, options: SolveOptions):
    """Fix the integer columns at x and solve the remaining LP with GLOP; (x, objective) or (None, None)."""
    from ortools.linear_solver.python import model_builder as mb

    lower, upper = lp.lower.copy(), lp.upper.copy()
    fixed = np.flatnonzero(lp.integer)
    lower[fixed] = upper[fixed] = np.round(x[fixed])
    model = mb.Model()
    model.helper.fill_model_from_sparse_data(lower, upper, lp.cost, lp.row_lower, lp.row_upper, lp.matrix)
    glop = mb.Solver("GLOP")
    glop.set_time_limit_in_seconds(options.time_limit_s)
    if glop.solve(model) != mb.SolveStatus.OPTIMAL:
        return None, None
    return np.asarray(glop.values(model.get_variables()), dtype=float), float(glop.objective_value)
