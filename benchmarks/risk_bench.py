"""Two-stage speed: problems/custom-chip-risk.yaml over sampled scenarios; writes risk.json.

    python benchmarks/risk_bench.py                 # 50 samples, seeds 0-4, 2 local workers
    python benchmarks/risk_bench.py --dask 500      # also 500 samples on a 4-worker local Dask cluster

Each case is one `clustersize.solve_two_stage` call (scenario problems, the deterministic plan and
its EEV, the two-stage plan, wait-and-see, every scenario plan verified), wall clock in this process,
alone on the machine; the listed scenarios (3) and the 50-sample case with the extensive form are
there for comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

import clustersize

OUT = Path(__file__).with_name("risk.json")
PROBLEM = Path(__file__).resolve().parents[1] / "problems" / "custom-chip-risk.yaml"


def run(case: str, samples: int | None, seed: int, method: str, **kwargs: object) -> dict:
    problem = clustersize.load_problem(PROBLEM, {"risk.method": method})
    started = time.perf_counter()
    plan = clustersize.solve_two_stage(problem, samples=samples, sample_seed=seed, check=False, **kwargs)
    seconds = time.perf_counter() - started
    f = plan.figures
    gap = None
    if plan.bound_usd is not None and f.get("objective_usd"):
        gap = max(0.0, f["objective_usd"] - plan.bound_usd) / f["objective_usd"]
    record = {"case": case, "samples": samples or len(plan.scenarios), "seed": seed, "method": method,
              "workers": kwargs.get("workers"), "dask": bool(kwargs.get("scheduler")), "seconds": round(seconds, 2),
              "status": plan.status.value, "objective_usd": f.get("objective_usd"), "bound_usd": plan.bound_usd,
              "gap": gap, "vss_usd": f.get("vss_usd"), "evpi_usd": f.get("evpi_usd"), "verified": plan.verified,
              "notes": [m for m in plan.messages if "decomposition" in m]}
    print(json.dumps(record))
    return record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--dask", type=int, default=0, help="also solve this many samples on a 4-worker Dask cluster")
    parser.add_argument("--only-dask", action="store_true", help="keep the other records of risk.json")
    args = parser.parse_args()
    if args.only_dask:
        records = [r for r in json.loads(OUT.read_text())["records"] if not r["dask"]]
    else:
        records = [run("listed scenarios", None, 0, "auto", workers=2)]
        for seed in range(args.seeds):
            records.append(run("50 samples", 50, seed, "auto", workers=2))
        records.append(run("50 samples, extensive form", 50, 0, "extensive", workers=2))
    if args.dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=4, threads_per_worker=1, processes=True) as cluster, Client(cluster):
            for limit in (60.0, 600.0):
                records.append(run(f"{args.dask} samples on Dask, {limit:g} s", args.dask, 0, "auto",
                                   scheduler=cluster.scheduler_address, time_limit=limit))
    OUT.write_text(json.dumps({"date": dt.date.today().isoformat(), "machine": platform.machine(),
                               "cores": os.cpu_count(), "python": platform.python_version(),
                               "records": records}, indent=2) + "\n")


if __name__ == "__main__":
    main()
