"""Speed at every scale; writes benchmarks/scale.json and the tables in BENCHMARKS.md.

    python benchmarks/scale.py [--sizes small medium large x1m] [--time-limit 60] [--seeds 10 --seed-sizes medium large:4]
                               [--skip startup problems greedy] [--out benchmarks/scale.json]

For each size (generated, seeds 0..N-1 with --seeds N, default seed 0 only) and installed
backend: the model's rows, columns and nonzeros, build time (load + model data + arrays), solve
time, status, objective, bound, gap and peak memory of the solver process; one record per seed.
References measured in the same run:
  raw    the same arrays exported as MPS and solved by CBC alone (no rounding, no verifier),
         and their LP relaxation (GLOP);
  greedy the spreadsheet planner (clustersize.baselines.greedy), verified by the same verifier, and
         what the optimizer saves against it over seeds 0..9 of the medium size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import clustersize
from clustersize.baselines.generate import generate_problem
from clustersize.baselines.greedy import greedy_solution
from clustersize.data.modeldata import build_model_data
from clustersize.formulation import build
from clustersize.solvers import SolveOptions, SolverResult, Status, available_backends, solve_with_watchdog
from clustersize.solvers.cbc import cbc_path
from clustersize.solvers.lp_duals import GlopDuals
from clustersize.solvers.mps import write_mps
from clustersize.solving.pipeline import make_plan

SIZES = {"small": "5x5x8x10", "medium": "15x30x12x50", "large": "30x200x20x200", "x1m": "50x1000x20x2000"}
HERE = Path(__file__).parent


def child_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def build_case(size: str, seed: int = 0):
    started = time.perf_counter()
    problem = clustersize.load_problem(generate_problem(size, seed))
    data = build_model_data(problem)
    lp = build(data)
    return problem, data, lp, time.perf_counter() - started


def solve_case(name: str, size: str, solver: str, limit: float, seed: int = 0) -> dict:
    problem, data, lp, build_s = build_case(size, seed)
    started = time.perf_counter()
    plan = clustersize.solve(problem, solver=solver, time_limit=limit, check=False)
    return {"size": name, "shape": size, "seed": seed, "backend": solver, "rows": lp.shape[0], "columns": lp.shape[1],
            "nonzeros": int(lp.matrix.nnz), "build_s": round(build_s, 3), "solve_s": round(time.perf_counter() - started, 2),
            "status": plan.status.value, "objective_usd": plan.objective_usd, "bound_usd": plan.bound_usd,
            "gap": plan.gap, "verified": plan.verified, "peak_solver_mb": round(child_peak_mb())}


def raw_reference(name: str, size: str, limit: float) -> list[dict]:
    problem, data, lp, _ = build_case(size)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        mps = Path(tmp) / "model.mps"
        write_mps(lp, mps)
        started = time.perf_counter()
        try:
            run = subprocess.run([cbc_path(), str(mps), "-sec", str(limit), "-ratio", "1e-4", "-solve"],
                                 capture_output=True, text=True, timeout=limit + 60)
            tail = [line for line in run.stdout.splitlines() if line.startswith(("Result", "Objective value", "Gap"))]
        except subprocess.TimeoutExpired:
            tail = ["killed: no answer within the limit + 60 s"]
        rows.append({"size": name, "reference": "raw CBC on MPS (continuous counts)",
                     "seconds": round(time.perf_counter() - started, 1), "result": "; ".join(tail)})
    relaxed = solve_with_watchdog(GlopDuals(), _relaxed(lp), SolveOptions(time_limit_s=limit))
    rows.append({"size": name, "reference": "LP relaxation (GLOP)", "seconds": round(relaxed.seconds, 2),
                 "result": (f"{relaxed.status.value}, bound {relaxed.objective * 1e6:,.0f} USD" if relaxed.objective
                            else relaxed.status.value)})
    return rows


def _relaxed(lp):
    import dataclasses

    return dataclasses.replace(lp, integer=np.zeros_like(lp.integer))


def greedy_savings(size: str, seeds: range, limit: float = 60.0) -> list[dict]:
    out = []
    for seed in seeds:
        problem = clustersize.load_problem(generate_problem(size, seed))
        best = clustersize.solve(problem, time_limit=limit, check=False)
        data = build_model_data(problem)
        lp = build(data)
        started = time.perf_counter()
        x = greedy_solution(data, lp)
        greedy_s = time.perf_counter() - started
        greedy = None
        if x is not None:
            greedy = make_plan(problem, data, lp, SolverResult(Status.FEASIBLE, "greedy", "", "greedy", float(lp.cost @ x),
                                                                None, x), SolveOptions())
        out.append({"seed": seed, "rows": lp.shape[0], "columns": lp.shape[1], "nonzeros": int(lp.matrix.nnz),
                    "optimizer": best.status.value, "optimizer_usd": best.objective_usd,
                    "greedy_s": round(greedy_s, 2), "greedy_usd": greedy.objective_usd if greedy else None,
                    "greedy_verified": greedy.verified if greedy else None,
                    "saving": (1 - best.objective_usd / greedy.objective_usd) if greedy and best.has_plan else None})
    return out


def problem_timings() -> list[dict]:
    """`clustersize solve` end to end (a fresh process: imports included) on each shipped problem."""
    rows = []
    for path in sorted((HERE.parent / "problems").glob("*.yaml")):
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "clustersize.cli", "solve", str(path), "--json"],
                             capture_output=True, text=True, timeout=300)
        plan = json.loads(run.stdout) if run.returncode == 0 else {}
        rows.append({"problem": path.stem, "seconds": round(time.perf_counter() - started, 2),
                     "status": plan.get("status"), "gap": plan.get("gap"),
                     "verified": bool((plan.get("verification") or {}).get("ok"))})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def explain_timing(problem: str = "gpt5", runs: int = 3) -> dict:
    """`clustersize explain` end to end (solve, marginal values, break-even prices of every option),
    a fresh process each run: min and median of `runs`."""
    path = HERE.parent / "problems" / f"{problem}.yaml"
    seconds, options, probes = [], 0, 0
    for _ in range(runs):
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "clustersize.cli", "explain", str(path), "--json"],
                             capture_output=True, text=True, timeout=600, check=True)
        seconds.append(time.perf_counter() - started)
        rows = json.loads(run.stdout)["break_even"]
        options, probes = len(rows), sum(r["solves"] for r in rows)
    seconds.sort()
    record = {"problem": problem, "min_s": round(seconds[0], 2), "median_s": round(seconds[runs // 2], 2),
              "options": options, "probes": probes}
    print(json.dumps(record), flush=True)
    return record


FRESH_BUILD = """
import json, time
import clustersize
from clustersize.baselines.generate import generate_problem
from clustersize.data.modeldata import build_model_data
from clustersize.formulation import build
from ortools.linear_solver.python import model_builder as mb
problem = clustersize.load_problem(generate_problem("{size}", 0))
started = time.perf_counter()
lp = build(build_model_data(problem))
built = time.perf_counter()
model = mb.Model()
model.helper.fill_model_from_sparse_data(lp.lower, lp.upper, lp.cost, lp.row_lower, lp.row_upper, lp.matrix)
# VmHWM, not ru_maxrss: the latter counts the parent's pages copied by fork before exec.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"columns": lp.shape[1], "build_s": round(built - started, 3),
                  "load_s": round(time.perf_counter() - built, 3), "peak_mb": round(peak_kb / 1024)}}))
