"""The plan's cost lines on both bases, recomputed by the verifier from its tally of the decisions."""

from __future__ import annotations

from .ledger import Ledger

COST_LINES = ("hardware", "site_fixed", "site_build", "energy", "carbon", "contract_fixed", "cloud", "custom_nre")


def cost_lines(ledger: Ledger) -> dict[str, dict[str, float]]:
    """Each cost line [USD] at full capex and amortised, from the ledger's full-basis sums.

    Amortised straight-line: each purchase from its installation to the latest deadline over the
    hardware life; sites x the horizon (planning start to latest deadline) over the facility life
    (1 without one). Amortised the Epoch AI way: the hardware's value at the run start x trend
    [OOM/year] x ln 10 per year of run, and no site cost (Epoch's scope: hardware, network and
    energy). Energy, contracts, rentals and NRE are never amortised.
    """
    problem, costs = ledger.problem, ledger.costs
    facility_life = problem.costs.facility_life_years
    horizon_days = (ledger.horizon_end - problem.planning_start).days
    site_share = min(1.0, horizon_days / (facility_life * 365.25)) if facility_life else 1.0
    if problem.costs.amortisation == "epoch":
        site_share = 0.0
    lines = {line: {"full": costs[line], "amortised": costs[line]} for line in COST_LINES}
    lines["hardware"]["amortised"] = ledger.amortised_hardware
    for line in ("site_fixed", "site_build"):
        lines[line]["amortised"] = costs[line] * site_share
    return lines


def recomputed_cost(ledger: Ledger) -> float:
    """The plan's cost [USD] on the problem's basis: the sum of its cost lines."""
    basis = "amortised" if ledger.problem.costs.basis == "amortised" else "full"
    return sum(line[basis] for line in cost_lines(ledger).values())
