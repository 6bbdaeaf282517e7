"""Risk: scenarios revealed at a date, the shortfall penalty, and the risk measure of a two-stage plan.

A problem with `scenarios:` is solved as a two-stage problem (docs/risk.md): every decision dated
before `risk.reveal` is taken once, before anyone knows which scenario comes; every later one is
taken per scenario. A scenario is a set of overrides of the problem's own fields (the paths of
``--set``) with a probability.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field

from .types import Day, FrozenDict, FrozenMap, Identifier, Num, Positive, Share, Strict

PROBABILITY_TOLERANCE = 1e-9
"""How far the scenarios' probabilities may sum from 1."""

EXTENSIVE_MAX_SCENARIOS = 10
"""risk.method auto: the extensive form up to this many scenarios, decomposition beyond."""

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

    level: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, lt=1)] = Field(
        description="CVaR level alpha, strictly between 0 and 1 (0.9 for CVaR90): the mean of the worst (1 - alpha) "
                    "share of cost.")
    weight: Share = Field(description="Weight of CVaR in the objective [fraction]; the rest is on expected cost.")


class RiskOptions(Strict):
    """When uncertainty is revealed, what a missing FLOP costs, and the risk measure of the objective."""

    reveal: Day | None = Field(
        None, description="Date the scenario becomes known: decisions dated before it are one for all scenarios. "
                          "Needed with scenarios.")
    shortfall_usd_per_1e24_flop: Positive | None = Field(
        None, description="Penalty per 1e24 FLOP a run falls short of its target [USD]; absent: targets are hard. "
                          "Needed with scenarios, so that every scenario has a finite cost.")
    cvar: Cvar | None = Field(None, description="Mix CVaR into the two-stage objective; absent: expected cost.")
    method: Literal["auto", "extensive", "decomposition"] = Field(
        "auto", description="How the two-stage problem is solved: the extensive form, scenario decomposition (a "
                            "Lagrangian bound; expected cost only), or auto: the extensive form up to "
                            f"{EXTENSIVE_MAX_SCENARIOS} scenarios or with CVaR, decomposition beyond.")


class Factor(Strict):
    """One draw that moves several fields together: each becomes its own value x factor ** elasticity."""

    distribution: str = Field(description="The factor's distribution, e.g. lognormal(1.0, 0.25) (docs/whatif.md).")
    scales: FrozenMap[str, Num] = Field(
        description="Field path -> elasticity: 1 moves with the factor (prices, rents), -1 against it (supply).")
    description: str | None = None


class Outcome(Strict):
    """One outcome of an event, with its probability and what it changes."""

    probability: Share = Field(description="Chance of this outcome [fraction]; an event's outcomes sum to 1.")
    overrides: FrozenMap[str, Any] = Field(default_factory=FrozenDict, description="Field path -> value.")
    description: str | None = None


class Uncertainty(Strict):
    """What `clustersize solve --samples N` draws scenarios from (docs/risk.md)."""

    parameters: FrozenMap[str, str] = Field(
        default_factory=FrozenDict, description="Field path -> distribution, e.g. triangular(40000, 47000, 60000).")
    correlations: tuple[str, ...] = Field(
        (), description="Rank correlations of parameters and factors, 'PATH_A,PATH_B=RHO' (a factor is factor:NAME).")
    factors: FrozenMap[Identifier, Factor] = Field(
        default_factory=FrozenDict, description="Draws that move several fields together (a boom-bust cycle).")
    events: FrozenMap[Identifier, FrozenMap[Identifier, Outcome]] = Field(
        default_factory=FrozenDict, description="Event -> its outcomes (a program on time, late or failed; a licence "
                                                "denied; a vendor's shortfall); one outcome is drawn per event.")

    @property
    def given(self) -> bool:
        """True when the problem declares something to sample."""
        return bool(self.parameters or self.factors or self.events)


def check_uncertainty(u: Uncertainty) -> list[tuple[tuple[str, ...], str, Any]]:
    """Problems with the uncertainty section as (field path, message, value); empty when it is sound."""
    found: list[tuple[tuple[str, ...], str, Any]] = []
    set_by: dict[str, str] = {path: f"uncertainty.parameters.{path}" for path in u.parameters}
    for name, factor in u.factors.items():
        if not factor.scales:
            found.append((("uncertainty", "factors", name, "scales"), "a factor scales at least one field path", None))
        for path in factor.scales:
            if path in set_by:
                found.append((("uncertainty", "factors", name, "scales", path), f"{path} is also set by {set_by[path]}"
                                                                                  "; let one source move it", path))
            set_by[path] = f"uncertainty.factors.{name}"
    for name, outcomes in u.events.items():
        if not outcomes:
            found.append((("uncertainty", "events", name), "an event needs at least one outcome", None))
            continue
        total = math.fsum(o.probability for o in outcomes.values())
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            found.append((("uncertainty", "events", name), f"the outcomes' probabilities sum to {total:.12g}, not 1", total))
        for outcome_name, outcome in outcomes.items():
            for path in outcome.overrides:
                if path in set_by and not set_by[path].startswith(f"uncertainty.events.{name}."):
                    found.append((("uncertainty", "events", name, outcome_name, "overrides", path),
                                  f"{path} is also set by {set_by[path]}; let one source move it", path))
                set_by.setdefault(path, f"uncertainty.events.{name}.{outcome_name}")
    return found


def check_scenarios(scenarios: dict[str, Scenario], risk: RiskOptions,
                    uncertainty: Uncertainty) -> list[tuple[tuple[str, ...], str, Any]]:
    """Problems with the scenarios section as (field path, message, value); empty when it is sound."""
    found: list[tuple[tuple[str, ...], str, Any]] = []
    if risk.method == "decomposition" and risk.cvar is not None:
        found.append((("risk", "method"), "decomposition minimises expected cost; with risk.cvar use the extensive "
                                          "form (method: extensive or auto)", risk.method))
    if not scenarios:
        if risk.cvar is not None and not uncertainty.given:
            found.append((("risk", "cvar"), "CVaR needs scenarios: add scenarios or uncertainty:, or drop risk.cvar",
                          None))
        return found
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
