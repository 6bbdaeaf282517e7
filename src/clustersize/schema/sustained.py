"""Sustained demand: compute the fleet must serve every quarter, beside the training runs.

Inference and research need capacity all the time, not in one window. A problem states it under
`sustained:` as dense BF16 peak [PFLOP/s] or H100-equivalents per quarter, from a quarter on
(a step function); the fleet's idle accelerators, committed cloud capacity and on-demand rentals
serve it. Demand is counted in peak dense BF16, without MFU: a serving fleet is sized in
accelerators, and how well a workload uses them is the demand's own figure.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from ..periods import quarter_index
from .types import FrozenMap, NonNegative, QuarterLabel, Strict

H100_BF16_TFLOPS = 989.0
"""Dense BF16 peak of one H100 SXM [TFLOP/s] (Epoch AI hardware database, EPOCH-HW, 2025-12-10):
the unit of an H100-equivalent of sustained demand."""

Steps = NonNegative | FrozenMap[QuarterLabel, NonNegative]


class Sustained(Strict):
    """Capacity the fleet serves every quarter from a quarter on [dense BF16 PFLOP/s or H100-equivalents]."""

    description: str | None = None
    pflops: Steps | None = Field(
        None, description="Dense BF16 peak to serve [PFLOP/s]: a number (from the planning start) or the level "
                          "from each quarter on, e.g. {2027Q3: 2000, 2029Q1: 6000}.")
    h100e: Steps | None = Field(
        None, description=f"The same in H100-equivalents ({H100_BF16_TFLOPS:g} TFLOP/s dense BF16 each) "
                          "[accelerators]; give pflops or h100e.")
    until: QuarterLabel | None = Field(
        None, description="Last quarter served (inclusive); absent: to the quarter of the last deadline.")

    @model_validator(mode="after")
    def _one_level_form(self) -> Sustained:
        if (self.pflops is None) == (self.h100e is None):
            raise ValueError("give the demand as pflops (dense BF16 PFLOP/s) or h100e (H100-equivalents), one of them")
        return self

    def steps(self) -> dict[str | None, float]:
        """The level from each quarter label on (None: from the planning start) [PFLOP/s]."""
        given = self.pflops if self.pflops is not None else self.h100e
        per = 1.0 if self.pflops is not None else H100_BF16_TFLOPS / 1000.0
        if isinstance(given, (int, float)):
            return {None: float(given) * per}
        return {label: float(value) * per for label, value in sorted((given or {}).items())}


def label_day(label: str) -> dt.date:
    """First day of a quarter label such as 2027Q3."""
    return dt.date(int(label[:4]), 3 * int(label[-1]) - 2, 1)


def demand_by_quarter(sustained: dict[str, Sustained], origin: dt.date, n_quarters: int) -> list[float]:
    """Sustained demand in each quarter of the horizon, summed over the entries [PFLOP/s]."""
    total = [0.0] * n_quarters
    for entry in sustained.values():
        last = n_quarters - 1 if entry.until is None else min(n_quarters - 1, quarter_index(label_day(entry.until), origin))
        steps = list(entry.steps().items())
        for i, (label, level) in enumerate(steps):
            first = 0 if label is None else max(0, quarter_index(label_day(label), origin))
            following = steps[i + 1][0] if i + 1 < len(steps) else None
            stop = last + 1 if following is None else min(last + 1, quarter_index(label_day(following), origin))
            for t in range(first, stop):
                total[t] += level
    return total
