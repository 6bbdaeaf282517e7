"""Fuzzing the problem schema and --set paths: every outcome is a plan, a clear error or an honest limit.

Hostile values (huge and tiny numbers, NaN, text with markup and terminal escapes, lists and
mappings where ids belong, dates as numbers) go into real fields and made-up paths, through the
same override path as `--set`. Never a traceback (any exception but the project's own), never a
hang (each example has a deadline), never memory beyond a stated bound.
"""

from __future__ import annotations

import datetime as dt
import resource

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import clustersize
from clustersize.errors import ClustersizeError, InputError
from conftest import base_problem

pytestmark = pytest.mark.slow

MEMORY_BOUND_BYTES = 3 * 1024**3  # peak resident memory of the whole test process


def leaf_paths(node: object, prefix: str = "") -> list[str]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in leaf_paths(v, f"{prefix}{k}.")] or [prefix.rstrip(".")]
    return [prefix.rstrip(".")]


PATHS = sorted(p for p in leaf_paths(base_problem()) if p != "name")
SEGMENTS = sorted({s for p in PATHS for s in p.split(".")} | {"x", "0", "[/x]", "\x1b[31m", "components"})

hostile_values = st.one_of(
    st.integers(min_value=-10**50, max_value=10**50), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e40, 1e-300, 1e7, True, None, "", "[/x]", "\x1b[2J", "1e26", "NO", "9999-12-31",
                     dt.date(9999, 12, 31), dt.date(1970, 1, 1), [], {}, ["s1"], {"a": 1}, [[[]]]]),
    st.text(max_size=20), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                                max_size=2),
)
set_strings = st.one_of(st.text(max_size=30), st.sampled_from(["1e26", "-inf", ".nan", "[1,2]", "{a: 1}", "*x",
                                                               "!!python/object:os.system", "0x10", "1_000"]))
paths = st.one_of(st.sampled_from(PATHS), st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=6).map(".".join))


def outcome(overrides: dict[str, object]) -> str:
    """'plan', 'input error' or 'limit'; anything else is raised and fails the test."""
    try:
        problem = clustersize.load_problem(base_problem(), overrides)
        plan = clustersize.solve(problem, time_limit=5, check=False)
    except InputError as exc:
        assert str(exc) and exc.exit_code == 2
        return "input error"
    except ClustersizeError:
        return "limit"
    return "plan" if plan.has_plan else "limit"


@settings(max_examples=60, deadline=30_000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(path=paths, value=hostile_values)
# Regressions from a hostile test run: each crashed with a TypeError or OverflowError.
@example(path="contracts.s1-grid.site", value=["s1"])
@example(path="contracts.s1-grid.site", value={"a": 1})
@example(path="run.length_days", value=1e7)
@example(path="run.deadline", value=dt.date(9999, 12, 31))
@example(path="planning_start", value=0)
def test_hostile_value_at_any_path(path, value):
    assert outcome({path: value}) in ("plan", "input error", "limit")


@settings(max_examples=40, deadline=30_000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(path=st.sampled_from(PATHS), text=set_strings)
def test_set_text_at_a_real_path(path, text):
    # As --set gives it: the value is text, read as a YAML scalar.
    assert outcome({path: text}) in ("plan", "input error", "limit")


def test_memory_stayed_bounded():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    assert peak < MEMORY_BOUND_BYTES, f"peak resident memory {peak / 1024**3:.1f} GiB"
