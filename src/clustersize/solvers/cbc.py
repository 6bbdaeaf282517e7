"""CBC: PuLP's bundled binary fed a full-precision MPS file written from our arrays.

PuLP's own status says "Optimal" at a time limit and its values are the LP relaxation when
CBC found nothing, so we read CBC's solution file and log ourselves.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ..formulation import LinearProgram
from .base import Capabilities, SolveOptions, SolverResult, Status
from .mps import write_mps

# First words of CBC's solution file -> ours (with/without a plan decided by the file's values).
STATUS_MAP = {
    "Optimal": Status.OPTIMAL,
    "Infeasible": Status.INFEASIBLE,
    "Integer infeasible": Status.INFEASIBLE,
    "Unbounded": Status.UNBOUNDED,
    "Stopped on time": Status.FEASIBLE,
    "Stopped on iterations": Status.FEASIBLE,
    "Stopped on difficulties": Status.FEASIBLE,
    "Stopped on ctrl-c": Status.FEASIBLE,
}


def cbc_path() -> str | None:
    """Path of PuLP's bundled CBC binary, or None."""
    try:
        from pulp.apis.coin_api import pulp_cbc_path as path
    except ImportError:
        return None
    return path if path and Path(path).exists() else None


def parse_solution(text: str, n_cols: int) -> tuple[Status, float | None, np.ndarray | None, str]:
    """Read CBC's -solution file: status line, then 'index name value reduced-cost' lines."""
    lines = text.splitlines()
    head = lines[0].strip() if lines else ""
    raw = head.split(" - ")[0].strip()
    status = next((s for key, s in STATUS_MAP.items() if raw.startswith(key)), Status.ERROR)
    objective = None
    match = re.search(r"objective value\s+(\S+)", head)
    if match:
        objective = float(match.group(1))
    if not status.has_plan:
        return status, None, None, raw
    if "no integer solution" in head.lower() or "infeasible" in head.lower():
        return Status.NO_SOLUTION, None, None, raw
    x = np.zeros(n_cols)
    for line in lines[1:]:
        parts = line.replace("**", " ").split()
        if len(parts) >= 3 and parts[1].startswith("C") and parts[1][1:].isdigit():
            x[int(parts[1][1:])] = float(parts[2])
    return status, objective, x, raw


def write_mip_start(x: np.ndarray, path: Path) -> None:
    """A MIP start in CBC's solution-file format (as PuLP writes it for warmStart)."""
    lines = ["Stopped on time - objective value 0"]
    lines += [f"{j:>7} C{j} {value!r:>15} {0:>23}" for j, value in enumerate(x.tolist())]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


class CbcBackend:
    """CBC 2.10 via the binary PuLP ships."""

    name = "cbc"
    capabilities = Capabilities(bound_at_limit=True, incumbent_at_limit=True, threads=True,
                                honours_time_limit=False)

    def available(self) -> bool:
        """True when PuLP and its CBC binary are installed."""
        return cbc_path() is not None

    def version(self) -> str:
        """PuLP and CBC versions."""
        import pulp

        return f"pulp {pulp.__version__} cbc"

    def write_mps(self, lp: LinearProgram, path: Path) -> None:
        """Write the arrays as full-precision MPS (see solvers/mps.py)."""
        write_mps(lp, path)

    def command(self, mps: Path, sol: Path, options: SolveOptions, start: list[str] = ()) -> list[str]:
        """CBC's command line: limit, gap (always explicit), threads, seed, solution file."""
        return [cbc_path(), str(mps), *start, "-sec", f"{options.time_limit_s:g}", "-ratio", f"{options.gap!r}",
                "-threads", str(options.threads), "-randomCbcSeed", str(options.seed + 1),
                "-timeMode", "elapsed", "-branch", "-printingOptions", "all", "-solution", str(sol)]

    def solve(self, lp: LinearProgram, options: SolveOptions) -> SolverResult:
        """Write MPS, run CBC with a hard timeout, read the solution file and the bound from the log."""
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="clustersize-cbc-") as tmp:
            mps, sol = Path(tmp) / "model.mps", Path(tmp) / "model.sol"
            self.write_mps(lp, mps)
            start = []
            if options.hint is not None:
                write_mip_start(options.hint, Path(tmp) / "start.mst")
                start = ["-mips", str(Path(tmp) / "start.mst")]
            command = self.command(mps, sol, options, start)
            try:
                run = subprocess.run(command, capture_output=True, text=True,
                                     timeout=options.time_limit_s + options.grace_s)
            except subprocess.TimeoutExpired:
                return SolverResult(Status.NO_SOLUTION, self.name, self.version(), "killed at time limit",
                                    seconds=time.perf_counter() - started, message="CBC overran its limit; killed")
            if not sol.exists():
                return SolverResult(Status.ERROR, self.name, self.version(), "no solution file",
                                    seconds=time.perf_counter() - started, message=run.stdout[-500:])
            status, objective, x, raw = parse_solution(sol.read_text(), lp.shape[1])
        bound = None
        match = re.search(r"Lower bound:\s+(\S+)", run.stdout)
        if match:
            bound = float(match.group(1))
        elif status is Status.OPTIMAL:
            bound = objective
        version = re.search(r"Version:\s+(\S+)", run.stdout)
        return SolverResult(status, self.name, f"{self.version()} {version.group(1) if version else ''}".strip(),
                            raw, objective, bound if status.has_plan else None, x,
                            time.perf_counter() - started)
