"""Risk measures of a cost distribution over scenarios: mean, quantiles and CVaR (Rockafellar-Uryasev)."""

from __future__ import annotations

import numpy as np

from ..schema.risk import Cvar

REPORTED_CVAR_LEVEL = 0.9
"""CVaR level reported when the objective states none."""


def quantile(costs: np.ndarray, probabilities: np.ndarray, level: float) -> float:
    """The smallest cost whose cumulative probability reaches `level` [USD]."""
    order = np.argsort(costs, kind="stable")
    cumulative = np.cumsum(probabilities[order])
    return float(costs[order][min(int(np.searchsorted(cumulative, level - 1e-12)), costs.size - 1)])


def cvar(costs: np.ndarray, probabilities: np.ndarray, level: float) -> float:
    """CVaR at `level`: min over eta of eta + E[(cost - eta)+] / (1 - level), reached at the level's quantile [USD]."""
    eta = quantile(costs, probabilities, level)
    return eta + float(probabilities @ np.maximum(costs - eta, 0.0)) / (1.0 - level)


def objective(costs: np.ndarray, probabilities: np.ndarray, measure: Cvar | None) -> float:
    """The two-stage objective of a cost distribution: expected cost, or its mix with CVaR [USD]."""
    mean = float(probabilities @ costs)
    if measure is None or measure.weight == 0:
        return mean
    return (1.0 - measure.weight) * mean + measure.weight * cvar(costs, probabilities, measure.level)


def summary(costs: np.ndarray, probabilities: np.ndarray, measure: Cvar | None) -> dict[str, float]:
    """Mean, P10/P50/P90 and CVaR (at the objective's level, else 90 %) of the costs [USD]."""
    level = measure.level if measure is not None else REPORTED_CVAR_LEVEL
    return {"expected_usd": float(probabilities @ costs), "p10_usd": quantile(costs, probabilities, 0.1),
            "p50_usd": quantile(costs, probabilities, 0.5), "p90_usd": quantile(costs, probabilities, 0.9),
            "cvar_level": level, "cvar_usd": cvar(costs, probabilities, level)}
