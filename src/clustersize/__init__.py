"""clustersize: the cheapest verified way to reach a training-compute target by a date.

>>> import clustersize
>>> problem = clustersize.load_problem("problems/gpt5.yaml",
...                                    overrides={"accelerators.h100-sxm.price_usd": 25000})
>>> plan = clustersize.solve(problem)            # doctest: +SKIP
>>> plan.tables["purchases"]                     # doctest: +SKIP
"""

from .errors import (
    ClustersizeError, InfeasibleError, InputError, NoSolutionError, VerificationError,
)
from .plan import Plan, write_plan
from .plan import verify as _verify_tables
from .plan.verify import Verification
from .schema.load import load_problem
from .schema.problem import Problem
from .solving.pipeline import solve
from .explanation import explain
from .status import Status
from .whatif import sweep

__version__ = "0.1.0"


def verify(plan: Plan, problem: Problem) -> Verification:
    """Independently check `plan` against `problem`: a Verification (ok, checks, violations, cost_usd, ...)."""
    return _verify_tables(plan, problem)


__all__ = [
    "ClustersizeError", "InfeasibleError", "InputError", "NoSolutionError", "Plan", "Problem", "Status", "explain",
    "VerificationError", "load_problem", "solve", "sweep", "verify", "write_plan", "__version__",
]
