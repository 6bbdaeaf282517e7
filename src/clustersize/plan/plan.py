"""The typed plan: status, cost, bound and gap, provenance of the solve, and tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import InfeasibleError, InputError, NoSolutionError, VerificationError
from ..status import Status
from .digests import DIGEST_KEY, field_digests

SCHEMA_VERSION = "clustersize.plan/5"
DECISION_TABLES = ("purchases", "sites", "contracts", "energy", "rentals", "cluster", "runs", "custom_programs",
                   "leases", "commitments", "serving", "ramp", "supply_deals", "deal_credits", "spot", "sales")
TABLES = ("purchases", "sites", "contracts", "energy", "rentals", "cluster", "ramp", "runs", "fleet", "serving",
          "custom_programs", "supply_deals", "deal_credits", "spot", "sales", "leases", "commitments", "costs",
          "cashflows", "economics", "compute", "export_usage", "exclusions", "licences", "binding")
# The columns of every table and their JSON kind: "str", "fin" (a finite number), "num" (a finite
# number, or null where the writer stores NaN or infinity), "bool", "str?" (a string or null), "any".
# A plan file is read only if it matches; NaN and infinity are never valid (the writer stores null).
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "purchases": {"accelerator": "str", "site": "str", "country": "str", "quarter": "str", "ready": "str",
                  "units": "fin", "servers": "fin", "unit_cost_usd": "fin", "capex_usd": "fin"},
    "sites": {"site": "str", "country": "str", "opened": "bool", "existing_basis": "str", "existing_mw": "fin", "new_mw": "fin",
              "it_capacity_mw": "fin", "it_load_mw": "fin", "facility_peak_mw": "fin", "facility_energy_mwh": "fin"},
    "contracts": {"contract": "str", "site": "str", "kind": "str", "signed": "bool", "contracted_mw": "fin",
                  "firm_mw": "fin", "energy_mwh": "fin", "price_usd_per_mwh": "fin", "energy_cost_usd": "fin",
                  "emissions_t": "fin", "carbon_cost_usd": "fin", "fixed_cost_usd": "fin"},
    "energy": {"contract": "str", "run": "str", "start": "str", "days": "fin", "energy_mwh": "fin"},
    "rentals": {"run": "str", "offer": "str", "accelerator": "str", "country": "str", "instances": "fin",
                "units": "fin", "hours": "fin", "committed": "bool", "cost_usd": "fin"},
    "cluster": {"run": "str", "location": "str", "kind": "str", "accelerator": "str", "units": "fin",
                "rate_tflops": "fin", "days": "fin"},
    "ramp": {"run": "str", "quarter": "str", "location": "str", "accelerator": "str", "units": "fin", "days": "fin"},
    "runs": {"run": "str", "start": "str", "end": "str", "days": "fin", "group": "str", "stacks": "str", "pace_tflops": "fin",
             "locations": "str", "span": "str", "span_efficiency": "fin", "units": "fin", "goodput": "fin",
             "extra_stacks": "int", "flop": "fin", "target_flop": "fin",
             "shortfall_flop": "fin"},
    "fleet": {"quarter": "str", "site": "str", "accelerator": "str", "installed": "fin", "in_run": "fin",
              "serving": "fin", "idle": "fin"},
    "serving": {"quarter": "str", "location": "str", "kind": "str", "accelerator": "str", "units": "fin",
                "pflops": "fin", "cost_usd": "fin"},
    "custom_programs": {"program": "str", "funded": "bool", "nre_usd": "fin", "units": "fin",
                        "success_probability": "fin"},
    "leases": {"site": "str", "quarter": "str", "leased_mw": "fin"},
    "supply_deals": {"deal": "str", "taken": "fin", "cost_usd": "fin"},
    "deal_credits": {"deal": "str", "quarter": "str", "units": "fin", "credit_usd": "fin"},
    "spot": {"accelerator": "str", "quarter": "str", "units": "fin", "premium_usd": "fin"},
    "sales": {"accelerator": "str", "site": "str", "ordered": "str", "quarter": "str", "units": "fin",
              "proceeds_usd": "fin"},
    "commitments": {"offer": "str", "start": "str", "term_months": "fin", "instances": "fin", "units": "fin",
                    "cost_usd": "fin"},
    "costs": {"component": "str", "full_usd": "fin", "npv_usd": "fin", "amortised_usd": "fin", "cost_usd": "fin"},
    "economics": {"metric": "str", "value": "fin", "meaning": "str"},
    "cashflows": {"quarter": "str", "capex_usd": "fin", "opex_usd": "fin", "commitments_usd": "fin",
                  "residual_usd": "fin", "net_usd": "fin", "discount_factor": "fin", "discounted_usd": "fin"},
    "compute": {"run": "str", "source": "str", "units": "fin", "flop": "fin"},
    "export_usage": {"country": "str", "policy": "str", "cap_tpp": "num", "used_tpp": "num", "share": "num"},
    "exclusions": {"kind": "str", "option": "str", "where": "str", "reason": "str", "rule": "str?"},
    "licences": {"accelerator": "str", "sites": "any", "reason": "str"},
    "binding": {"family": "str", "index": "str", "slack": "num", "relative_slack": "num", "value_usd": "num",
                "unit": "str", "binding": "bool"},
}
# Top-level fields of a plan document and their JSON kind ("num?" a number or null, "list", "dict?").
HEAD_FIELDS: dict[str, str] = {
    "problem_name": "str", "input_hash": "str", "solver": "str", "solver_version": "str", "raw_status": "str",
    "requested_gap": "fin", "time_limit_s": "fin", "solve_seconds": "fin", "cost_basis": "str",
    "objective_usd": "num", "bound_usd": "num", "run_start": "str?", "periods": "list", "target_flop": "num",
    "delivered_flop": "num", "locations_used": "int", "success_probability": "fin",
    "messages": "list", "created": "str", "provenance": "dict", "model": "dict", "explanation": "dict?",
}
MAX_PLAN_ROWS = 1_000_000
SERVING = "(sustained)"
"""The `run` of an energy row that serves sustained demand for one quarter (no run can be named so)."""


GAP_ROUND_OFF = 1e-12  # a relative gap below this is the arithmetic of cost minus bound, not a gap


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
    # Figures as a plan file stated them (plan_hash, gap, digests as stored and as recomputed from
    # the file's content); empty for a plan made in this process. Read by the integrity check.
    stored: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def gap(self) -> float | None:
        """Relative gap between the plan's cost and the proven lower bound; round-off (1e-16) reads as 0."""
        if self.objective_usd is None or self.bound_usd is None:
            return None
        gap = max(0.0, self.objective_usd - self.bound_usd) / max(abs(self.objective_usd), 1e-9)
        return gap if gap > GAP_ROUND_OFF else 0.0

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
        """The JSON document (schema clustersize.plan/5, see docs/plan-schema.md)."""
        head = {k: getattr(self, k) for k in (
            "problem_name", "input_hash", "solver", "solver_version", "raw_status", "requested_gap", "time_limit_s",
            "solve_seconds", "cost_basis", "objective_usd", "bound_usd", "run_start", "periods", "target_flop",
            "delivered_flop", "locations_used", "success_probability", "messages", "created",
            "provenance", "model", "explanation")}
        head["plan_hash"] = self.decision_hash() if self.has_plan else None
        doc: dict[str, Any] = jsonable({"schema": SCHEMA_VERSION, "status": self.status.value, "gap": self.gap, **head,
                                        "tables": {name: _records(frame) for name, frame in self.tables.items()},
                                        "verification": self.verification})
        doc[DIGEST_KEY] = field_digests(doc)
        return doc

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise to JSON (NaN written as null)."""
        return json.dumps(jsonable(self.to_dict()), indent=indent)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Plan:
        """Read a plan document written by `to_dict`; PlanFileError (an InputError and a ValueError)
        naming the field when it is malformed."""
        check_document(doc)
        fields = {k: doc[k] for k in HEAD_FIELDS}
        verification = doc.get("verification")
        tables = {name: pd.DataFrame.from_records(rows, columns=list(TABLE_COLUMNS[name]))
                  for name, rows in doc["tables"].items()}
        stored = {"plan_hash": doc.get("plan_hash"), "gap": doc.get("gap"), "digests": doc.get(DIGEST_KEY),
                  "actual_digests": field_digests(doc), "verification": verification}
        return cls(status=Status(doc["status"]), tables=tables, verification=verification, stored=stored, **fields)


class PlanFileError(InputError, ValueError):
    """A plan document that is not a valid `clustersize.plan/5` (also a ValueError, as before)."""


_KINDS: dict[str, tuple[type, ...]] = {"str": (str,), "fin": (int, float), "int": (int,), "bool": (bool,),
                                       "list": (list,), "dict": (dict,)}


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "any":
        return True
    if kind.endswith("?"):
        return value is None or _is_kind(value, kind[:-1])
    if kind == "num":
        return value is None or _is_kind(value, "fin")
    if isinstance(value, bool) and kind != "bool":
        return False
    if kind == "fin" and isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, _KINDS[kind])


_KIND_NAMES = {"str": "string", "str?": "string or null", "fin": "finite number", "num": "finite number or null",
               "int": "whole number", "bool": "boolean", "list": "list", "dict": "object", "dict?": "object or null"}


def check_document(doc: Any) -> None:
    """Raise PlanFileError (a ValueError) naming the first field of `doc` a plan document cannot have."""
    if not isinstance(doc, dict):
        raise PlanFileError(f"a plan is a JSON object, found {type(doc).__name__}")
    if doc.get("kind") == "two_stage":
        raise PlanFileError("this is a two-stage plan (the scenarios' summary): each scenario's plan is "
                            "scenarios/NAME/plan.json beside it")
    if doc.get("schema") != SCHEMA_VERSION:
        raise PlanFileError(f"expected schema {SCHEMA_VERSION!r}, found {str(doc.get('schema'))[:80]!r}")
    if doc.get("status") not in {s.value for s in Status}:
        raise PlanFileError(f"status: {str(doc.get('status'))[:80]!r} is not one of {[s.value for s in Status]}")
    for name, kind in HEAD_FIELDS.items():
        if name not in doc or not _is_kind(doc[name], kind):
            raise PlanFileError(f"{name}: missing or not a {_KIND_NAMES[kind]} ({str(doc.get(name))[:80]!r})")
    tables = doc.get("tables")
    if not isinstance(tables, dict) or set(tables) - set(TABLE_COLUMNS):
        raise PlanFileError(f"tables: expected an object with some of {list(TABLE_COLUMNS)}")
    for name, rows in tables.items():
        if not isinstance(rows, list) or len(rows) > MAX_PLAN_ROWS:
            raise PlanFileError(f"tables.{name}: expected a list of at most {MAX_PLAN_ROWS:,} rows")
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or set(row) != set(TABLE_COLUMNS[name]):
                raise PlanFileError(f"tables.{name}[{i}]: expected the columns {list(TABLE_COLUMNS[name])}")
            for column, kind in TABLE_COLUMNS[name].items():
                if not _is_kind(row[column], kind):
                    raise PlanFileError(f"tables.{name}[{i}].{column}: not a {_KIND_NAMES[kind]} "
                                        f"({str(row[column])[:80]!r})")
    if not isinstance(doc.get("verification"), (dict, type(None))):
        raise PlanFileError("verification: expected an object or null")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # Column by column: row-wise conversion in pandas is ~100x slower on small frames.
    columns = {k: frame[k].tolist() for k in frame.columns}
    return [{k: _scalar(v) for k, v in zip(columns, values)} for values in zip(*columns.values())]


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
