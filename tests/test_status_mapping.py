"""Status mapping per backend, the watchdog, and the rule that a limit is never OPTIMAL."""

from __future__ import annotations

import time

import pytest

import clustersize
from clustersize import Status
from clustersize.solvers import SolveOptions, SolverResult, solve_with_watchdog
from clustersize.solvers.cbc import cbc_bound, cbc_status, parse_solution
from clustersize.solvers.mapping import map_status, relative_gap, within_gap
from clustersize.solvers.ortools_backend import (
    RAW_KIND,
    highs_dual_bound,
    ortools_status,
)
from conftest import base_problem

GAP = 1e-4
# (case, keyword facts for map_status, expected status). Objective 100, so a bound of 99.995
# is a gap of 5e-5 (within 1e-4) and 99.9 a gap of 1e-3 (beyond it).
TABLE = [
    ("proved, bound within gap", {"has_solution": True, "proved_optimal": True, "objective": 100.0, "bound": 99.995},
     Status.OPTIMAL),
    ("proved, bound beyond gap: the bound wins", {"has_solution": True, "proved_optimal": True, "objective": 100.0,
                                                      "bound": 99.9}, Status.FEASIBLE),
    ("not proved, bound within gap (limit hit just after)", {"has_solution": True, "proved_optimal": False,
                                                                 "objective": 100.0, "bound": 99.995, "hit_limit": True},
     Status.OPTIMAL),
    ("limit, bound beyond gap", {"has_solution": True, "proved_optimal": False, "objective": 100.0, "bound": 99.9,
                                     "hit_limit": True}, Status.FEASIBLE),
    ("proved, bound unknown: the solver's proof at our gap", {"has_solution": True, "proved_optimal": True,
                                                                  "objective": 100.0, "bound": None}, Status.OPTIMAL),
    ("limit, bound unknown", {"has_solution": True, "proved_optimal": False, "objective": 100.0, "bound": None,
                                  "hit_limit": True}, Status.FEASIBLE),
    ("claims optimal yet hit a limit, bound unknown", {"has_solution": True, "proved_optimal": True, "objective": 100.0,
                                                           "bound": None, "hit_limit": True}, Status.FEASIBLE),
    ("bound above objective by round-off", {"has_solution": True, "proved_optimal": False, "objective": 100.0,
                                                "bound": 100.0000001}, Status.OPTIMAL),
    ("limit without plan", {"has_solution": False, "proved_optimal": False, "objective": None, "bound": None,
                                "hit_limit": True}, Status.NO_SOLUTION),
    ("plan flag but no objective", {"has_solution": True, "proved_optimal": True, "objective": None, "bound": None},
     Status.NO_SOLUTION),
    ("proved infeasible", {"has_solution": False, "proved_optimal": False, "objective": None, "bound": None,
                               "proved_infeasible": True}, Status.INFEASIBLE),
    ("proved unbounded", {"has_solution": False, "proved_optimal": False, "objective": None, "bound": None,
                              "proved_unbounded": True}, Status.UNBOUNDED),
    ("solver error, even with a point", {"has_solution": True, "proved_optimal": True, "objective": 100.0, "bound": 100.0,
                                             "failed": True}, Status.ERROR),
    ("zero-cost plan, zero bound", {"has_solution": True, "proved_optimal": False, "objective": 0.0, "bound": 0.0},
     Status.OPTIMAL),
]


@pytest.mark.parametrize("facts, expected", [(f, e) for _, f, e in TABLE], ids=[c for c, _, _ in TABLE])
def test_map_status_table(facts, expected):
    assert map_status(gap=GAP, **facts) is expected


def test_gap_arithmetic():
    assert relative_gap(100.0, 99.0) == pytest.approx(0.01)
    assert within_gap(100.0, 99.99, 1e-4)            # 1e-4 exactly: within
    assert not within_gap(100.0, 99.98, 1e-4)        # 2e-4
    assert not within_gap(100.0, None, 1.0)          # no bound, no proof
    assert not within_gap(None, 99.0, 1.0)


@pytest.mark.parametrize("raw, objective, bound, exact, expected", [
    ("OPTIMAL", 10.0, 10.0, True, Status.OPTIMAL),
    ("OPTIMAL", 10.0, 9.0, True, Status.FEASIBLE),            # its bound does not support its claim
    ("OPTIMAL", 10.0, None, True, Status.OPTIMAL),            # no bound: the solver's own proof
    ("OPTIMAL", 10.0, None, False, Status.FEASIBLE),          # CP-SAT on a grid: no proof
    ("FEASIBLE", 10.0, 9.0, True, Status.FEASIBLE),           # stopped with a plan before proving the gap
    ("FEASIBLE", 10.0, None, True, Status.FEASIBLE),
    ("INFEASIBLE", None, None, True, Status.INFEASIBLE),
    ("INFEASIBLE", None, None, False, Status.NO_SOLUTION),    # CP-SAT's grid: not a proof
    ("UNBOUNDED", None, None, True, Status.UNBOUNDED),
    ("NOT_SOLVED", None, None, True, Status.NO_SOLUTION),
    ("UNKNOWN_STATUS", None, None, True, Status.NO_SOLUTION),  # HiGHS at a limit through model_builder
    ("CANCELLED_BY_USER", None, None, True, Status.NO_SOLUTION),
    ("ABNORMAL", None, None, True, Status.ERROR),
    ("MODEL_INVALID", None, None, True, Status.ERROR),
    ("SOMETHING_NEW", None, None, True, Status.ERROR),
])
def test_ortools_mapping_table(raw, objective, bound, exact, expected):
    assert ortools_status(raw, objective=objective, bound=bound, gap=GAP, exact_continuous=exact) is expected


