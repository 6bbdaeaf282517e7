"""The bad-input corpus: every file fails with exit code 2, its expected message, no traceback, fast."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from clustersize import cli

CORPUS = sorted((Path(__file__).parent / "bad_inputs").glob("*.yaml"))


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, float]:
    monkeypatch.setattr(sys, "argv", ["clustersize", *args])
    started = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        cli.main()
    elapsed = time.perf_counter() - started
    captured = capsys.readouterr()
    return info.value.code, captured.out + captured.err, elapsed


def expected(path: Path) -> str:
    first = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
    assert first.startswith("# expect: "), f"{path.name} lacks its '# expect:' line"
    return first[len("# expect: "):]


# A refusal happens before any real work: seconds, against minutes or hours for the work refused,
# with room for a loaded machine (speed itself is measured in BENCHMARKS.md, not here).
REFUSED_S = 10.0


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 50


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_bad_input(path, monkeypatch, capsys):
    code, output, elapsed = run_cli(monkeypatch, capsys, "solve", str(path), "--time-limit", "5")
    flat = " ".join(output.split())
    assert code == 2, output
    assert expected(path) in flat, flat
    assert str(path) in flat or path.name in flat, "the message names the file"
    assert "Traceback" not in output
    assert elapsed < REFUSED_S


def test_hundred_megabyte_file_is_refused_quickly(tmp_path, monkeypatch, capsys):
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.write(b"name: big\n")
        handle.truncate(100 * 1024 * 1024)
    code, output, elapsed = run_cli(monkeypatch, capsys, "solve", str(big))
    assert code == 2 and "over the" in output and elapsed < REFUSED_S


def test_billion_point_sweep_grid_is_refused_quickly(monkeypatch, capsys):
    base = str(Path(__file__).resolve().parents[1] / "problems" / "gpt5.yaml")
    code, output, elapsed = run_cli(monkeypatch, capsys, "whatif", base,
                                    "--vary", "accelerators.h100-sxm.price_usd=1:2:1000",
                                    "--vary", "run.mfu=0.1:0.9:1000", "--vary", "run.length_days=50:100:1000")
    assert code == 2 and "1,000,000,000 points" in " ".join(output.split()) and elapsed < REFUSED_S
    assert "Traceback" not in output
