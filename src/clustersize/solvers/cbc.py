"""CBC: PuLP's bundled binary fed a full-precision MPS file written from our arrays.

PuLP's own status says "Optimal" at a time limit and its values are the LP relaxation when
CBC found nothing, so we read CBC's solution file and log ourselves.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..formulation import LinearProgram
from .base import Capabilities, SolveOptions, SolverResult, Status
from .mapping import map_status
from .mps import write_mps

# First words of CBC's solution file -> what they tell us; our Status comes from `map_status`.
# A "Stopped ..." line with "no integer solution" carries LP values, not a plan.
CBC_KIND = {
    "Optimal": "optimal",
    "Infeasible": "infeasible",
    "Integer infeasible": "infeasible",
    "Unbounded": "unbounded",
    "Stopped on time": "limit",
    "Stopped on iterations": "limit",
    "Stopped on difficulties": "limit",
    "Stopped on ctrl-c": "limit",
}


def cbc_path() -> str | None:
    """Path of PuLP's bundled CBC binary, or None."""
    try:
        from pulp.apis.coin_api import pulp_cbc_path as path
    except ImportError:
        return None
    return path if path and Path(path).exists() else None


def parse_solution(text: str, n_cols: int) -> tuple[str, float | None, np.ndarray | None, str]:
    """Read CBC's -solution file: status line, then 'index name value reduced-cost' lines.

    Returns (kind, objective, x, raw): kind is a CBC_KIND value, "error" for an unknown line;
    objective [cost unit] and x only when the file holds a plan.
    """
    lines = text.splitlines()
    head = lines[0].strip() if lines else ""
    raw = head.split(" - ")[0].strip()
    kind = next((k for key, k in CBC_KIND.items() if raw.startswith(key)), "error")
    if kind not in ("optimal", "limit") or "no integer solution" in head.lower():
        return kind, None, None, raw
    match = re.search(r"objective value\s+(\S+)", head)
    objective = float(match.group(1)) if match else None
    x = np.zeros(n_cols)
    for line in lines[1:]:
        parts = line.replace("**", " ").split()
        if len(parts) >= 3 and parts[1].startswith("C") and parts[1][1:].isdigit():
            x[int(parts[1][1:])] = float(parts[2])
    return kind, objective, x, raw


def cbc_bound(log: str, kind: str, objective: float | None) -> float | None:
    """CBC's proven lower bound [cost unit] from its log, else None (unknown).

    Measured with CBC 2.10: a stop at a limit or within the gap prints 'Lower bound:' (with the
    gap exit also 'Exiting as integer gap of G', absolute); a plain "Optimal" (search completed,
    or the LP optimum was already integral) prints neither, and then the objective is proven.
    """
    match = re.search(r"Lower bound:\s+(\S+)", log)
    if match:
        value = float(match.group(1))
        return value if np.isfinite(value) else None
    exited = re.search(r"Exiting as integer gap of\s+([-+0-9.eE]+)", log)
    if kind == "optimal" and objective is not None and exited:
        return objective - abs(float(exited.group(1)))
    return objective if kind == "optimal" else None


def cbc_status(kind: str, *, objective: float | None, x: np.ndarray | None, bound: float | None,
               gap: float) -> Status:
    """Our status for a parsed CBC outcome, through `map_status`."""
    return map_status(has_solution=x is not None, proved_optimal=kind == "optimal", objective=objective,
                      bound=bound, gap=gap, hit_limit=kind == "limit", proved_infeasible=kind == "infeasible",
                      proved_unbounded=kind == "unbounded", failed=kind == "error")


def write_mip_start(x: np.ndarray, path: Path) -> None:
    """A MIP start in CBC's solution-file format (as PuLP writes it for warmStart)."""
    lines = ["Stopped on time - objective value 0"]
    lines += [f"{j:>7} C{j} {value!r:>15} {0:>23}" for j, value in enumerate(x.tolist())]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


class CbcBackend:
    """CBC 2.10 via the binary PuLP ships."""

    name = "cbc"
    capabilities = Capabilities(threads=True)

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

    def command(self, mps: Path, sol: Path, options: SolveOptions, start: Sequence[str] = ()) -> list[str]:
        """CBC's command line: limit, gap (always explicit), threads, seed, solution file."""
        return [cbc_path() or "cbc", str(mps), *start, "-sec", f"{options.time_limit_s:g}", "-ratio", f"{options.gap!r}",
                "-threads", str(options.threads), "-randomCbcSeed", str(options.seed + 1),
                "-timeMode", "elapsed", "-branch", "-printingOptions", "all", "-solution", str(sol)]

    def solve(self, lp: LinearProgram, options: SolveOptions) -> SolverResult:
        """Write MPS, run CBC with a hard timeout, read the solution file and the bound from the log."""
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="clustersize-cbc-") as tmp:
            mps, sol = Path(tmp) / "model.mps", Path(tmp) / "model.sol"
            self.write_mps(lp, mps)
            start: list[str] = []
            if options.hint is not None and self.capabilities.warm_start:
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
            kind, objective, x, raw = parse_solution(sol.read_text(), lp.shape[1])
        bound = cbc_bound(run.stdout, kind, objective) if x is not None else None
        status = cbc_status(kind, objective=objective, x=x, bound=bound, gap=options.gap)
        version = re.search(r"Version:\s+(\S+)", run.stdout)
        return SolverResult(status, self.name, f"{self.version()} {version.group(1) if version else ''}".strip(),
                            raw, objective, bound, x, time.perf_counter() - started)