def test_every_ortools_status_name_is_mapped():
    from ortools.linear_solver.python import model_builder as mb

    assert set(mb.SolveStatus.__members__) <= set(RAW_KIND)


# HiGHS 1.12's solving report, as captured on the 15x30x12x50 seed-1 instance: model_builder
# reported a bound of 4855.64424825 (the objective) for this run.
HIGHS_REPORT = """Solving report
  Status            Optimal
  Primal bound      4855.64424825
  Dual bound        4855.42924093
  Gap               0.00443% (tolerance: 0.01%)
"""


def test_highs_bound_comes_from_its_log():
    assert highs_dual_bound(HIGHS_REPORT) == 4855.42924093
    assert highs_dual_bound("Running HiGHS 1.12.0\n") is None
    assert highs_dual_bound(HIGHS_REPORT.replace("4855.42924093", "-inf")) is None


# Texts as CBC 2.10 writes them (captured on this project's machine).
CBC_OPTIMAL = ("Optimal - objective value 2.00000000\n"
               "      0 R0                     4                       0\n"
               "      0 C0                     0                       1\n"
               "      1 C1                     2                       0\n")
CBC_INFEASIBLE = ("Infeasible - objective value 90.00000000\n      0 R0                   100                       1\n"
                  "**       0 C0                    80                       0\n      1 C1                    10          0\n")
CBC_TIME_NO_PLAN = ("Stopped on time (no integer solution - continuous used) - objective value -353908.81499148\n"
                    "      0 R0                301418            -0.056178174\n      0 C0       0.5     0\n")
CBC_TIME_PLAN = "Stopped on time - objective value 12.5\n      0 C0                     3                       0\n"
CBC_GAP_PLAN = ("Optimal (within gap tolerance) - objective value 2841.48585833\n"
                "      0 C0                     3                       0\n")
CBC_LOG_DONE = "Cbc0001I Search completed - best objective 2, took 0 iterations and 0 nodes (0.00 seconds)\n"
# Captured: 15x30x12x50 seed 2 with -ratio 0.05 (objective 2841.48585833 in the solution file).
CBC_LOG_GAP_EXIT = ("Cbc0011I Exiting as integer gap of 114.29877 less than 1e-10 or 5%\n" + CBC_LOG_DONE +
                    "Result - Optimal solution found (within gap tolerance)\n\n"
                    "Objective value:                2841.48585833\nLower bound:                    2727.187\n"
                    "Gap:                            0.04\n")
CBC_LOG_LIMIT = "Objective value:                12.50000000\nLower bound:                    10.000\n"


@pytest.mark.parametrize("text, log, status, has_x, bound", [
    (CBC_OPTIMAL, CBC_LOG_DONE, Status.OPTIMAL, True, 2.0),
    (CBC_OPTIMAL, "Continuous objective value is 2 - 0.00 seconds\n", Status.OPTIMAL, True, 2.0),  # LP integral
    (CBC_OPTIMAL, "Cbc0011I Exiting as integer gap of 0.0001 less than 1e-10 or 0.01%\n" + CBC_LOG_DONE,
     Status.OPTIMAL, True, 2.0 - 0.0001),                      # gap 5e-5 <= 1e-4
    (CBC_GAP_PLAN, CBC_LOG_GAP_EXIT, Status.FEASIBLE, True, 2727.187),  # CBC's "optimal" at 5 %: 4 % > 1e-4
    (CBC_INFEASIBLE, "", Status.INFEASIBLE, False, None),
    (CBC_TIME_NO_PLAN, "", Status.NO_SOLUTION, False, None),   # pulp would return these LP values as a "plan"
    (CBC_TIME_PLAN, CBC_LOG_LIMIT, Status.FEASIBLE, True, 10.0),  # pulp would call this "Optimal"
    (CBC_TIME_PLAN, "", Status.FEASIBLE, True, None),
    ("", "", Status.ERROR, False, None),
])
def test_cbc_solution_file_mapping(text, log, status, has_x, bound):
    kind, objective, x, _ = parse_solution(text, 2)
    found = cbc_bound(log, kind, objective) if x is not None else None
    assert found == (pytest.approx(bound) if bound is not None else None)
    assert cbc_status(kind, objective=objective, x=x, bound=found, gap=GAP) is status
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
    from pathlib import Path

    from clustersize.solvers import backends

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
