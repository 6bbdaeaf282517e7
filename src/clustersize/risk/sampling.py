"""Scenarios sampled from the distributions a problem declares under `uncertainty:` (sample-average
approximation), and fresh samples to evaluate a plan out of sample.

Each sample is a set of overrides with probability 1/N:

- `parameters`: a distribution per field path, as `whatif --sample` writes it (`triangular(a, m, b)`,
  `lognormal(median, sigma)`, ...), correlated through `correlations` (a Gaussian copula);
- `factors`: one draw moves several fields together: each path's value is the problem's own times
  factor ** elasticity (a boom-bust factor raising prices and rents, elasticity 1, and cutting
  supply, elasticity -1);
- `events`: one outcome per event, by its probability, each with its own overrides (a custom
  program on time, late or failed; a licence denied; a vendor's shortfall).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InputError
from ..schema.load import load_problem
from ..schema.problem import Problem
from ..whatif.distributions import Distribution, draw, parse_correlation, parse_sample
from .scenarios import deterministic_document

MAX_SAMPLES = 10_000
EVENT_STREAM = 1
"""Outcomes of events are drawn from their own stream of the seed, so adding a parameter keeps them."""


def value_at(problem: Problem, path: str) -> float:
    """The problem's own number at a field path; InputError naming `uncertainty.factors...` otherwise."""
    node: Any = problem
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else getattr(node, part, None)
        if node is None:
            break
    if not isinstance(node, (int, float)) or isinstance(node, bool):
        raise InputError(f"{path} is not a number of this problem, so a factor cannot scale it", path=path,
                         fix="scale a numeric field the problem has, e.g. accelerators.b200.price_usd")
    return float(node)


def _distributions(problem: Problem) -> list[Distribution]:
    u = problem.uncertainty
    found = []
    for path, spec in u.parameters.items():
        try:
            found.append(parse_sample(f"{path}~{spec}"))
        except InputError as exc:
            raise InputError(exc.reason, file=problem.source, path=f"uncertainty.parameters.{path}", fix=exc.fix) from None
    for name, factor in u.factors.items():
        try:
            found.append(parse_sample(f"factor:{name}~{factor.distribution}"))
        except InputError as exc:
            raise InputError(exc.reason, file=problem.source, path=f"uncertainty.factors.{name}.distribution",
                             fix=exc.fix) from None
    return found


def sample_overrides(problem: Problem, n: int, seed: int) -> list[dict[str, Any]]:
    """n samples of the problem's `uncertainty:`, each a {path: value} of overrides."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
        raise InputError(f"{n!r} samples: give a whole number from 1 to {MAX_SAMPLES:,}", path="--samples")
    u = problem.uncertainty
    if not (u.parameters or u.factors or u.events):
        raise InputError("the problem declares nothing to sample", file=problem.source, path="uncertainty",
                         fix="add uncertainty: {parameters: {PATH: 'triangular(a, m, b)'}, factors: ..., events: ...}")
    correlations = []
    for i, spec in enumerate(u.correlations):
        try:
            correlations.append(parse_correlation(spec))
        except InputError as exc:
            raise InputError(exc.reason, file=problem.source, path=f"uncertainty.correlations.{i}", fix=exc.fix) from None
    distributions = _distributions(problem)
    try:
        draws = draw(distributions, n, seed, correlations) if distributions else [{} for _ in range(n)]
    except InputError as exc:
        raise InputError(exc.reason, file=problem.source, path="uncertainty.correlations", fix=exc.fix) from None
    base = {path: value_at(problem, path) for factor in u.factors.values() for path in factor.scales}
    rng = np.random.default_rng([seed, EVENT_STREAM])
    outcomes = {name: rng.choice(len(event), size=n, p=[o.probability for o in event.values()])
                for name, event in u.events.items()}
    samples = []
    for i, values in enumerate(draws):
        overrides = {path: value for path, value in values.items() if not path.startswith("factor:")}
        for name, factor in u.factors.items():
            level = float(values[f"factor:{name}"])
            for path, elasticity in factor.scales.items():
                overrides[path] = base[path] * level ** elasticity
        for name, event in u.events.items():
            outcome = list(event.values())[int(outcomes[name][i])]
            overrides.update(dict(outcome.overrides))
        samples.append(overrides)
    return samples


def sampled_problem(problem: Problem, n: int, seed: int) -> Problem:
    """The problem with its listed scenarios replaced by n samples of probability 1/n each."""
    samples = sample_overrides(problem, n, seed)
    width = len(str(n))
    doc = deterministic_document(problem)
    if isinstance(doc.get("risk"), dict) and problem.risk.cvar is not None:
        doc["risk"]["cvar"] = problem.risk.cvar.model_dump()
    doc["scenarios"] = {f"sample-{i + 1:0{width}d}": {"probability": 1.0 / n, "overrides": overrides}
                        for i, overrides in enumerate(samples)}
    return load_problem(doc)
