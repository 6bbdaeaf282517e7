"""Limits: every count and horizon is bounded, and a model too large is refused before it is built."""

from __future__ import annotations

import datetime as dt

import pytest

import clustersize
from clustersize.data.limits import MAX_COLUMNS_ENV, check_model_size, estimate
from clustersize.errors import InputError
from clustersize.schema.yamlsafe import MAX_DEPTH, loads
from conftest import ROOT, base_problem


def test_estimate_counts_purchase_cells_by_hand():
    # Base case: 1 accelerator x 1 site x quarters 2027Q1..2027Q4 (the deadline 2027-10-09) = 4 cells;
    # 1 window (fixed start and length) x (1 chip x 1 site + 0 offers + 1 contract + 1) = 3 slots;
    # 1 run x (1 chip + 0 offers + 1 band + 3 x 1 location + 8) = 13 run columns;
    # 3 x (1 site + 1 contract + 0 offers + 0 programs) + 1 = 7 other columns.
    size = estimate(clustersize.load_problem(base_problem()))
    assert (size.quarters, size.purchase_cells, size.columns) == (4, 4, 27)


def test_estimate_bounds_the_built_model():
    from clustersize.data.modeldata import build_model_data
    from clustersize.formulation import build

    for name in ("gpt5", "tier2-sovereign", "rent-vs-buy", "lab-roadmap"):
        problem = clustersize.load_problem(ROOT / "problems" / f"{name}.yaml")
        assert build(build_model_data(problem)).shape[1] <= estimate(problem).columns


def test_model_past_the_limit_is_refused_with_its_numbers(monkeypatch):
    monkeypatch.setenv(MAX_COLUMNS_ENV, "26")
    problem = clustersize.load_problem(base_problem())
    with pytest.raises(InputError, match=r"about 27 columns .* over the limit of 26"):
        clustersize.solve(problem)
    monkeypatch.setenv(MAX_COLUMNS_ENV, "ten")
    with pytest.raises(InputError, match=MAX_COLUMNS_ENV):
        check_model_size(problem)


@pytest.mark.parametrize("path, value, fragment", [
    ("run.deadline", dt.date(9999, 12, 31), "outside 2000..2100"),
    ("planning_start", 0, "YYYY-MM-DD"),
    ("run.length_days", 1e7, "less than or equal to 3650"),
    ("solver.time_limit_s", 1e7, "less than or equal to 604800"),
    ("accelerators.alpha.price_usd", 1e40, r"beyond 1e\+15"),
    ("accelerators.alpha.supply_per_quarter", 1e40, r"beyond 1e\+18"),
    ("sites.s1.max_mw", 1e40, r"beyond 1e\+18"),
    ("costs.interconnect_share", 1.0, "less than or equal to 0.9"),
    ("costs.server_overhead", 1e300, "less than or equal to 10"),
    ("contracts.s1-grid.site", ["s1"], "expected an id, found a list"),
    ("contracts.s1-grid.site", {"a": 1}, "expected an id, found a mapping"),
])
def test_out_of_range_values_are_input_errors(path, value, fragment):
    with pytest.raises(InputError, match=fragment) as caught:
        clustersize.solve(clustersize.load_problem(base_problem(), {path: value}))
    assert caught.value.path is not None


def test_custom_chip_component_needs_supply():
    doc = base_problem()
    doc["custom_programs"] = {"asic": {"name": "ASIC", "nre_usd": 1e8, "months_to_volume": 3,
                                       "success_probability": 0.5, "volume_per_quarter": 100,
                                       "chip": {**doc["accelerators"]["alpha"], "components": {"hbm": 8}}}}
    with pytest.raises(InputError, match=r"custom_programs\.asic\.chip\.components\.hbm"):
        clustersize.load_problem(doc)


@pytest.mark.parametrize("text, fragment", [
    ("a: " + "[" * 3000 + "]" * 3000, "nested more than"),
    ("a:\n" + "".join("  " * i + "b:\n" for i in range(1, MAX_DEPTH + 5)), "nested more than"),
    ("a: " + "9" * 5000, "5,000 digits"),
])
def test_yaml_bombs_are_input_errors(text, fragment):
    with pytest.raises(InputError, match=fragment):
        loads(text)


@pytest.mark.parametrize("call", [
    lambda: clustersize.load_problem(123), lambda: clustersize.load_problem(None),
    lambda: clustersize.solve("problems/gpt5.yaml"),
    lambda: clustersize.load_problem(base_problem(), {".".join(["a"] * 5000): 1}),
    lambda: clustersize.load_problem(base_problem(), {"accelerators.alpha." + ".".join(["a"] * 5000): 1}),
    lambda: clustersize.load_problem(base_problem(), {"contracts.s1-grid.site": {"a": 1}}),
])
def test_library_calls_with_wrong_types_raise_input_errors(call):
    with pytest.raises(InputError):
        call()


BAD_YAML = ["a: 1\na: 2\n", "a: &x 1\nb: *x\n", "a: " + "[" * 60 + "]" * 60, "a: !!python/object 1",
            "a: [1, 2\n", "d: 2027-13-01\n", "i: " + "9" * 50 + "\n", "a:\n  - b: 1\n   c: 2\n"]


def test_every_loader_reads_the_shipped_files_alike_and_refuses_the_same_input():
    """libyaml's parser (where PyYAML has it) and the pure-Python one: same documents, same errors."""
    import yaml

    from clustersize.schema.yamlsafe import LOADERS

    files = sorted((ROOT / "catalogs").glob("*.yaml")) + sorted((ROOT / "problems").glob("*.yaml"))
    for path in files:
        text = path.read_text()
        assert all(yaml.load(text, Loader=loader) == loads(text) for loader in LOADERS), path  # noqa: S506
    for text in BAD_YAML:   # our own rules word their errors alike; syntax errors are libyaml's or PyYAML's words
        seen = set()
        for loader in LOADERS:
            with pytest.raises(yaml.MarkedYAMLError) as caught:
                yaml.load(text, Loader=loader)  # noqa: S506
            error = caught.value
            words = error.problem if isinstance(error, yaml.constructor.ConstructorError) else ""
            seen.add((type(error).__name__, error.problem_mark.line, words))
        assert len(seen) == 1, (text, seen)


def test_the_reader_works_without_libyaml(monkeypatch):
    import importlib

    import yaml

    import clustersize.schema.yamlsafe as yamlsafe

    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    monkeypatch.delattr(yaml, "CSafeLoader")
    try:
        plain = importlib.reload(yamlsafe)
        assert [loader.__name__ for loader in plain.LOADERS] == ["_Loader"]
        assert plain.loads("x: 1e26\nn: NO\n") == {"x": 1e26, "n": "NO"}
        with pytest.raises(InputError, match="duplicate key"):
            plain.loads("a: 1\na: 2\n")
    finally:
        monkeypatch.undo()
        importlib.reload(yamlsafe)
