"""Test helpers for clustersize and for tools built on it: a hypothesis strategy of problems.

The problems are generated ones (see `generate`) whose run also draws how it may mix accelerators
(one stack, one model, or any with a stack efficiency) and whether its length is fixed or a range.

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
        doc = generate_problem((chips, sites, quarters, contracts), seed,
                               cloud_offers=draw(st.integers(0, 2)), custom_programs=draw(st.integers(0, 1)))
        run = doc["run"]
        run["mix"] = draw(st.sampled_from(["stack", "model", "any"]))
        if run["mix"] == "any":
            run["stack_efficiency"] = draw(st.sampled_from([0.8, 0.9, 1.0]))
        if draw(st.booleans()):
            days = run.pop("length_days")
            run.update(min_length_days=round(days * 2 / 3), max_length_days=days)
        return doc

    return strategy()
