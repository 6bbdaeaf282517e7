"""Training runs and locations as the model plans them: one record per run, a stack per accelerator,
a region and continent per location, an MFU per accelerator and precision.

A problem states its runs either as `target:` + `run:` (one run, named `main`) or under `runs:`.
`planned_runs` resolves both forms to `PlannedRun` records with every default applied, so the
model data never reads the problem's run fields directly.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ..errors import InputError
from ..periods import quarter_index
from .catalog import Catalog, load_catalog
from .problem import Chip, Problem, RunOptions, RunShape

MAIN_RUN = "main"
SPAN_LEVELS = ("region", "continent", "world")
"""How far apart a run's locations may be: several locations in one region, one continent, or across an ocean."""

VENDOR_STACKS = {"nvidia": "cuda", "amd": "rocm", "intel": "gaudi", "google": "xla-tpu", "aws": "neuron",
                 "amazon": "neuron", "huawei": "cann", "cerebras": "cerebras"}
"""Software stack of an accelerator whose entry gives none, by vendor (lower case)."""


@dataclass(frozen=True)
class PlannedRun:
    """One training run with every default resolved.

    Dates are days; lengths in [days]; `flop` in [FLOP]; `mfu` is the run's wall-clock effective
    MFU [fraction] or None (then each accelerator's MFU times the goodput of the run's size);
    efficiencies and goodput are [fraction] of compute kept. `goodput_bands` is ascending
    ((max_units [accelerators], goodput), ..., (inf, floor)).
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
    grow: bool = False
    """The run may start on part of its cluster and add owned accelerators as they are installed."""
    single_run_form: bool = False
    """True for the run of the single-run form (`target:` + `run:`), whose fields sit under `run`."""

    @property
    def path(self) -> str:
        """Field path of the run in the problem file."""
        return "run" if self.single_run_form else f"runs.{self.name}"

    def goodput(self, units: float) -> float:
        """Goodput of the run at `units` accelerators [fraction]: the first band whose max_units holds it."""
        for max_units, goodput in self.goodput_bands:
            if units <= max_units:
                return goodput
        return self.goodput_bands[-1][1]


def _catalog_of(problem: Problem) -> Catalog:
    return load_catalog(problem.origin.catalog_dir)


def _goodput_bands(problem: Problem) -> tuple[tuple[float, float], ...]:
    """((max_units, goodput), ..., (inf, floor)) of the problem, or of the catalog defaults."""
    if problem.goodput is not None:
        bands = [(float(b.max_units), b.goodput) for b in problem.goodput.bands]
        return (*bands, (math.inf, problem.goodput.floor))
    defaults = _catalog_of(problem).defaults["goodput"]
    bands = [(float(b["max_units"]), float(b["goodput"])) for b in defaults["bands"]]
    return (*bands, (math.inf, float(defaults["floor"])))


def _span_efficiency(problem: Problem, shape: RunShape) -> dict[str, float]:
    """Compute kept per span level: the legacy multi_site_efficiency for all three, else each level
    given, else the catalog default."""
    if isinstance(shape, RunOptions) and shape.multi_site_efficiency is not None:
        return {level: shape.multi_site_efficiency for level in SPAN_LEVELS}
    given = shape.span_efficiency
    defaults: dict[str, float] | None = None
    spans: dict[str, float] = {}
    for level in SPAN_LEVELS:
        value = getattr(given, level) if given is not None else None
        if value is None:
            defaults = defaults or _catalog_of(problem).defaults["run"]["span_efficiency"]
            value = float(defaults[level])
        spans[level] = value
    return spans


def _planned(problem: Problem, name: str, flop: float, shape: RunShape, single: bool) -> PlannedRun:
    return PlannedRun(
        name=name, flop=flop, deadline=shape.deadline, earliest_start=shape.earliest_start or problem.planning_start,
        start=shape.start, min_days=shape.min_days, max_days=shape.max_days, precision=shape.precision,
        mfu=shape.mfu, max_sites=shape.max_sites, mix=shape.mix,
        stack_efficiency=shape.stack_efficiency if shape.stack_efficiency is not None else 1.0,
        span_efficiency=_span_efficiency(problem, shape), allow_cross_ocean=shape.allow_cross_ocean,
        memory_gb=shape.memory_gb, average_draw_fraction=shape.average_draw_fraction,
        goodput_bands=((math.inf, 1.0),) if shape.mfu is not None else _goodput_bands(problem),
        grow=shape.grow, single_run_form=single)


def planned_runs(problem: Problem) -> dict[str, PlannedRun]:
    """The problem's runs by name, in file order: `main` for the single-run form, else those of `runs:`."""
    if problem.runs is not None:
        return {name: _planned(problem, name, run.total_flop, run, single=False) for name, run in problem.runs.items()}
    assert problem.run is not None and problem.target is not None  # Problem requires one form
    return {MAIN_RUN: _planned(problem, MAIN_RUN, problem.target.total_flop, problem.run, single=True)}


