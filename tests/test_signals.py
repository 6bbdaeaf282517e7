"""SIGTERM, SIGINT and SIGHUP to solve, whatif and explain leave no process behind and no half output.

Each case starts the real command, waits for the chosen moment (at start-up, before any child
exists; or while solver children or workers run), sends the signal to the main process only (as
`kill` or a service manager would, unlike Ctrl-C, which reaches the whole process group), and
then checks that within 2 s every descendant ever seen is gone, and that the --out directory is
either absent or complete.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from clustersize.baselines.generate import generate_problem
from clustersize.processes import descendants
from conftest import ROOT, alive

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")]

GPT5 = str(ROOT / "problems" / "gpt5.yaml")
DEADLINE_S = 2.0



@pytest.fixture(scope="module")
def big_problem(tmp_path_factory) -> str:
    """A generated problem that keeps CBC busy for several seconds."""
    path = tmp_path_factory.mktemp("signals") / "big.yaml"
    path.write_text(yaml.safe_dump(generate_problem("15x30x12x50", 0), sort_keys=False))
    return str(path)


def default_signals() -> None:
    """In the child before exec: the default action for each signal, whatever this process ignores
    (a shell ignores SIGINT for background jobs, and clustersize rightly keeps an ignored signal
    ignored)."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def commands(big: str, out: Path) -> dict[str, list[str]]:
    return {
        "solve": ["solve", big, "--solver", "cbc", "--time-limit", "60", "--out", str(out)],
        "whatif": ["whatif", GPT5, "--vary", "accelerators.h100-sxm.price_usd=10000:40000:30", "--workers", "2",
                   "--out", str(out)],
        "explain": ["explain", GPT5, "--workers", "2", "--out", str(out)],
    }


def complete_or_absent(command: str, out: Path) -> None:
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert not leftovers, f"temporary directories left: {leftovers}"
    if not out.exists():
        return
    if command == "whatif":
        assert {p.name for p in out.iterdir()} >= {"results.csv", "results.parquet"}
        return
    doc = json.loads((out / "plan.json").read_text())
    assert {p.stem for p in (out / "tables").iterdir()} == set(doc["tables"])


@pytest.mark.parametrize("command, signame, moment", [
    ("solve", "SIGTERM", "working"), ("solve", "SIGINT", "working"), ("solve", "SIGHUP", "working"),
    ("solve", "SIGTERM", "start-up"),
    ("whatif", "SIGTERM", "working"), ("whatif", "SIGHUP", "working"), ("whatif", "SIGINT", "working"),
    ("explain", "SIGTERM", "working"), ("explain", "SIGINT", "working"),
])
def test_signal_leaves_no_descendant_and_whole_output(tmp_path, big_problem, command, signame, moment):
    signum = getattr(signal, signame)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "clustersize.cli", *commands(big_problem, out)[command]],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=default_signals)
    seen: set[int] = set()
    try:
        started = time.monotonic()
        if moment == "start-up":
            time.sleep(0.2)
        else:
            # Workers of whatif and explain (two, plus their solver children) start after a first
            # solve: wait for them, or for the solve's own child.
            wanted = 1 if command == "solve" else 3
            while len(seen) < wanted and time.monotonic() - started < 90 and proc.poll() is None:
                seen.update(descendants(proc.pid))
                time.sleep(0.05)
            assert seen, "the command started no worker or solver process"
            time.sleep(0.5)
            seen.update(descendants(proc.pid))
        assert proc.poll() is None, "the command finished before the signal"
        proc.send_signal(signum)
        sent = time.monotonic()
        while time.monotonic() - sent < DEADLINE_S and proc.poll() is None:
            seen.update(descendants(proc.pid))
            time.sleep(0.02)
        deadline = sent + DEADLINE_S
        while any(alive(p) for p in seen) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in seen if alive(p)], f"descendants still running {DEADLINE_S} s after {signame}"
        code = proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in seen:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    stderr = proc.stderr.read() if proc.stderr else ""
    assert code in (128 + signum, -signum), stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-2000:]
    complete_or_absent(command, out)
