"""Test helpers for clustersize and for tools built on it: a hypothesis strategy of problems.

Requires the `test` extra (hypothesis).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .generate import generate_problem

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy


def problems(max_chips: int = 3, max_sites: int = 4, max_quarters: int = 5,
             max_extra_contracts: int = 3) -> SearchStrategy[dict[str, Any]]:
    """Hypothesis strategy of small, valid, generated problem dicts covering every feature."""
    from hypothesis import strategies as st

    @st.composite
    def strategy(draw: st.DrawFn) -> dict[str, Any]:
        chips = draw(st.integers(1, max_chips))
        sites = draw(st.integers(1, max_sites))
        quarters = draw(st.integers(2, max_quarters))
        contracts = sites + draw(st.integers(0, max_extra_contracts))
        seed = draw(st.integers(0, 2**31 - 1))
        return generate_problem((chips, sites, quarters, contracts), seed,
                                cloud_offers=draw(st.integers(0, 2)), custom_programs=draw(st.integers(0, 1)))

    return strategy()
