"""Write BENCHMARKS.md from benchmarks/scale.json and benchmarks/whatif.json (and agreement.md).

    python benchmarks/report.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE.parent / "BENCHMARKS.md"


# Seed 0 of each size under the single-snapshot model, as BENCHMARKS.md of 2026-12-01 (git history) measured it.
WHATIF_MODEL = "runs+money"   # what benchmarks/whatif_bench.py records as its model
SIZES_BEFORE = {"small": (96, 209), "medium": (430, 3831), "large": (1931, 111909), "x1m": (11290, 931165)}


def usd(v) -> str:
    return "-" if v is None else f"${v / 1e9:,.4f}B"


def pct(v) -> str:
    return "-" if v is None else f"{v:.2%}"


def targets(scale: dict, whatif: dict) -> list[str]:
    """Issue 5's targets against this run's figures."""
    solves = {(r["size"], r["backend"]): r for r in scale["solves"] if r.get("seed", 0) == 0}
    gpt5 = next((r for r in scale.get("problems", []) if r["problem"] == "gpt5"), None)
    roadmap = next((r for r in scale.get("problems", []) if r["problem"] == "lab-roadmap"), None)
    mediums = [r for r in scale["solves"] if r["size"] == "medium" and r["backend"] == "scip"]
    proven = [r for r in mediums if r["status"] in ("optimal", "infeasible")]
    slowest = max((r["solve_s"] for r in mediums), default=None)
    large = solves.get(("large", "scip"))
    other_large = [r for r in scale["solves"] if r["size"] == "large" and r["backend"] == "scip" and r.get("seed", 0)]
    first = scale.get("first_plan")
    x1m = solves.get(("x1m", "build only"))
    # SCIP takes no what-if start (capabilities.start_pays): its default sweep is the cold one
    sweep = [r for r in whatif["records"] if r["case"].startswith("15x30x12x50") and r["workers"] == 2
             and r["solver"] == "scip" and not r["warm_start"]]
    current = whatif.get("model") == WHATIF_MODEL
    greedy = sorted(g["saving"] for g in scale["greedy"] if g["saving"] is not None)
    fresh = scale.get("fresh_build")
    overrun = max(r["solve_s"] - scale["time_limit_s"] for r in scale["solves"] if "solve_s" in r)
    rows = [
        ("gpt5.yaml proven optimal (gap <= 1e-4) in < 2 s end to end",
         gpt5 and f"{gpt5['status']}, {gpt5['seconds']} s in a fresh process", gpt5 and gpt5["seconds"] < 2),
        ("15x30x12x50, seeds 0-9, each proven optimal or infeasible in < 5 s (SCIP)",
         mediums and f"{len(proven)} of {len(mediums)} proven; slowest {slowest} s",
         bool(mediums) and len(proven) == len(mediums) and slowest is not None and slowest < 5),
        ("at least 8 of 10 medium seeds feasible",
         mediums and f"{sum(r['status'] in ('optimal', 'feasible') for r in mediums)} of {len(mediums)}",
         bool(mediums) and sum(r["status"] in ("optimal", "feasible") for r in mediums) >= 8),
        ("lab-roadmap.yaml proven optimal in < 10 s end to end",
         roadmap and f"{roadmap['status']}, {roadmap['seconds']} s in a fresh process", roadmap and roadmap["seconds"] < 10),
        ("30x200x20x200: first verified plan in < 30 s", first and f"{first['solve_s']} s ({first['budget_s']:g} s budget)",
         first and first["verified"] and first["solve_s"] < 30),
        ("30x200x20x200: certified gap <= 3 % within 60 s", large and f"{pct(large['gap'])} at {large['solve_s']} s",
         large and large["gap"] is not None and large["gap"] <= 0.03),
        ("30x200x20x200, the other seeds: certified gap within 60 s (SCIP)",
         other_large and "; ".join(f"seed {r['seed']} {pct(r['gap'])} at {r['solve_s']} s" for r in other_large), None),
        ("build and load 1M columns < 1 s and < 1 GB",
         fresh and f"{fresh['columns']:,} columns in a fresh process: build {fresh['build_s']} s + load {fresh['load_s']} s, "
         f"peak {fresh['peak_mb']} MB (warm, in the benchmark process: build {x1m['build_s']} s)",
         fresh and fresh["build_s"] + fresh["load_s"] < 1 and fresh["peak_mb"] < 1024),
        ("every solve back within its time limit + 5 s", f"largest overrun in this run: {overrun:.2f} s", overrun <= 5),
        ("50-point price sweep of 15x30x12x50 < 60 s on 2 cores",
         sweep and f"{sweep[0]['seconds']} s" + ("" if current else " (measured on an earlier model, re-run pending)"),
         (sweep and sweep[0]["seconds"] < 60) if current else "re-run pending"),
        ("optimizer >= 10 % cheaper than greedy on the generated set",
         greedy and f"median {pct(greedy[len(greedy) // 2])}, min {pct(greedy[0])} ({len(greedy)} plans)", None),
    ]
    explained = scale.get("explain")
    if explained:
        rows.append(("`clustersize explain problems/gpt5.yaml` < 10 s",
                     f"median {explained['median_s']} s, min {explained['min_s']} s ({explained['options']} options, "
                     f"{explained['probes']} probes)", explained["median_s"] < 10))
    start = {r["command"]: r["median_s"] for r in scale.get("startup", [])}
    for command, limit in (("import clustersize", 0.3), ("clustersize --help", 0.5)):
        if command in start:
            rows.append((f"`{command}` < {limit:g} s", f"median {start[command]} s", start[command] < limit))
    out = ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for what, measured, met in rows:
        verdict = met if isinstance(met, str) else "yes" if met else "distribution reported" if met is None else "no"
        out.append(f"| {what} | {measured or '-'} | {verdict} |")
    out += ["", "Notes (the run of 2026-12-02, late evening, after the valid inequalities run_site_power, "
                "location_reach and location_cover joined the model; docs/formulation.md):",
            "- The large instance (seed 0, one location) was uncertified before: SCIP's plan at 61.4 s with a 44.6 % gap "
            "against the LP bound of $1.857B. Every site with cheap existing MW lacks the firm contracted MW to carry the "
            "run alone; the relaxation hid it by using two such sites a third each. With the new rows the LP bound is the "
            "optimum, $3.3521B (GLOP, 1.5 s), relax-and-fix's plan is optimal, and every backend proves it in 7.8-13.8 s; raw "
            "CBC on the same arrays takes 5.1 s (54.8 s before).",
            "- The other large seeds: seeds 2 and 3 (one and two locations) are proven in 5-40 s by every backend. Seed 1 "
            "(up to three locations) is not: SCIP ends at 60.9 s with a 14.1 % gap; CBC proves its optimum, $7.2710B, in "
            "38.7 s; HiGHS finds no plan. Its LP bound rose from $5.147B to $6.548B (SCIP's final bound: $6.624B); what is "
            "left is the relaxation spreading the pace over every stack (0.9 % each) and a third location, none of which "
            "combination can carry the run on one stack. A per-stack cover row did not move that bound, so it is not in "
            "the model.",
            "- Medium SCIP in this run: 0.31-2.65 s per seed, median 0.70 s (0.46-3.05 s, median 1.71 s, in the previous "
            "run). CBC's seed 0 took 11.8 s here and 2.5 s before with the same optimum: timings on this machine vary "
            "from run to run.",
            "- gpt5 end to end: 1.58 s in one fresh process. About 1.1-1.5 s of it is imports (pandas with pyarrow, the "
            "pydantic schema, scipy.sparse, which pulls in numpy.f2py, OR-Tools), 0.1 s reading the catalogs, the rest "
            "solving, verifying and tabulating.",
            "- `clustersize explain problems/gpt5.yaml`: 25 options, 37 probes.",
            "- What-if: the 2-worker SCIP medium sweep takes 22.0 s (62.8 s in the previous run), 0.9 s a point per worker. "
            "SCIP takes no what-if start (a start had made its sweep 32 % slower in an earlier run), so "
            "its 'warm' sweeps solve the same points cold: 46.8 s against 42.2 s with one worker, 22.0 s against "
            "27.6 s with two, the spread of this machine's timings. A start makes CBC's sweep 40 % faster (62.0 s "
            "against 102.8 s).",
            "- The greedy finds no plan on several feasible instances: its one-pass rules (location order, per-site "
            "power) dead-end where the optimizer succeeds; the comparison covers the instances where it does."]
    return out


def risk_section(risk: dict) -> list[str]:
    """Two-stage solves of problems/custom-chip-risk.yaml (benchmarks/risk_bench.py)."""
    out = ["", "## Two-stage plans", "",
           f"Measured {risk['date']} on a {risk['cores']}-core {risk['machine']} machine (`python benchmarks/risk_bench.py "
           "--dask 500`): `clustersize.solve_two_stage` on problems/custom-chip-risk.yaml, wall clock in the process "
           "(scenario problems, the deterministic plan and its EEV, the two-stage plan, wait-and-see, every scenario "
           "plan built and verified). Time limit 60 s: the whole solve's budget for decomposition.", "",
           "| case | scenarios | seed | method | where | seconds | status | objective | bound | gap | VSS | verified |",
           "|---|---:|---:|---|---|---:|---|---:|---:|---:|---:|---|"]
    for r in risk["records"]:
        where = "4-worker Dask" if r["dask"] else f"{r['workers']} local workers"
        out.append(f"| {r['case']} | {r['samples']} | {r['seed']} | {r['method']} | {where} | {r['seconds']} | "
                   f"{r['status']} | {usd(r['objective_usd'])} | {usd(r['bound_usd'])} | {pct(r['gap'])} | "
                   f"{usd(r['vss_usd'])} | {'yes' if r['verified'] else 'no'} |")
    fifty = [r for r in risk["records"] if r["case"] == "50 samples"]
    if fifty:
        slowest = max(r["seconds"] for r in fifty)
        out += ["", f"Target (issue 14): 50 sampled scenarios in < 60 s on 2 cores: seeds 0-{len(fifty) - 1} took "
                    f"{min(r['seconds'] for r in fifty)}-{slowest} s, gap {pct(min(r['gap'] for r in fifty))}-"
                    f"{pct(max(r['gap'] for r in fifty))}: {'met' if slowest < 60 else 'not met'} on time; none proven "
                    "within the requested 1e-4 (see the note below)."]
    out += ["", "Method auto: the extensive form up to 10 scenarios, decomposition beyond. The decomposition's bound "
                "is that of counts continuous, so the cost of rounding to whole servers (about 0.05 % here) stays in "
                "its gap: that is why the 50-sample solves end `feasible` a few hundredths of a percent from their "
                "bound. The extensive form on the same 50 scenarios stops at its limit 18 % from its bound, with a plan "
                "15 % dearer than the decomposition's.",
            "- 500 samples on Dask: a LocalCluster of 4 single-threaded workers on this 2-core machine. With the "
            "60 s budget, building the 500 scenario programs, the deterministic plan's EEV and the wait-and-see "
            "solves leave the decomposition one iteration: it keeps the deterministic first stage (VSS 0) and "
            "its bound is 34 % below. With 600 s it runs 11 iterations: 1.6 % from its bound, VSS $1.07B."]
    return out


def main() -> None:
    scale = json.loads((HERE / "scale.json").read_text())
    whatif = json.loads((HERE / "whatif.json").read_text())
    lines = ["# Benchmarks", "",
             f"Measured {scale['date']} on a {scale['cores']}-core {scale['machine']} machine (the project's CI kind), "
             f"Python {scale['python']}; one solve at a time, time limit {scale['time_limit_s']:g} s. "
             "Instances from `clustersize generate` (seed 0; the medium size seeds 0-9, the large seeds 0-3). "
             "Regenerate with `python benchmarks/scale.py --seeds 10 --seed-sizes medium large:4`, "
             "`python benchmarks/whatif_bench.py`, then `python benchmarks/report.py`.", "",
             "## Solves by size, seed and backend", "",
             "| size | shape | seed | backend | rows | columns | nonzeros | build s | solve s | status | objective | bound "
             "| gap | verified | solver peak MB |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|"]
    for r in scale["solves"]:
        if r["backend"] == "build only":
            lines.append(f"| {r['size']} | {r['shape']} | 0 | build only | {r['rows']:,} | {r['columns']:,} | "
                         f"{r.get('nonzeros', 0):,} | {r['build_s']} | - | - | - | - | - | - | process {r['peak_process_mb']} |")
            continue
        lines.append(f"| {r['size']} | {r['shape']} | {r.get('seed', 0)} | {r['backend']} | {r['rows']:,} | {r['columns']:,} | "
                     f"{r.get('nonzeros', 0):,} | {r['build_s']} | "
                     f"{r['solve_s']} | {r['status']} | {usd(r['objective_usd'])} | {usd(r['bound_usd'])} | {pct(r['gap'])} | "
                     f"{'yes' if r['verified'] else 'no'} | {r['peak_solver_mb']} |")
    lines += ["", "Model sizes, seed 0, before (the single-snapshot model of 2026-12-01) and now (runs, windows, stacks, "
              "locations; the money model's lease, installed-load, commitment and budget rows):", "",
              "| size | rows before | columns before | rows now | columns now |", "|---|---:|---:|---:|---:|"]
    for size, (rows, cols) in SIZES_BEFORE.items():
        now = next((r for r in scale["solves"] if r["size"] == size and r.get("seed", 0) == 0), None)
        if now is not None:
            lines.append(f"| {size} | {rows:,} | {cols:,} | {now['rows']:,} | {now['columns']:,} |")
    if "first_plan" in scale:
        r = scale["first_plan"]
        lines += ["", f"First verified plan on {r['shape']} with a {r['budget_s']:g} s budget: {r['status']}, "
                      f"gap {pct(r['gap'])}, back after {r['solve_s']} s (verified: {'yes' if r['verified'] else 'no'})."]
    lines += ["", "Build s: load and validate the problem, model data, arrays. Solve s: the whole `clustersize.solve` "
              "(solver calls, rounding to whole servers, extraction, verification), wall clock. Peak MB: the largest "
              "solver child process so far in the run (cumulative maximum).", "",
              "## References measured in the same run", "",
              "| size | reference | seconds | result |", "|---|---|---:|---|"]
    lines += [f"| {r['size']} | {r['reference']} | {r['seconds']} | {r['result']} |" for r in scale["references"]]
    if "problems" in scale:
        lines += ["", "## Shipped problems, `clustersize solve` end to end (a fresh process, imports included)", "",
                  "| problem | seconds | status | gap | verified |", "|---|---:|---|---:|---|"]
        lines += [f"| {r['problem']} | {r['seconds']} | {r['status']} | {pct(r['gap'])} | {'yes' if r['verified'] else 'no'} |"
                  for r in scale["problems"]]
    if "startup" in scale:
        lines += ["", "## Start-up (a fresh process, wall clock, 7 runs after a warm-up)", "",
                  "| command | min s | median s |", "|---|---:|---:|"]
        lines += [f"| `{r['command']}` | {r['min_s']} | {r['median_s']} |" for r in scale["startup"]]
        lines += ["", "Public names load on first use, so neither pays for pandas, SciPy or the solvers; "
                  "`python -X importtime -c \"import clustersize\"` shows the rest by module."]
    lines += targets(scale, whatif)
    greedy = [g for g in scale["greedy"] if g["saving"] is not None]
    savings = sorted(g["saving"] for g in greedy)
    lines += ["", "## Optimizer against a spreadsheet plan", "",
              "Greedy (`clustersize.baselines.greedy`): cheapest $ per effective FLOP first, cheapest powered sites next, "
              "cheapest contracts to cover the load; verified by the same verifier. Medium size (15x30x12x50), seeds 0-9.", "",
              "| seed | optimizer | greedy | greedy verified | optimizer saves |", "|---:|---:|---:|---|---:|"]
    for g in scale["greedy"]:
        lines.append(f"| {g['seed']} | {usd(g['optimizer_usd'])} | {usd(g['greedy_usd'])} | "
                     f"{'-' if g['greedy_verified'] is None else ('yes' if g['greedy_verified'] else 'no')} | "
                     f"{pct(g['saving']) if g['saving'] is not None else 'greedy found no plan'} |")
    if savings:
        lines += ["", f"Savings over {len(savings)} instances where the greedy found a plan: min {pct(savings[0])}, "
                      f"median {pct(savings[len(savings) // 2])}, max {pct(savings[-1])}; the greedy found no plan on "
                      f"{len(scale['greedy']) - len(savings)} of {len(scale['greedy'])}."]
    lines += ["", "## What-if throughput", "",
              f"Measured {whatif['date']} (`python benchmarks/whatif_bench.py`); when that date is older than the "
              "solves above, the instances were generated from the catalog of that day."
              + ("" if whatif.get("model") == WHATIF_MODEL else " These figures predate the run and money models: "
                 "they were measured on the single-snapshot model those replaced, and need a re-run."), "",
              "| case | backend | workers | warm start | points | seconds | points/s | all verified |",
              "|---|---|---:|---|---:|---:|---:|---|"]
    for r in whatif["records"]:
        lines.append(f"| {r['case']} | {r['solver']} | {r['workers']} | {'yes' if r['warm_start'] else 'no'} | {r['points']} | "
                     f"{r['seconds']} | {r['points_per_second']} | {'yes' if r['all_verified'] else 'no'} |")
    risk_file = HERE / "risk.json"
    if risk_file.exists():
        lines += risk_section(json.loads(risk_file.read_text()))
    agreement = (HERE / "agreement.md").read_text().split("\n", 1)[1]
    lines += ["", "## Cross-solver agreement", agreement]
    OUT.write_text("\n".join(lines) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
