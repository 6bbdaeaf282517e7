"""The status vocabulary shared by solvers, plans and the verifier."""

from __future__ import annotations

import enum


class Status(str, enum.Enum):
    """Outcome of a solve. Only a proven optimum within the requested gap is OPTIMAL."""

    OPTIMAL = "optimal"          # plan proven optimal within the requested relative gap
    FEASIBLE = "feasible"        # plan found, stopped at a limit: see gap and bound
    INFEASIBLE = "infeasible"    # proven: no plan satisfies the constraints
    UNBOUNDED = "unbounded"      # cannot happen with finite costs >= 0; kept for completeness
    NO_SOLUTION = "no_solution"  # stopped at a limit (or killed) without any plan
    ERROR = "error"              # the solver failed

    @property
    def has_plan(self) -> bool:
        """True when the result carries a primal solution."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)
