"""The solver interface: options, our own status vocabulary, results, capability flags."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..status import Status


@dataclass(frozen=True)
class SolveOptions:
    """Options every backend receives; the gap is always set explicitly."""

    time_limit_s: float = 60.0
    gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    grace_s: float = 5.0
    hint: np.ndarray | None = None    # a previous solution to start from (same columns), or None


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; callers ask these instead of testing names."""

    integer: bool = True
    bound_at_limit: bool = True       # reports a dual bound when stopped early
    incumbent_at_limit: bool = True   # returns its best plan when stopped early
    threads: bool = False             # uses more than one thread when asked
    honours_time_limit: bool = True   # measured: returns within the limit + a few seconds
    exact_continuous: bool = True     # False: continuous columns solved on a grid, no valid bound (CP-SAT)
    iis: bool = False                 # can compute an irreducible infeasible subset (none of ours can)


@dataclass
class SolverResult:
    """What a backend returns, before our mapping to a plan."""

    status: Status
    solver: str
    version: str
    raw_status: str
    objective: float | None = None
    bound: float | None = None
    x: np.ndarray | None = None
    seconds: float = 0.0
    message: str = ""
    log: list[str] = field(default_factory=list)
    duals: np.ndarray | None = None   # row duals d(objective)/d(row bound), for LPs