"""


def fresh_build(size: str, runs: int = 3) -> dict:
    """Model data + arrays, then loading into OR-Tools, in a fresh process (its own peak memory);
    the run with the median build time of `runs`."""
    records = []
    for _ in range(runs):
        run = subprocess.run([sys.executable, "-c", FRESH_BUILD.format(size=size)], capture_output=True, text=True,
                             timeout=600)
        records.append(json.loads(run.stdout.strip().splitlines()[-1]))
    record = sorted(records, key=lambda r: r["build_s"])[runs // 2]
    print(json.dumps(record), flush=True)
    return record


STARTUP = {"import clustersize": [sys.executable, "-c", "import clustersize"],
           "clustersize --help": [sys.executable, "-m", "clustersize.cli", "--help"]}


def startup(runs: int = 7) -> list[dict]:
    """Whole-process wall time of importing the package and of the CLI's --help: min and median of `runs`
    after one warm-up (what `python -X importtime -c "import clustersize"` breaks down by module)."""
    rows = []
    for what, command in STARTUP.items():
        seconds = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True, timeout=60)
            seconds.append(time.perf_counter() - started)
        seconds = sorted(seconds[1:])
        rows.append({"command": what, "min_s": round(seconds[0], 3), "median_s": round(seconds[runs // 2], 3)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def first_plan(size: str, budget: float = 10.0) -> dict:
    """How soon a verified plan comes back: the whole solve under a short budget (default backend)."""
    record = solve_case("large", size, "scip", budget)
    record["budget_s"] = budget
    print(json.dumps(record), flush=True)
    return record


def seed_count(size: str, seeds: int, seed_sizes: list[str] | None) -> int:
    """Seeds to solve of a size: --seeds if it is listed alone (or nothing is listed), N if listed as SIZE:N, else 1."""
    if seed_sizes is None:
        return seeds
    counts = dict(entry.split(":", 1) if ":" in entry else (entry, str(seeds)) for entry in seed_sizes)
    return int(counts.get(size, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", default=["small", "medium", "large", "x1m"])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--backends", nargs="*", default=None)
    parser.add_argument("--seeds", type=int, default=1,
                        help="Solve seeds 0..N-1 of each size (one record per seed); the greedy runs on these seeds "
                             "of the medium size, at least 10.")
    parser.add_argument("--seed-sizes", nargs="*", default=None,
                        help="The sizes --seeds applies to (default: all), SIZE:N for N seeds of that size; the "
                             "others solve seed 0 only.")
    parser.add_argument("--skip", nargs="*", default=[], choices=["startup", "problems", "greedy"],
                        help="Leave out these measurements.")
    parser.add_argument("--out", type=Path, default=HERE / "scale.json")
    args = parser.parse_args()
    backends = args.backends or available_backends()
    record = {"date": dt.date.today().isoformat(), "machine": platform.machine(), "cores": os.cpu_count(),
              "python": platform.python_version(), "time_limit_s": args.time_limit, "solves": [], "references": []}
    for name in args.sizes:
        size = SIZES[name]
        if name == "x1m":
            for _ in range(2):
                problem, data, lp, seconds = build_case(size)
            record["solves"].append({"size": name, "shape": size, "backend": "build only", "rows": lp.shape[0],
                                     "columns": lp.shape[1], "nonzeros": int(lp.matrix.nnz), "build_s": round(seconds, 3),
                                     "peak_process_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})
            print(json.dumps(record["solves"][-1]), flush=True)
            continue
        seeds = seed_count(name, args.seeds, args.seed_sizes)
        for seed in range(seeds):
            # CP-SAT proves nothing here and runs to its limit: seed 0 shows it, the provers take every seed.
            for backend in [b for b in backends if seed == 0 or b != "cpsat"]:
                record["solves"].append(solve_case(name, size, backend, args.time_limit, seed))
                print(json.dumps(record["solves"][-1]), flush=True)
        record["references"] += raw_reference(name, size, args.time_limit)
        print(json.dumps(record["references"][-2:]), flush=True)
    if "startup" not in args.skip:
        record["startup"] = startup()
    if "problems" not in args.skip:
        record["problems"] = problem_timings()
        record["explain"] = explain_timing()
    if "x1m" in args.sizes:
        record["fresh_build"] = fresh_build(SIZES["x1m"])
    if "large" in args.sizes:
        record["first_plan"] = first_plan(SIZES["large"])
    if "greedy" not in args.skip:
        record["greedy"] = greedy_savings(SIZES["medium"], range(max(10, args.seeds)), args.time_limit)
    args.out.write_text(json.dumps(record, indent=2, default=float) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    sys.exit(main())
