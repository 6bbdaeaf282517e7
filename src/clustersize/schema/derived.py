"""Figures derived from a validated problem, computed on demand and never stored.

A problem is immutable, and nothing here is cached on it: every figure is a function of
the current field values, so an edited copy (`Problem.with_`) gets figures that follow its
edits. The all-in unit cost formula lives here only; model data, the verifier and the
catalog views call `all_in_unit_cost_usd`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol, overload

import numpy as np
import numpy.typing as npt

from .exportcontrol import classify, performance_density, total_processing_performance
from .problem import Accelerator, Chip, Problem, SourceNote

SERVER_NETWORK_NOTE = ("derived by price level: chip price x (server_overhead / (1 - interconnect_share) - 1); "
                       "board or system price: (price + excluded items) / (1 - interconnect_share) - price")


class HardwareCostTerms(Protocol):
    """The two cost-model ratios a server and network share is derived from (CostOptions has them)."""

    @property
    def server_overhead(self) -> float:
        """Server price / accelerator price, for chip-only prices [ratio]."""

    @property
    def interconnect_share(self) -> float:
        """Cluster network share of total hardware cost [fraction]."""


def price_level(chip: Chip) -> str:
    """What the chip's price covers: `price_includes`, else system for a system-derived price, else chip."""
    return chip.price_includes or ("system" if chip.price_type == "system-derived" else "chip")


def server_network_usd(chip: Chip, costs: HardwareCostTerms) -> float | None:
    """Server and network share per accelerator at the price's date [USD]: the chip's own figure when given.

    Otherwise Epoch AI's cost model, by what the price covers (p the price, e the excluded items,
    o the server overhead, n the interconnect share, all-in = p + share):
    a chip price gives an all-in p x o / (1 - n); a board or system price, (p + e) / (1 - n).
    None when the chip has neither a share nor a price.
    """
    if chip.server_network_usd is not None:
        return chip.server_network_usd
    if chip.price_usd is None:
        return None
    if price_level(chip) == "chip":
        return chip.price_usd * (costs.server_overhead / (1.0 - costs.interconnect_share) - 1.0)
    return (chip.price_usd + (chip.excluded_items_usd or 0.0)) / (1.0 - costs.interconnect_share) - chip.price_usd


@overload
def all_in_unit_cost_usd(chip: Chip, costs: HardwareCostTerms, quarters: int = 0,
                         planning_start: dt.date | None = None) -> float: ...


@overload
def all_in_unit_cost_usd(chip: Chip, costs: HardwareCostTerms, quarters: npt.NDArray[np.int_],
                         planning_start: dt.date | None = None) -> npt.NDArray[np.floating[Any]]: ...


def all_in_unit_cost_usd(chip: Chip, costs: HardwareCostTerms, quarters: int | npt.NDArray[np.int_] = 0,
                         planning_start: dt.date | None = None) -> float | npt.NDArray[np.floating[Any]]:
    """All-in cost of one accelerator bought in planning quarter `quarters` [USD].

    (price + server and network share) x (1 - price_decline_per_quarter) ^ age: the decline applies
    to the whole server-level cost, from the price's own date (`Chip.price_age_quarters`; without
    a planning start or a price date the age is `quarters`). Raises ValueError for a chip with no price.
    """
    share = server_network_usd(chip, costs)
    if chip.price_usd is None or share is None:
        raise ValueError(f"{chip.name} has no unit price")
    age = quarters if planning_start is None else chip.price_age_quarters(planning_start, quarters)
    result: Any = (chip.price_usd + share) * (1 - chip.price_decline_per_quarter) ** age
    return float(result) if np.ndim(result) == 0 else result


def purchase_unit_cost_usd(chip: Chip, costs: HardwareCostTerms, quarter: int, planning_start: dt.date,
                           duty: float = 0.0) -> float:
    """What one accelerator ordered in planning quarter `quarter` costs [USD]: its all-in cost plus a
    duty on its price (a share of price_usd after the decline, from the export ruleset)."""
    cost = all_in_unit_cost_usd(chip, costs, quarter, planning_start)
    if duty and chip.price_usd is not None:
        cost += chip.price_usd * (1 - chip.price_decline_per_quarter) ** chip.price_age_quarters(planning_start, quarter) \
            * duty
    return float(cost)


