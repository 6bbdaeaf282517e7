"""Runs as the model plans them: the two problem forms, their validation, stacks, locations, MFU
by accelerator and precision, and the sourced defaults behind them."""

from __future__ import annotations

import copy
import datetime as dt
import math
from pathlib import Path

import pytest

import clustersize
from clustersize import InputError
from clustersize.schema.catalog import load_catalog
from clustersize.schema.problem import Chip, Problem
from clustersize.schema.runs import (
    MAIN_RUN,
    SPAN_LEVELS,
    Location,
    PlannedRun,
    accelerator_mfu,
    locations,
    planned_runs,
    region_of,
    stack_of,
)
from conftest import ROOT, base_problem, chip

DEFAULT_SPANS = {"region": 0.95, "continent": 0.90, "world": 0.80}
DEFAULT_BANDS = ((4096.0, 0.95), (16384.0, 0.90), (65536.0, 0.85), (math.inf, 0.80))
ALL_PROBLEMS = sorted([*ROOT.glob("problems/*.yaml"), *ROOT.glob("retrospectives/*.yaml"),
                       *ROOT.glob("retrospectives/held_out/*.yaml")])


def two_runs() -> dict:
    """The base problem in the runs: form, with two runs in file order (b before a)."""
    doc = base_problem()
    del doc["target"], doc["run"]
    doc["runs"] = {
        "b-first": {"flop": 1e24, "deadline": dt.date(2027, 12, 31), "min_length_days": 60.0,
                    "max_length_days": 120.0, "average_draw_fraction": 1.0},
        "a-second": {"parameters": 1e11, "tokens": 2e12, "earliest_start": dt.date(2028, 1, 1),
                     "deadline": dt.date(2028, 12, 31), "length_days": 90.0, "precision": "fp8", "max_sites": 2,
                     "mix": "any", "stack_efficiency": 0.9, "span_efficiency": {"world": 0.7},
                     "allow_cross_ocean": True, "memory_gb": 100.0},
    }
    return doc


def fails(doc: dict, *fragments: str) -> InputError:
    with pytest.raises(InputError) as info:
        clustersize.load_problem(doc)
    text = str(info.value)
    for fragment in fragments:
        assert fragment in text, text
    return info.value


# --- the two forms -------------------------------------------------------------------------------

def test_single_run_form_is_one_planned_run():
    """Base problem: 4.32e24 FLOP, 100 days from 2027-07-01 by 2027-10-09, wall-clock MFU 0.5."""
    problem = clustersize.load_problem(base_problem())
    assert problem.runs is None and problem.run is not None and problem.target is not None
    expected = PlannedRun(
        name=MAIN_RUN, flop=4.32e24, deadline=dt.date(2027, 10, 9), earliest_start=dt.date(2027, 1, 1),
        start=dt.date(2027, 7, 1), min_days=100.0, max_days=100.0, precision="bf16", mfu=0.5, max_sites=1,
        mix="stack", stack_efficiency=1.0, span_efficiency=DEFAULT_SPANS, allow_cross_ocean=False, memory_gb=None,
        average_draw_fraction=1.0, goodput_bands=((math.inf, 1.0),), single_run_form=True)
    assert planned_runs(problem) == {MAIN_RUN: expected}
    assert expected.path == "run"


def test_single_run_without_mfu_takes_goodput_and_the_legacy_efficiency_sets_every_span():
    doc = base_problem()
    del doc["run"]["mfu"]
    doc["run"].update(max_sites=2, multi_site_efficiency=0.85)
    run = planned_runs(clustersize.load_problem(doc))[MAIN_RUN]
    assert run.mfu is None
    assert run.goodput_bands == DEFAULT_BANDS
    assert run.span_efficiency == dict.fromkeys(SPAN_LEVELS, 0.85)
    assert (run.goodput(100), run.goodput(16384), run.goodput(16385), run.goodput(1e6)) == (0.95, 0.90, 0.85, 0.80)


