"""Scenario programs, and what is left to decide in them once the first stage is fixed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import numpy as np

from ..data.limits import check_model_size
from ..data.modeldata import ModelData, build_model_data
from ..formulation import LinearProgram, build
from ..formulation.program import Key
from ..schema.problem import Problem
from ..solvers import Backend, SolveOptions, SolverResult, solve_with_watchdog
from ..solving.pipeline import solve_within
from .extensive import Stage, first_stage_keys
from .scenarios import ScenarioProblem
from .stages import first_stage

FirstStage = dict[tuple[str, Key], float]
"""First-stage decisions by (column family, key): the plan to commit to, as the model reads it."""


@dataclasses.dataclass(frozen=True)
class ScenarioModel:
    """One scenario ready to solve: its problem, model data and stage."""

    problem: Problem
    data: ModelData
    stage: Stage


def prepare(given: Iterable[ScenarioProblem], reveal: int) -> dict[str, ScenarioModel]:
    """Each scenario's model, built from its own problem, with its first-stage columns marked."""
    found = {}
    for scenario in given:
        check_model_size(scenario.problem)
        data = build_model_data(scenario.problem)
        lp = build(data)
        found[scenario.name] = ScenarioModel(scenario.problem, data,
                                        Stage(scenario.name, scenario.probability, lp, first_stage(lp, data, reveal)))
    return found


def first_values(lp: LinearProgram, mask: np.ndarray, x: np.ndarray) -> FirstStage:
    """The first-stage decisions of solution `x` of `lp`."""
    return {key: float(x[position]) for key, position in first_stage_keys(lp, mask).items()}


def with_first_stage(stage: Stage, values: Mapping[tuple[str, Key], float]) -> LinearProgram | None:
    """The scenario's program with its first stage fixed at `values` (0 where a key has none); None
    when a value is outside the scenario's own bounds (the scenario rules that decision out)."""
    lp = stage.lp
    lower, upper = lp.lower.copy(), lp.upper.copy()
    for key, position in first_stage_keys(lp, stage.first).items():
        lower[position] = upper[position] = values.get(key, 0.0)
    if np.any(lower > lp.upper + 1e-6) or np.any(upper < lp.lower - 1e-6):
        return None
    return dataclasses.replace(lp, lower=lower, upper=upper)


def recourse(scenarios: Mapping[str, ScenarioModel], values: Mapping[tuple[str, Key], float], options: SolveOptions,
             integer_units: bool, backend: Backend, whole: bool = True) -> dict[str, SolverResult | str]:
    """Each scenario's best recourse to the first stage `values`, or why it has none; with `whole`
    False, counts stay continuous (a screening value, at most the whole-unit one)."""
    found: dict[str, SolverResult | str] = {}
    for name, scenario in scenarios.items():
        fixed = with_first_stage(scenario.stage, values)
        if fixed is None:
            found[name] = "the decisions before the reveal are impossible in it (its overrides change them)"
            continue
        result = solve_within(backend, fixed, options, options.time_limit_s, integer_units, 1) if whole \
            else solve_with_watchdog(backend, fixed, options)
        found[name] = result if result.status.has_plan and result.x is not None else \
            f"no plan with those decisions ({result.status.value})"
    return found


def recourse_task(task: tuple[Mapping[str, ScenarioModel], Mapping[tuple[str, Key], float], SolveOptions, bool,
                                Backend, bool]) -> dict[str, SolverResult | str]:
    """`recourse` on one packed argument tuple, for a mapper over worker processes."""
    return recourse(*task)
