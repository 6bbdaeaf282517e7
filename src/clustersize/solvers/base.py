"""The solver interface: options, results, capability flags and the `Backend` protocol."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ..status import Status

if TYPE_CHECKING:
    from ..formulation import LinearProgram

# Status is re-exported: backends import it from here.
__all__ = ["Backend", "Capabilities", "SolveOptions", "SolverResult", "Status", "honoured", "limit_messages",
           "unsupported_options"]


@dataclass(frozen=True)
class SolveOptions:
    """Options every backend receives; the gap is always set explicitly.

    time_limit_s [s], gap [fraction of the plan's cost], threads [count], seed, grace_s [s]
    (the watchdog's allowance beyond the limit), hint: a previous solution over the same
    columns to start from, or None.
    """

    time_limit_s: float = 60.0
    gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    grace_s: float = 5.0
    hint: np.ndarray | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do. Callers ask (`supports("warm_start")`) instead of testing names.

    Option flags, each read by `unsupported_options` (and `warm_start` by the pipeline, which
    never passes a start to a backend without it):
      threads: uses more than one thread when asked; seed: takes a random seed; time_limit: takes
      a time limit; gap: takes a relative gap; warm_start: accepts a start (hint); duals: returns
      row duals (read by the marginal-value code through `GlopDuals`).
    Behaviour flags, each read where the result is interpreted:
      incumbent_at_limit: returns its best plan when stopped early (else a plain-language hint is
      added when a limit leaves no plan); bound_at_limit: reports a dual bound when stopped early;
      exact_continuous: False when continuous columns are solved on a grid, so neither its
      bound nor its "infeasible" is a proof (CP-SAT); start_pays: a previous plan given as a start
      makes a re-solve faster (read by the pipeline before it passes a what-if point's start).
    """

    threads: bool = False
    seed: bool = True
    time_limit: bool = True
    gap: bool = True
    warm_start: bool = True
    duals: bool = False
    incumbent_at_limit: bool = True
    bound_at_limit: bool = True
    exact_continuous: bool = True
    start_pays: bool = True

    def supports(self, feature: str) -> bool:
        """True when the backend has `feature` (a field name); ValueError for an unknown name."""
        known = {f.name for f in fields(self)}
        if feature not in known:
            raise ValueError(f"unknown capability {feature!r}; known: {', '.join(sorted(known))}")
        return bool(getattr(self, feature))


@dataclass
class SolverResult:
    """What a backend returns, before our mapping to a plan.

    objective and bound are in the program's internal cost unit [MUSD]; seconds [s] is wall time.
    """

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


@runtime_checkable
class Backend(Protocol):
    """A solver behind our interface. `solve` runs inside the watchdog's child process."""

    name: str
    capabilities: Capabilities

    def available(self) -> bool:
        """True when the solver is installed here."""
        ...

    def version(self) -> str:
        """A version string for the plan's provenance."""
        ...

    def solve(self, lp: LinearProgram, options: SolveOptions) -> SolverResult:
        """Solve `lp` within `options`; the status comes from `solvers.mapping.map_status`."""
        ...


def unsupported_options(backend: Backend, options: SolveOptions) -> list[str]:
    """Plain-language messages, one per option in `options` that `backend` cannot honour.

    Defaults (one thread, seed 0, no start) ask for nothing, so they produce no message.
    """
    caps, label = backend.capabilities, backend.name
    messages = []
    if options.threads > 1 and not caps.threads:
        messages.append(f"{label} runs on one thread here; threads={options.threads} was not used")
    if options.seed != 0 and not caps.seed:
        messages.append(f"{label} takes no random seed; seed={options.seed} was not used")
    if options.hint is not None and not caps.warm_start:
        messages.append(f"{label} cannot take a start; the previous plan was not used as one (solved cold)")
    if not caps.time_limit:
        messages.append(f"{label} takes no time limit; the watchdog stops it at "
                        f"{options.time_limit_s:g} s + {options.grace_s:g} s grace")
    if not caps.gap:
        messages.append(f"{label} takes no gap; it solves to its own tolerance, not gap={options.gap:g}")
    return messages


def honoured(backend: Backend, options: SolveOptions) -> SolveOptions:
    """`options` without what `backend` cannot take: the start is dropped when it takes none."""
    if options.hint is not None and not backend.capabilities.warm_start:
        return SolveOptions(options.time_limit_s, options.gap, options.threads, options.seed, options.grace_s)
    return options


def limit_messages(backend: Backend, status: Status, bound: float | None) -> list[str]:
    """Plain-language notes on what a stop at a limit cost, read from the backend's behaviour flags."""
    caps, label = backend.capabilities, backend.name
    if status is Status.NO_SOLUTION and not caps.incumbent_at_limit:
        return [(f"{label} does not return its best plan when stopped at a limit; a longer --time-limit "
                 "or --solver scip may give one")]
    if status is Status.FEASIBLE and bound is None and not caps.bound_at_limit:
        return [f"{label} proves no lower bound when stopped at a limit; the gap is unknown"]
    return []
