"""The typed plan: status, cost, bound and gap, provenance of the solve, and tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import InfeasibleError, NoSolutionError, VerificationError
from ..status import Status

SCHEMA_VERSION = "clustersize.plan/1"
DECISION_TABLES = ("purchases", "sites", "contracts", "rentals", "custom_programs")
TABLES = ("purchases", "sites", "contracts", "rentals", "custom_programs", "costs", "compute", "export_usage",
          "exclusions", "licences", "binding")


@dataclass
class Plan:
    """A solved (or unsolved) plan. Costs in USD, compute in FLOP, power in MW, energy in MWh."""

    status: Status
    problem_name: str
    input_hash: str
    solver: str
    solver_version: str
    raw_status: str
    requested_gap: float
    time_limit_s: float
    solve_seconds: float
    cost_basis: str
    objective_usd: float | None = None
    bound_usd: float | None = None
    run_start: str | None = None
    periods: list[str] = field(default_factory=list)
    target_flop: float | None = None
    delivered_flop: float | None = None
    multi_site_efficiency: float = 1.0
    locations_used: int = 0
    success_probability: float = 1.0
    messages: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    verification: dict[str, Any] | None = None
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    explanation: dict[str, Any] | None = None
    # Not serialised: the solution in internal columns and the model's structure, so a what-if
    # point can warm-start from the previous one when only coefficients changed.
    solution: Any = field(default=None, repr=False, compare=False)
    structure: str = field(default="", repr=False, compare=False)
    created: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))

    @property
    def gap(self) -> float | None:
        """Relative gap between the plan's cost and the proven lower bound."""
        if self.objective_usd is None or self.bound_usd is None:
            return None
        return max(0.0, self.objective_usd - self.bound_usd) / max(abs(self.objective_usd), 1e-9)

    @property
    def has_plan(self) -> bool:
        """True when the plan carries decisions."""
        return self.status.has_plan

    @property
    def verified(self) -> bool:
        """True when the independent verifier found no violation."""
        return bool(self.verification and self.verification.get("ok"))

    def decision_hash(self) -> str:
        """SHA-256 of the decisions (purchases, sites, contracts, rentals, programs), numbers rounded
        to 6 decimals: equal plans hash equal whatever the solve time or timestamp."""
        decisions = {name: _records(self.table(name).round(6)) for name in DECISION_TABLES}
        text = json.dumps(jsonable(decisions), sort_keys=True, default=str,
                          separators=(",", ":"), allow_nan=False).encode()
        return hashlib.sha256(text).hexdigest()

    def raise_for_status(self) -> None:
        """Raise the project's error unless this is a verified plan."""
        if self.status is Status.INFEASIBLE:
            raise InfeasibleError("no plan reaches the target under these constraints", self.messages)
        if not self.status.has_plan:
            detail = "; ".join(self.messages) or self.raw_status
            raise NoSolutionError(f"no plan within the limits ({self.status.value}: {detail})")
        if not self.verified:
            raise VerificationError("the plan failed independent verification",
                                    (self.verification or {}).get("violations"))

    def table(self, name: str) -> pd.DataFrame:
        """A table by name (empty when the plan has none)."""
        return self.tables.get(name, pd.DataFrame())

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema clustersize.plan/1, see docs/plan-schema.md)."""
        head = {k: getattr(self, k) for k in (
            "problem_name", "input_hash", "solver", "solver_version", "raw_status", "requested_gap", "time_limit_s",
            "solve_seconds", "cost_basis", "objective_usd", "bound_usd", "run_start", "periods", "target_flop",
            "delivered_flop", "multi_site_efficiency", "locations_used", "success_probability", "messages", "created",
            "provenance", "model", "explanation")}
        head["plan_hash"] = self.decision_hash() if self.has_plan else None
        return {"schema": SCHEMA_VERSION, "status": self.status.value, "gap": self.gap, **head,
                "tables": {name: _records(frame) for name, frame in self.tables.items()},
                "verification": self.verification}

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise to JSON (NaN written as null)."""
        return json.dumps(jsonable(self.to_dict()), indent=indent)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Plan:
        """Read a plan document written by `to_dict`."""
        if doc.get("schema") != SCHEMA_VERSION:
            raise ValueError(f"expected schema {SCHEMA_VERSION!r}, found {doc.get('schema')!r}")
        fields = {k: v for k, v in doc.items() if k not in ("schema", "status", "gap", "tables", "plan_hash")}
        tables = {name: pd.DataFrame.from_records(rows) for name, rows in doc.get("tables", {}).items()}
        return cls(status=Status(doc["status"]), tables=tables, **fields)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _scalar(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _scalar(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def jsonable(node: Any) -> Any:
    """Nested data with numpy scalars, dates and non-finite floats made JSON-ready."""
    if isinstance(node, dict):
        return {k: jsonable(v) for k, v in node.items()}
    if isinstance(node, list):
        return [jsonable(v) for v in node]
    return _scalar(node)
