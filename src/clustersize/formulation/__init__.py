"""The formulation: model data -> canonical arrays, read as an ordered recipe.

    variables -> each declared constraint family, in order -> (objective = column costs)
"""

from __future__ import annotations

from ..data.modeldata import ModelData
from ..families import FAMILIES, Family
from .constraints import ROW_BUILDERS
from .program import Keys, LinearProgram, ProgramBuilder, Term
from .variables import define_variables, index_sets


def build(data: ModelData, families: tuple[Family, ...] = FAMILIES) -> LinearProgram:
    """Build the procurement MILP for `data`; deterministic for equal inputs.

    families : the constraint families, in order; a family declared with its own `build` (a
        plug-in or a test) is built by it, the package's own by name.
    """
    builder = ProgramBuilder(index_sets(data))
    columns = define_variables(builder, data)
    for family in families:
        add_rows = family.build or ROW_BUILDERS[family.name]
        add_rows(builder, data, columns)
    return builder.build()


__all__ = ["Keys", "LinearProgram", "ProgramBuilder", "Term", "build"]
