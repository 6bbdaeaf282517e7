"""Bad input gives a clear InputError naming the field and the fix; YAML is read safely."""

from __future__ import annotations

import copy
import math

import pytest

import clustersize
from clustersize import InputError
from clustersize.schema.yamlsafe import MAX_FILE_BYTES, load_file, loads

GPT5 = "problems/gpt5.yaml"


@pytest.fixture(scope="module")
def gpt5_doc(request):
    from conftest import ROOT

    return load_file(ROOT / GPT5)


def fails(doc: dict, *fragments: str) -> InputError:
    with pytest.raises(InputError) as info:
        clustersize.load_problem(doc)
    text = str(info.value)
    for fragment in fragments:
        assert fragment in text, text
    return info.value


@pytest.mark.parametrize("written", ["1e26", "1E26", "1.0e+26", "1e+26", "1.0E26", "100000000000000000000000000",
                                     "1.e26", "+1e26"])
def test_1e26_every_yaml_way(written):
    assert loads(f"flop: {written}")["flop"] == pytest.approx(1e26, rel=1e-12)


def test_quoted_number_is_refused(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    doc["target"]["flop"] = "1e26"
    fails(doc, "target.flop", "without quotes")


@pytest.mark.parametrize("value, fragment", [(float("nan"), "finite"), (float("inf"), "finite"), (-1.0, "greater than 0"),
                                             (0.0, "greater than 0")])
def test_bad_price(gpt5_doc, value, fragment):
    doc = copy.deepcopy(gpt5_doc)
    doc["accelerators"]["h100-sxm"]["price_usd"] = value
    fails(doc, "accelerators.h100-sxm.price_usd", fragment)


def test_nan_written_in_yaml():
    assert math.isnan(loads("x: .nan")["x"])


def test_unknown_id_did_you_mean(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    doc["accelerators"]["h100-sxn"] = doc["accelerators"].pop("h100-sxm")
    fails(doc, "accelerators.h100-sxn", "did you mean 'h100-sxm'")


def test_unknown_field_did_you_mean(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    doc["accelerators"]["h100-sxm"]["pricee_usd"] = 1.0
    fails(doc, "accelerators.h100-sxm.pricee_usd", "unknown field", "did you mean 'price_usd'")


def test_norway_is_a_country_not_false():
    doc = loads("country: NO\nother: no\nyes_word: YES\nflag: true")
    assert doc == {"country": "NO", "other": "no", "yes_word": "YES", "flag": True}


def test_lowercase_country_is_refused(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    doc["sites"]["us-tx"]["country"] = "us"
    fails(doc, "sites.us-tx.country", "two capital letters")


@pytest.mark.parametrize("text, fragment", [
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("a: !!python/object/apply:os.system ['echo hi']\n", "tag"),
    ("a: &x [1, 2]\nb: *x\n", "aliases"),
    ("a: [1, 2\n", "line"),
])
def test_unsafe_or_broken_yaml(text, fragment):
    with pytest.raises(InputError) as info:
        loads(text, source="bad.yaml")
    assert fragment in str(info.value) and "bad.yaml" in str(info.value)


def test_oversized_file(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(InputError, match="limit"):
        load_file(big)


def test_missing_scenario_field(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    del doc["accelerators"]["h100-sxm"]["lead_time_quarters"]
    fails(doc, "accelerators.h100-sxm.lead_time_quarters", "Field required")


def test_catalog_gap_must_be_filled(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    doc["accelerators"]["mi325x"] = {"supply_per_quarter": 100, "lead_time_quarters": 1}
    fails(doc, "accelerators.mi325x.price_usd", "no sourced price")


def test_unknown_ruleset(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    doc["export"]["ruleset"] = "us-2026-1"
    fails(doc, "export.ruleset", "did you mean 'us-2026-01'")


def test_contract_at_unknown_site(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    doc["contracts"]["tx-grid"]["site"] = "us-txx"
    fails(doc, "contracts.tx-grid.site")


def test_override_of_unknown_entity():
    with pytest.raises(InputError, match="did you mean 'h100-sxm'"):
        clustersize.load_problem(GPT5, {"accelerators.h100-sxn.price_usd": "1"})


def test_override_values_are_read_as_yaml_scalars():
    problem = clustersize.load_problem(GPT5, {"accelerators.h100-sxm.price_usd": "2.5e4", "export.headquarters": "NO"})
    assert problem.accelerators["h100-sxm"].price_usd == 25000.0
    assert problem.export.headquarters == "NO"


def test_licence_lead_needed_when_a_licence_applies(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    del doc["export"]["licence_lead_quarters"]
    doc["run"]["mfu"] = 0.375  # a wall-clock figure: the test is about the licence, not how MFU is resolved
    doc["sites"]["cn-ulanqab"] = {"max_mw": 100, "build_lead_quarters": 2, "fixed_cost_usd": 0,
                                  "build_cost_usd_per_mw": 1e7}
    problem = clustersize.load_problem(doc)
    with pytest.raises(InputError, match="export.licence_lead_quarters"):
        clustersize.solve(problem)


def test_provenance_is_kept():
    problem = clustersize.load_problem(GPT5)
    price = problem.provenance["accelerators.h100-sxm.price_usd"]
    assert price["source"] == "EPOCH-PRICE" and price["confidence"] == "M"
    assert problem.provenance["accelerators.h100-sxm.supply_per_quarter"]["source"].startswith("problem file")
    assert problem.provenance["run.average_draw_fraction"]["source"] == "EPOCH-COST"
    assert "run.mfu" not in problem.provenance  # a run's mfu is wall-clock effective: given or absent, never a default


def test_origin_is_not_written_in_a_problem(gpt5_doc):
    doc = copy.deepcopy(gpt5_doc)
    doc["origin"] = {"file": "elsewhere.yaml"}
    fails(doc, "origin", "Problem.model_validate")


def test_inline_rules_must_be_the_named_ruleset(gpt5_doc):
    from clustersize.schema.catalog import load_catalog

    doc = copy.deepcopy(gpt5_doc)
    doc["export"]["rules"] = load_catalog().rulesets["none"].model_dump()
    fails(doc, "export", "export.rules holds ruleset 'none' but export.ruleset is 'us-2026-01'")
    doc["export"]["ruleset"] = "none"
    assert clustersize.load_problem(doc).export.rules.title == "No export controls"
