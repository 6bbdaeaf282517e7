"""A written plan cannot lie: every single-field edit is rejected by `verify`, naming the field.

The edits are generated from the plan document itself (every top-level field, every column of
every table: the columns come from the tables' schema, plan.TABLE_COLUMNS), applied to plans
written by `solve --out`, and checked in-process exactly as `clustersize verify` checks them.
A second set replays the edits as a forger would, recomputing the per-field digests: every
figure that can be recomputed from the decisions and the problem must still be caught.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

import clustersize
from clustersize.plan import Plan
from clustersize.plan.digests import DIGEST_KEY, field_digests
from clustersize.plan.integrity import check_integrity
from clustersize.plan.plan import TABLE_COLUMNS
from clustersize.plan.verify import verify
from conftest import ROOT, base_problem, served_problem

PROBLEMS = {"gpt5": ROOT / "problems" / "gpt5.yaml", "tier2": ROOT / "problems" / "tier2-sovereign.yaml",
            "sustained": served_problem()}
# Fields no recomputation can check (provenance of the solve, free text, the model's own view):
# only their digests protect them, which a forger can recompute (docs/security.md).
UNRECOMPUTABLE = {"problem_name", "solver", "solver_version", "raw_status", "requested_gap", "time_limit_s",
                  "solve_seconds", "messages", "created", "provenance", "model", "explanation", "verification",
                  "status", "schema"}
UNRECOMPUTABLE_TABLES = {"binding", "exclusions", "licences"}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, tuple[dict[str, Any], Any]]:
    """name -> (plan document as written by write_plan, problem)."""
    found = {}
    for name, path in PROBLEMS.items():
        problem = clustersize.load_problem(path)
        plan = clustersize.solve(problem, solver="scip")
        out = tmp_path_factory.mktemp(name) / "out"
        clustersize.write_plan(plan, out)
        found[name] = (json.loads((out / "plan.json").read_text()), problem)
    return found


def judge(doc: dict[str, Any], problem: Any) -> tuple[set[str], str]:
    """What `verify` rejects: (fields named by mismatches, or the reading error's message)."""
    try:
        plan = Plan.from_dict(json.loads(json.dumps(doc)))
    except ValueError as exc:
        return set(), str(exc)
    report = verify(plan, problem)
    fields = {m.field for m in check_integrity(plan, problem, report)}
    fields |= {f"violation:{v['check']}" for v in report["violations"]}
    return fields, ""


def edited(value: Any) -> list[tuple[str, Any]]:
    """Type-preserving edits of one value (so the file still reads), plus NaN for numbers."""
    if isinstance(value, bool):
        return [("flip", not value)]
    if isinstance(value, (int, float)):
        return [("x10", value * 10 if value else 1), ("nan", math.nan)]
    if isinstance(value, str):
        return [("append", value + "x")]
    if isinstance(value, list):
        return [("append", [*value, value[-1] if value else "x"])]
    if isinstance(value, dict):
        return [("add-key", {**value, "tampered": 1})]
    return [("set", 1.0)]


def edits(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(digest key of the field, label, edited copy) for every top-level field and table column."""
    found = []
    for key, value in doc.items():
        if key in ("tables", DIGEST_KEY, "schema"):
            continue
        for how, new in edited(value):
            changed = copy.deepcopy(doc)
            changed[key] = new
            found.append((key, f"{key}:{how}", changed))
    for table, columns in TABLE_COLUMNS.items():
        rows = doc["tables"].get(table) or []
        if not rows:
            continue
        i = next((k for k, r in enumerate(rows) if any(isinstance(v, (int, float)) and v for v in r.values())), 0)
        for column in columns:
            for how, new in edited(rows[i][column]):
                changed = copy.deepcopy(doc)
                changed["tables"][table][i][column] = new
                found.append((f"tables.{table}.{column}", f"tables.{table}[{i}].{column}:{how}", changed))
    return found


def test_untouched_plans_are_accepted(written):
    for doc, problem in written.values():
        assert judge(doc, problem) == (set(), "")


def test_at_least_100_edits_each_rejected_naming_the_field(written):
    total = 0
    for name, (doc, problem) in written.items():
        for key, label, changed in edits(doc):
            total += 1
            fields, error = judge(changed, problem)
            column = key.rsplit(".", 1)[-1]
            assert key in fields or (error and column in error), f"{name} {label}: not rejected by name ({fields})"
    assert total >= 100, total


def forged(changed: dict[str, Any]) -> dict[str, Any]:
    """The edit with its digests recomputed, as someone who read the source would."""
    doc = copy.deepcopy(changed)
    doc.pop(DIGEST_KEY, None)
    doc[DIGEST_KEY] = field_digests(json.loads(json.dumps(doc)))
    return doc


def test_forged_digests_do_not_hide_recomputable_figures(written):
    caught = 0
    for name, (doc, problem) in written.items():
        for key, label, changed in edits(doc):
            parts = key.split(".")
            if parts[0] in UNRECOMPUTABLE or (parts[0] == "tables" and parts[1] in UNRECOMPUTABLE_TABLES):
                continue
            fields, error = judge(forged(changed), problem)
            assert fields or error, f"{name} {label}: a forged edit passed"
            caught += 1
    assert caught >= 80, caught


def test_objective_nan_and_delivered_times_10_are_named(written):
    doc, problem = written["gpt5"]
    for field, value in (("objective_usd", math.nan), ("delivered_flop", doc["delivered_flop"] * 10)):
        fields, error = judge(forged({**doc, field: value}), problem)
        assert field in fields or error.startswith(field)


def test_mismatch_carries_the_hand_computed_value(tmp_path):
    # Base case (conftest): 1,000 units at $10,000 = $10,000,000 of hardware; 2,400 MWh at $50 = $120,000.
    problem = clustersize.load_problem(base_problem())
    plan = clustersize.solve(problem)
    clustersize.write_plan(plan, tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "plan.json").read_text())
    doc["tables"]["purchases"][0]["capex_usd"] = 2e7
    doc["tables"]["contracts"][0]["energy_cost_usd"] = 1.0
    loaded = Plan.from_dict(forged(doc))
    found = {m.field: m.recomputed for m in check_integrity(loaded, problem, verify(loaded, problem))}
    assert found["tables.purchases[0].capex_usd"] == pytest.approx(10_000_000.0, rel=1e-12)
    assert found["tables.contracts[0].energy_cost_usd"] == pytest.approx(120_000.0, rel=1e-12)


def test_optimal_status_with_a_gap_beyond_the_requested_one_is_rejected(written):
    doc, problem = written["gpt5"]
    lowered = doc["objective_usd"] * 0.9  # a bound 10 % below the cost: not optimal within 1e-4
    fields, _ = judge(forged({**doc, "bound_usd": lowered, "gap": 0.1}), problem)
    assert "status" in fields


@pytest.mark.parametrize("text, fragment", [
    ("[]", "JSON object"), ('{"schema": "other"}', "schema"),
    ('{"schema": "clustersize.plan/5", "status": "optimal"}', "problem_name"),
])
def test_malformed_plan_files_say_what_is_wrong(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        Plan.from_dict(json.loads(text))


def test_malformed_table_cell_is_named(written):
    doc = copy.deepcopy(written["gpt5"][0])
    doc["tables"]["purchases"][0]["units"] = ["a list"]
    with pytest.raises(ValueError, match=r"tables\.purchases\[0\]\.units"):
        Plan.from_dict(doc)


@pytest.mark.parametrize("name, overrides", [("rent-vs-buy", {"costs.basis": "amortised"}),
                                             ("gpt4-retrospective", {})])
def test_fresh_and_reread_plans_state_nothing_false(name, overrides):
    problem = clustersize.load_problem(ROOT / "problems" / f"{name}.yaml", overrides)
    plan = clustersize.solve(problem)
    assert check_integrity(plan, problem, verify(plan, problem)) == []
    reread = Plan.from_dict(json.loads(plan.to_json()))
    assert check_integrity(reread, problem, verify(reread, problem)) == []


def test_malformed_plan_is_an_input_error_too():
    with pytest.raises(clustersize.InputError) as caught:
        Plan.from_dict({"schema": "clustersize.plan/5", "status": "optimal"})
    assert caught.value.exit_code == 2 and "problem_name" in str(caught.value)
