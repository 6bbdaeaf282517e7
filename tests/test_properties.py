"""Properties that must hold on every generated problem (hypothesis, derandomized for CI).

Each comparison solves two problems, each within the gap G of its own optimum, so a
"never raises" claim is checked with a tolerance of 2 G. The problems' one run draws its mix (one
stack, one model, any) and a fixed or ranged length; the greedy's plans are checked against the
optimizer on the same problems. CI runs a fixed sample; set
CLUSTERSIZE_PROPERTY_EXAMPLES=200 to explore (a counterexample becomes a regression test).
"""

from __future__ import annotations

import copy
import datetime as dt
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings

import clustersize
from clustersize import Status
from clustersize.baselines.greedy import greedy_solution
from clustersize.baselines.testing import problems
from clustersize.data.modeldata import build_model_data
from clustersize.formulation import build
from clustersize.solvers import SolveOptions, SolverResult
from clustersize.solving.pipeline import make_plan

GAP = 1e-6
TOL = 2 * GAP
# CI runs 8 fixed examples per property; CLUSTERSIZE_PROPERTY_EXAMPLES=N explores N random ones.
EXPLORE = os.environ.get("CLUSTERSIZE_PROPERTY_EXAMPLES")
PROPERTY = settings(max_examples=int(EXPLORE or 8), deadline=None, derandomize=not EXPLORE,
                    suppress_health_check=list(HealthCheck))


def cost(doc: dict) -> tuple[Status, float | None]:
    plan = clustersize.solve(clustersize.load_problem(doc), gap=GAP, check=False)
    if plan.has_plan:
        assert plan.verified, plan.verification["violations"][:3]
    else:
        assert plan.objective_usd is None and plan.table("purchases").empty
    return plan.status, plan.objective_usd


def solved(doc: dict) -> float:
    status, objective = cost(doc)
    assume(status is Status.OPTIMAL)
    return objective


@PROPERTY
@given(problems())
def test_every_plan_verifies_and_no_plan_is_ever_a_plan(doc):
    status, _ = cost(doc)
    assert status in (Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE)


LOOSENINGS = {
    "supply": lambda d: [a.update(supply_per_quarter=a["supply_per_quarter"] * 2) for a in d["accelerators"].values()],
    "site_size": lambda d: [s.update(max_mw=s["max_mw"] * 1.5) for s in d["sites"].values()],
    "contract_size": lambda d: [c.update(max_mw=c["max_mw"] * 2) for c in d["contracts"].values()],
    "cloud_quota": lambda d: [o.update(max_units=o["max_units"] * 2) for o in d["cloud"].values()],
    "components": lambda d: d["components"].update({k: v * 2 for k, v in d["components"].items()}),
    "max_sites": lambda d: d["run"].update(max_sites=d["run"]["max_sites"] + 1,
                                           multi_site_efficiency=d["run"].get("multi_site_efficiency", 0.9)),
    "no_export_rules": lambda d: d["export"].update(ruleset="none"),
    "window": lambda d: d["run"].update(deadline=d["run"]["deadline"] + dt.timedelta(days=92)),
    "shorter_runs": lambda d: shorter_runs(d["run"]),
    "mix_any": lambda d: d["run"].update(mix="any", stack_efficiency=1.0),
}


def shorter_runs(run: dict) -> None:
    """Let the run be as short as 80 % of its shortest length (every window it had remains)."""
    shortest = run.pop("length_days", None) or run["min_length_days"]
    run.update(min_length_days=0.8 * shortest, max_length_days=run.get("max_length_days", shortest))


@pytest.mark.parametrize("loosening", sorted(LOOSENINGS))
@PROPERTY
@given(problems())
def test_loosening_never_raises_cost(loosening, doc):
    before = solved(doc)
    looser = copy.deepcopy(doc)
    LOOSENINGS[loosening](looser)
    status, after = cost(looser)
    assert status in (Status.OPTIMAL, Status.FEASIBLE)
    assert after <= before * (1 + TOL)


