"""The Backend protocol, capabilities that callers read, options reported when a backend cannot
honour them, HiGHS's bound, and honest statuses at a time limit on every installed backend."""

from __future__ import annotations

import time

import numpy as np
import pytest

import clustersize
from clustersize import Status
from clustersize.baselines.generate import generate_problem
from clustersize.data.modeldata import build_model_data
from clustersize.formulation import build
from clustersize.solvers import (
    Backend,
    Capabilities,
    SolveOptions,
    available_backends,
    backends,
    get_backend,
    honoured,
    solve_with_watchdog,
    unsupported_options,
)
from clustersize.solvers.base import limit_messages
from clustersize.solvers.cbc import CbcBackend
from clustersize.solvers.lp_duals import GlopDuals
from clustersize.solvers.ortools_backend import OrtoolsBackend
from conftest import base_problem

# Typed assignments: mypy checks that each class conforms to the protocol.
_CONFORMING: tuple[Backend, ...] = (OrtoolsBackend("scip", "SCIP", Capabilities()), CbcBackend(), GlopDuals())


@pytest.mark.parametrize("backend", [*backends().values(), GlopDuals()], ids=lambda b: b.name)
def test_every_backend_conforms_to_the_protocol(backend):
    assert isinstance(backend, Backend)
    assert isinstance(backend.capabilities, Capabilities)
    assert isinstance(backend.available(), bool)
    if backend.available():
        assert backend.version()


def test_capabilities_are_asked_by_feature():
    assert not get_backend("scip").capabilities.supports("threads")      # model_builder's SCIP: one thread
    assert get_backend("scip").capabilities.supports("warm_start")
    assert not get_backend("scip").capabilities.supports("start_pays")  # a start made its sweeps slower
    assert get_backend("cbc").capabilities.supports("start_pays")
    assert not get_backend("highs").capabilities.supports("warm_start")  # OR-Tools 9.15's HiGHS crashes on a start
    assert not get_backend("highs").capabilities.supports("incumbent_at_limit")
    assert not get_backend("cpsat").capabilities.supports("exact_continuous")
    assert [b.name for b in (*backends().values(), GlopDuals()) if b.capabilities.supports("duals")] == ["glop"]
    with pytest.raises(ValueError, match="unknown capability 'iis'"):
        Capabilities().supports("iis")


class Plain:
    """A backend that honours nothing optional: one thread, no seed, start, limit or gap."""

    name = "plain"
    capabilities = Capabilities(threads=False, seed=False, time_limit=False, gap=False, warm_start=False)


def test_defaults_ask_for_nothing_unsupported():
    # a backend that takes no limit or gap is still told about them: those are never defaults to skip
    assert len(unsupported_options(Plain(), SolveOptions(time_limit_s=60, gap=1e-4))) == 2
    assert unsupported_options(get_backend("scip"), SolveOptions()) == []
    assert unsupported_options(get_backend("highs"), SolveOptions(threads=4, seed=3)) == []


def test_each_unsupported_option_gets_one_plain_message():
    options = SolveOptions(time_limit_s=7, gap=1e-3, threads=4, seed=3, grace_s=1, hint=np.zeros(3))
    messages = unsupported_options(Plain(), options)
    assert len(messages) == 5
    for text in ("threads=4", "seed=3", "start", "7 s + 1 s grace", "gap=0.001"):
        assert sum(text in m for m in messages) == 1, text
    assert unsupported_options(get_backend("scip"), options) == [
        "scip runs on one thread here; threads=4 was not used"]


def test_a_start_is_dropped_only_where_it_cannot_be_taken():
    options = SolveOptions(time_limit_s=7, gap=1e-3, threads=2, seed=5, grace_s=1, hint=np.ones(4))
    assert honoured(get_backend("scip"), options) is options
    dropped = honoured(get_backend("highs"), options)
    assert dropped.hint is None
    assert (dropped.time_limit_s, dropped.gap, dropped.threads, dropped.seed, dropped.grace_s) == (7, 1e-3, 2, 5, 1)


def test_limit_messages_read_the_behaviour_flags():
    assert "does not return its best plan" in limit_messages(get_backend("highs"), Status.NO_SOLUTION, None)[0]
    assert limit_messages(get_backend("scip"), Status.NO_SOLUTION, None) == []
    assert "gap is unknown" in limit_messages(get_backend("cpsat"), Status.FEASIBLE, None)[0]
    assert limit_messages(get_backend("cpsat"), Status.FEASIBLE, 1.0) == []


