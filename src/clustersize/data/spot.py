"""Spot markets in model units: servers bought beyond the allocation, per accelerator and quarter.

A spot purchase is part of the purchases `buy[a,s,t]` of its quarter: it pays the premium on top
of the price and frees the allocation (supply_cap) and the shared components (component_cap) by
as much, since spot servers are already built. One column per accelerator with a market and
quarter in which it can be ordered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..schema.problem import Problem


@dataclass(frozen=True)
class Spot:
    """The spot columns: accelerator (model index), quarter, most servers sold [servers] and the
    premium per server [$M]."""

    acc: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    quarter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    depth: np.ndarray = field(default_factory=lambda: np.zeros(0))
    premium: np.ndarray = field(default_factory=lambda: np.zeros(0))


def spot_depth(problem: Problem, acc_ids: list[str], units_per_server: np.ndarray, periods: list[str]) -> np.ndarray:
    """Servers each accelerator's spot market sells per quarter, 0 where it has none or is not yet open
    [accelerator, quarter]."""
    depth = np.zeros((len(acc_ids), len(periods)))
    for a, aid in enumerate(acc_ids):
        market = problem.spot.get(aid)
        if market is not None:
            depth[a] = [market.units_per_quarter / units_per_server[a] if market.open_in(label) else 0.0
                        for label in periods]
    return depth


def build_spot(problem: Problem, acc_ids: list[str], depth: np.ndarray, acc_price: np.ndarray,
               cell_acc: np.ndarray, cell_period: np.ndarray) -> Spot:
    """One column per (accelerator, quarter) with purchase cells and a spot market open; the premium is
    charged on the all-in price of the quarter, without duty [$M per server]."""
    n_t = depth.shape[1]
    codes = np.unique(cell_acc * n_t + cell_period) if cell_acc.size else np.zeros(0, dtype=np.int64)
    a, t = codes // n_t, codes % n_t
    keep = depth[a, t] > 0
    a, t = a[keep], t[keep]
    rate = np.array([problem.spot[acc_ids[i]].premium for i in a.tolist()])
    return Spot(acc=a.astype(np.int64), quarter=t.astype(np.int64), depth=depth[a, t],
                premium=rate * acc_price[a, t] if a.size else np.zeros(0))