@dataclass(frozen=True)
class ChipFigures:
    """Derived figures of one accelerator under a problem's cost model and export ruleset."""

    price_usd: float | None             # [USD]
    server_network_usd: float | None    # [USD], given or derived
    server_network_derived: bool        # True when derived from the price type
    all_in_unit_usd: float | None       # bought in the first planning quarter [USD]
    it_power_kw: float | None           # incl. server and network share, full load [kW]
    tpp: float                          # [TPP]
    performance_density: float | None   # [TPP/mm^2]
    export_class: str | None            # ECCN under the problem's ruleset, None when unclassified


def chip_figures(chip: Chip, problem: Problem) -> ChipFigures:
    """The derived figures of one chip in `problem`."""
    share = server_network_usd(chip, problem.costs)
    return ChipFigures(
        price_usd=chip.price_usd, server_network_usd=share,
        server_network_derived=chip.server_network_usd is None and share is not None,
        all_in_unit_usd=all_in_unit_cost_usd(chip, problem.costs, 0, problem.planning_start) if share is not None else None,
        it_power_kw=chip.it_power_kw, tpp=total_processing_performance(chip),
        performance_density=performance_density(chip), export_class=classify(chip, problem.export.rules))


def purchasable_chips(problem: Problem) -> dict[str, tuple[str, Accelerator]]:
    """{model-data id: (field path, chip)} for catalog accelerators and custom chips."""
    chips = {aid: (f"accelerators.{aid}", acc) for aid, acc in problem.accelerators.items()}
    chips.update({f"custom:{pid}": (f"custom_programs.{pid}.chip", prog.chip)
                  for pid, prog in problem.custom_programs.items()})
    return chips


def derived(problem: Problem) -> dict[str, ChipFigures]:
    """Derived figures of every purchasable chip, keyed as in plans: accelerator id, or custom:<program>."""
    return {key: chip_figures(chip, problem) for key, (_, chip) in purchasable_chips(problem).items()}


def derived_provenance(problem: Problem) -> dict[str, SourceNote]:
    """Provenance entries of the derived server and network shares and of the MFU each accelerator
    takes from a default, by field path."""
    notes: dict[str, SourceNote] = {f"{path}.server_network_usd": {"source": SERVER_NETWORK_NOTE}
                                    for path, chip in purchasable_chips(problem).values()
                                    if chip.server_network_usd is None and chip.price_usd is not None}
    notes.update(_mfu_provenance(problem))
    return notes


def _mfu_provenance(problem: Problem) -> dict[str, SourceNote]:
    """Where an accelerator's MFU at a precision some run uses comes from when its entry has no figure:
    the BF16 figure for FP8 work on a chip without an FP8 rate, else accelerator_mfu. Runs that give their
    own (wall-clock) mfu and accelerators with a problem-side mfu need none."""
    precisions = sorted({shape.precision for shape in problem.run_shapes().values() if shape.mfu is None})
    offered_mfu = {offer.accelerator for offer in problem.cloud.values() if offer.mfu is not None}
    chips: list[tuple[str, Chip]] = [(path, chip) for path, chip in purchasable_chips(problem).values()
                                     if getattr(chip, "mfu", None) is None]
    chips += [(f"cloud_chips.{cid}", chip) for cid, chip in problem.cloud_chips.items() if cid not in offered_mfu]
    notes: dict[str, SourceNote] = {}
    for path, chip in chips:
        for precision in precisions:
            used = "bf16" if precision == "fp8" and chip.fp8_tflops is None else precision
            if used != precision:
                notes[f"{path}.mfu_by_precision.{precision}"] = {
                    "source": "derived: no FP8 rate, so FP8 work runs at BF16 with the BF16 figure"}
            elif used not in chip.mfu_by_precision:
                notes[f"{path}.mfu_by_precision.{precision}"] = {
                    "source": f"derived: no published {precision.upper()} figure for this accelerator; "
                              f"accelerator_mfu.{precision} applies"}
    return notes