def test_run_mfu_has_no_default():
    """A run's mfu is wall-clock effective: a default would silently switch goodput off."""
    problem = clustersize.load_problem(ROOT / "problems" / "gpt5.yaml")
    assert problem.run is not None and problem.run.mfu is None
    assert "run.mfu" not in problem.provenance
    assert planned_runs(problem)[MAIN_RUN].goodput_bands == DEFAULT_BANDS


def test_runs_form_keeps_file_order_and_resolves_every_default():
    problem = clustersize.load_problem(two_runs())
    assert problem.target is None and problem.run is None
    runs = planned_runs(problem)
    assert list(runs) == ["b-first", "a-second"]
    first, second = runs["b-first"], runs["a-second"]
    assert first == PlannedRun(
        name="b-first", flop=1e24, deadline=dt.date(2027, 12, 31), earliest_start=dt.date(2027, 1, 1), start=None,
        min_days=60.0, max_days=120.0, precision="bf16", mfu=None, max_sites=1, mix="stack", stack_efficiency=1.0,
        span_efficiency=DEFAULT_SPANS, allow_cross_ocean=False, memory_gb=None, average_draw_fraction=1.0,
        goodput_bands=DEFAULT_BANDS)
    assert first.path == "runs.b-first"
    assert second.flop == pytest.approx(6 * 1e11 * 2e12)
    assert (second.earliest_start, second.min_days, second.max_days) == (dt.date(2028, 1, 1), 90.0, 90.0)
    assert (second.precision, second.max_sites, second.mix, second.stack_efficiency) == ("fp8", 2, "any", 0.9)
    assert second.span_efficiency == {"region": 0.95, "continent": 0.90, "world": 0.7}
    assert second.allow_cross_ocean and second.memory_gb == 100.0


def test_a_run_named_main_under_runs_keeps_its_path():
    doc = two_runs()
    doc["runs"] = {"main": doc["runs"]["b-first"]}
    assert planned_runs(clustersize.load_problem(doc))["main"].path == "runs.main"


def test_goodput_block_of_the_problem():
    doc = two_runs()
    doc["goodput"] = {"bands": [{"max_units": 1000, "goodput": 0.97}], "floor": 0.9}
    problem = clustersize.load_problem(doc)
    assert planned_runs(problem)["b-first"].goodput_bands == ((1000.0, 0.97), (math.inf, 0.9))
    doc["goodput"] = {"floor": 0.7}  # the bands come from the defaults
    assert planned_runs(clustersize.load_problem(doc))["b-first"].goodput_bands == (*DEFAULT_BANDS[:3], (math.inf, 0.7))


def test_runs_form_dump_validates_back_whole():
    problem = clustersize.load_problem(ROOT / "problems" / "lab-roadmap.yaml")
    again = Problem.model_validate(problem.model_dump())
    assert again == problem and planned_runs(again) == planned_runs(problem)
    assert Problem.model_json_schema()["properties"]["runs"]


def test_edits_of_the_single_run_form():
    """--set run.deadline keeps working; setting the legacy efficiency on a problem without one
    replaces the default spans, as a fresh load with the same override does."""
    path = ROOT / "problems" / "rent-vs-buy.yaml"
    problem = clustersize.load_problem(path)
    later = problem.with_({"run.deadline": "2027-12-31"})
    assert later.run is not None and later.run.deadline == dt.date(2027, 12, 31)
    edited = problem.with_({"run.multi_site_efficiency": 0.85})
    loaded = clustersize.load_problem(path, overrides={"run.multi_site_efficiency": 0.85})
    assert edited.run == loaded.run
    assert planned_runs(edited)[MAIN_RUN].span_efficiency == dict.fromkeys(SPAN_LEVELS, 0.85)


