"""Input schema: the typed problem, its entities, export rulesets, catalog provenance, and
the figures derived from them."""

from .derived import ChipFigures, all_in_unit_cost_usd, derived, server_network_usd
from .problem import (
    Accelerator,
    CloudOffer,
    Contract,
    CostOptions,
    CustomProgram,
    ExportOptions,
    Origin,
    Problem,
    RunOptions,
    Site,
    SolverOptions,
    Target,
)
from .rules import ExportRuleset
from .types import FrozenProblemError

__all__ = [
    "Accelerator", "ChipFigures", "CloudOffer", "Contract", "CostOptions", "CustomProgram", "ExportOptions",
    "ExportRuleset", "FrozenProblemError", "Origin", "Problem", "RunOptions", "Site", "SolverOptions", "Target",
    "all_in_unit_cost_usd", "derived", "server_network_usd",
]
