"""The formulation: model data -> canonical arrays, read as an ordered recipe.

    variables -> each constraint family -> (objective = column costs)
"""

from __future__ import annotations

from ..data.modeldata import ModelData
from .constraints import CONSTRAINT_FAMILIES
from .program import LinearProgram, ProgramBuilder
from .variables import define_variables


def build(data: ModelData) -> LinearProgram:
    """Build the procurement MILP for `data`; deterministic for equal inputs."""
    builder = ProgramBuilder()
    columns = define_variables(builder, data)
    for add_family in CONSTRAINT_FAMILIES:
        add_family(builder, data, columns)
    return builder.build()


__all__ = ["LinearProgram", "build"]
