"""Which decisions are taken before the uncertainty is revealed (first stage), declared once.

A column is first-stage when it is a commitment made now whatever its date (a site opened or
built, a contract signed, a custom program funded, a supply deal signed) or when it is dated
before the reveal: an order (spot purchases among them), a sale, a lease, a cloud commitment or
sustained serving in a quarter that starts before it, and a run window (with its cluster, rentals
and energy) that starts before it. The rest is recourse, decided per scenario: later orders (spot
purchases at a premium among them), sales of surplus servers and commitments, run windows after the
reveal, on-demand rental, and the quantities that follow from the decisions (installed MW, losses,
shortfall).
"""

from __future__ import annotations

import numpy as np

from ..data.modeldata import ModelData
from ..formulation import LinearProgram

UNDATED = ("open", "new_mw", "sign", "contract_mw", "fund", "deal")
"""Decisions made now whatever their date: sites opened and built, contracts signed and sized, programs
funded, supply deals signed."""

DATED = ("buy", "spot", "sell", "take", "lease", "commit", "serve", "serve_rent", "serve_energy", "window", "units", "ramp",
         "rent", "energy")
"""Decisions of a quarter or of a run window: first-stage when it starts before the reveal."""


def first_stage(lp: LinearProgram, data: ModelData, reveal: int) -> np.ndarray:
    """Mask of the program's first-stage columns, `reveal` the first quarter after the reveal date."""
    mask = np.zeros(lp.shape[1], dtype=bool)
    window_start = data.runs.windows.start_period
    for block in lp.col_keys.blocks:
        if block.family in UNDATED:
            mask[block.start:block.stop] = True
        elif block.family in DATED:
            dims = dict(zip(block.keys.dims, block.keys.codes))
            earliest = np.full(len(block.keys), np.iinfo(np.int64).max)
            if "quarter" in dims:
                earliest = np.minimum(earliest, dims["quarter"])
            if "window" in dims:
                earliest = np.minimum(earliest, window_start[dims["window"]])
            mask[block.start:block.stop] = earliest < reveal
    return mask
