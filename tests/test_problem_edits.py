"""Editing a problem in code: immutable models, `Problem.with_`, derived figures that follow
the edits, and dumps that validate back whole (export rules, origin, provenance)."""

from __future__ import annotations

import copy
import pickle
import shutil

import pytest
import yaml
from pydantic import ValidationError

import clustersize
from clustersize import InputError
from clustersize.reports.catalog import accelerators as catalog_accelerators
from clustersize.schema.catalog import default_catalog_dir, load_catalog
from clustersize.schema.derived import all_in_unit_cost_usd, derived
from clustersize.schema.load import input_hash
from clustersize.schema.problem import Problem
from clustersize.schema.types import FrozenProblemError
from conftest import PROBLEMS, ROOT, base_problem

GPT5 = ROOT / "problems" / "gpt5.yaml"
TIER2 = ROOT / "problems" / "tier2-sovereign.yaml"


def derived_share_problem() -> Problem:
    """The conftest base case, but with the server and network share left to be derived.

    Alpha's price type is "input" (chip only), so with server_overhead 1.64 and interconnect_share
    0.19 one unit costs p x 1.64 / 0.81 all in. The 4.32e24 FLOP target needs 1,000 units and
    1 MW x 2,400 h x $50/MWh = $120,000 of energy (see conftest.BASE_COST).
    """
    doc = base_problem()
    del doc["accelerators"]["alpha"]["server_network_usd"]
    return clustersize.load_problem(doc)


# --- the stale-price bug -------------------------------------------------------------------------

def test_edited_price_moves_the_derived_share_by_hand():
    problem = derived_share_problem()
    # $10,000 x 1.64 / 0.81 = $20,246.91 per unit, x 1,000 units, + $120,000 energy.
    assert clustersize.solve(problem).objective_usd == pytest.approx(20_366_913.58, rel=1e-9)
    edited = problem.with_({"accelerators.alpha.price_usd": 5000.0})
    # $5,000 x 1.64 / 0.81 = $10,123.46 per unit. The stale share ($10,246.91, derived from the
    # old price) would have cost 1,000 x $15,246.91 + $120,000 = $15,366,913.58.
    assert derived(edited)["alpha"].server_network_usd == pytest.approx(5000.0 * (1.64 / 0.81 - 1.0), rel=1e-12)
    assert clustersize.solve(edited).objective_usd == pytest.approx(10_243_456.79, rel=1e-9)
    assert derived(problem)["alpha"].all_in_unit_usd == pytest.approx(20_246.91, rel=1e-6)  # the original is untouched


def test_edit_then_solve_equals_a_fresh_load_of_the_same_numbers():
    """The reported bug: an edited price kept the server share derived from the old price.

    Before the fix, assigning the MI300X 15,000 on a loaded gpt5 solved to $1,917.1M while a fresh
    load with the same price gave $1,816.7M. One stack per run now leaves the MI300X out of gpt5, so
    the edit is to the B200 the plan buys.
    """
    edit = {"accelerators.b200.price_usd": 25000.0}
    edited = clustersize.load_problem(GPT5).with_(edit)
    fresh = clustersize.load_problem(GPT5, overrides=edit)
    assert edited.model_dump(exclude={"origin"}) == fresh.model_dump(exclude={"origin"})
    assert input_hash(edited) == input_hash(fresh)
    edited_cost = clustersize.solve(edited).objective_usd
    assert edited_cost == pytest.approx(clustersize.solve(fresh).objective_usd, rel=1e-9)
    assert edited_cost < clustersize.solve(clustersize.load_problem(GPT5)).objective_usd


# --- immutability --------------------------------------------------------------------------------

@pytest.mark.parametrize("target, field", [
    (lambda p: p, "name"),
    (lambda p: p.accelerators["h100-sxm"], "price_usd"),
    (lambda p: p.run, "mfu"),
    (lambda p: p.export, "rules"),
    (lambda p: p.export.rules, "title"),
    (lambda p: p.origin, "file"),
])
def test_assignment_fails_and_names_the_supported_edit(target, field):
    obj = target(clustersize.load_problem(GPT5))
    with pytest.raises(FrozenProblemError, match=r"problem\.with_\(") as info:
        setattr(obj, field, getattr(obj, field))
    assert isinstance(info.value, AttributeError)
    with pytest.raises(FrozenProblemError):
        delattr(obj, field)


