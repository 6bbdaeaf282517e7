"""Retrospectives against Epoch AI's published figures (retrospectives/compare.py, docs/fidelity.md)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from conftest import ROOT

RETRO = ROOT / "retrospectives"


def load_compare():
    spec = importlib.util.spec_from_file_location("retro_compare", RETRO / "compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["retro_compare"] = module
    spec.loader.exec_module(module)
    return module


compare = load_compare()


@pytest.mark.parametrize("name", ["gpt3.yaml", "llama-3.1-405b.yaml"])
def test_within_the_documented_tolerances(name):
    # Both are documented in docs/fidelity.md as within the goal on cost and power.
    row = compare.compare(RETRO / name)
    assert row.flop >= row.published.flop * (1 - 1e-9)                 # the fixed fleet meets the target
    assert abs(row.amortised_ratio - 1) <= compare.AMORTISED_TOLERANCE
    assert abs(row.power_ratio - 1) <= compare.POWER_TOLERANCE
    # Against Epoch's method by hand, the only differences are the purchase on the quarter's first
    # day (at most 0.25 years more at 0.14 OOM/year: 10^-0.035 = 0.92) and the PUE of the energy.
    assert 0.92 <= row.amortised_usd / row.by_hand_usd <= 1.0
    assert abs(row.acquisition_usd / row.published.acquisition_usd - 1) <= 0.06


def test_by_hand_reproduces_epoch_where_its_inputs_are_known():
    # GPT-4: DGX A100 $24,875 per GPU held 2020-08-12 to 2022-05-12 (638 days = 1.7467 years):
    # value 24,875 x 10^(-0.14 x 1.7467) = $14,165.1; 25,000 x 2,280 h = 6,502.4 chip-years:
    # 14,165.1 x 0.322362 x 6,502.4 / 0.81 = $36.656M; energy 0.8125 kW x 0.75 x 1.25 x 57e6 h x
    # $0.0806 = $3.499M. Total $40.156M; Epoch published $40.587M (2023 USD).
    assert compare.EPOCH_INPUTS["retro-gpt4"].amortised_usd() == pytest.approx(40.156e6, rel=1e-4)


def test_fidelity_document_is_up_to_date():
    assert compare.main(["--check"]) == 0, "run python retrospectives/compare.py and commit docs/fidelity.md"
