"""A written two-stage plan verified again: its plan.json and each scenarios/NAME/plan.json, against
the problem with its scenarios (what `clustersize verify DIR/plan.json PROBLEM.yaml` runs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..plan.plan import Plan
from ..plan.verify import verify
from ..schema.problem import Problem
from .plan import FIGURES
from .scenarios import scenario_problems
from .verify import verify_two_stage


def verify_written(doc: Mapping[str, Any], folder: Path, problem: Problem,
                   read: Callable[[Path], Plan]) -> dict[str, Any]:
    """Verify a written two-stage plan (its plan.json `doc` and the scenario plans under `folder`)
    against the problem with scenarios: each scenario plan recomputed on its own problem, then the
    two-stage checks. `read` reads one scenario's plan.json."""
    problems = {sc.name: sc.problem for sc in scenario_problems(problem)}
    scenarios = pd.DataFrame(doc.get("scenarios") or [])
    stated = set(scenarios.scenario) if "scenario" in scenarios else set()
    if stated != set(problems):
        return {"ok": False, "checks": 1, "violations": [{
            "check": "scenarios", "index": "scenarios", "message": f"the plan has scenarios {sorted(stated)}, the "
                                                                   f"problem {sorted(problems)}"}]}
    plans = {}
    for name, scenario_problem in problems.items():
        plan = read(folder / "scenarios" / name / "plan.json")
        plan.verification = verify(plan, scenario_problem).to_dict()
        plans[name] = plan
    figures = {key: doc.get(key) for key in (*FIGURES, "cvar_weight")}
    return verify_two_stage(figures, scenarios, plans, problems)