@pytest.mark.parametrize("path", ALL_PROBLEMS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_problem_loads_and_plans_its_runs(path: Path):
    runs = planned_runs(clustersize.load_problem(path))
    assert runs and all(run.min_days <= run.max_days for run in runs.values())


def test_lab_roadmap():
    problem = clustersize.load_problem(ROOT / "problems" / "lab-roadmap.yaml")
    runs = planned_runs(problem)
    assert [run.flop for run in runs.values()] == [3e26, 1e27, 2e27]
    assert all((run.min_days, run.max_days) == (90.0, 180.0) for run in runs.values())
    assert len(problem.sites) <= 6 and len(problem.accelerators) <= 6 and len(problem.cloud) <= 3
    assert {loc.country for loc in locations(problem).values()} == {"US"}


# --- validation: every error names its field path ------------------------------------------------

def _edit(edit):
    doc = two_runs()
    edit(doc)
    return doc


BAD_RUNS = [
    ("min above max", lambda d: d["runs"]["b-first"].update(min_length_days=150.0),
     ["runs.b-first.min_length_days", "above max_length_days"]),
    ("fixed and range", lambda d: d["runs"]["a-second"].update(min_length_days=80.0),
     ["runs.a-second.min_length_days", "not both"]),
    ("min without max", lambda d: d["runs"]["b-first"].pop("max_length_days"),
     ["runs.b-first.max_length_days", "min_length_days needs max_length_days"]),
    ("no length", lambda d: [d["runs"]["b-first"].pop(k) for k in ("min_length_days", "max_length_days")],
     ["runs.b-first.length_days", "Field required"]),
    ("earliest start misses the deadline", lambda d: d["runs"]["a-second"].update(earliest_start=dt.date(2028, 11, 1)),
     ["runs.a-second.earliest_start", "ends after the deadline"]),
    ("start misses the deadline", lambda d: d["runs"]["b-first"].update(start=dt.date(2027, 11, 15)),
     ["runs.b-first.start", "ends after the deadline"]),
    ("start before earliest start", lambda d: d["runs"]["a-second"].update(start=dt.date(2027, 10, 1)),
     ["runs.a-second.start", "before earliest_start"]),
    ("planning start misses the deadline", lambda d: d["runs"]["b-first"].update(deadline=dt.date(2027, 2, 15)),
     ["runs.b-first.deadline", "from planning_start 2027-01-01 ends after the deadline"]),
    ("earliest start before planning", lambda d: d["runs"]["a-second"].update(earliest_start=dt.date(2026, 10, 1)),
     ["runs.a-second.earliest_start", "before planning_start"]),
    ("start before planning", lambda d: d["runs"]["b-first"].update(start=dt.date(2026, 10, 1)),
     ["runs.b-first.start", "before planning_start"]),
    ("span efficiency zero", lambda d: d["runs"]["a-second"].update(span_efficiency={"world": 0.0}),
     ["runs.a-second.span_efficiency.world", "greater than 0"]),
    ("span efficiency above one", lambda d: d["runs"]["a-second"].update(span_efficiency={"region": 1.2}),
     ["runs.a-second.span_efficiency.region", "less than or equal to 1"]),
    ("stack efficiency zero", lambda d: d["runs"]["a-second"].update(stack_efficiency=0.0),
     ["runs.a-second.stack_efficiency", "greater than 0"]),
    ("mix any without stack efficiency", lambda d: d["runs"]["a-second"].pop("stack_efficiency"),
     ["runs.a-second.stack_efficiency", "mix: any needs stack_efficiency"]),
    ("unknown mix", lambda d: d["runs"]["b-first"].update(mix="vendor"), ["runs.b-first.mix", "'stack', 'model' or 'any'"]),
    ("memory zero", lambda d: d["runs"]["a-second"].update(memory_gb=0.0), ["runs.a-second.memory_gb", "greater than 0"]),
    ("flop and parameters", lambda d: d["runs"]["a-second"].update(flop=1e24),
     ["runs.a-second.flop", "either flop, or both parameters and tokens"]),
    ("no flop", lambda d: d["runs"]["b-first"].pop("flop"), ["runs.b-first.flop", "either flop"]),
    ("unknown run field", lambda d: d["runs"]["b-first"].update(lenght_days=90.0),
     ["runs.b-first.lenght_days", "did you mean 'length_days'"]),
    ("bands not ascending", lambda d: d.update(goodput={"bands": [{"max_units": 100, "goodput": 0.9},
                                                                  {"max_units": 100, "goodput": 0.8}]}),
     ["goodput.bands.1.max_units", "strictly ascending"]),
    ("band goodput zero", lambda d: d.update(goodput={"bands": [{"max_units": 100, "goodput": 0.0}]}),
     ["goodput.bands.0.goodput", "greater than 0"]),
    ("band goodput above one", lambda d: d.update(goodput={"bands": [{"max_units": 100, "goodput": 1.5}]}),
     ["goodput.bands.0.goodput", "less than or equal to 1"]),
    ("floor zero", lambda d: d.update(goodput={"floor": 0.0}), ["goodput.floor", "greater than 0"]),
    ("both forms", lambda d: d.update(target={"flop": 1e24}), ["runs", "not both", "also gives target"]),
    ("no runs", lambda d: d.update(runs={}), ["runs", "at least one run"]),
    ("runs not a mapping", lambda d: d.update(runs=[1]), ["runs", "expected a mapping"]),
    ("run not a mapping", lambda d: d["runs"].update(c=3), ["runs.c", "expected a mapping"]),
    ("bad run name", lambda d: d["runs"].update({"Big Run": d["runs"]["b-first"]}), ["runs.Big Run", "pattern"]),
    ("unknown country", lambda d: d["sites"]["s1"].update(country="FJ"), ["sites.s1.country", "no continent"]),
    ("cloud id of a site", lambda d: d.update(cloud={"s1": {"provider": "P", "accelerator": "h100-sxm", "country": "US",
                                                            "price_usd_per_hour": 2.0, "max_units": 8}}),
     ["cloud.s1", "also a site id"]),
]


@pytest.mark.parametrize("edit, fragments", [case[1:] for case in BAD_RUNS], ids=[case[0] for case in BAD_RUNS])
def test_bad_runs_name_the_field(edit, fragments):
    fails(_edit(edit), *fragments)


BAD_SINGLE_RUN = [
    ("neither form", lambda d: [d.pop("target"), d.pop("run")], ["runs", "no run given"]),
    ("target without run", lambda d: d.pop("run"), ["run: Field required"]),
    ("run without target", lambda d: d.pop("target"), ["target: Field required"]),
    ("deadline before planning", lambda d: d["run"].update(deadline=dt.date(2026, 10, 9), start=None),
     ["run.deadline", "before planning_start"]),
    ("start misses the deadline", lambda d: d["run"].update(start=dt.date(2027, 9, 1)),
     ["run.start", "ends after the deadline"]),
    ("both efficiency forms", lambda d: d["run"].update(multi_site_efficiency=0.9, span_efficiency={"region": 0.9}),
     ["run.multi_site_efficiency", "not both"]),
    ("range without a fixed length", lambda d: d["run"].update(max_length_days=120.0), ["run.max_length_days", "not both"]),
]


@pytest.mark.parametrize("edit, fragments", [case[1:] for case in BAD_SINGLE_RUN], ids=[case[0] for case in BAD_SINGLE_RUN])
def test_bad_single_run_names_the_field(edit, fragments):
    doc = base_problem()
    edit(doc)
    fails(doc, *fragments)


def test_single_run_may_give_a_range_instead_of_a_length():
    doc = base_problem()
    doc["run"].update(length_days=None, start=None, min_length_days=60.0, max_length_days=120.0)
    run = planned_runs(clustersize.load_problem(doc))[MAIN_RUN]
    assert (run.min_days, run.max_days, run.start) == (60.0, 120.0, None)


def test_error_path_is_structured():
    error = fails(_edit(lambda d: d["runs"]["b-first"].update(min_length_days=150.0)))
    assert error.path == "runs.b-first.min_length_days"


# --- stacks ---------------------------------------------------------------------------------------

def test_every_catalog_accelerator_names_its_stack():
    accelerators = load_catalog().entries["accelerators"]
    stacks = {aid: acc["stack"] for aid, acc in accelerators.items()}
    assert set(stacks.values()) == {"cuda", "rocm", "gaudi", "xla-tpu", "neuron", "cann"}
    assert (stacks["h100-sxm"], stacks["mi300x"], stacks["gaudi3"], stacks["tpu-v6e"], stacks["trainium2"],
            stacks["ascend-910c"]) == ("cuda", "rocm", "gaudi", "xla-tpu", "neuron", "cann")


def test_stack_of():
    problem = clustersize.load_problem(ROOT / "problems" / "gpt5.yaml")
    assert stack_of(problem.accelerators["mi300x"]) == "rocm"
    assert stack_of(problem.cloud_chips["tpu-v6e"]) == "xla-tpu"
    custom = problem.custom_programs["asic-3nm-tpu-class"].chip
    assert stack_of(custom, "asic-3nm-tpu-class") == "custom:asic-3nm-tpu-class"
    assert stack_of(custom.model_copy(update={"stack": "xla-tpu"}), "asic-3nm-tpu-class") == "xla-tpu"
    spec = {"name": "x", "bf16_tflops": 1.0}
    assert stack_of(Chip(vendor="NVIDIA", **spec)) == "cuda"            # an inline chip: by vendor
    assert stack_of(Chip(vendor="Amazon", **spec)) == "neuron"
    assert stack_of(Chip(vendor="Test", **spec)) == "test"              # an unknown vendor is its own stack
    assert stack_of(Chip(vendor="NVIDIA", stack="rocm", **spec)) == "rocm"


# --- regions and locations ------------------------------------------------------------------------

def test_region_of():
    catalog = load_catalog()
    assert region_of("US", "US-TX") == ("US-TX", "north-america")
    assert region_of("NO", None, catalog) == ("NO", "europe")
    assert region_of("AE", None)[1] == "middle-east" and region_of("TW", None)[1] == "asia"
    with pytest.raises(InputError, match="sites.x.country.*no continent"):
        region_of("FJ", None, path="sites.x.country")


def test_every_catalog_country_has_a_continent():
    catalog = load_catalog()
    countries = {site["country"] for site in catalog.entries["sites"].values()}
    countries |= {offer["country"] for offer in catalog.entries["cloud_offers"].values()}
    assert countries <= set(catalog.regions)


def test_locations():
    doc = two_runs()
    doc["sites"]["s1"].update(region="US-TX", max_cluster_units=16384)
    doc["sites"]["s2"] = {**doc["sites"]["s1"], "country": "NO", "region": None, "max_cluster_units": None}
    doc["cloud"] = {"rent": {"provider": "P", "accelerator": "h100-sxm", "country": "US", "price_usd_per_hour": 2.0,
                             "max_units": 8},
                    "rent-tx": {"provider": "P", "accelerator": "h100-sxm", "country": "US", "region": "US-TX",
                                "price_usd_per_hour": 2.0, "max_units": 8}}
    found = locations(clustersize.load_problem(doc))
    assert found == {
        "s1": Location("s1", "site", "US", "US-TX", "north-america", 16384),
        "s2": Location("s2", "site", "NO", "NO", "europe", None),
        "rent": Location("rent", "cloud", "US", "US", "north-america", None),
        "rent-tx": Location("rent-tx", "cloud", "US", "US-TX", "north-america", None),
    }


# --- MFU by accelerator and precision -------------------------------------------------------------

def test_accelerator_mfu_fallbacks():
    doc = base_problem()
    doc["accelerators"] = {"h100-sxm": {"supply_per_quarter": 100, "lead_time_quarters": 1},
                           "b200": {"supply_per_quarter": 100, "lead_time_quarters": 1},
                           "a100": {"supply_per_quarter": 100, "lead_time_quarters": 1},
                           "alpha": chip(mfu=0.55)}
    doc["cloud"] = {"tpu-v6e-gcp-3yr": {"max_units": 8}}
    problem = clustersize.load_problem(doc)
    accs = problem.accelerators
    assert accelerator_mfu(problem, accs["alpha"], "bf16") == 0.55           # the problem's own figure
    assert accelerator_mfu(problem, accs["h100-sxm"], "bf16") == 0.40        # catalog, Llama 3.1
    assert accelerator_mfu(problem, accs["h100-sxm"], "fp8") == 0.21         # catalog, DeepSeek-V3
    assert accelerator_mfu(problem, accs["b200"], "bf16") == 0.375           # default, Epoch median
    assert accelerator_mfu(problem, accs["b200"], "fp8") == 0.21             # default for FP8
    assert accelerator_mfu(problem, accs["a100"], "fp8") == 0.34             # no FP8 rate: its BF16 figure
    assert accelerator_mfu(problem, problem.cloud_chips["tpu-v6e"], "fp8") == 0.375  # no FP8 rate, no figure
    lower = problem.with_({"accelerator_mfu.bf16": 0.3})
    assert accelerator_mfu(lower, lower.accelerators["b200"], "bf16") == 0.3
    assert accelerator_mfu(lower, lower.accelerators["h100-sxm"], "bf16") == 0.40


def test_published_mfu_in_the_catalog():
    accelerators = load_catalog().entries["accelerators"]
    figures = {aid: acc.get("mfu_by_precision", {}) for aid, acc in accelerators.items()}
    assert figures["tpu-v4"] == {"bf16": 0.462}                             # PaLM
    assert figures["h100-sxm"] == {"bf16": 0.40, "fp8": 0.21}
    assert figures["h800"]["fp8"] == 0.21 and figures["v100"] == {"bf16": 0.213}
    provenance = load_catalog().provenance
    assert provenance["accelerators.tpu-v4.mfu_by_precision.bf16"]["confidence"] == "H"
    assert provenance["accelerators.h800.mfu_by_precision.fp8"]["confidence"] == "L"


# --- sourced defaults -----------------------------------------------------------------------------

def test_defaults_carry_their_provenance():
    problem = clustersize.load_problem(two_runs())
    notes = problem.provenance
    assert notes["goodput.bands.1.goodput"]["source"] == "LLAMA3-HERD"
    assert notes["goodput.bands.1.goodput"]["confidence"] == "H"
    for path in ("goodput.bands.0.goodput", "goodput.bands.2.goodput", "goodput.floor"):
        assert "ASSUMPTION" in notes[path]["source"] and "interruptions grow" in notes[path]["note"], path
    for level in SPAN_LEVELS:
        note = notes[f"runs.b-first.span_efficiency.{level}"]
        assert "ASSUMPTION" in note["source"] and note["confidence"] == "L"
    assert notes["runs.a-second.span_efficiency.world"]["source"].startswith("problem file")
    assert notes["runs.a-second.span_efficiency.region"]["note"].startswith("ASSUMPTION")
    assert notes["runs.b-first.average_draw_fraction"]["source"].startswith("problem file")
    assert notes["accelerator_mfu.bf16"]["source"] == "EPOCH-COST"
    assert notes["accelerator_mfu.fp8"]["confidence"] == "L"
    assert notes["accelerators.alpha.mfu_by_precision.bf16"]["source"].startswith("derived: no published BF16")


def test_defaults_fill_a_run_that_leaves_them_out():
    doc = two_runs()
    del doc["runs"]["b-first"]["average_draw_fraction"]
    problem = clustersize.load_problem(doc)
    assert planned_runs(problem)["b-first"].average_draw_fraction == 0.75
    assert problem.provenance["runs.b-first.average_draw_fraction"]["source"] == "EPOCH-COST"


def test_a_run_of_a_dumped_problem_without_defaults_takes_the_catalogs():
    doc = clustersize.load_problem(two_runs()).model_dump()
    doc["goodput"] = None
    doc["runs"]["b-first"]["span_efficiency"] = None
    run = planned_runs(Problem.model_validate(copy.deepcopy(doc)))["b-first"]
    assert run.goodput_bands == DEFAULT_BANDS and run.span_efficiency == DEFAULT_SPANS


def test_overrides_of_a_run_by_name():
    path = ROOT / "problems" / "lab-roadmap.yaml"
    problem = clustersize.load_problem(path, overrides={"runs.pretrain-2031.max_length_days": "150"})
    assert planned_runs(problem)["pretrain-2031"].max_days == 150.0
    with pytest.raises(InputError, match="runs has no entry 'pretrain-2030'.*did you mean 'pretrain-2031'"):
        clustersize.load_problem(path, overrides={"runs.pretrain-2030.max_length_days": "150"})
