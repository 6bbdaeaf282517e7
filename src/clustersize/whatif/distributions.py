"""Parameter distributions for Monte Carlo what-ifs, with optional Gaussian-copula correlation.

Written ``PATH~name(args)``:

=================================== ==============================================
``uniform(low, high)``              flat between low and high
``triangular(low, mode, high)``     the usual three-point estimate
``normal(mean, sd)``                may go negative: such points fail validation
``lognormal(median, sigma)``        ln X ~ Normal(ln median, sigma)
``choice(a, b, ...)``               equally likely values (numbers or words)
=================================== ==============================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..errors import InputError
from ..schema.yamlsafe import loads

ARITY = {"uniform": 2, "triangular": 3, "normal": 2, "lognormal": 2}


@dataclass(frozen=True)
class Distribution:
    """A named distribution over one parameter path."""

    path: str
    name: str
    args: tuple[Any, ...]   # YAML scalars for choice(), floats otherwise

    def ppf(self, u: np.ndarray) -> list[Any]:
        """Values at the quantiles u in (0, 1)."""
        a = self.args
        if self.name == "choice":
            index = np.minimum((u * len(a)).astype(int), len(a) - 1)
            return [a[i] for i in index]
        if self.name == "uniform":
            values = stats.uniform(a[0], a[1] - a[0]).ppf(u)
        elif self.name == "triangular":
            low, mode, high = a
            values = stats.triang((mode - low) / (high - low), loc=low, scale=high - low).ppf(u)
        elif self.name == "normal":
            values = stats.norm(a[0], a[1]).ppf(u)
        else:
            values = stats.lognorm(a[1], scale=a[0]).ppf(u)
        return [float(v) for v in values]


def parse_sample(spec: str) -> Distribution:
    """'accelerators.h100-sxm.price_usd~triangular(25000,30000,40000)' -> Distribution."""
    match = re.fullmatch(r"\s*([^~\s]+)\s*~\s*([a-z]+)\((.*)\)\s*", spec)
    if not match:
        raise InputError(f"--sample {spec!r} is not PATH~name(args)",
                         fix="e.g. --sample 'accelerators.h100-sxm.price_usd~triangular(25000,30000,40000)'")
    path, name, raw_args = match.groups()
    args = tuple(loads(part.strip(), source="--sample") for part in raw_args.split(",") if part.strip())
    if name == "choice":
        if not args:
            raise InputError("choice() needs at least one value", path=f"--sample {path}")
        return Distribution(path, name, args)
    if name not in ARITY:
        raise InputError(f"unknown distribution {name!r}", path=f"--sample {path}",
                         fix=f"use one of {', '.join([*ARITY, 'choice'])}")
    if len(args) != ARITY[name] or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in args):
        raise InputError(f"{name} takes {ARITY[name]} finite numbers, got {raw_args!r}", path=f"--sample {path}")
    a = tuple(float(v) for v in args)
    checks: dict[str, Callable[[], bool]] = {
        "uniform": lambda: a[0] < a[1], "triangular": lambda: a[0] <= a[1] <= a[2] and a[0] < a[2],
        "normal": lambda: a[1] > 0, "lognormal": lambda: a[0] > 0 and a[1] > 0}
    if not checks[name]():
        raise InputError(f"invalid parameters for {name}: {raw_args}", path=f"--sample {path}",
                         fix="uniform(low<high), triangular(low<=mode<=high), normal(mean, sd>0), "
                             "lognormal(median>0, sigma>0)")
    return Distribution(path, name, a)


def parse_correlation(spec: str) -> tuple[str, str, float]:
    """'PATH_A,PATH_B=0.6' -> (PATH_A, PATH_B, 0.6)."""
    match = re.fullmatch(r"\s*([^,=\s]+)\s*,\s*([^,=\s]+)\s*=\s*(\S+)\s*", spec)
    if not match:
        raise InputError(f"--correlate {spec!r} is not PATH_A,PATH_B=RHO", fix="e.g. --correlate 'a.b.c,d.e.f=0.6'")
    if match.group(1) == match.group(2):
        raise InputError(f"--correlate {spec!r} pairs a parameter with itself", path="--correlate",
                         fix="name two different --sample paths")
    rho = loads(match.group(3), source="--correlate")
    if not isinstance(rho, (int, float)) or isinstance(rho, bool) or not -1 < rho < 1:
        raise InputError(f"correlation {rho!r} must be a number strictly between -1 and 1", path=f"--correlate {spec}")
    return match.group(1), match.group(2), float(rho)


def draw(distributions: list[Distribution], n: int, seed: int,
         correlations: Sequence[tuple[str, str, float]] = ()) -> list[dict[str, Any]]:
    """n joint draws, {path: value} each; a Gaussian copula carries the rank correlations."""
    paths = [d.path for d in distributions]
    k = len(paths)
    matrix = np.eye(k)
    for a, b, rho in correlations:
        for p in (a, b):
            if p not in paths:
                raise InputError(f"{p!r} is not a sampled parameter", path="--correlate",
                                 fix="correlate two paths given with --sample")
        i, j = paths.index(a), paths.index(b)
        matrix[i, j] = matrix[j, i] = rho
    try:
        lower = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise InputError("the correlations are inconsistent (the matrix is not positive definite)",
                         path="--correlate", fix="use smaller or mutually consistent correlations") from None
    rng = np.random.default_rng(seed)
    normals = rng.standard_normal((n, k)) @ lower.T
    quantiles = np.clip(stats.norm.cdf(normals), 1e-12, 1 - 1e-12)
    columns = [d.ppf(quantiles[:, i]) for i, d in enumerate(distributions)]
    return [{paths[i]: columns[i][row] for i in range(k)} for row in range(n)]
