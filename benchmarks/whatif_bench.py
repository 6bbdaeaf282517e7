"""What-if speed: cold vs warm-started points, 1 vs 2 workers, per backend; writes whatif.json.

    python benchmarks/whatif_bench.py

Instance: the generated 15x30x12x50 problem (seed 0), price of chip-00 from 0.6x to 1.4x its
base price in 50 points, the shape of solver-bench.md's sweep; plus gpt5.yaml's 50-point
H100 price sweep. Each configuration runs once, alone on the machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

import clustersize
from clustersize.baselines.generate import generate_problem

OUT = Path(__file__).with_name("whatif.json")
ROOT = Path(__file__).resolve().parents[1]


def run(name: str, problem, vary: dict, **kwargs) -> dict:
    started = time.perf_counter()
    frame = clustersize.sweep(problem, vary=vary, **kwargs)
    seconds = time.perf_counter() - started
    record = {"case": name, "points": len(frame), "seconds": round(seconds, 2),
              "points_per_second": round(len(frame) / seconds, 3),
              "statuses": frame.status.value_counts().to_dict(), "all_verified": bool(frame.verified.all()),
              **{k: v for k, v in kwargs.items() if k in ("solver", "workers", "warm_start")}}
    print(json.dumps(record))
    return record


def main() -> None:
    medium = generate_problem("15x30x12x50", 0)
    base_price = medium["accelerators"]["chip-00"]["price_usd"]
    vary = {"accelerators.chip-00.price_usd": f"{0.6 * base_price}:{1.4 * base_price}:50"}
    records = []
    for solver in ("scip", "cbc"):
        for warm in (False, True):
            records.append(run("15x30x12x50 price sweep", medium, vary, solver=solver, workers=1, warm_start=warm))
    for warm in (False, True):
        records.append(run("15x30x12x50 price sweep", medium, vary, solver="scip", workers=2, warm_start=warm))
    gpt5 = ROOT / "problems" / "gpt5.yaml"
    for workers in (1, 2):
        records.append(run("gpt5 H100 price sweep", gpt5, {"accelerators.h100-sxm.price_usd": "10000:40000:50"},
                           solver="scip", workers=workers, warm_start=True))
    OUT.write_text(json.dumps({"date": dt.date.today().isoformat(), "model": "runs+money", "machine": platform.machine(),
                               "cores": os.cpu_count(), "python": platform.python_version(),
                               "records": records}, indent=2) + "\n")


if __name__ == "__main__":
    main()