def test_the_plan_says_which_options_were_not_used():
    problem = clustersize.load_problem(base_problem())
    plan = clustersize.solve(problem, solver="scip", threads=2)
    assert "scip runs on one thread here; threads=2 was not used" in plan.messages
    assert not any("thread" in m for m in clustersize.solve(problem, solver="scip", threads=1).messages)


@pytest.mark.skipif("highs" not in available_backends(), reason="HiGHS not in this OR-Tools build")
def test_warm_started_highs_what_if_point_works():
    """Regression: HiGHS in OR-Tools 9.15 crashed when given a start; the start is now never passed."""
    problem = clustersize.load_problem(base_problem())
    first = clustersize.solve(problem, solver="highs")
    again = clustersize.solve(problem, solver="highs", warm_start=first)
    assert again.status is first.status is Status.OPTIMAL
    assert again.objective_usd == pytest.approx(first.objective_usd, rel=2e-4)
    assert any("cannot take a start" in m for m in again.messages)
    # and the backend itself refuses a start even when handed one (no crash, same answer)
    lp = build(build_model_data(problem))
    hinted = solve_with_watchdog(get_backend("highs"), lp, SolveOptions(time_limit_s=30, hint=np.zeros(lp.shape[1])))
    assert hinted.status is Status.OPTIMAL


@pytest.mark.slow
@pytest.mark.skipif("highs" not in available_backends(), reason="HiGHS not in this OR-Tools build")
def test_highs_bound_is_its_proven_bound_not_its_objective():
    """Regression: on a generated instance model_builder reported HiGHS's bound as its objective
    (15x30x12x50 seed 1 under the 2026-11 catalog: 4855.644, while HiGHS's log said 4855.429), so the
    plan claimed a 0 % gap it had not proved. Under the run model (2026-12) 8x20x8x30 seed 6 leaves such a
    gap (3450.401 against a bound of 3450.172); most instances HiGHS closes completely."""
    lp = build(build_model_data(clustersize.load_problem(generate_problem("8x20x8x30", 6))))
    highs = solve_with_watchdog(get_backend("highs"), lp, SolveOptions(time_limit_s=60, gap=1e-4))
    exact = solve_with_watchdog(get_backend("scip"), lp, SolveOptions(time_limit_s=60, gap=1e-9))
    assert highs.status is Status.OPTIMAL and exact.status is Status.OPTIMAL
    assert highs.bound is not None
    assert highs.bound < highs.objective * (1 - 1e-6)                  # a gap was left open ...
    assert highs.bound <= exact.objective * (1 + 1e-9)                 # ... and the bound is valid
    assert (highs.objective - highs.bound) / highs.objective <= 1e-4 + 1e-9


# Hard for every backend in 3 s on this project's 2-core machines: the first (17,907 columns) usually
# gives no plan, the second (whole-unit counts, a 1e-9 gap) a plan with an open gap. Machines differ
# (one CI run saw SCIP prove the first within 3 s), so the test checks the label against the proof,
# never against how fast the machine happens to be.
UNPROVABLE = [("30x60x12x60", False), ("15x30x12x50", True)]
LIMIT_S = 3.0
PROOF_GAP = 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("size, integer_units", UNPROVABLE, ids=[s for s, _ in UNPROVABLE])
@pytest.mark.parametrize("solver", available_backends())
def test_time_limit_is_kept_and_labelled_honestly(solver, size, integer_units):
    problem = clustersize.load_problem(generate_problem(size, 1))
    started = time.perf_counter()
    plan = clustersize.solve(problem, solver=solver, time_limit=LIMIT_S, integer_units=integer_units,
                             gap=PROOF_GAP, check=False)
    elapsed = time.perf_counter() - started
    assert elapsed <= LIMIT_S + 5.0
    if plan.status is Status.OPTIMAL:                    # only with the proof in hand
        assert plan.verified and plan.bound_usd is not None and plan.gap is not None
        assert plan.gap <= plan.requested_gap + 1e-9       # the tolerance the plan check allows
        assert plan.bound_usd <= plan.objective_usd * (1 + 1e-9)
        return
    assert plan.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    if plan.has_plan:
        assert plan.verified
        assert plan.gap is None or plan.gap > plan.requested_gap
        assert plan.bound_usd is None or plan.bound_usd <= plan.objective_usd
    else:
        assert plan.objective_usd is None and plan.table("purchases").empty
