"""Catalog coverage and the rule that every number carries a source, date and grade."""

from __future__ import annotations

import shutil

import pytest

from clustersize import InputError
from clustersize.schema.catalog import default_catalog_dir, load_catalog

REQUIRED_ACCELERATORS = {"a100", "h100-sxm", "h200", "h20", "b200", "gb200", "mi300x", "mi325x", "mi355x", "gaudi3",
                         "tpu-v5p", "tpu-v6e", "trainium2", "ascend-910c"}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_coverage(catalog):
    assert REQUIRED_ACCELERATORS <= set(catalog.entries["accelerators"])
    for cloud_only in ("tpu-v5p", "tpu-v6e", "trainium2"):
        assert catalog.entries["accelerators"][cloud_only]["for_sale"] is False
    sites = catalog.entries["sites"]
    assert len(sites) >= 10
    countries = {s["country"] for s in sites.values()}
    assert {"US", "NO", "SE", "AE", "SA", "TW", "JP", "DE", "IN", "CN"} <= countries
    kinds = {c["kind"] for c in catalog.entries["energy_contracts"].values()}
    assert {"grid", "solar_ppa", "wind_ppa", "nuclear_ppa", "onsite_gas"} <= kinds
    assert len(catalog.entries["custom_programs"]) >= 2
    assert {"none", "us-2023-10", "us-2025-01-diffusion", "us-2026-01"} <= set(catalog.rulesets)


def test_every_number_has_provenance(catalog):
    for section, entries in catalog.entries.items():
        for eid, entry in entries.items():
            for field, value in entry.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    meta = catalog.provenance[f"{section}.{eid}.{field}"]
                    assert meta["source"] and meta["as_of"] and meta["confidence"] in "HML", (section, eid, field)


def test_an_unsourced_number_is_refused(tmp_path):
    target = tmp_path / "catalogs"
    shutil.copytree(default_catalog_dir(), target)
    path = target / "accelerators.yaml"
    path.write_text(path.read_text().replace("bf16_tflops: {value: 312, source: EPOCH-HW, as_of: 2025-12-10, "
                                             "confidence: H}", "bf16_tflops: 312"))
    load_catalog.cache_clear()
    with pytest.raises(InputError, match="accelerators.a100.bf16_tflops.*must carry its source"):
        load_catalog(str(target))
    load_catalog.cache_clear()


def test_an_unknown_source_key_is_refused(tmp_path):
    target = tmp_path / "catalogs"
    shutil.copytree(default_catalog_dir(), target)
    path = target / "sites.yaml"
    path.write_text(path.read_text().replace("source: CW-2025", "source: CW-2052", 1))
    load_catalog.cache_clear()
    with pytest.raises(InputError, match="CW-2052"):
        load_catalog(str(target))
    load_catalog.cache_clear()


def test_backends_share_a_process_in_both_orders():
    """ortools and pulp (without highspy) import together in either order (solver-bench.md 3.1)."""
    import subprocess
    import sys

    for first, second in (("ortools.linear_solver.python.model_builder", "pulp"),
                          ("pulp", "ortools.linear_solver.python.model_builder")):
        code = f"import {first}; import {second}; print('ok')"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.stdout.strip() == "ok", result.stderr
