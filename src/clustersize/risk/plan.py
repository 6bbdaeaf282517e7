"""A two-stage plan: the decisions to commit to now, each scenario's verified plan, and what risk is worth."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import NoSolutionError, VerificationError
from ..plan.plan import Plan, jsonable
from ..plan.writers import check_table_format, publish_dir, write_table
from ..status import Status

SCHEMA = "clustersize.two_stage/1"
ENTRIES = frozenset({"plan.json", "tables", "scenarios"})
"""What a two-stage plan directory holds: plan.json, tables/ and scenarios/NAME/ (each a plan directory)."""

FIGURES = ("objective_usd", "expected_usd", "p10_usd", "p50_usd", "p90_usd", "cvar_level", "cvar_usd",
           "deterministic_usd", "eev_usd", "vss_usd", "wait_and_see_usd", "evpi_usd")
"""The plan's figures [USD], each recomputed by the verifier from the scenario plans."""


@dataclass
class TwoStagePlan:
    """One plan for every scenario: first-stage decisions shared, recourse per scenario.

    objective_usd : the two-stage objective, expected cost or its mix with CVaR (risk.cvar).
    eev_usd : the same objective of the deterministic plan's first stage with the best recourse in
        each scenario; vss_usd = eev_usd - objective_usd (value of the stochastic solution).
    wait_and_see_usd : the objective if each scenario were known in advance (each solved alone);
        evpi_usd = objective_usd - wait_and_see_usd (expected value of perfect information).
    scenarios : one row per scenario (probability, cost of its plan, of the deterministic first
        stage, of knowing it in advance, verified). first_stage : the decisions before the reveal,
        against the deterministic plan's; `hedge` marks those above it (taken only because of risk).
    """

    status: Status
    problem_name: str
    reveal: str
    measure: str
    solver: str
    solve_seconds: float
    figures: dict[str, float | None]
    scenarios: pd.DataFrame
    first_stage: pd.DataFrame
    plans: dict[str, Plan]
    deterministic: Plan | None = None
    bound_usd: float | None = None
    messages: list[str] = field(default_factory=list)
    verification: dict[str, Any] | None = None
    sampling: dict[str, Any] | None = None          # {samples, seed} when the scenarios were sampled
    out_of_sample: dict[str, Any] | None = None     # the first stage on fresh draws: mean and 95 % CI
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def has_plan(self) -> bool:
        return self.status.has_plan

    @property
    def verified(self) -> bool:
        """True when every scenario plan and the two-stage figures passed independent verification."""
        return bool(self.verification and self.verification.get("ok"))

    @property
    def objective_usd(self) -> float | None:
        return self.figures.get("objective_usd")

    def raise_for_status(self) -> None:
        """Raise the project's error unless this is a verified plan."""
        if not self.has_plan:
            raise NoSolutionError(f"no two-stage plan ({self.status.value}: {'; '.join(self.messages)})")
        if not self.verified:
            raise VerificationError("the two-stage plan failed independent verification",
                                    (self.verification or {}).get("violations"))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of plan.json in a two-stage plan directory (docs/risk.md)."""
        doc: dict[str, Any] = jsonable({
            "schema": SCHEMA, "kind": "two_stage", "status": self.status.value, "problem_name": self.problem_name,
            "reveal": self.reveal, "measure": self.measure, "solver": self.solver, "solve_seconds": self.solve_seconds,
            "bound_usd": self.bound_usd, **self.figures,
            "scenarios": self.scenarios.to_dict(orient="records"),
            "first_stage": self.first_stage.to_dict(orient="records"),
            "sampling": self.sampling, "out_of_sample": self.out_of_sample,
            "messages": self.messages, "verification": self.verification, "created": self.created})
        return doc

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def write(self, out_dir: str | Path, table_format: str = "csv") -> list[Path]:
        """Write plan.json, tables/{scenarios,first_stage} and scenarios/NAME/ (each scenario's plan
        directory) into `out_dir`, replacing what was there as a whole; returns the paths written."""
        check_table_format(table_format, "table_format")
        text = self.to_json()

        def fill(tmp: Path) -> list[Path]:
            (tmp / "plan.json").write_text(text, encoding="utf-8")
            written = [tmp / "plan.json"]
            for name, frame in (("scenarios", self.scenarios), ("first_stage", self.first_stage)):
                written.append(write_table(frame, tmp / "tables" / f"{name}.{table_format}"))
            for name, plan in self.plans.items():
                folder = tmp / "scenarios" / name
                folder.mkdir(parents=True)
                (folder / "plan.json").write_text(plan.to_json(), encoding="utf-8")
                written.append(folder / "plan.json")
                for table, frame in plan.tables.items():
                    written.append(write_table(frame, folder / "tables" / f"{table}.{table_format}"))
            return written

        return publish_dir(out_dir, fill, ENTRIES)
