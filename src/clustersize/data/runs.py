"""The runs as the model needs them: windows, who may join, at what rate, pace levels, size bands.

A window is one (start, length) choice of a run: starts on the quarter grid from the run's
earliest start (or its given start), lengths from its minimum to its maximum, ending by the
deadline. A run's rate per accelerator is dense peak at the run's precision x MFU [EFLOP/s];
members of a *group* (a software stack, one model, or every accelerator) may share a run, and the
synchronous step runs at the pace of the slowest member used: one *pace level* per distinct rate
in a group. Goodput falls with the cluster's size in bands; span efficiencies apply when a run
spans several locations, regions or continents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..periods import quarter_index, quarter_start
from ..schema.problem import Chip, Problem
from ..schema.runs import SPAN_LEVELS, PlannedRun, accelerator_mfu, stack_of

EFLOPS_PER_TFLOPS = 1e-6
HOURS_PER_DAY = 24.0


@dataclass
class Windows:
    """Every candidate window of every run, index w, and the quarters each overlaps."""

    run: np.ndarray                 # [w] run index
    start_period: np.ndarray        # [w] quarter index of the start
    days: np.ndarray                # [w] length [days]
    starts: list[dt.date]
    labels: list[str]               # e.g. "main@2028-04-01+120d"
    cover_window: np.ndarray        # [cover] window of each (window, quarter) overlap
    cover_period: np.ndarray        # [cover] quarter index
    cover_days: np.ndarray          # [cover] days of the window inside the quarter [days]

    @property
    def hours(self) -> np.ndarray:
        """Window lengths [h]."""
        return self.days * HOURS_PER_DAY


@dataclass
class RunData:
    """Runs, their windows, members and rates, in internal units (EFLOP/s, EFLOP/s-day)."""

    ids: list[str]
    runs: list[PlannedRun]
    target: np.ndarray              # [r] EFLOP/s-day
    max_sites: np.ndarray           # [r]
    windows: Windows
    acc_rate: np.ndarray            # [r, a] EFLOP/s per accelerator; 0 where it may not join
    offer_rate: np.ndarray          # [r, o] EFLOP/s per rented accelerator; 0 where it may not join
    acc_group: list[list[str]]      # [r][a] pace group: its stack, its model or "*"
    offer_group: list[list[str]]    # [r][o]
    acc_stack: list[str]            # [a]
    offer_stack: list[str]          # [o]
    level_run: np.ndarray           # [l] run of each pace level
    level_group: list[str]          # [l]
    level_rate: np.ndarray          # [l] EFLOP/s per accelerator
    band_run: np.ndarray            # [b]
    band_units: np.ndarray          # [b] most accelerators in the band (inf for the floor)
    band_goodput: np.ndarray        # [b] fraction of time that is productive
    span_efficiency: np.ndarray     # [r, len(SPAN_LEVELS)] compute kept when spanning each level
    stack_efficiency: np.ndarray    # [r] compute kept per extra stack (mix any)
    mixes: list[str] = field(default_factory=list)
    stated_flop: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [r] the problem's targets [FLOP]


def _window_days(run: PlannedRun, start: dt.date, origin: dt.date) -> list[float]:
    """Lengths a window from `start` may take: the run's minimum and maximum, every quarter start
    between, and the deadline, where they lie in [min, max] and end by the deadline [days]."""
    latest = (run.deadline - start).days
    if latest < run.min_days - 1e-9:
        return []
    candidates = {run.min_days, min(run.max_days, float(latest))}
    first, last = quarter_index(start, origin) + 1, quarter_index(run.deadline, origin)
    for t in range(first, last + 1):
        days = float((quarter_start(origin, t) - start).days)
        if run.min_days <= days <= run.max_days:
            candidates.add(days)
    return sorted(d for d in candidates if run.min_days - 1e-9 <= d <= min(run.max_days, latest) + 1e-9)


def _starts(run: PlannedRun, origin: dt.date) -> list[dt.date]:
    """Start dates a run may take: its given start, else every quarter start from its earliest start."""
    if run.start is not None:
        return [run.start]
    t = quarter_index(run.earliest_start, origin)
    if quarter_start(origin, t) < run.earliest_start:
        t += 1
    starts = []
    while (day := quarter_start(origin, t)) + dt.timedelta(days=run.min_days) <= run.deadline:
        starts.append(day)
        t += 1
    return starts


def _may_overlap(runs: list[PlannedRun], r: int) -> bool:
    """Whether another run's span (earliest start to deadline) meets run r's."""
    mine = runs[r]
    first = mine.start or mine.earliest_start
    return any((other.start or other.earliest_start) < mine.deadline and first < other.deadline
               for i, other in enumerate(runs) if i != r)


def _undominated(found: list[tuple[int, dt.date, float]]) -> list[tuple[int, dt.date, float]]:
    """The windows no other window starts as late and lasts as long as (one strictly more).

    For a run no other run can overlap, a later start has every order, site build and contract of an
    earlier one available and at least its supply installed, and a longer window needs fewer
    accelerators for the same unit-days (same energy, same rentals per FLOP, a goodput no worse), so
    a dominated window is never cheaper. A run of fixed length keeps its latest start only.
    """
    return [row for row in found
            if not any(o[1] >= row[1] and o[2] >= row[2] and (o[1] > row[1] or o[2] > row[2]) for o in found)]


def finish_limits(problem: Problem, runs: list[PlannedRun], finish_by: dt.date | None) -> dict[int, dt.date]:
    """Latest end of each run with one: the problem's objective.finish_by (for its run, or every run)
    and an extra bound of the solve (the finish objective's second stage) for the objective's run."""
    objective = problem.objective
    named = [r for r, run in enumerate(runs) if run.name == objective.run]
    limits: dict[int, dt.date] = {}
    if objective.finish_by is not None:
        limits = dict.fromkeys(named or range(len(runs)), objective.finish_by)
    if finish_by is not None:
        r = named[0] if named else objective_run(runs, "finish")
        limits[r] = min(limits.get(r, finish_by), finish_by)
    return limits


def objective_run(runs: list[PlannedRun], kind: str) -> int:
    """The run a finish objective is about when none is named: the one with the latest deadline;
    a compute objective's: the first."""
    if kind == "compute":
        return 0
    return max(range(len(runs)), key=lambda r: runs[r].deadline)


def build_windows(problem: Problem, runs: list[PlannedRun], finish_by: dt.date | None = None,
                  prune: bool = True) -> Windows:
    """Every (start, length) window of every run and the quarters it overlaps.

    finish_by : a latest end for the objective's run, on top of the problem's own.
    prune : keep only the undominated windows of a run no other run can overlap (never dearer);
        off when the plan minimises the finish.
    """
    origin = problem.planning_start
    limits = finish_limits(problem, runs, finish_by)
    rows: list[tuple[int, dt.date, float]] = []
    for r, run in enumerate(runs):
        found = [(r, start, days) for start in _starts(run, origin) for days in _window_days(run, start, origin)]
        if r in limits:
            found = [row for row in found if row[1] + dt.timedelta(days=row[2]) <= limits[r]]
            if not found:
                raise InputError(f"run {run.name!r} cannot end by {limits[r]}: no window of "
                                 f"{run.min_days:g} days or more from {run.start or run.earliest_start} ends by then",
                                 file=problem.source, path="objective.finish_by",
                                 fix="give a later finish, an earlier start or a shorter minimum length")
        if prune and not _may_overlap(runs, r):
            found = _undominated(found)
        if not found:
            raise InputError(f"run {run.name!r} cannot fit a {run.min_days:g}-day window between "
                             f"{run.start or run.earliest_start} and its deadline {run.deadline}",
                             file=problem.source, path=f"{run.path}.deadline",
                             fix="move the deadline later, the start earlier or shorten the run")
        rows += found
    cover: list[tuple[int, int, float]] = []
    for w, (_, start, days) in enumerate(rows):
        cover += [(w, t, inside) for t, inside in window_quarters(start, days, origin)]
    return Windows(
        run=np.array([r for r, _, _ in rows], dtype=int),
        start_period=np.array([quarter_index(s, origin) for _, s, _ in rows], dtype=int),
        days=np.array([d for _, _, d in rows]), starts=[s for _, s, _ in rows],
        labels=[f"{runs[r].name}@{s.isoformat()}+{d:g}d" for r, s, d in rows],
        cover_window=np.array([c[0] for c in cover], dtype=int), cover_period=np.array([c[1] for c in cover], dtype=int),
        cover_days=np.array([c[2] for c in cover]))


def window_quarters(start: dt.date, days: float, origin: dt.date) -> list[tuple[int, float]]:
    """(quarter index, days of the window inside it) for every quarter a window overlaps; the last
    takes the fractional remainder, so the days add up to the window's length exactly."""
    end = start + dt.timedelta(days=days)
    found, t = [], quarter_index(start, origin)
    while quarter_start(origin, t) < end:
        lo, hi = max(start, quarter_start(origin, t)), min(end, quarter_start(origin, t + 1))
        if hi > lo:
            found.append((t, float((hi - lo).days)))
        t += 1
    if found:
        found[-1] = (found[-1][0], days - sum(inside for _, inside in found[:-1]))
    return found


def peak_tflops(chip: Chip, precision: str) -> float:
    """Dense peak at the run's precision [TFLOP/s]; chips without FP8 run at BF16."""
    if precision == "fp8" and chip.fp8_tflops is not None:
        return chip.fp8_tflops
    return chip.bf16_tflops


def unit_mfu(problem: Problem, run: PlannedRun, chip: Chip, override: float | None) -> float:
    """MFU of one accelerator in a run: the run's wall-clock figure, else the offer's or
    accelerator's override, else the catalog's for the precision [fraction]."""
    if run.mfu is not None:
        return run.mfu
    if override is not None:
        return override
    return accelerator_mfu(problem, chip, run.precision)


def _fits(run: PlannedRun, chip: Chip) -> bool:
    """The model fits the accelerator's memory (unknown memory is taken to fit)."""
    return run.memory_gb is None or chip.memory_gb is None or chip.memory_gb >= run.memory_gb


def _group(run: PlannedRun, stack: str, model: str) -> str:
    return {"stack": stack, "model": model}.get(run.mix, "*")


def _levels(runs: list[PlannedRun], acc_rate: np.ndarray, offer_rate: np.ndarray, acc_group: list[list[str]],
            offer_group: list[list[str]]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """One pace level per run, group and distinct rate of its members."""
    run_of, group_of, rate_of = [], [], []
    for r in range(len(runs)):
        members = {(g, round(float(x), 12)) for g, x in zip(acc_group[r], acc_rate[r]) if x > 0}
        members |= {(g, round(float(x), 12)) for g, x in zip(offer_group[r], offer_rate[r]) if x > 0}
        for g, x in sorted(members):
            run_of.append(r)
            group_of.append(g)
            rate_of.append(x)
    return np.array(run_of, dtype=int), group_of, np.array(rate_of)


def build_run_data(problem: Problem, runs: list[PlannedRun], windows: Windows,
                   accs: list[tuple[str, Chip, int]]) -> RunData:
    """Rates, groups and levels of each run for the purchasable accelerators `accs` (id, chip,
    program index or -1) and the cloud offers."""
    program_ids = list(problem.custom_programs)
    offers = [(oid, o, problem.cloud_chips[o.accelerator]) for oid, o in problem.cloud.items()]
    acc_stack = [stack_of(chip, program_ids[p] if p >= 0 else None) for _, chip, p in accs]
    offer_stack = [stack_of(chip) for _, _, chip in offers]
    acc_rate = np.array([[peak_tflops(chip, run.precision) * unit_mfu(problem, run, chip, getattr(chip, "mfu", None))
                          * EFLOPS_PER_TFLOPS * _fits(run, chip) for _, chip, _ in accs] for run in runs])
    offer_rate = np.array([[peak_tflops(chip, run.precision) * unit_mfu(problem, run, chip, o.mfu)
                            * EFLOPS_PER_TFLOPS * _fits(run, chip) for _, o, chip in offers] for run in runs])
    acc_group = [[_group(run, acc_stack[a], aid) for a, (aid, _, _) in enumerate(accs)] for run in runs]
    offer_group = [[_group(run, offer_stack[o], o_.accelerator) for o, (_, o_, _) in enumerate(offers)] for run in runs]
    level_run, level_group, level_rate = _levels(runs, acc_rate.reshape(len(runs), len(accs)),
                                                 offer_rate.reshape(len(runs), len(offers)), acc_group, offer_group)
    bands = [(r, units, g) for r, run in enumerate(runs) for units, g in run.goodput_bands]
    return RunData(
        ids=[run.name for run in runs], runs=runs,
        target=np.array([run.flop for run in runs]) / (1e18 * 86400.0),
        max_sites=np.array([run.max_sites for run in runs], dtype=int), windows=windows,
        acc_rate=acc_rate.reshape(len(runs), len(accs)), offer_rate=offer_rate.reshape(len(runs), len(offers)),
        acc_group=acc_group, offer_group=offer_group, acc_stack=acc_stack, offer_stack=offer_stack,
        level_run=level_run, level_group=level_group, level_rate=level_rate,
        band_run=np.array([b[0] for b in bands], dtype=int), band_units=np.array([b[1] for b in bands], dtype=float),
        band_goodput=np.array([b[2] for b in bands]),
        span_efficiency=np.array([[run.span_efficiency[level] for level in SPAN_LEVELS] for run in runs]),
        stack_efficiency=np.array([run.stack_efficiency for run in runs]), mixes=[run.mix for run in runs])
