"""SCIP, HiGHS and CP-SAT through OR-Tools model_builder, loaded from sparse arrays in one call."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..formulation import LinearProgram
from .base import Capabilities, SolveOptions, SolverResult, Status
from .mapping import map_status

# model_builder's SolveStatus name -> what it tells us. "feasible" means "stopped with a plan before
# proving the gap"; "limit" carries no plan (HiGHS through model_builder drops its incumbent at a
# time limit and reports UNKNOWN_STATUS). Our Status then comes from `map_status`.
RAW_KIND = {
    "OPTIMAL": "optimal",
    "FEASIBLE": "feasible",
    "INFEASIBLE": "infeasible",
    "UNBOUNDED": "unbounded",
    "NOT_SOLVED": "limit",
    "UNKNOWN_STATUS": "limit",
    "CANCELLED_BY_USER": "limit",
    "ABNORMAL": "error",
    "MODEL_IS_VALID": "error",
    "MODEL_INVALID": "error",
    "INVALID_SOLVER_PARAMETERS": "error",
    "SOLVER_TYPE_UNAVAILABLE": "error",
    "INCOMPATIBLE_OPTIONS": "error",
}
GRID_INFEASIBLE = "CP-SAT found no plan on its grid of continuous values; this does not prove infeasibility"
GRID_COMPLETED = "continuous columns re-solved exactly by GLOP; CP-SAT's bound is not a proof here"


def ortools_status(raw: str, *, objective: float | None, bound: float | None, gap: float,
                   exact_continuous: bool = True) -> Status:
    """Our status for a model_builder outcome `raw` (a SolveStatus name), through `map_status`.

    With exact_continuous False (CP-SAT on a model with continuous columns) neither its "optimal"
    nor its "infeasible" is a proof.
    """
    kind = RAW_KIND.get(raw, "error")
    return map_status(has_solution=kind in ("optimal", "feasible"),
                      proved_optimal=kind == "optimal" and exact_continuous,
                      objective=objective, bound=bound, gap=gap, hit_limit=kind in ("feasible", "limit"),
                      proved_infeasible=kind == "infeasible" and exact_continuous,
                      proved_unbounded=kind == "unbounded", failed=kind == "error")


def highs_dual_bound(log: str) -> float | None:
    """The 'Dual bound' of HiGHS's MIP solving report [cost unit], or None when absent or infinite.

    model_builder reports HiGHS's bound as equal to its objective when it stops within the gap
    (measured: 4855.644 reported, 4855.429 in the log); the log is the source that is right.
    """
    match = re.search(r"^\s*Dual bound\s+(\S+)", log, re.MULTILINE)
    if match is None:
        return None
    try:
        value = float(match.group(1))
    except ValueError:
        return None
    return value if np.isfinite(value) else None


@contextlib.contextmanager
def _stdout_to_file() -> Iterator[list[str]]:
    """Send file descriptor 1 (where HiGHS logs, even from C++) to a temporary file for the block;
    the captured text is appended to the yielded list when the block ends."""
    captured: list[str] = []
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield captured
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", errors="replace"))


# SCIP's cut loop at the root took most of each solve of this model: capped at 5 rounds, gpt5,
# lab-roadmap and the medium seeds 0-9 reach the same optima in a half to a fifth of the time,
# and the large instance is unchanged (BENCHMARKS.md, 2026-12-02).
SCIP_ROOT_CUT_ROUNDS = 5


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

        # OR-Tools sets __version__ in ortools/__init__.py, but ships no types for that package.
        return f"ortools {ortools.__version__}"  # type: ignore[attr-defined]

    def parameters(self, options: SolveOptions) -> str:
        """Solver-specific parameter text; each solver validates it and rejects unknown keys.
        SCIP gets no thread count: model_builder's SCIP runs one thread (capabilities.threads)."""
        if self.solver_id == "SCIP":
            return (f"limits/gap = {options.gap!r}\nrandomization/randomseedshift = {options.seed}\n"
                    f"separating/maxroundsroot = {SCIP_ROOT_CUT_ROUNDS}")
        if self.solver_id == "HIGHS":
            return f"mip_rel_gap={options.gap!r}\nrandom_seed={options.seed}\nthreads={options.threads}"
        return f"relative_gap_limit:{options.gap!r},num_workers:{options.threads},random_seed:{options.seed}"

    def solve(self, lp: LinearProgram, options: SolveOptions) -> SolverResult:
        """Load the arrays, solve, and map the status. Runs inside the watchdog's child."""
        from ortools.linear_solver.python import model_builder as mb

        started = time.perf_counter()
        model = _load(lp, lp.integer)
        if options.hint is not None and self.capabilities.warm_start:
            for j, value in enumerate(options.hint):
                model.helper.add_hint(j, float(value))
        solver = mb.Solver(self.solver_id)
        solver.set_time_limit_in_seconds(options.time_limit_s)
        solver.set_solver_specific_parameters(self.parameters(options))
        log: list[str] = []
        if self.solver_id == "HIGHS":
            solver.enable_output(True)
            with _stdout_to_file() as log:
                raw = solver.solve(model).name
        else:
            raw = solver.solve(model).name
        x, objective, bound, message = self._read(lp, solver, model, raw, "".join(log), options)
        exact = self.capabilities.exact_continuous or bool(lp.integer.all())
        status = ortools_status(raw, objective=objective, bound=bound, gap=options.gap, exact_continuous=exact)
        if x is None and RAW_KIND.get(raw) in ("optimal", "feasible"):
            status, message = Status.ERROR, "CP-SAT's plan could not be completed by GLOP"
        elif status is Status.NO_SOLUTION and RAW_KIND.get(raw) == "infeasible":
            message = GRID_INFEASIBLE
        return SolverResult(status, self.name, self.version(), raw, objective, bound, x,
                            time.perf_counter() - started, message)

    def _read(self, lp: LinearProgram, solver: Any, model: Any, raw: str, log: str,
              options: SolveOptions) -> tuple[np.ndarray | None, float | None, float | None, str]:
        """(x, objective, bound, message) from a finished solve; bound None when no source is right."""
        message = solver.status_string or ""
        if RAW_KIND.get(raw) not in ("optimal", "feasible"):
            return None, None, None, message
        x: np.ndarray | None = np.asarray(solver.values(model.get_variables()), dtype=float)
        objective: float | None = float(solver.objective_value)
        reported = float(solver.best_objective_bound)
        bound = reported if np.isfinite(reported) else None
        if not lp.integer.any() and raw == "OPTIMAL":
            bound = objective                       # an LP optimum is its own bound (strong duality)
        elif self.solver_id == "HIGHS":
            bound = highs_dual_bound(log)
        if not self.capabilities.exact_continuous and not lp.integer.all():
            assert x is not None
            x, objective = _complete_continuous(lp, x, options)
            bound, message = None, GRID_COMPLETED
        return x, objective, bound, message


