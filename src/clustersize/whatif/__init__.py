"""What-if runs: parameter sweeps, Monte Carlo and scenario comparison, locally or on Dask."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schema.load import load_problem
from ..schema.problem import Problem
from ..schema.yamlsafe import load_file
from .distributions import parse_correlation, parse_sample
from .points import Point, grid_points, parse_vary, sample_points, scenario_points
from .runner import RunResult, run_points


def base_document(problem: str | Path | Mapping[str, Any] | Problem) -> dict[str, Any]:
    """The raw problem document every point overrides."""
    if isinstance(problem, Problem):
        doc = problem.model_dump(by_alias=True, exclude_none=True, exclude={"origin": True, "export": {"rules"}})
        derived = [p for p, meta in problem.provenance.items() if str(meta.get("source", "")).startswith("derived")]
        for path in derived:  # re-derive from the overridden inputs at each point
            node = doc
            *parents, leaf = path.split(".")
            for key in parents:
                node = node.get(key, {})
            node.pop(leaf, None)
        return doc
    if isinstance(problem, Mapping):
        return copy.deepcopy(dict(problem))
    doc = load_file(problem)
    if not isinstance(doc, dict):
        raise InputError("the top level must be a mapping of sections", file=str(problem))
    return doc


def make_points(base: dict[str, Any], *, vary: Mapping[str, Any] | list[str] | None = None, zip_values: bool = False,
                samples: Mapping[str, str] | list[str] | None = None, n_samples: int = 100, seed: int = 0,
                correlations: list[str] | None = None,
                scenarios: str | Path | Mapping[str, Mapping[str, Any]] | None = None) -> tuple[list[Point], list[str]]:
    """The points of exactly one mode, each varied path checked against the problem first."""
    modes = [m for m, given in (("vary", vary), ("samples", samples), ("scenarios", scenarios)) if given]
    if len(modes) != 1:
        raise InputError(f"give exactly one of --vary, --sample or --scenarios (got {', '.join(modes) or 'none'})")
    if correlations and not samples:
        raise InputError("--correlate applies only to --sample parameters", path="--correlate",
                         fix="drop --correlate, or sample the parameters with --sample")
    if vary:
        specs = [f"{k}={v}" if isinstance(v, str) else (k, list(v)) for k, v in vary.items()] \
            if isinstance(vary, Mapping) else list(vary)
        varies = [parse_vary(s) if isinstance(s, str) else s for s in specs]
        _check_paths(base, {path: values[0] for path, values in varies}, "--vary")
        return grid_points(varies, zip_values), [p for p, _ in varies]
    if samples:
        specs = [f"{k}~{v}" for k, v in samples.items()] if isinstance(samples, Mapping) else list(samples)
        distributions = [parse_sample(s) for s in specs]
        _check_paths(base, {d.path: d.ppf(np.array([0.5]))[0] for d in distributions}, "--sample")
        points = sample_points(distributions, n_samples, seed, [parse_correlation(c) for c in correlations or []])
        return points, [d.path for d in distributions]
    assert scenarios is not None  # exactly one mode was given, and it is not vary or samples
    points = scenario_points(scenarios)
    for point in points:
        _check_paths(base, point.overrides, f"scenario {point.scenario}")
    return points, []


def _check_paths(base: dict[str, Any], overrides: Mapping[str, Any], what: str) -> None:
    """Load the base with the overrides once: an unknown path fails here, with a did-you-mean."""
    try:
        load_problem(base, overrides)
    except InputError as exc:
        if "unknown field" in str(exc) or "has no entry" in str(exc) or "is a value" in str(exc):
            raise InputError(f"{what}: {exc.reason}", file=exc.file, path=exc.path, fix=exc.fix) from None


def sweep(problem: str | Path | Mapping[str, Any] | Problem, *, vary: Mapping[str, Any] | None = None,
          zip_values: bool = False, samples: Mapping[str, str] | None = None, n_samples: int = 100, seed: int = 0,
          correlations: list[str] | None = None, scenarios: str | Path | Mapping[str, Mapping[str, Any]] | None = None,
          overrides: Mapping[str, Any] | None = None, scheduler: str | None = None, workers: int | None = None,
          solver: str | None = None, time_limit: float | None = None, gap: float | None = None,
          warm_start: bool = True, progress: bool = False) -> pd.DataFrame:
    """Solve and verify the problem at every point; one tidy row per point.

    vary : {path: [values]} or {path: "START:STOP:N"}; several paths form a full grid, or
        pairs with `zip_values`.
    samples : {path: "triangular(25000,30000,40000)"}; `n_samples` draws with `seed`, and
        `correlations` such as ["path_a,path_b=0.6"].
    scenarios : {name: {path: value}} or a YAML file of them (a "base" scenario is added).
    scheduler : "tcp://host:port" of a Dask scheduler; otherwise `workers` local processes.
    """
    base = base_document(problem)
    if overrides:
        from ..schema.load import apply_overrides

        apply_overrides(base, overrides, file="<overrides>")
    load_problem(base)  # the base problem itself must be valid: fail once, not at every point
    points, _ = make_points(base, vary=vary, zip_values=zip_values, samples=samples, n_samples=n_samples, seed=seed,
                            correlations=correlations, scenarios=scenarios)
    settings = {"solver": solver, "time_limit": time_limit, "gap": gap, "warm_start": warm_start}
    result = run_points(base, points, settings, workers=workers, scheduler=scheduler, progress=progress)
    if result.interrupted:
        raise KeyboardInterrupt
    return result.frame()


__all__ = ["RunResult", "base_document", "make_points", "run_points", "sweep"]
