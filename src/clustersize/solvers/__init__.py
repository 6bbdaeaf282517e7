"""Solver backends behind one interface, chosen by name; every solve runs under a watchdog."""

from __future__ import annotations

from .base import Capabilities, SolveOptions, SolverResult, Status
from .cbc import CbcBackend
from .ortools_backend import OrtoolsBackend
from .watchdog import solve_with_watchdog


def backends() -> dict:
    """All known backends by name (installed or not)."""
    return {
        "scip": OrtoolsBackend("scip", "SCIP", Capabilities()),
        # model_builder + HiGHS drops its incumbent at a time limit (measured); HiGHS may overrun.
        "highs": OrtoolsBackend("highs", "HIGHS", Capabilities(incumbent_at_limit=False, threads=True,
                                                               honours_time_limit=False)),
        # CP-SAT puts continuous columns on a grid: its bound is not a proof for this model.
        "cpsat": OrtoolsBackend("cpsat", "SAT", Capabilities(threads=True, exact_continuous=False)),
        "cbc": CbcBackend(),
    }


def available_backends() -> list[str]:
    """Names of the backends installed here."""
    return [name for name, backend in backends().items() if backend.available()]


def get_backend(name: str):
    """The backend called `name`; ValueError naming the choices otherwise."""
    known = backends()
    if name not in known:
        raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(known)}")
    return known[name]


__all__ = ["Capabilities", "SolveOptions", "SolverResult", "Status", "available_backends", "backends",
           "get_backend", "solve_with_watchdog"]
