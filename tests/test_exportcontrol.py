"""Export classification and policies against the figures in the fact sheet."""

from __future__ import annotations

import pytest

from clustersize.schema.exportcontrol import classify, decide, performance_density, total_processing_performance
from clustersize.schema.catalog import load_catalog
from clustersize.schema.problem import Chip


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def chip(catalog, cid: str, **changes) -> Chip:
    return Chip.model_validate({**catalog.entries["accelerators"][cid], **changes})


@pytest.mark.parametrize("cid, tpp", [("h100-sxm", 15_832), ("b200", 36_000), ("gaudi3", 29_360), ("h20", 2_368),
                                      ("a100", 4_992), ("mi300x", 20_920), ("tpu-v6e", 14_688)])
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
    ("us-2026-01", "h100-sxm", "AE", "US", "allowed"),
    ("none", "b200", "CN", "CN", "allowed"),
])
def test_policies(catalog, ruleset, cid, country, hq, action):
    assert decide(chip(catalog, cid), country, hq, catalog.rulesets[ruleset]).action == action


def test_diffusion_cap_is_790m_tpp(catalog):
    decision = decide(chip(catalog, "b200"), "SA", "US", catalog.rulesets["us-2025-01-diffusion"])
    assert decision.cap_tpp == 790_000_000 and decision.policy == "tier2-country-cap"