@pytest.mark.parametrize("change", [
    lambda p: p.accelerators.__setitem__("h100-sxm", p.accelerators["h200"]),
    lambda p: p.accelerators.pop("h100-sxm"),
    lambda p: p.sites.update({}),
    lambda p: p.accelerators["h100-sxm"].supply_by_quarter.setdefault("2027Q1", 0.0),
    lambda p: p.export.cap_used_tpp.clear(),
])
def test_mappings_inside_a_problem_refuse_changes(change):
    problem = clustersize.load_problem(GPT5)
    with pytest.raises(FrozenProblemError, match=r"problem\.with_\("):
        change(problem)
    assert "h100-sxm" in problem.accelerators and len(dict(problem.sites)) == len(problem.sites)


def test_copies_and_pickles_of_a_problem_are_equal():
    problem = clustersize.load_problem(GPT5)
    assert copy.deepcopy(problem) == problem == pickle.loads(pickle.dumps(problem))
    assert problem.model_copy(deep=True) == problem


# --- Problem.with_ -------------------------------------------------------------------------------

def test_with_reads_string_values_as_yaml_like_set():
    edited = clustersize.load_problem(GPT5).with_({"accelerators.h100-sxm.price_usd": "2.5e4",
                                                   "export.headquarters": "NO"})
    assert edited.accelerators["h100-sxm"].price_usd == 25000.0 and edited.export.headquarters == "NO"


def test_with_records_the_edit_in_provenance():
    problem = clustersize.load_problem(GPT5)
    assert problem.provenance["accelerators.h100-sxm.price_usd"]["source"] == "EPOCH-PRICE"
    assert problem.provenance["accelerators.h100-sxm.server_network_usd"]["source"].startswith("derived")
    edited = problem.with_({"accelerators.h100-sxm.price_usd": 25000.0,
                            "accelerators.h200.server_network_usd": 0.0})
    assert edited.provenance["accelerators.h100-sxm.price_usd"]["source"] == "edited in code (Problem.with_)"
    assert edited.provenance["accelerators.h100-sxm.server_network_usd"]["source"].startswith("derived")
    assert edited.provenance["accelerators.h200.server_network_usd"]["source"] == "edited in code (Problem.with_)"
    # The board price alone once the share is given as 0, aged 700 days at 1.29 % a quarter.
    assert derived(edited)["h200"].all_in_unit_usd == pytest.approx(39_083 * (1 - 0.0129) ** (700 / 91.3125))
    assert edited.source == problem.source == str(GPT5)


@pytest.mark.parametrize("edits, fragments", [
    ({"accelerators.h100-sxn.price_usd": 1.0}, ["accelerators", "did you mean 'h100-sxm'"]),
    ({"accelerators.h100-sxm.price_usd": -1.0}, ["accelerators.h100-sxm.price_usd", "greater than 0"]),
    ({"accelerators.h100-sxm.pricee_usd": 1.0}, ["accelerators.h100-sxm.pricee_usd", "did you mean 'price_usd'"]),
    ({"export.ruleset": "us-2026-1"}, ["export.ruleset", "did you mean 'us-2026-01'"]),
    ({"origin.file": "x.yaml"}, ["origin.file", "not an input"]),
])
def test_bad_edit_is_an_input_error(edits, fragments):
    with pytest.raises(InputError) as info:
        clustersize.load_problem(GPT5).with_(edits)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_changing_the_ruleset_takes_its_rules_from_the_catalog():
    problem = clustersize.load_problem(TIER2)
    assert problem.export.rules == load_catalog().rulesets["us-2025-01-diffusion"]
    relaxed = problem.with_({"export.ruleset": "none"})
    assert relaxed.export.rules == load_catalog().rulesets["none"]
    assert clustersize.solve(relaxed).objective_usd < clustersize.solve(problem).objective_usd - 1.0


# --- round trips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["python", "json"])
@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_dump_validates_back_whole(path, mode):
    problem = clustersize.load_problem(path)
    again = Problem.model_validate(problem.model_dump(mode=mode))
    assert again == problem
    assert again.export.rules == problem.export.rules and again.export.rules.id == problem.export.ruleset
    assert again.provenance == problem.provenance and again.source == str(path)
    assert derived(again) == derived(problem)
    assert input_hash(again) == input_hash(problem)


