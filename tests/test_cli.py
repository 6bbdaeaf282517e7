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
    assert plan["schema"] == "clustersize.plan/5" and plan["status"] == "optimal"
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


def run_main(args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """The CLI's entry point in this process (fast: no interpreter start-up); its signal handlers
    are put back afterwards."""
    import signal

    from clustersize import cli

    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    monkeypatch.setattr(sys, "argv", ["clustersize", *args])
    monkeypatch.chdir(ROOT)
    try:
        with pytest.raises(SystemExit) as stop:
            cli.main()
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    captured = capsys.readouterr()
    return int(stop.value.code or 0), captured.out, captured.err


MISSING = "problems/does-not-exist.yaml"  # a check made before reading the problem names its option instead


@pytest.mark.parametrize("args, fragment", [
    (["solve", MISSING, "--out", ""], "--out: the output directory is empty"),
    (["solve", MISSING, "--out", "src"], "did not write"),
    (["solve", MISSING, "--out", "README.md"], "not a directory"),
    (["solve", MISSING, "--out", "x", "--format", "xlsx"], "--format: unknown table format"),
    (["solve", MISSING, "--time-limit", "nan"], "solver.time_limit_s"),
    (["solve", MISSING, "--gap", "-1"], "solver.gap"),
    (["explain", MISSING, "--tolerance", "0"], "--tolerance"),
    (["explain", MISSING, "--tolerance", "-0.5"], "--tolerance"),
    (["explain", MISSING, "--tolerance", "nan"], "--tolerance"),
    (["explain", MISSING, "--out", ""], "--out"),
    (["whatif", MISSING, "--out", ""], "--out"),
    (["whatif", MISSING, "--scheduler", "garbage", "--vary", "a=1,2"], "--scheduler"),
    (["generate", "--out", ""], "--out"),
    (["schema", "--out", "src"], "--out"),
])
def test_bad_options_are_found_before_any_work(args, fragment, capsys, monkeypatch):
    code, _, err_text = run_main(args, capsys, monkeypatch)
    assert code == 2, err_text
    assert fragment in " ".join(err_text.split())
    assert "cannot read file" not in err_text and "Traceback" not in err_text


@pytest.mark.parametrize("extra, fragment", [
    (["--sample", "accelerators.h100-sxm.price_usd~uniform(1,2)",
      "--correlate", "accelerators.h100-sxm.price_usd,accelerators.h100-sxm.price_usd=0.5"], "with itself"),
    (["--vary", "accelerators.h100-sxm.price_usd=1,2", "--correlate", "a.b,c.d=0.5"], "only to --sample"),
])
def test_whatif_correlation_misuse_is_refused(tmp_path, extra, fragment, capsys, monkeypatch):
    code, _, err_text = run_main(["whatif", "problems/rent-vs-buy.yaml", "--out", str(tmp_path / "w"), *extra],
                                 capsys, monkeypatch)
    assert code == 2 and fragment in " ".join(err_text.split()), err_text
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("override", ["[/x]=1", "[bold red]=1", "\x1b[31mred\x1b]0;title\x07=1"])
def test_markup_and_terminal_escapes_in_user_text_are_shown_inert(override, capsys, monkeypatch):
    code, out, err_text = run_main(["solve", "problems/rent-vs-buy.yaml", "--set", override], capsys, monkeypatch)
    assert code == 2, err_text
    assert "\x1b" not in out + err_text and "\x07" not in err_text
    assert "internal error" not in err_text and "unknown field" in err_text


def test_whatif_where_no_point_has_a_plan_writes_its_table(tmp_path, capsys, monkeypatch):
    # Every price is invalid: each point is an input_error row, none has a plan.
    code, out, err_text = run_main(["whatif", "problems/rent-vs-buy.yaml", "--vary",
                                    "accelerators.h100-sxm.price_usd=-1,-2", "--workers", "1",
                                    "--out", str(tmp_path / "w"), "--plot"], capsys, monkeypatch)
    assert code == 0, err_text
    assert "2 points: 2 input_error" in out
    assert "objective_usd" in (tmp_path / "w" / "results.csv").read_text().splitlines()[0]


@pytest.mark.parametrize("text, fragment", [
    ("[1, 2]", "JSON object"), ("[" * 100_000, "nested too deeply"), ('{"schema": 1}', "schema"),
    ("NaN", "JSON object"), ("\xff\xfe", "not a clustersize plan"),
])
def test_malformed_plan_files_exit_2(tmp_path, text, fragment, capsys, monkeypatch):
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="latin-1")
    for command in (["verify", str(path), "problems/rent-vs-buy.yaml"],
                    ["explain", "problems/rent-vs-buy.yaml", "--plan", str(path), "--no-break-even"]):
        code, _, err_text = run_main(command, capsys, monkeypatch)
        assert code == 2 and fragment in " ".join(err_text.split()), err_text


def test_verify_names_each_edited_figure(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert run_main(["solve", "problems/rent-vs-buy.yaml", "--out", str(out)], capsys, monkeypatch)[0] == 0
    doc = json.loads((out / "plan.json").read_text())
    doc["delivered_flop"] *= 10
    doc["target_flop"] = 1.0
    doc["cost_basis"] = "amortised"
    (out / "plan.json").write_text(json.dumps(doc))
    code, text, _ = run_main(["verify", str(out / "plan.json"), "problems/rent-vs-buy.yaml"], capsys, monkeypatch)
    assert code == 5
    for field in ("delivered_flop", "target_flop", "cost_basis"):
        assert f"  {field}: " in text


def test_verify_rejects_a_plan_for_another_problem(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    run_main(["solve", "problems/rent-vs-buy.yaml", "--out", str(out)], capsys, monkeypatch)
    code, text, _ = run_main(["verify", str(out / "plan.json"), "problems/rent-vs-buy.yaml", "--set",
                              "costs.carbon_price_usd_per_t=1"], capsys, monkeypatch)
    assert code == 5 and "input_hash" in text
