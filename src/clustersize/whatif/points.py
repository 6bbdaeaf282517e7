"""What-if points: a grid or zip of --vary values, Monte Carlo draws, or named scenarios."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..schema.yamlsafe import load_file, loads
from .distributions import Distribution, draw

MAX_POINTS = 100_000


@dataclass(frozen=True)
class Point:
    """One what-if point: its overrides and how it was made."""

    index: int
    mode: str                      # grid, zip, sample or scenario
    overrides: dict[str, Any]
    scenario: str = ""
    labels: dict[str, Any] = field(default_factory=dict)


def parse_vary(spec: str) -> tuple[str, list[Any]]:
    """'PATH=START:STOP:N' (N evenly spaced values) or 'PATH=a,b,c' -> (PATH, values)."""
    path, sep, rhs = spec.partition("=")
    path = path.strip()
    if not sep or not path or not rhs.strip():
        raise InputError(f"--vary {spec!r} is not PATH=START:STOP:N or PATH=a,b,c",
                         fix="e.g. --vary accelerators.h100-sxm.price_usd=20000:40000:9")
    if re.fullmatch(r"[^,]*:[^,]*:[^,]*", rhs.strip()):
        start, stop, count = (loads(part.strip(), source=f"--vary {path}") for part in rhs.split(":"))
        if not (isinstance(start, (int, float)) and isinstance(stop, (int, float)) and isinstance(count, int)) \
                or count < 1:
            raise InputError(f"range {rhs!r} needs numbers START:STOP and a whole count N >= 1", path=f"--vary {path}")
        if count > MAX_POINTS:
            raise InputError(f"{count:,} values exceed the {MAX_POINTS:,}-point limit", path=f"--vary {path}",
                             fix="use fewer values")
        values = [float(v) for v in np.linspace(start, stop, count)]
        return path, [int(v) if isinstance(start, int) and isinstance(stop, int) and v.is_integer() else v
                      for v in values]
    return path, [loads(part.strip(), source=f"--vary {path}") for part in rhs.split(",")]


def grid_points(varies: list[tuple[str, list[Any]]], zipped: bool) -> list[Point]:
    """Full grid of every --vary, or paired values with --zip."""
    if not varies:
        return []
    sizes = [len(values) for _, values in varies]
    combos: Iterator[tuple[Any, ...]]
    if zipped:
        if len(set(sizes)) != 1:
            raise InputError(f"--zip needs equally long value lists, got {sizes}", path="--vary",
                             fix="give each --vary the same number of values")
        combos = zip(*(values for _, values in varies))
        mode = "zip"
    else:
        total = math.prod(sizes)
        if total > MAX_POINTS:
            raise InputError(f"the grid has {total:,} points, over the {MAX_POINTS:,}-point limit", path="--vary",
                             fix="use fewer values, --zip, or --sample")
        combos = itertools.product(*(values for _, values in varies))
        mode = "grid"
    paths = [p for p, _ in varies]
    return [Point(i, mode, dict(zip(paths, combo)), labels=dict(zip(paths, combo))) for i, combo in enumerate(combos)]


def sample_points(distributions: list[Distribution], n: int, seed: int,
                  correlations: Sequence[tuple[str, str, float]] = ()) -> list[Point]:
    """n Monte Carlo points."""
    if n < 1 or n > MAX_POINTS:
        raise InputError(f"--samples must be between 1 and {MAX_POINTS:,}", path="--samples")
    return [Point(i, "sample", values, labels=dict(values))
            for i, values in enumerate(draw(distributions, n, seed, correlations))]


def scenario_points(source: str | Path | Mapping[str, Mapping[str, Any]], include_base: bool = True) -> list[Point]:
    """Named override sets: a YAML file `scenarios: {name: {path: value}}`, or that mapping."""
    if isinstance(source, Mapping):
        doc, file = {"scenarios": dict(source)}, "<scenarios>"
    else:
        doc, file = load_file(source), str(source)
    scenarios = doc.get("scenarios") if isinstance(doc, dict) else None
    if not isinstance(scenarios, dict) or not scenarios:
        raise InputError("expected a mapping 'scenarios: {name: {path: value, ...}}'", file=file, path="scenarios")
    points = [Point(0, "scenario", {}, scenario="base")] if include_base and "base" not in scenarios else []
    for name, overrides in scenarios.items():
        if not isinstance(overrides, dict):
            raise InputError("a scenario is a mapping of override paths to values", file=file, path=f"scenarios.{name}")
        points.append(Point(len(points), "scenario", dict(overrides), scenario=str(name)))
    return points