@PROPERTY
@given(problems())
def test_adding_an_option_never_raises_cost(doc):
    before = solved(doc)
    richer = copy.deepcopy(doc)
    first_id, first = next(iter(richer["accelerators"].items()))
    richer["accelerators"][f"{first_id}-copy"] = {**copy.deepcopy(first), "price_usd": first["price_usd"] * 0.97}
    richer["cloud"]["extra-offer"] = {"provider": "Extra", "accelerator": "h100-sxm", "country": "US",
                                      "price_usd_per_hour": 3.0, "max_units": 800.0, "units_per_instance": 8}
    status, after = cost(richer)
    assert status in (Status.OPTIMAL, Status.FEASIBLE)
    assert after <= before * (1 + TOL)


MONEY = {
    "accelerators": ("price_usd", "excluded_items_usd", "server_network_usd"),
    "sites": ("build_cost_usd_per_mw", "fixed_cost_usd", "grid_price_usd_per_mwh", "lease_usd_per_kw_month",
              "existing_book_value_usd"),
    "contracts": ("price_usd_per_mwh", "fixed_cost_usd", "fixed_cost_usd_per_mw", "capacity_charge_usd_per_mw_month",
                  "capacity_charge_usd_per_mw_day"), "cloud": ("price_usd_per_hour",),
    "custom_programs": ("nre_usd",),
}


def scale_prices(doc: dict, k: float) -> dict:
    scaled = copy.deepcopy(doc)
    for section, fields in MONEY.items():
        for entry in scaled[section].values():
            for field in fields:
                if field in entry:
                    entry[field] *= k
            if "chip" in entry:
                entry["chip"]["price_usd"] *= k
    scaled["costs"]["carbon_price_usd_per_t"] *= k
    # the lease of existing capacity defaults from the catalog: scale the figure in force
    scaled["costs"]["lease_usd_per_kw_month"] = clustersize.load_problem(doc).costs.lease_usd_per_kw_month * k
    return scaled


@pytest.mark.parametrize("k", [0.5, 3.0])
@PROPERTY
@given(problems())
def test_scaling_all_prices_scales_cost(k, doc):
    before = solved(doc)
    status, after = cost(scale_prices(doc, k))
    assert status is Status.OPTIMAL
    assert after == pytest.approx(k * before, rel=TOL)


def relabel(doc: dict) -> dict:
    """New ids for every entity, every mapping in reverse order."""
    out = copy.deepcopy(doc)
    site_names = {sid: f"z-{sid}" for sid in out["sites"]}
    for section in ("accelerators", "sites", "contracts", "cloud", "custom_programs"):
        out[section] = {f"z-{eid}": body for eid, body in reversed(list(out[section].items()))}
    for contract in out["contracts"].values():
        contract["site"] = site_names[contract["site"]]
    return out


@PROPERTY
@given(problems())
def test_relabelling_and_reordering_leave_cost_unchanged(doc):
    before = solved(doc)
    status, after = cost(relabel(doc))
    assert status is Status.OPTIMAL
    assert after == pytest.approx(before, rel=TOL)


@PROPERTY
@given(problems())
def test_raising_the_target_never_lowers_cost(doc):
    before = solved(doc)
    harder = copy.deepcopy(doc)
    harder["target"]["flop"] *= 1.2
    status, after = cost(harder)
    assert status is Status.INFEASIBLE or after >= before * (1 - TOL)


@PROPERTY
@given(problems())
def test_an_unreachable_target_never_yields_a_plan(doc):
    impossible = copy.deepcopy(doc)
    impossible["target"]["flop"] *= 1e4
    status, objective = cost(impossible)
    assert status is Status.INFEASIBLE and objective is None


@PROPERTY
@given(problems())
def test_greedy_plans_verify_and_never_beat_the_optimizer(doc):
    """A greedy plan, when the greedy finds one, passes the verifier and costs at least the optimum;
    when the problem is infeasible the greedy finds none."""
    problem = clustersize.load_problem(doc)
    best = clustersize.solve(problem, gap=GAP, check=False)
    data = build_model_data(problem)
    lp = build(data)
    x = greedy_solution(data, lp)
    if best.status is Status.INFEASIBLE:
        assert x is None
        return
    assume(x is not None)
    greedy = make_plan(problem, data, lp, SolverResult(Status.FEASIBLE, "greedy", "", "greedy", float(lp.cost @ x),
                                                       None, x), SolveOptions())
    assert greedy.verified, greedy.verification["violations"][:3]
    assert best.status is Status.OPTIMAL
    assert greedy.objective_usd >= best.objective_usd * (1 - TOL)