def first_energy_quarter(problem: Problem) -> int:
    """The first quarter any run may start (a fixed start, else its earliest start): energy is drawn
    only by runs, so no contract's capacity is needed, and charged, before it."""
    return min(quarter_index(run.start or run.earliest_start, problem.planning_start)
               for run in planned_runs(problem).values())


def stack_of(chip: Chip, program: str | None = None) -> str:
    """Software stack of an accelerator: its own, else its custom program's, else its vendor's."""
    if chip.stack:
        return chip.stack
    if program is not None:
        return f"custom:{program}"
    return VENDOR_STACKS.get(chip.vendor.lower(), chip.vendor.lower())


def accelerator_mfu(problem: Problem, chip: Chip, precision: str) -> float:
    """MFU of `chip` at `precision` on productive steps [fraction of that precision's dense peak].

    The problem's own figure for the accelerator (`Accelerator.mfu`), else the catalog's
    `mfu_by_precision`, else the problem's `accelerator_mfu` default for the precision (from
    defaults.yaml). A chip without an FP8 rate runs FP8 work at BF16, so it takes the BF16 figure.
    A run's own mfu and a cloud offer's mfu are overrides the caller applies before this.
    """
    override = getattr(chip, "mfu", None)
    if override is not None:
        return float(override)
    if precision == "fp8" and chip.fp8_tflops is None:
        precision = "bf16"
    if precision not in ("bf16", "fp8"):
        raise ValueError(f"unknown precision {precision!r}")
    measured = {str(key): value for key, value in chip.mfu_by_precision.items()}.get(precision)
    if measured is not None:
        return float(measured)
    default = getattr(problem.accelerator_mfu, precision, None) if problem.accelerator_mfu is not None else None
    if default is None:
        default = _catalog_of(problem).defaults["accelerator_mfu"][precision]
    return float(default)


def region_of(country: str, region: str | None, catalog: Catalog | None = None, *,
              path: str | None = None) -> tuple[str, str]:
    """(region, continent) of a location: its stated region, else its country; the continent from
    catalogs/regions.yaml (`catalog`, default the bundled catalogs). InputError at `path` for a
    country the catalog does not place."""
    regions = (catalog or load_catalog()).regions
    if country not in regions:
        raise InputError(f"no continent is known for country {country!r}", path=path or "country",
                         fix="add it to catalogs/regions.yaml (country: continent), or use a listed country")
    return (region or country), regions[country]


@dataclass(frozen=True)
class Location:
    """A place a run's accelerators can be: a site, or a cloud offer's capacity.

    `max_cluster_units` [accelerators] is the largest fabric domain (None: unlimited).
    """

    id: str
    kind: str          # "site" or "cloud"
    country: str       # ISO 3166 alpha-2
    region: str
    continent: str
    max_cluster_units: int | None


def locations(problem: Problem) -> dict[str, Location]:
    """Every site and cloud offer of the problem as a Location, by id (sites first)."""
    catalog = _catalog_of(problem)
    found: dict[str, Location] = {}
    for sid, site in problem.sites.items():
        region, continent = region_of(site.country, site.region, catalog, path=f"sites.{sid}.country")
        found[sid] = Location(sid, "site", site.country, region, continent, site.max_cluster_units)
    for oid, offer in problem.cloud.items():
        region, continent = region_of(offer.country, offer.region, catalog, path=f"cloud.{oid}.country")
        found[oid] = Location(oid, "cloud", offer.country, region, continent, None)
    return found
