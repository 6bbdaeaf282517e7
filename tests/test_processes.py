"""Process-tree helpers behind clean interruption (fast; the end-to-end runs are in test_signals.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from clustersize.processes import descendants, install_termination_handlers, kill_trees
from conftest import alive

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")



def test_kill_trees_reaches_a_grandchild_in_its_own_session():
    # sh starts a grandchild in a new session (setsid), as a solver binary might, then waits.
    shell = subprocess.Popen(["sh", "-c", "setsid sleep 60 & sleep 60"])
    try:
        deadline = time.monotonic() + 10
        while len(descendants(shell.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        tree = descendants(shell.pid)
        assert len(tree) == 2, tree
        killed = kill_trees([shell.pid])
        assert set(killed) == {shell.pid, *tree}
        shell.wait(5)
        deadline = time.monotonic() + 2
        while any(alive(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in tree if alive(p)]
    finally:
        if shell.poll() is None:
            shell.kill()


def test_an_ignored_signal_stays_ignored():
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
        install_termination_handlers()
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, signal.SIG_DFL)
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def test_kill_trees_never_signals_this_process():
    assert kill_trees([os.getpid()]) == []
