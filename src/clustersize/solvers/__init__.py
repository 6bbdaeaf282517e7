"""Solver backends behind one interface, chosen by name; every solve runs under a watchdog."""

from __future__ import annotations

from .base import (
    Backend,
    Capabilities,
    SolveOptions,
    SolverResult,
    Status,
    honoured,
    unsupported_options,
)
from .cbc import CbcBackend
from .mapping import map_status, relative_gap, within_gap
from .ortools_backend import OrtoolsBackend
from .watchdog import solve_with_watchdog


def backends() -> dict[str, Backend]:
    """All known backends by name (installed or not)."""
    return {
        # model_builder's SCIP runs one thread; it takes hints, but a previous plan as a start made a
        # 50-point medium sweep 32 % slower (BENCHMARKS.md): what-if points are solved cold.
        "scip": OrtoolsBackend("scip", "SCIP", Capabilities(start_pays=False)),
        # model_builder + HiGHS drops its incumbent (and bound) at a time limit (measured), and
        # HiGHS 1.12 in OR-Tools 9.15 crashes when given a start, so none is ever passed.
        "highs": OrtoolsBackend("highs", "HIGHS", Capabilities(threads=True, warm_start=False,
                                                               incumbent_at_limit=False, bound_at_limit=False)),
        # CP-SAT puts continuous columns on a grid: its bound is not a proof for this model.
        "cpsat": OrtoolsBackend("cpsat", "SAT", Capabilities(threads=True, exact_continuous=False,
                                                             bound_at_limit=False)),
        "cbc": CbcBackend(),
    }


def available_backends() -> list[str]:
    """Names of the backends installed here."""
    return [name for name, backend in backends().items() if backend.available()]


def get_backend(name: str) -> Backend:
    """The backend called `name`; ValueError naming the choices otherwise."""
    known = backends()
    if name not in known:
        raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(known)}")
    return known[name]


__all__ = ["Backend", "Capabilities", "SolveOptions", "SolverResult", "Status", "available_backends", "backends",
           "get_backend", "honoured", "map_status", "relative_gap", "solve_with_watchdog", "unsupported_options",
           "within_gap"]
