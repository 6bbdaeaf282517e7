"""Risk: scenarios revealed at a date, the shortfall penalty, and the risk measure of a two-stage plan.

A problem with `scenarios:` is solved as a two-stage problem (docs/risk.md): every decision dated
before `risk.reveal` is taken once, before anyone knows which scenario comes; every later one is
taken per scenario. A scenario is a set of overrides of the problem's own fields (the paths of
``--set``) with a probability.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, model_validator

from .types import Day, FrozenDict, FrozenMap, Positive, Share, Strict

PROBABILITY_TOLERANCE = 1e-9
"""How far the scenarios' probabilities may sum from 1."""

FLOP_PER_SHORTFALL_UNIT = 1e24
"""The shortfall penalty is stated per 1e24 FLOP [FLOP]."""


class Scenario(Strict):
    """One way the uncertain inputs may turn out, with its probability."""

    probability: Share = Field(description="Chance of this scenario [fraction]; the scenarios' sum to 1.")
    overrides: FrozenMap[str, Any] = Field(
        default_factory=FrozenDict, description="Field path -> value in this scenario, as --set: "
                                                "{accelerators.b200.supply_per_quarter: 2000}.")
    description: str | None = None


class Cvar(Strict):
    """Conditional value at risk mixed into the objective: (1 - weight) E[cost] + weight CVaR_level[cost]."""

    level: float = Field(description="CVaR level alpha in (0, 1): the mean of the worst (1 - alpha) share of cost.")
    weight: Share = Field(description="Weight of CVaR in the objective [fraction]; the rest is on expected cost.")

    @model_validator(mode="after")
    def _level_inside(self) -> Cvar:
        if not (isinstance(self.level, float) and math.isfinite(self.level) and 0.0 < self.level < 1.0):
            raise ValueError(f"level: {self.level!r} is not strictly between 0 and 1; e.g. 0.9 for CVaR90")
        return self


class RiskOptions(Strict):
    """When uncertainty is revealed, what a missing FLOP costs, and the risk measure of the objective."""

    reveal: Day | None = Field(
        None, description="Date the scenario becomes known: decisions dated before it are one for all scenarios. "
                          "Needed with scenarios.")
    shortfall_usd_per_1e24_flop: Positive | None = Field(
        None, description="Penalty per 1e24 FLOP a run falls short of its target [USD]; absent: targets are hard. "
                          "Needed with scenarios, so that every scenario has a finite cost.")
    cvar: Cvar | None = Field(None, description="Mix CVaR into the two-stage objective; absent: expected cost.")


def check_scenarios(scenarios: dict[str, Scenario], risk: RiskOptions) -> list[tuple[tuple[str, ...], str, Any]]:
    """Problems with the scenarios section as (field path, message, value); empty when it is sound."""
    if not scenarios:
        return [(("risk", "cvar"), "CVaR needs scenarios: add scenarios, or drop risk.cvar", None)] \
            if risk.cvar is not None else []
    found: list[tuple[tuple[str, ...], str, Any]] = []
    total = math.fsum(s.probability for s in scenarios.values())
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        listed = ", ".join(f"{name} {s.probability:g}" for name, s in scenarios.items())
        found.append((("scenarios",), f"the probabilities sum to {total:.12g}, not 1 ({listed}); make them sum to 1",
                      total))
    if risk.reveal is None:
        found.append((("risk", "reveal"), "a problem with scenarios needs the date they become known: "
                                          "risk.reveal: 2027-07-01, say", None))
    if risk.shortfall_usd_per_1e24_flop is None:
        found.append((("risk", "shortfall_usd_per_1e24_flop"),
                      "a problem with scenarios needs a penalty per 1e24 FLOP a run falls short, so that every "
                      "scenario has a finite cost (e.g. what the missing compute would cost on the spot market)", None))
    for name, scenario in scenarios.items():
        for path in scenario.overrides:
            if path.split(".")[0] in ("scenarios", "risk", "solver", "objective"):
                found.append((("scenarios", name, "overrides", path),
                              f"a scenario may not change {path.split('.')[0]}: it overrides the problem's inputs "
                              "(prices, supply, programs, rules)", path))
    return found
