"""Sales of owned servers before the last deadline (costs.sell_surplus), in model units.

A sale column `sell[c,t]` is the servers of purchase cell c (an accelerator, a site, an order
quarter) sold at the start of quarter t, from the quarter the order is installed to the horizon's
last. They leave the fleet and the installed load from t; the sale brings the cohort's trend value
at t less the haircut, and saves its operating cost from t and its resale credit at the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Sales:
    """The sale columns: purchase cell and quarter of sale (model indexes)."""

    cell: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    quarter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def build_sales(allowed: bool, cell_ready: np.ndarray, n_periods: int) -> Sales:
    """One column per purchase cell and quarter from its installation to the horizon's last; none
    unless sales are allowed."""
    if not allowed or cell_ready.size == 0:
        return Sales()
    first = np.minimum(cell_ready, n_periods)
    count = n_periods - first
    cell = np.repeat(np.arange(cell_ready.size), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return Sales(cell=cell.astype(np.int64), quarter=(first[cell] + offset).astype(np.int64))
