"""The verifier catches planted violations, one per check, and passes a correct plan."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import clustersize
from clustersize import verify
from conftest import base_problem


@pytest.fixture(scope="module")
def solved():
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 1000.0
    problem = clustersize.load_problem(doc)
    return doc, problem, clustersize.solve(problem, solver="scip")


def checks_failed(plan, problem) -> set[str]:
    report = verify(plan, problem)
    return {v["check"] for v in report["violations"]}


def tampered(plan):
    clone = copy.deepcopy(plan)
    clone.tables = {k: v.copy() for k, v in plan.tables.items()}
    return clone


def test_correct_plan_passes(solved):
    _, problem, plan = solved
    report = verify(plan, problem)
    assert report["ok"], report["violations"]
    assert report["cost_usd"] == pytest.approx(10_120_000, rel=1e-9)
    assert report["checks"] > 10


def test_supply_exceeded(solved):
    _, problem, plan = solved
    bad = tampered(plan)
    bad.tables["purchases"].loc[0, "units"] += 1
    assert {"supply_cap", "cost"} <= checks_failed(bad, problem)


def test_target_missed(solved):
    _, problem, plan = solved
    bad = tampered(plan)
    bad.tables["cluster"].loc[0, "units"] -= 100
    assert "compute_target" in checks_failed(bad, problem)


def test_fractional_servers(solved):
    doc, _, plan = solved
    doc = copy.deepcopy(doc)
    doc["accelerators"]["alpha"]["units_per_server"] = 8
    problem = clustersize.load_problem(doc)
    bad = tampered(plan)
    bad.tables["purchases"].loc[0, "units"] = 1004.0
    assert "whole_servers" in checks_failed(bad, problem)


def test_unopened_site(solved):
    _, problem, plan = solved
    bad = tampered(plan)
    bad.tables["sites"]["opened"] = False
    assert {"site_opened", "site_power", "contract_site"} <= checks_failed(bad, problem)


def test_energy_short(solved):
    _, problem, plan = solved
    bad = tampered(plan)
    bad.tables["energy"]["energy_mwh"] *= 0.5
    assert "energy_balance" in checks_failed(bad, problem)


def test_contract_oversized(solved):
    _, problem, plan = solved
    bad = tampered(plan)
    bad.tables["contracts"]["contracted_mw"] = 11.0
    assert "contract_size" in checks_failed(bad, problem)


def test_cost_misreported(solved):
    _, problem, plan = solved
    bad = tampered(plan)
    bad.objective_usd += 1000.0
    assert checks_failed(bad, problem) == {"cost"}


def test_prohibited_purchase(solved):
    doc, _, plan = solved
    doc = copy.deepcopy(doc)
    doc["accelerators"]["alpha"]["tpp"] = 5000.0
    doc["sites"]["s1"]["country"] = "CN"
    doc["export"] = {"ruleset": "us-2023-10"}
    assert "export_prohibition" in checks_failed(plan, clustersize.load_problem(doc))


def test_late_delivery(solved):
    doc, _, plan = solved
    doc = copy.deepcopy(doc)
    doc["accelerators"]["alpha"]["lead_time_quarters"] = 3
    # Ordered 2027Q1 with a 3-quarter lead, installed 2027Q4: after the run starts in 2027Q3.
    assert "fleet" in checks_failed(plan, clustersize.load_problem(doc))


def test_export_cap_exceeded(solved):
    doc, _, plan = solved
    doc = copy.deepcopy(doc)
    doc["accelerators"]["alpha"]["tpp"] = 5000.0
    doc["sites"]["s1"]["country"] = "AE"
    doc["export"] = {"ruleset": "us-2025-01-diffusion", "cap_used_tpp": {"AE": 789e6}}
    assert "export_cap" in checks_failed(plan, clustersize.load_problem(doc))


def test_too_many_locations(solved):
    doc, _, plan = solved
    bad = tampered(plan)
    rentals, cluster = bad.tables["rentals"], bad.tables["cluster"]
    bad.tables["rentals"] = rentals.reindex([0]).assign(run="main", offer="c1", accelerator="alpha-cloud", country="US",
                                                       instances=1.0, units=1.0, hours=2400.0, cost_usd=0.0)
    bad.tables["cluster"] = pd.concat([cluster, cluster.iloc[:1].assign(location="c1", kind="cloud",
                                                                        accelerator="alpha-cloud", units=1.0)])
    doc = copy.deepcopy(doc)
    doc["cloud_chips"] = {"alpha-cloud": {"name": "A", "vendor": "Test", "bf16_tflops": 1000.0}}
    doc["cloud"] = {"c1": {"provider": "T", "accelerator": "alpha-cloud", "country": "US", "price_usd_per_hour": 1.0,
                           "max_units": 10.0, "units_per_instance": 1}}
    assert "max_sites" in checks_failed(bad, clustersize.load_problem(doc))


@pytest.mark.parametrize("start", ["plan/verify.py", "risk/verify.py"])
def test_verifier_imports_no_solver_or_formulation_code(start):
    """Static check over the import graph reachable from plan/verify.py (and the two-stage checks of
    risk/verify.py) inside the package."""
    import ast
    from pathlib import Path

    package = Path(clustersize.__file__).parent
    forbidden = {"formulation", "solvers", "data", "solving"}
    seen, todo = set(), [package / start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                parts = (node.module or "").split(".") if node.module else []
                target = base.joinpath(*parts)
                assert not (set(target.relative_to(package).parts) & forbidden), f"{path.name} imports {target}"
                for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                    if candidate.exists() and candidate.name != "__init__.py":
                        todo.append(candidate)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] in ("ortools", "pulp", "highspy") for n in names), path
    assert len(seen) >= 4
