"""CLI exit codes and outputs, run as a user would (a subprocess: no tracebacks, real exit codes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from clustersize.solvers import Capabilities
from conftest import ROOT, base_problem


def run(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clustersize.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def write(tmp_path, doc, name="p.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_solve_gpt5_writes_and_verifies(tmp_path):
    result = run("solve", "problems/gpt5.yaml", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "OPTIMAL" in result.stdout and "verified" in result.stdout
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert plan["schema"] == "clustersize.plan/1" and plan["status"] == "optimal"
    assert (tmp_path / "out" / "tables" / "purchases.csv").exists()
    again = run("verify", str(tmp_path / "out" / "plan.json"), "problems/gpt5.yaml")
    assert again.returncode == 0 and again.stdout.startswith("verified"), again.stdout


def test_tampered_plan_fails_verification(tmp_path):
    run("solve", "problems/gpt5.yaml", "--out", str(tmp_path))
    doc = json.loads((tmp_path / "plan.json").read_text())
    doc["tables"]["purchases"][0]["units"] *= 10
    (tmp_path / "plan.json").write_text(json.dumps(doc))
    result = run("verify", str(tmp_path / "plan.json"), "problems/gpt5.yaml")
    assert result.returncode == 5
    assert "supply_cap" in result.stdout


def test_json_output_is_clean_json():
    result = run("solve", "problems/rent-vs-buy.yaml", "--json", "--solver", "highs")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "optimal"


def test_parquet_tables(tmp_path):
    result = run("solve", "problems/rent-vs-buy.yaml", "--out", str(tmp_path), "--format", "parquet")
    assert result.returncode == 0
    assert (tmp_path / "tables" / "rentals.parquet").exists()


@pytest.mark.parametrize("args, fragment", [
    (["solve", "problems/missing.yaml"], "cannot read file"),
    (["solve", "problems/gpt5.yaml", "--set", "accelerators.h100-sxm.price_usd=-5"], "greater than 0"),
    (["solve", "problems/gpt5.yaml", "--set", "accelerators.h100.price_usd=5"], "did you mean"),
    (["solve", "problems/gpt5.yaml", "--set", "novalue"], "PATH=VALUE"),
    (["solve", "problems/gpt5.yaml", "--solver", "gurobi"], "solver.name"),
    (["verify", "README.md", "problems/gpt5.yaml"], "not a clustersize plan"),
])
def test_bad_input_exits_2_without_traceback(args, fragment):
    result = run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_infeasible_exits_3_and_says_what_is_short(tmp_path):
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 300.0
    result = run("solve", str(write(tmp_path, doc)))
    assert result.returncode == 3
    assert "short 4.32e+23 FLOP" in result.stdout + result.stderr


def test_limit_without_plan_exits_4(monkeypatch):
    from typer.testing import CliRunner

    import clustersize.solving.pipeline as pipeline
    from clustersize.cli import app
    from clustersize.solvers import SolverResult, Status

    class NoPlan:
        name = "stub"
        capabilities = Capabilities()

        def available(self):
            return True

        def solve(self, lp, options):
            return SolverResult(Status.NO_SOLUTION, "stub", "0", "NOT_SOLVED")

    monkeypatch.setattr(pipeline, "get_backend", lambda name: NoPlan())
    result = CliRunner().invoke(app, ["solve", str(ROOT / "problems" / "gpt5.yaml")])
    assert result.exit_code == 4


def test_schema_and_catalog_commands():
    schema = run("schema")
    assert schema.returncode == 0 and "planning_start" in json.loads(schema.stdout)["properties"]
    catalog = run("catalog", "accelerators")
    assert catalog.returncode == 0 and "h100-sxm" in catalog.stdout and "3A090.a" in catalog.stdout
    assert run("catalog", "rules").returncode == 0


def test_verify_does_not_flag_a_plan_solved_with_other_solver_settings(tmp_path):
    run("solve", "problems/rent-vs-buy.yaml", "--out", str(tmp_path), "--solver", "cbc", "--time-limit", "20")
    result = run("verify", str(tmp_path / "plan.json"), "problems/rent-vs-buy.yaml")
    assert result.returncode == 0 and "differs" not in result.stderr
