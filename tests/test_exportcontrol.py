"""Export classification and policies against the figures in the fact sheet."""

from __future__ import annotations

import pytest

from clustersize.schema.catalog import load_catalog
from clustersize.schema.exportcontrol import classify, decide, performance_density, total_processing_performance
from clustersize.schema.problem import Chip


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def chip(catalog, cid: str, **changes) -> Chip:
    return Chip.model_validate({**catalog.entries["accelerators"][cid], **changes})


@pytest.mark.parametrize("cid, tpp", [("h100-sxm", 15_832), ("b200", 36_000), ("gaudi3", 29_360), ("h20", 2_368),
                                      ("a100", 4_992), ("mi300x", 20_920), ("tpu-v6e", 14_688),
                                      ("b300", 56_000), ("gb300", 60_000), ("tpu-v7", 36_912), ("trainium3", 20_136),
                                      ("v100", 2_000), ("a100-40gb", 4_992), ("h800", 15_832), ("tpu-v3", 1_968),
                                      ("tpu-v4", 4_400), ("tpu-v5p", 7_344)])
def test_tpp_computed_from_specs(catalog, cid, tpp):
    """TPP = max(BF16 x 16, FP8 x 8, INT8 x 8, FP4 x 4) with the catalog's own TPP removed."""
    assert total_processing_performance(chip(catalog, cid, tpp=None)) == pytest.approx(tpp, rel=1e-3)


def test_performance_density(catalog):
    assert performance_density(chip(catalog, "h100-sxm")) == pytest.approx(15_832 / 814)
    assert performance_density(chip(catalog, "b200")) is None


@pytest.mark.parametrize("cid, eccn", [("a100", "3A090.a"), ("h100-sxm", "3A090.a"), ("h20", None), ("b200", "3A090.a")])
def test_october_2023_classes(catalog, cid, eccn):
    assert classify(chip(catalog, cid), catalog.rulesets["us-2023-10"]) == eccn


@pytest.mark.parametrize("ruleset, cid, country, hq, action", [
    ("us-2025-01-diffusion", "h100-sxm", "AE", "US", "cap"),
    ("us-2025-01-diffusion", "h100-sxm", "NO", "US", "allowed"),        # Norway is Tier 1
    ("us-2025-01-diffusion", "h100-sxm", "CN", "US", "prohibited"),
    ("us-2025-01-diffusion", "h100-sxm", "US", "CN", "prohibited"),     # Tier-3 headquarters
    ("us-2025-01-diffusion", "h20", "AE", "US", "allowed"),             # not 3A090: outside the cap
    ("us-2026-01", "h200", "CN", "US", "licence"),                      # case-by-case: TPP < 21,000, BW < 6.5 TB/s
    ("us-2026-01", "b200", "CN", "US", "prohibited"),
    ("us-2026-01", "mi355x", "CN", "US", "prohibited"),
    ("us-2026-01", "h20", "CN", "US", "licence"),                       # April 2025 H20 licence
    ("us-2026-01", "ascend-910c", "MY", "US", "prohibited"),            # GP10 guidance
    ("us-2026-01", "h100-sxm", "AE", "US", "licence"),                 # Oct-2023 licence for D:1/D:4 stands
    ("us-2026-01", "b200", "SA", "US", "licence"),
    ("us-2026-01", "h20", "AE", "US", "allowed"),                       # not 3A090
    ("us-2026-01", "h100-sxm", "MY", "US", "licence"),                  # Malaysian permit for US-origin chips
    ("us-2026-01", "ascend-910c", "AE", "US", "prohibited"),            # GP10 comes first
    ("us-2026-01", "h100-sxm", "US", "US", "allowed"),
    ("us-2023-10", "h100-sxm", "AE", "US", "licence"),
    ("us-2023-10", "h100-sxm", "NO", "US", "allowed"),
    ("none", "b200", "CN", "CN", "allowed"),
])
def test_policies(catalog, ruleset, cid, country, hq, action):
    assert decide(chip(catalog, cid), country, hq, catalog.rulesets[ruleset]).action == action


def test_diffusion_cap_is_790m_tpp(catalog):
    decision = decide(chip(catalog, "b200"), "SA", "US", catalog.rulesets["us-2025-01-diffusion"])
    assert decision.cap_tpp == 790_000_000 and decision.policy == "tier2-country-cap"


def test_diffusion_rule_dates(catalog):
    """Effective 2025-01-13 (Federal Register); 2025-05-15 was only the compliance date."""
    assert str(catalog.rulesets["us-2025-01-diffusion"].effective) == "2025-01-13"


def test_h200_and_mi325x_sit_in_the_2026_tariff_bands(catalog):
    """The Section 232 bands (TPP 14,000-17,500 and 4,500-5,000 GB/s; 20,800-21,100 and 5,800-6,200 GB/s)
    are documented, not encoded: this pins that the catalog specs fall in them."""
    h200, mi325x = chip(catalog, "h200"), chip(catalog, "mi325x")
    assert 14_000 <= total_processing_performance(h200) <= 17_500 and 4_500 <= h200.mem_bw_tbps * 1000 <= 5_000
    assert 20_800 <= total_processing_performance(mi325x) <= 21_100 and 5_800 <= mi325x.mem_bw_tbps * 1000 <= 6_200


def test_events_are_dated_and_sourced(catalog):
    """Every rule change behind the rulesets is a dated, sourced event that says where it is encoded."""
    import datetime as dt

    from clustersize.schema.catalog import default_catalog_dir
    from clustersize.schema.yamlsafe import load_file

    events = load_file(default_catalog_dir() / "export_rules.yaml")["events"]
    for event in events:
        assert isinstance(event["date"], dt.date), event
        cited = event["source"] if isinstance(event["source"], list) else [event["source"]]
        assert cited and all(key in catalog.sources for key in cited), event
        assert event["encoded"], event
    dates = {(str(e["date"]), e["event"].split(":")[0]) for e in events}
    assert ("2025-09-29", "Affiliates (50%) rule") in dates
    assert any(d == "2026-11-10" and "Affiliates" in what for d, what in
               ((str(e["date"]), e["event"]) for e in events))
    assert ("2025-07-14", "Malaysia") in dates
    assert not [e for e in events if "Affiliates" in e["event"] and "not expressible" not in e["encoded"]]
