"""clustersize: the cheapest verified way to reach a training-compute target by a date.

>>> import clustersize
>>> problem = clustersize.load_problem("problems/gpt5.yaml",
...                                    overrides={"accelerators.h100-sxm.price_usd": 25000})
>>> plan = clustersize.solve(problem)            # doctest: +SKIP
>>> plan.tables["purchases"]                     # doctest: +SKIP
>>> risky = clustersize.load_problem("problems/custom-chip-risk.yaml")
>>> two_stage = clustersize.solve_two_stage(risky)   # doctest: +SKIP
>>> two_stage.figures["vss_usd"]                     # doctest: +SKIP

The public names are imported on first use, so `import clustersize` (and `clustersize --help`)
does not pay for pandas, SciPy and the solvers until they are needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ClustersizeError, InfeasibleError, InputError, NoSolutionError, VerificationError
from .status import Status

if TYPE_CHECKING:
    from .explanation import explain
    from .plan import Plan, write_plan
    from .plan.verify import Verification
    from .risk.plan import TwoStagePlan
    from .risk.solve import solve_two_stage
    from .schema.load import load_problem
    from .schema.problem import Problem
    from .solving.pipeline import solve
    from .whatif import sweep

__version__ = "0.1.0"

_LAZY = {
    "Plan": ".plan", "write_plan": ".plan", "Verification": ".plan.verify", "load_problem": ".schema.load",
    "Problem": ".schema.problem", "solve": ".solving.pipeline", "explain": ".explanation", "sweep": ".whatif",
    "solve_two_stage": ".risk.solve", "TwoStagePlan": ".risk.plan",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'clustersize' has no attribute {name!r}")


def verify(plan: Plan, problem: Problem) -> Verification:
    """Independently check `plan` against `problem`: a Verification (ok, checks, violations, cost_usd, ...)."""
    from .plan.verify import verify as verify_plan

    return verify_plan(plan, problem)


__all__ = [
    "ClustersizeError", "InfeasibleError", "InputError", "NoSolutionError", "Plan", "Problem", "Status",
    "TwoStagePlan", "Verification", "VerificationError", "explain", "load_problem", "solve", "solve_two_stage",
    "sweep", "verify", "write_plan",
    "__version__",
]
