"""Cross-solver agreement on seeded generated instances; writes benchmarks/agreement.md.

    python benchmarks/agreement.py --instances 200

For each instance every installed backend solves with the same gap. Backends that prove
optimality must agree with SCIP within 2 x gap and match its status; CP-SAT (no valid
bound on this model class) is tallied separately, against 1 %.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from collections import Counter
from pathlib import Path

import clustersize
from clustersize.baselines.generate import generate_problem
from clustersize.solvers import available_backends, get_backend

SIZES = ["2x2x3x3", "3x4x4x6", "4x6x5x9", "5x8x6x12"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--gap", type=float, default=1e-4)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("agreement.md"))
    parser.add_argument("--backends", nargs="*", help="Backends to compare with SCIP (default: all installed).")
    args = parser.parse_args()
    backends = ["scip", *[b for b in (args.backends or available_backends()) if b != "scip"]]
    tally: dict[str, Counter] = {b: Counter() for b in backends}
    worst: dict[str, float] = {b: 0.0 for b in backends}
    disagreements: list[str] = []
    started = time.perf_counter()
    for i in range(args.instances):
        size = SIZES[i % len(SIZES)]
        problem = clustersize.load_problem(generate_problem(size, seed=i))
        plans = {b: clustersize.solve(problem, solver=b, gap=args.gap, check=False) for b in backends}
        reference = plans["scip"]
        for backend, plan in plans.items():
            exact = get_backend(backend).capabilities.exact_continuous
            if plan.has_plan and not plan.verified:
                tally[backend]["unverified plan"] += 1
                disagreements.append(f"seed {i} {size} {backend}: plan failed verification")
                continue
            if reference.has_plan != plan.has_plan or (exact and plan.status != reference.status):
                tally[backend]["status differs"] += 1
                disagreements.append(f"seed {i} {size} {backend}: {plan.status.value} vs scip {reference.status.value}")
                continue
            if not plan.has_plan:
                tally[backend][f"agree ({plan.status.value})"] += 1
                continue
            rel = abs(plan.objective_usd - reference.objective_usd) / reference.objective_usd
            worst[backend] = max(worst[backend], rel)
            limit = 2 * args.gap if exact else 1e-2
            if rel <= limit:
                tally[backend]["agree (plan)"] += 1
            else:
                tally[backend]["objective differs"] += 1
                disagreements.append(f"seed {i} {size} {backend}: objective off by {rel:.2e}")
    elapsed = time.perf_counter() - started
    lines = [
        "# Cross-solver agreement",
        "",
        f"Run {dt.date.today()} on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.instances} generated instances (sizes {', '.join(SIZES)}, seeds 0..{args.instances - 1}), "
        f"gap {args.gap:g}, {elapsed:.0f} s in total.",
        "",
        "Reference: SCIP. Exact backends must match its status and agree within 2 x gap; CP-SAT "
        "(continuous columns on a grid, no valid bound) within 1 %.",
        "",
        "| backend | " + " | ".join(sorted({k for c in tally.values() for k in c})) + " | worst relative difference |",
        "|---|" + "---|" * (len({k for c in tally.values() for k in c}) + 1),
    ]
    keys = sorted({k for c in tally.values() for k in c})
    for backend in backends:
        lines.append(f"| {backend} | " + " | ".join(str(tally[backend][k]) for k in keys) + f" | {worst[backend]:.2e} |")
    lines += ["", "## Disagreements", ""] + ([f"- {d}" for d in disagreements] or ["none"])
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
