"""Status mapping per backend, the watchdog, and the rule that a limit is never OPTIMAL."""

from __future__ import annotations

import time

import pytest

import clustersize
from clustersize import Status
from clustersize.solvers import SolveOptions, SolverResult, solve_with_watchdog
from clustersize.solvers.cbc import parse_solution
from clustersize.solvers.ortools_backend import STATUS_MAP

from conftest import base_problem


def test_ortools_mapping_table():
    assert STATUS_MAP["OPTIMAL"] is Status.OPTIMAL
    assert STATUS_MAP["FEASIBLE"] is Status.FEASIBLE          # stopped with a plan before proving the gap
    assert STATUS_MAP["INFEASIBLE"] is Status.INFEASIBLE
    for no_plan in ("NOT_SOLVED", "UNKNOWN_STATUS", "CANCELLED_BY_USER"):
        assert STATUS_MAP[no_plan] is Status.NO_SOLUTION
    assert [k for k, v in STATUS_MAP.items() if v is Status.OPTIMAL] == ["OPTIMAL"]


# Texts as CBC 2.10 writes them (captured on this project's machine).
CBC_OPTIMAL = ("Optimal - objective value 2.00000000\n      0 R0                     4                       0\n"
               "      0 C0                     0                       1\n      1 C1                     2                       0\n")
CBC_INFEASIBLE = ("Infeasible - objective value 90.00000000\n      0 R0                   100                       1\n"
                  "**       0 C0                    80                       0\n      1 C1                    10          0\n")
CBC_TIME_NO_PLAN = ("Stopped on time (no integer solution - continuous used) - objective value -353908.81499148\n"
                    "      0 R0                301418            -0.056178174\n      0 C0       0.5     0\n")
CBC_TIME_PLAN = "Stopped on time - objective value 12.5\n      0 C0                     3                       0\n"


@pytest.mark.parametrize("text, status, has_x", [
    (CBC_OPTIMAL, Status.OPTIMAL, True),
    (CBC_INFEASIBLE, Status.INFEASIBLE, False),
    (CBC_TIME_NO_PLAN, Status.NO_SOLUTION, False),   # pulp would return these LP values as a "plan"
    (CBC_TIME_PLAN, Status.FEASIBLE, True),           # pulp would call this "Optimal"
    ("", Status.ERROR, False),
])
def test_cbc_solution_file_mapping(text, status, has_x):
    parsed, _, x, _ = parse_solution(text, 2)
    assert parsed is status
    assert (x is not None) is has_x


def test_cbc_values_by_column_name():
    _, objective, x, _ = parse_solution(CBC_OPTIMAL, 2)
    assert objective == 2.0
    assert x.tolist() == [0.0, 2.0]


class SleepyBackend:
    """Ignores its time limit, like HiGHS and CBC did on large models."""

    name = "sleepy"

    def solve(self, lp, options):
        time.sleep(60)


class BrokenBackend:
    name = "broken"

    def solve(self, lp, options):
        raise RuntimeError("solver crashed")


def test_watchdog_kills_an_overrunning_solver():
    started = time.perf_counter()
    result = solve_with_watchdog(SleepyBackend(), None, SolveOptions(time_limit_s=0.5, grace_s=0.5))
    elapsed = time.perf_counter() - started
    assert result.status is Status.NO_SOLUTION
    assert result.x is None
    assert elapsed < 0.5 + 0.5 + 2.0


def test_watchdog_reports_a_crash_as_error():
    result = solve_with_watchdog(BrokenBackend(), None, SolveOptions(time_limit_s=5))
    assert result.status is Status.ERROR
    assert "solver crashed" in result.message


class LimitBackend:
    """Returns a real plan but says it stopped at the limit, with a weaker bound."""

    name = "limit"
    capabilities = clustersize.solvers.get_backend("scip").capabilities

    def __init__(self, status: Status):
        self.status = status
        self.inner = clustersize.solvers.get_backend("scip")

    def available(self):
        return True

    def solve(self, lp, options):
        real = self.inner.solve(lp, options)
        if self.status is Status.NO_SOLUTION:
            return SolverResult(Status.NO_SOLUTION, self.name, "test", "NOT_SOLVED")
        return SolverResult(self.status, self.name, "test", "FEASIBLE", real.objective, real.objective * 0.9,
                            real.x, 0.1)


def test_limit_with_plan_is_feasible_never_optimal(monkeypatch):
    import clustersize.solving.pipeline as solve_module

    monkeypatch.setattr(solve_module, "get_backend", lambda name: LimitBackend(Status.FEASIBLE))
    plan = clustersize.solve(clustersize.load_problem(base_problem()), check=False)
    assert plan.status is Status.FEASIBLE
    assert plan.gap == pytest.approx(0.1, rel=1e-6)
    assert plan.verified


def test_limit_without_plan_is_never_a_plan(monkeypatch):
    import clustersize.solving.pipeline as solve_module

    monkeypatch.setattr(solve_module, "get_backend", lambda name: LimitBackend(Status.NO_SOLUTION))
    plan = clustersize.solve(clustersize.load_problem(base_problem()), check=False)
    assert plan.status is Status.NO_SOLUTION
    assert plan.objective_usd is None and plan.table("purchases").empty
    with pytest.raises(clustersize.NoSolutionError):
        plan.raise_for_status()


def test_gap_is_always_set_explicitly():
    from clustersize.solvers import backends

    from pathlib import Path

    options = SolveOptions(gap=3e-3, seed=7, threads=2)
    for name in ("scip", "highs", "cpsat"):
        assert "0.003" in backends()[name].parameters(options)
    command = backends()["cbc"].command(Path("m.mps"), Path("m.sol"), options)
    assert command[command.index("-ratio") + 1] == "0.003"
    assert command[command.index("-threads") + 1] == "2"


def test_cpsat_grid_infeasible_is_not_a_proof():
    """Regression (benchmarks/agreement.py, seed 32 at 2x2x3x3): CP-SAT answered INFEASIBLE on a
    problem SCIP solves, because it puts continuous columns on a grid."""
    from clustersize.baselines.generate import generate_problem

    problem = clustersize.load_problem(generate_problem("2x2x3x3", 32))
    assert clustersize.solve(problem, solver="scip", check=False).status is Status.OPTIMAL
    cpsat = clustersize.solve(problem, solver="cpsat", check=False)
    assert cpsat.status is not Status.INFEASIBLE
    if not cpsat.has_plan:
        assert cpsat.status is Status.NO_SOLUTION
