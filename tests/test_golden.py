"""Golden plans for problems/*.yaml: a change of result is always a visible decision.

Refresh with `python -m pytest tests/test_golden.py --update-golden` and commit the diff
with a message that says why the plans moved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import clustersize
from conftest import PROBLEMS

GOLDEN = Path(__file__).parent / "golden"
UNITS_ABS = 0.5        # whole units; alternative optima within the gap may shift a few servers
UNITS_REL = 0.02


def summary(plan: clustersize.Plan) -> dict:
    purchases, rentals = plan.table("purchases"), plan.table("rentals")
    units = purchases.groupby("accelerator").units.sum().to_dict() if len(purchases) else {}
    for row in rentals.itertuples():
        units[f"cloud:{row.offer}"] = float(row.units)
    sites = plan.table("sites")
    return {"status": plan.status.value, "objective_usd": plan.objective_usd,
            "units": {k: float(v) for k, v in sorted(units.items())},
            "sites_opened": sorted(sites.loc[sites.opened, "site"]),
            "contracts_signed": sorted(plan.table("contracts").query("signed").contract)}


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_golden_plan(path, request):
    plan = clustersize.solve(clustersize.load_problem(path), solver="scip")
    got = summary(plan)
    golden = GOLDEN / f"{path.stem}.json"
    if request.config.getoption("--update-golden"):
        golden.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
        pytest.skip(f"rewrote {golden.name}")
    assert golden.exists(), f"no golden plan for {path.name}: run with --update-golden and review it"
    want = json.loads(golden.read_text())
    assert got["status"] == want["status"]
    # each plan is within the requested gap of the optimum, so two of them within twice it
    # (lab-roadmap asks for 1e-3: its plans may differ by 0.03 % from run to run)
    assert got["objective_usd"] == pytest.approx(want["objective_usd"], rel=2 * plan.requested_gap)
    assert set(got["units"]) == set(want["units"])
    for key, units in want["units"].items():
        assert got["units"][key] == pytest.approx(units, rel=UNITS_REL, abs=UNITS_ABS), key
    assert got["sites_opened"] == want["sites_opened"]
    assert got["contracts_signed"] == want["contracts_signed"]
