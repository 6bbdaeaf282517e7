"""Training runs and locations as the model plans them: one record per run, a stack per accelerator,
a region and continent per location.

A problem states its runs either as `target:` + `run:` (one run, named `main`) or under `runs:`.
`planned_runs` resolves both forms to `PlannedRun` records with every default applied, so the
model data never reads the problem's run fields directly.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from .problem import Chip, Problem

MAIN_RUN = "main"
SPAN_LEVELS = ("region", "continent", "world")
"""How far apart a run's locations may be: several locations in one region, one continent, or across an ocean."""

VENDOR_STACKS = {"nvidia": "cuda", "amd": "rocm", "intel": "gaudi", "google": "xla-tpu", "aws": "neuron",
                 "amazon": "neuron", "huawei": "cann", "cerebras": "cerebras"}
"""Software stack of an accelerator whose entry gives none, by vendor (lower case)."""


@dataclass(frozen=True)
class PlannedRun:
    """One training run with every default resolved.

    Lengths in [days]; `flop` in [FLOP]; efficiencies and goodput as [fraction] of compute kept.
    """

    name: str
    flop: float
    deadline: dt.date
    earliest_start: dt.date
    start: dt.date | None
    min_days: float
    max_days: float
    precision: str
    mfu: float | None
    max_sites: int
    mix: str
    stack_efficiency: float
    span_efficiency: dict[str, float]
    allow_cross_ocean: bool
    memory_gb: float | None
    average_draw_fraction: float
    goodput_bands: tuple[tuple[float, float], ...]

    @property
    def path(self) -> str:
        """Field path of the run in the problem file."""
        return "run" if self.name == MAIN_RUN else f"runs.{self.name}"


def planned_runs(problem: Problem) -> dict[str, PlannedRun]:
    """The problem's runs by name, in file order."""
    run, target = problem.run, problem.target
    efficiency = run.multi_site_efficiency or 1.0
    return {MAIN_RUN: PlannedRun(
        name=MAIN_RUN, flop=target.total_flop, deadline=run.deadline, earliest_start=problem.planning_start,
        start=run.start, min_days=run.length_days, max_days=run.length_days, precision=run.precision,
        mfu=run.mfu, max_sites=run.max_sites, mix="any", stack_efficiency=1.0,
        span_efficiency={level: efficiency for level in SPAN_LEVELS}, allow_cross_ocean=True, memory_gb=None,
        average_draw_fraction=run.average_draw_fraction, goodput_bands=((math.inf, 1.0),))}


def stack_of(chip: Chip, program: str | None = None) -> str:
    """Software stack of an accelerator: its own, else its custom program's, else its vendor's."""
    stack = getattr(chip, "stack", None)
    if stack:
        return str(stack)
    if program is not None:
        return f"custom:{program}"
    return VENDOR_STACKS.get(chip.vendor.lower(), chip.vendor.lower())


def region_of(country: str, region: str | None) -> tuple[str, str]:
    """(region, continent) of a location: its stated region, else its country."""
    return (region or country), CONTINENTS.get(country, country)


CONTINENTS = {
    **dict.fromkeys(("US", "CA", "MX"), "north-america"),
    **dict.fromkeys(("BR", "CL", "AR", "CO"), "south-america"),
    **dict.fromkeys(("GB", "IE", "FR", "DE", "NL", "BE", "NO", "SE", "FI", "DK", "ES", "PT", "IT", "CH", "AT",
                     "PL", "CZ", "IS"), "europe"),
    **dict.fromkeys(("SA", "AE", "QA", "IL", "TR"), "middle-east"),
    **dict.fromkeys(("JP", "KR", "TW", "CN", "SG", "MY", "IN", "ID", "TH", "VN", "HK"), "asia"),
    **dict.fromkeys(("AU", "NZ"), "oceania"),
}
"""Continent of a country [ISO 3166 alpha-2]; an ocean separates any two of them."""
