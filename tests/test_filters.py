"""Options ruled out or in (filters: / --exclude-site, --exclude-country, --only-sites,
--only-accelerators): the plan honours them, records them, and the verifier checks them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import clustersize
from clustersize import InputError
from clustersize.plan.verify import verify
from conftest import BASE_COST, ROOT, base_problem, grid, site

GPT5 = ROOT / "problems" / "gpt5.yaml"


def two_sites() -> dict:
    """s1 (free) and s2 ($1M to open): the base plan uses s1."""
    doc = base_problem()
    doc["sites"] = {"s1": site(), "s2": site(fixed=1_000_000.0)}
    doc["contracts"] = {f"{s}-grid": grid(s) for s in doc["sites"]}
    return doc


@pytest.mark.parametrize("filters, expected", [
    ({}, BASE_COST),
    ({"exclude_sites": ["s1"]}, BASE_COST + 1_000_000),
    ({"only_sites": ["s2"]}, BASE_COST + 1_000_000),
])
def test_site_filters_change_the_plan_by_hand(filters, expected):
    doc = two_sites()
    doc["filters"] = filters
    plan = clustersize.solve(clustersize.load_problem(doc))
    assert plan.objective_usd == pytest.approx(expected, rel=1e-4)
    used = set(plan.table("purchases").site)
    assert used == ({"s2"} if filters else {"s1"})
    if filters:
        excluded = plan.table("exclusions")
        assert "ruled out by filters." in excluded.loc[excluded.option == "s1", "reason"].iloc[0]


def test_the_verifier_rejects_a_plan_that_uses_a_ruled_out_site():
    plan = clustersize.solve(clustersize.load_problem(two_sites()))
    ruled = clustersize.load_problem(two_sites(), {"filters.exclude_sites": ["s1"]})
    report = verify(plan, ruled)
    assert not report.ok
    assert any(v.check == "filters" and "filters.exclude_sites" in v.message for v in report.violations)


def test_only_accelerators_on_gpt5():
    """Without GB200 the run takes B200, H200 and H100 (and costs more than twice as much)."""
    only = ["b200", "h200", "h100-sxm"]
    problem = clustersize.load_problem(GPT5, {"filters.only_accelerators": only})
    plan = clustersize.solve(problem, check=False)
    assert plan.verified, plan.verification
    assert set(plan.table("purchases").accelerator) <= set(only)
    assert set(plan.table("rentals").accelerator) <= set(only)
    assert plan.provenance["filters.only_accelerators"]["source"].startswith("override")


def test_exclude_country_rules_out_its_sites_and_offers():
    """A US offer at $1/h rents 1,000 units for 2,400 h: $2.4M, cheaper than buying. With the US
    ruled out, neither it nor the US site may be used: the Canadian site, BASE + $1M."""
    doc = two_sites()
    doc["sites"]["s2"]["country"] = "CA"
    doc["cloud_chips"] = {"alpha-cloud": {"name": "Alpha (cloud)", "vendor": "Test", "bf16_tflops": 1000.0}}
    doc["cloud"] = {"c1": {"provider": "Test", "accelerator": "alpha-cloud", "country": "US",
                           "price_usd_per_hour": 1.0, "max_units": 2000.0, "units_per_instance": 1}}
    assert clustersize.solve(clustersize.load_problem(doc)).objective_usd == pytest.approx(2_400_000, rel=1e-4)
    plan = clustersize.solve(clustersize.load_problem(doc, {"filters.exclude_countries": ["US"]}))
    assert plan.objective_usd == pytest.approx(BASE_COST + 1_000_000, rel=1e-4)
    assert set(plan.table("purchases").country) == {"CA"} and plan.table("rentals").empty
    excluded = plan.table("exclusions")
    assert set(excluded.loc[excluded.reason.str.contains("filters.exclude_countries"), "option"]) == {"s1", "c1"}


def test_unknown_names_are_refused_with_the_field():
    with pytest.raises(InputError) as caught:
        clustersize.load_problem(GPT5, {"filters.exclude_sites": ["us-ohh"]})
    assert "filters.exclude_sites.0" in str(caught.value) and "did you mean 'us-oh'" in str(caught.value)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clustersize.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_cli_filters_are_recorded_and_verified(tmp_path):
    out = tmp_path / "plan"
    solved = run("solve", str(GPT5), "--exclude-site", "us-va", "--exclude-country", "SA", "--out", str(out))
    assert solved.returncode == 0, solved.stderr
    doc = json.loads((out / "plan.json").read_text())
    assert doc["provenance"]["filters.exclude_sites"]["source"].startswith("override")
    assert doc["provenance"]["filters.exclude_countries"]["source"].startswith("override")
    assert not {row["site"] for row in doc["tables"]["purchases"]} & {"us-va", "sa-riyadh"}
    assert run("verify", str(out / "plan.json"), str(GPT5), "--exclude-site", "us-va",
               "--exclude-country", "SA").returncode == 0
    # Checked against the problem without the filters, the plan answers another problem.
    assert run("verify", str(out / "plan.json"), str(GPT5)).returncode == 5
    bad = run("solve", str(GPT5), "--only-sites", "nowhere")
    assert bad.returncode == 2 and "filters.only_sites" in bad.stderr
