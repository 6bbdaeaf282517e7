"""Outputs are all or nothing: a failed or concurrent write never leaves old and new files mixed,
the target is checked before any work, and files get the caller's umask."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

import clustersize
from clustersize.errors import InputError
from clustersize.plan.writers import (
    PLAN_ENTRIES,
    check_out_dir,
    publish_dir,
    write_plan,
)
from conftest import base_problem


@pytest.fixture(scope="module")
def two_plans():
    """Two plans that differ in every table: the base case at $10,000 and at $20,000 a unit."""
    plans = []
    for price in (10_000.0, 20_000.0):
        doc = base_problem()
        doc["accelerators"]["alpha"]["price_usd"] = price
        plans.append(clustersize.solve(clustersize.load_problem(doc)))
    return plans


def snapshot(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def test_rewrite_replaces_the_whole_directory(tmp_path, two_plans):
    out = tmp_path / "out"
    write_plan(two_plans[0], out, "csv")
    write_plan(two_plans[1], out, "parquet")
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert not [n for n in names if n.endswith(".csv")], "csv tables of the old plan were left beside the new"
    assert json.loads((out / "plan.json").read_text())["objective_usd"] == pytest.approx(20_120_000.0)


def test_failed_write_leaves_the_old_output_untouched(tmp_path, two_plans):
    out = tmp_path / "out"
    write_plan(two_plans[0], out)
    before = snapshot(out)

    def fail(tmp: Path) -> list[Path]:
        (tmp / "plan.json").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish_dir(out, fail, PLAN_ENTRIES)
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def _writer(plan_json: str, out: str, rounds: int) -> None:
    plan = clustersize.Plan.from_dict(json.loads(plan_json))
    for _ in range(rounds):
        write_plan(plan, out)


def test_concurrent_writers_never_mix_files(tmp_path, two_plans):
    out = tmp_path / "out"
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    writers = [context.Process(target=_writer, args=(p.to_json(), str(out), 15)) for p in two_plans]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
        assert w.exitcode == 0
    doc = json.loads((out / "plan.json").read_text())
    tables = (out / "tables" / "purchases.csv").read_text()
    expected = 10_000.0 if doc["objective_usd"] < 15e6 else 20_000.0
    assert f"{expected}" in tables, "plan.json and the purchases table come from different solves"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_files_follow_the_umask(tmp_path, two_plans):
    old = os.umask(0o027)
    try:
        write_plan(two_plans[0], tmp_path / "out")
    finally:
        os.umask(old)
    assert (tmp_path / "out" / "plan.json").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "out" / "tables" / "costs.csv").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o750


@pytest.mark.parametrize("name, fragment", [("", "empty"), ("   ", "empty"), ("a-file", "not a directory"),
                                            ("foreign", "did not write")])
def test_bad_output_directories_are_refused(tmp_path, name, fragment):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "thesis.tex").write_text("precious")
    target = str(tmp_path / name) if name.strip() else name
    with pytest.raises(InputError, match=fragment):
        check_out_dir(target, PLAN_ENTRIES)
    assert (tmp_path / "foreign" / "thesis.tex").read_text() == "precious"


def test_bad_table_format_is_an_input_error(tmp_path, two_plans):
    with pytest.raises(InputError, match="table_format"):
        write_plan(two_plans[0], tmp_path / "out", "xlsx")
    assert not (tmp_path / "out").exists()
