"""Refuse a model too large to build, before building it, with the numbers.

The model's dominant term is one purchase column per (accelerator, site, quarter) cell; every
other family is per site, contract, offer or program. A deadline decades away or a generated
problem with thousands of sites would otherwise allocate gigabytes before any check ran
(a 9999-12-31 deadline once built 287k rows x 1.28M columns in 4 GB).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import InputError
from ..periods import quarter_index
from ..schema.problem import Problem
from ..schema.runs import PlannedRun, planned_runs

DEFAULT_MAX_COLUMNS = 1_000_000
MAX_COLUMNS_ENV = "CLUSTERSIZE_MAX_COLUMNS"
# Limits on single magnitudes: beyond these a coefficient swamps the solver's tolerances.
MAX_USD = 1e15    # [USD] a quadrillion dollars
MAX_FLOP = 1e32   # [FLOP]
MAX_MAGNITUDE = 1e18  # any other number (units, MW, TPP, tokens...): a solver reads 1e20 as infinite
UNBOUNDED_PATHS = ("target.flop",)


@dataclass(frozen=True)
class ModelSize:
    """An upper estimate of the model's size from the problem alone."""

    quarters: int
    purchase_cells: int
    columns: int


def estimate(problem: Problem) -> ModelSize:
    """An upper estimate of the columns [count]: one per (chip, site, quarter) purchase cell; per
    candidate window of a run, one per (chip, site), offer and contract (its run slots and energy);
    per run, one per pace level, band and location (x 3: use, region, continent) plus a few; and at
    most 3 per site, contract, offer and program."""
    runs = list(planned_runs(problem).values())
    last = max(run.deadline for run in runs)
    quarters = max(1, quarter_index(last, problem.planning_start) + 1)
    chips = len(problem.accelerators) + len(problem.custom_programs)
    cells = chips * len(problem.sites) * quarters
    windows = sum(_windows(run) for run in runs)
    per_window = chips * len(problem.sites) + len(problem.cloud) + len(problem.contracts) + 1
    locations = len(problem.sites) + len(problem.cloud)
    per_run = chips + len(problem.cloud) + len(runs[0].goodput_bands) + 3 * locations + 8
    others = 3 * (len(problem.sites) + len(problem.contracts) + len(problem.cloud) + len(problem.custom_programs)) + 1
    return ModelSize(quarters, cells, cells + windows * per_window + len(runs) * per_run + others)


def _windows(run: PlannedRun) -> int:
    """Most windows a run can have: its starts x its lengths (min, max, quarter ends, deadline)."""
    starts = 1 if run.start else max(1, quarter_index(run.deadline, run.earliest_start) + 1)
    lengths = 1 if run.min_days == run.max_days else 3 + int((run.max_days - run.min_days) // 90)
    return starts * lengths


def max_columns() -> int:
    """The configured limit on model columns (environment variable CLUSTERSIZE_MAX_COLUMNS)."""
    text = os.environ.get(MAX_COLUMNS_ENV, "")
    try:
        return int(text) if text.strip() else DEFAULT_MAX_COLUMNS
    except ValueError:
        raise InputError(f"{text[:40]!r} is not a whole number", path=MAX_COLUMNS_ENV,
                         fix=f"unset it or set e.g. {MAX_COLUMNS_ENV}=2000000") from None


def check_model_size(problem: Problem) -> ModelSize:
    """The size estimate, or InputError when it exceeds the limit or a magnitude is absurd."""
    size, limit = estimate(problem), max_columns()
    if size.columns > limit:
        raise InputError(
            f"the model would have about {size.columns:,} columns ({len(problem.accelerators)} accelerators x "
            f"{len(problem.sites)} sites x {size.quarters} quarters = {size.purchase_cells:,} purchase cells, plus "
            f"the run slots of every candidate window), over the limit of {limit:,}", file=problem.source,
            path="run.deadline" if problem.run is not None else "runs",
            fix=f"plan fewer quarters ahead, narrow the runs' windows, use fewer sites or accelerators, or raise "
                f"{MAX_COLUMNS_ENV}")
    for run in planned_runs(problem).values():
        if run.flop > MAX_FLOP:
            raise InputError(f"{run.flop:.3g} FLOP is beyond {MAX_FLOP:.0e}", file=problem.source,
                             path="target" if run.path == "run" else run.path, fix="check the exponent")
    prices = [(f"accelerators.{a}.price_usd", c.price_usd or 0.0) for a, c in problem.accelerators.items()]
    prices += [(f"custom_programs.{p}.nre_usd", c.nre_usd) for p, c in problem.custom_programs.items()]
    prices += [(f"sites.{s}.build_cost_usd_per_mw", c.build_cost_usd_per_mw) for s, c in problem.sites.items()]
    prices += [(f"sites.{s}.fixed_cost_usd", c.fixed_cost_usd) for s, c in problem.sites.items()]
    for d, deal in problem.supply_deals.items():
        prices += [(f"supply_deals.{d}.fee_usd", deal.fee_usd), (f"supply_deals.{d}.prepay_usd_per_unit",
                                                                 deal.prepay_usd_per_unit)]
    for path, value in prices:
        if value > MAX_USD:
            raise InputError(f"{value:.3g} USD is beyond {MAX_USD:.0e}", file=problem.source, path=path,
                             fix="check the exponent")
    # scenario overrides and distributions are checked on each scenario's own problem
    _check_magnitudes(problem.model_dump(by_alias=True, exclude={"solver", "scenarios", "uncertainty"}), "",
                      problem.source)
    return size


def _unbounded(path: str) -> bool:
    """FLOP targets: the single-run form's and each run's under runs:."""
    return path in UNBOUNDED_PATHS or (path.startswith("runs.") and path.endswith(".flop"))


def _check_magnitudes(node: object, path: str, file: str | None) -> None:
    """InputError naming the first number beyond MAX_MAGNITUDE (FLOP targets excepted)."""
    if isinstance(node, dict):
        for key, value in node.items():
            _check_magnitudes(value, f"{path}.{key}" if path else str(key), file)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _check_magnitudes(value, f"{path}[{i}]", file)
    elif isinstance(node, (int, float)) and not isinstance(node, bool) and abs(node) > MAX_MAGNITUDE \
            and not _unbounded(path):
        raise InputError(f"{node:.3g} is beyond {MAX_MAGNITUDE:.0e}", file=file, path=path,
                         fix="check the exponent and the unit")
