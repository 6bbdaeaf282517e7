"""The family registry: every declared family is built, checked, documented and explained; a new
family is one declaration plus its check."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import clustersize
from clustersize.data.modeldata import build_model_data
from clustersize.data.units import SCALES
from clustersize.families import FAMILIES, Family, family_named, markdown_table
from clustersize.formulation import Term, build
from clustersize.formulation.constraints import ROW_BUILDERS
from clustersize.plan.checks import CHECKS
from conftest import BASE_COST, PROBLEMS, base_problem

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_family_is_built_checked_and_documented():
    names = [f.name for f in FAMILIES]
    assert len(set(names)) == len(names)
    assert set(ROW_BUILDERS) == set(names)
    assert set(CHECKS) == set(names)
    formulation = (DOCS / "formulation.md").read_text()
    for family in FAMILIES:
        assert f"`{family.name}`" in formulation, f"docs/formulation.md does not present {family.name}"
        assert family.scale in SCALES
        assert family.relaxation is None or family.relaxation.price_usd > 0
        assert family.index and family.math and family.check
        assert family.hangs_on in (None, "open", "sign", "use_cloud", "fund", "pace")
    documented = formulation.split("<!-- families:start -->\n")[1].split("<!-- families:end -->")[0]
    assert documented == markdown_table(), "regenerate the table: python -m clustersize.families"


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_the_model_has_only_declared_families(path):
    lp = build(build_model_data(clustersize.load_problem(path)))
    assert set(lp.row_family) <= {f.name for f in FAMILIES}
    for i in range(0, lp.shape[0], max(1, lp.shape[0] // 25)):
        assert len(lp.row_keys.key(i)) == len(family_named(str(lp.row_family[i])).index)


def test_messages_format_with_the_declared_index():
    supply = family_named("supply_cap")
    assert supply.describe(("h100-sxm", "2027Q1")) == "one more h100-sxm in 2027Q1 (supply)"
    assert supply.excess_message(("h100-sxm", "2027Q1"), 100.0, 400.0) == \
        "supply of h100-sxm in 2027Q1: 100 units more than the 400 available (25% over)"
    assert family_named("export_cap").dual_unit == "USD per H100e"
    with pytest.raises(KeyError, match="known: supply_cap"):
        family_named("no_such_family")


# A toy family, declared once with its rows and its check: at most 600 accelerators owned.
FLEET_CAP = 600.0


def add_fleet_cap(b, d, x):
    b.add_rows("fleet_cap", b.all_of("run"), [Term(x["buy"], 0, d.acc_units_per_server[d.cell_acc])],
               -np.inf, FLEET_CAP)


def check_fleet_cap(ledger, c):
    owned = sum(units for (acc, _), units in ledger.supply_used.items())
    c.at_most("fleet_cap", "run", owned, FLEET_CAP, "units", "more accelerators owned than the fleet cap")


FLEET = Family("fleet_cap", ("run",), "sum_{a,s,t} units_per_server[a] buy[a,s,t] <= 600 [accelerators]",
               "accelerator", "one", "one more owned accelerator", "owned accelerators within the fleet cap",
               build=add_fleet_cap, verify=check_fleet_cap)


def with_cloud(doc: dict) -> dict:
    """The base case plus a $5/h cloud offer: renting costs 5 x 2,400 h = $12,000 per accelerator,
    more than owning ($10,000 + 2.4 MWh x $50 = $10,120), so the base plan owns all 1,000."""
    doc["run"].update(max_sites=2, multi_site_efficiency=1.0)
    doc["cloud_chips"] = {"alpha-cloud": {"name": "A", "vendor": "Test", "bf16_tflops": 1000.0}}  # alpha's stack
    doc["cloud"] = {"c1": {"provider": "T", "accelerator": "alpha-cloud", "country": "US",
                           "price_usd_per_hour": 5.0, "max_units": 800.0, "units_per_instance": 1}}
    return doc


def test_a_toy_family_is_one_declaration_plus_its_check():
    problem = clustersize.load_problem(with_cloud(base_problem()))
    families = FAMILIES + (FLEET,)
    free = clustersize.solve(problem, solver="scip")
    assert free.objective_usd == pytest.approx(BASE_COST, rel=1e-6)
    capped = clustersize.solve(problem, solver="scip", families=families)
    # 600 owned ($10,120 each) and 400 rented ($12,000 each).
    assert capped.objective_usd == pytest.approx(600 * 10_120 + 400 * 12_000, rel=1e-6)
    assert capped.verified
    assert "fleet_cap" in set(capped.table("binding").family)
    # The base plan owns 1,000: the toy check catches it, naming its family.
    report = clustersize.plan.verify(free, problem, families)
    assert not report.ok
    assert [v.check for v in report.violations] == ["fleet_cap"]
    assert report.violations[0].amount == pytest.approx(400.0)


def test_a_family_without_an_implementation_is_refused():
    ghost = dataclasses.replace(FLEET, name="ghost", build=None, verify=None)
    data = build_model_data(clustersize.load_problem(base_problem()))
    with pytest.raises(KeyError):
        build(data, FAMILIES + (ghost,))
