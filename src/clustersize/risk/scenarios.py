"""The problems of a two-stage problem: its deterministic base and one problem per scenario."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..schema.load import load_problem
from ..schema.problem import Problem
from ..whatif import base_document


@dataclass(frozen=True)
class ScenarioProblem:
    """One scenario: its name, probability and the problem with its overrides applied."""

    name: str
    probability: float
    problem: Problem
    overrides: dict[str, Any]


def deterministic_document(problem: Problem) -> dict[str, Any]:
    """The problem's document without its scenarios (nor the risk measure that needs them): the base
    every scenario overrides. The reveal date and the shortfall penalty stay."""
    doc = base_document(problem)
    doc.pop("scenarios", None)
    if isinstance(doc.get("risk"), dict):
        doc["risk"].pop("cvar", None)
    return doc


def base_problem(problem: Problem) -> Problem:
    """The problem at its own values, without scenarios: the deterministic plan's problem."""
    return load_problem(deterministic_document(problem))


def scenario_problems(problem: Problem) -> list[ScenarioProblem]:
    """Each scenario's problem; InputError naming scenarios.NAME.overrides.PATH for a bad override."""
    base = base_problem(problem)
    found = []
    for name, scenario in problem.scenarios.items():
        overrides = dict(scenario.overrides)
        try:
            scenario_problem = base.with_(overrides)
        except InputError as exc:
            where = f"scenarios.{name}.overrides"
            path = (exc.path or "").removeprefix("--set ")
            raise InputError(f"scenario {name}: {exc.reason}", file=problem.source,
                             path=f"{where}.{path}" if path in overrides else (f"{where} ({path})" if path else where),
                             fix=exc.fix or "override a field the problem has, with a valid value") from None
        found.append(ScenarioProblem(str(name), float(scenario.probability), scenario_problem, overrides))
    return found
