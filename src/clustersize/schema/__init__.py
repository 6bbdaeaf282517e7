"""Input schema: the typed problem, its entities, export rulesets and catalog provenance."""

from .problem import (
    Accelerator, CloudOffer, Contract, CostOptions, CustomProgram, ExportOptions, Problem,
    RunOptions, Site, SolverOptions, Target,
)
from .rules import ExportRuleset

__all__ = [
    "Accelerator", "CloudOffer", "Contract", "CostOptions", "CustomProgram", "ExportOptions",
    "ExportRuleset", "Problem", "RunOptions", "Site", "SolverOptions", "Target",
]