def _load(lp: LinearProgram, integer: np.ndarray) -> Any:
    from ortools.linear_solver.python import model_builder as mb

    model = mb.Model()  # type: ignore[no-untyped-call]  # model_builder.Model.__init__ is unannotated
    # OR-Tools' stub types each array as ndarray[float64], which no array is; it takes float64 arrays.
    model.helper.fill_model_from_sparse_data(
        lp.lower, lp.upper, lp.cost, lp.row_lower, lp.row_upper, lp.matrix)  # type: ignore[arg-type]
    for j in np.flatnonzero(integer):
        model.helper.set_var_integrality(int(j), True)
    return model


def _complete_continuous(lp: LinearProgram, x: np.ndarray,
                         options: SolveOptions) -> tuple[np.ndarray | None, float | None]:
    """Fix the integer columns at x and solve the remaining LP with GLOP; (x, objective) or (None, None)."""
    from ortools.linear_solver.python import model_builder as mb

    lower, upper = lp.lower.copy(), lp.upper.copy()
    fixed = np.flatnonzero(lp.integer)
    lower[fixed] = upper[fixed] = np.round(x[fixed])
    model = mb.Model()  # type: ignore[no-untyped-call]  # model_builder.Model.__init__ is unannotated
    # OR-Tools' stub types each array as ndarray[float64], which no array is; it takes float64 arrays.
    model.helper.fill_model_from_sparse_data(
        lower, upper, lp.cost, lp.row_lower, lp.row_upper, lp.matrix)  # type: ignore[arg-type]
    glop = mb.Solver("GLOP")
    glop.set_time_limit_in_seconds(options.time_limit_s)
    if glop.solve(model) != mb.SolveStatus.OPTIMAL:
        return None, None
    return np.asarray(glop.values(model.get_variables()), dtype=float), float(glop.objective_value)
