"""Stop cleanly on SIGTERM and SIGHUP as on Ctrl-C, and leave no child process behind.

Ctrl-C reaches the whole foreground process group, so every worker stops by itself. SIGTERM and
SIGHUP usually reach only the main process: without a handler it dies at once and its solver
children, blocked on a pipe to it, live on. Here both signals raise `Terminated` (a
KeyboardInterrupt, so every existing interrupt path runs), and the code that started worker
processes kills their whole trees, found through the parent links in /proc (a child that started
its own session or process group is still found).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_owner_pid: int | None = None
_received: list[int] = []


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived; `signum` says which (exit code 128 + signum)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signal.Signals(signum).name}")
        self.signum = signum


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # A forked worker inherits this handler; it must die as the default action would, not
    # raise into whatever it was running.
    if os.getpid() != _owner_pid:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _received.append(signum)
    raise Terminated(signum)


def received_signal() -> int | None:
    """The first SIGTERM or SIGHUP this process handled, if any (typer turns the interrupt it
    raised into a plain exit code 130, so the CLI asks here which signal it was)."""
    return _received[0] if _received else None


def install_termination_handlers() -> None:
    """Make SIGTERM and SIGHUP raise `Terminated` in this process (not in forked children).

    A signal ignored when we start stays ignored: `nohup` ignores SIGHUP on purpose, as a shell
    does SIGINT for a background job.
    """
    global _owner_pid
    _owner_pid = os.getpid()
    for signum in HANDLED_SIGNALS:
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, _on_signal)


def _parent_links() -> dict[int, int]:
    """pid -> parent pid of every process visible in /proc (empty where /proc is absent)."""
    links: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1:
            links[int(entry.name)] = int(fields[1])
    return links


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (children first, then theirs)."""
    children: dict[int, list[int]] = {}
    for child, parent in _parent_links().items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    frontier = [pid]
    while frontier:
        nxt = [c for p in frontier for c in children.get(p, [])]
        found += nxt
        frontier = nxt
    return found


def kill_trees(pids: Iterable[int]) -> list[int]:
    """SIGKILL each process in `pids` and all its descendants; returns the pids signalled.

    The whole tree is listed before anything is killed: a killed parent's children are
    re-parented to init and could no longer be found.
    """
    roots = [p for p in pids if p and p != os.getpid()]
    victims = list(dict.fromkeys([d for root in roots for d in descendants(root)] + roots))
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return victims


def kill_executor(executor: Any) -> None:
    """Kill the worker processes of a ProcessPoolExecutor and everything they started.

    `shutdown(cancel_futures=True)` only cancels work not yet started; a running worker (and its
    solver child) would finish its point, or hang on a pipe to a parent that is gone.
    """
    processes = dict(getattr(executor, "_processes", None) or {})
    kill_trees(processes)
    for process in processes.values():
        process.join(timeout=2)
    # Not cancel_futures: the pool's manager thread then fails every pending future as "broken"
    # itself; cancelling them first makes it raise InvalidStateError (CPython 3.11) on stderr.
    executor.shutdown(wait=False)


def die_with_parent(expected_parent: int) -> None:
    """In a child: ask Linux to SIGKILL this process when its parent dies (no-op elsewhere).

    Covers a parent killed by SIGKILL, which no handler can see.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != expected_parent:  # the parent died before prctl took effect
        os._exit(1)