def test_dump_uses_aliases_and_carries_rules_and_origin():
    doc = clustersize.load_problem(GPT5).model_dump(mode="json")
    assert doc["contracts"]["tx-grid"]["from"] == "grid-tariff" and "from_" not in doc["contracts"]["tx-grid"]
    assert doc["export"]["rules"]["id"] == "us-2026-01"
    assert doc["origin"]["file"] == str(GPT5)
    assert doc["origin"]["provenance"]["accelerators.h100-sxm.price_usd"]["as_of"] == "2025-01-31"


def test_round_trip_solves_to_the_same_objective():
    problem = clustersize.load_problem(TIER2)  # the diffusion rule's Tier-2 cap binds here
    again = Problem.model_validate(problem.model_dump(mode="json"))
    assert clustersize.solve(again).objective_usd == pytest.approx(clustersize.solve(problem).objective_usd, rel=1e-9)


def test_round_trip_keeps_rules_from_a_custom_catalog(tmp_path):
    """The dump carries the rules in force, not whatever the bundled catalog says for that id."""
    catalogs = tmp_path / "catalogs"
    shutil.copytree(default_catalog_dir(), catalogs)
    rules_file = catalogs / "export_rules.yaml"
    text = rules_file.read_text()
    assert text.count("cap_tpp: 790000000") == 1
    rules_file.write_text(text.replace("cap_tpp: 790000000", "cap_tpp: 1580000000"))
    bundled = clustersize.load_problem(TIER2)
    custom = clustersize.load_problem(TIER2, catalog_dir=catalogs)
    caps = [p.cap_tpp for p in custom.export.rules.policies if p.cap_tpp]
    assert caps == [1.58e9]
    again = Problem.model_validate(yaml.safe_load(yaml.safe_dump(custom.model_dump(mode="json"))))
    assert again.export.rules == custom.export.rules != bundled.export.rules
    assert again.origin.catalog_dir == str(catalogs)
    assert custom.with_({"run.mfu": 0.4}).export.rules == custom.export.rules
    cost = clustersize.solve(again).objective_usd
    assert cost == pytest.approx(clustersize.solve(custom).objective_usd, rel=1e-9)
    assert cost < clustersize.solve(bundled).objective_usd - 1.0  # a looser cap is cheaper: the rules were used


def test_a_dump_with_rules_of_another_ruleset_is_refused():
    doc = clustersize.load_problem(GPT5).model_dump()
    doc["export"]["ruleset"] = "none"
    with pytest.raises(ValidationError, match="export.rules holds ruleset 'us-2026-01'"):
        Problem.model_validate(doc)
    del doc["export"]["rules"]
    assert Problem.model_validate(doc).export.rules == load_catalog().rulesets["none"]


# --- one all-in formula --------------------------------------------------------------------------

def test_derived_figures_by_hand():
    figures = derived(clustersize.load_problem(GPT5))
    h100, h200 = figures["h100-sxm"], figures["h200"]
    # Both are HGX board prices of 2025-01-31 plus a $4,000 host, over 0.81 for the network, aged
    # 700 days (7.666 quarters) at 1.29 % a quarter to the 2027Q1 planning start.
    aged = (1 - 0.0129) ** (700 / 91.3125)
    assert h100.all_in_unit_usd == pytest.approx((31_905 + 4_000) / 0.81 * aged, rel=1e-9)
    assert h100.server_network_usd == pytest.approx((31_905 + 4_000) / 0.81 - 31_905, rel=1e-9)
    assert h200.all_in_unit_usd == pytest.approx((39_083 + 4_000) / 0.81 * aged, rel=1e-9)
    assert h100.tpp == 15_832 and h100.export_class == "3A090.a"


def test_catalog_view_uses_the_same_all_in_cost():
    table = catalog_accelerators().set_index("id")
    problem = clustersize.load_problem(GPT5)
    assert table.loc["h100-sxm", "all_in_usd"] == pytest.approx((31_905 + 4_000) / 0.81, rel=1e-12)   # at its date
    assert table.loc["h200", "all_in_usd"] == all_in_unit_cost_usd(problem.accelerators["h200"], problem.costs)
