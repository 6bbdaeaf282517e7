"""Break-even prices: the price at which each option enters or leaves the plan, by bisection.

Each evaluation is a full solve (discrete choices free). An option outside the plan is
priced down from its price toward ~0; one in the plan is priced up, doubling up to
MAX_FACTOR. The break-even price is bracketed to a relative tolerance (default 1 %), and
the plan just past it is summarised.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..data.modeldata import Exclusion
from ..errors import InputError
from ..plan.plan import Plan
from ..processes import kill_executor
from ..schema.load import load_problem
from ..schema.problem import Problem
from ..solving.pipeline import solve

MIN_FACTOR = 1e-3
MAX_FACTOR = 64.0
# Bisection needs log2(log(MAX_FACTOR / MIN_FACTOR) / log(1 + tolerance)) solves per option:
# about 17 at 1e-4 and 24 at 1e-6. Below MIN_TOLERANCE the solver's own gap makes the digits
# meaningless.
MIN_TOLERANCE = 1e-6
MAX_TOLERANCE = 1.0


def check_tolerance(tolerance: float) -> float:
    """The relative tolerance of break-even prices, or InputError when it could never be met.

    Zero, negative or NaN would bisect forever (the bracket never gets that narrow).
    """
    if not isinstance(tolerance, (int, float)) or isinstance(tolerance, bool) or not (
            MIN_TOLERANCE <= tolerance <= MAX_TOLERANCE):
        raise InputError(f"break-even tolerance must be a number in [{MIN_TOLERANCE:g}, {MAX_TOLERANCE:g}], "
                         f"got {tolerance!r}", path="--tolerance", fix="e.g. --tolerance 0.01 (1 %)")
    return float(tolerance)


@dataclass(frozen=True)
class Option:
    """An option and the price field that moves it."""

    kind: str       # accelerator, site, contract, cloud, program
    option: str
    path: str       # override path of its price
    price: float    # current price in the field's unit
    unit: str
    blocked: str = ""  # why it was excluded before solving, if it was


def options_of(problem: Problem) -> list[Option]:
    """Every option with a price to move."""
    # A validated problem prices every accelerator (its validator rejects a missing price_usd).
    found = [Option("accelerator", a, f"accelerators.{a}.price_usd", acc.price_usd, "USD per unit")
             for a, acc in problem.accelerators.items() if acc.price_usd is not None]
    for sid, site in problem.sites.items():
        if site.max_mw > site.existing_mw and site.build_cost_usd_per_mw > 0:
            found.append(Option("site", sid, f"sites.{sid}.build_cost_usd_per_mw", site.build_cost_usd_per_mw,
                                "USD per MW"))
        elif site.fixed_cost_usd > 0:
            found.append(Option("site", sid, f"sites.{sid}.fixed_cost_usd", site.fixed_cost_usd, "USD"))
    found += [Option("contract", k, f"contracts.{k}.price_usd_per_mwh", c.price_usd_per_mwh, "USD per MWh")
              for k, c in problem.contracts.items() if c.price_usd_per_mwh > 0]
    found += [Option("cloud", o, f"cloud.{o}.price_usd_per_hour", c.price_usd_per_hour, "USD per accelerator-hour")
              for o, c in problem.cloud.items()]
    for pid, program in problem.custom_programs.items():
        if program.nre_usd > 0:
            found.append(Option("program", pid, f"custom_programs.{pid}.nre_usd", program.nre_usd, "USD"))
    return found


def in_plan(plan: Plan, option: Option) -> bool:
    """Whether the plan uses the option."""
    if not plan.has_plan:
        return False
    if option.kind == "accelerator":
        purchases = plan.table("purchases")
        return bool((purchases.accelerator == option.option).any())
    if option.kind == "site":
        sites = plan.table("sites")
        return bool(sites.loc[sites.site == option.option, "opened"].any())
    if option.kind == "contract":
        contracts = plan.table("contracts")
        return bool(contracts.loc[contracts.contract == option.option, "signed"].any())
    if option.kind == "cloud":
        return bool((plan.table("rentals").offer == option.option).any())
    programs = plan.table("custom_programs")
    return bool(programs.loc[programs.program == option.option, "funded"].any())


def _summary(plan: Plan) -> str:
    if not plan.has_plan or plan.objective_usd is None:
        return plan.status.value
    purchases, rentals = plan.table("purchases"), plan.table("rentals")
    mix = purchases.groupby("accelerator").units.sum().to_dict() if len(purchases) else {}
    mix.update({f"cloud:{r.offer}": r.units for r in rentals.itertuples()})
    top = sorted(mix.items(), key=lambda kv: -kv[1])[:4]
    return f"${plan.objective_usd / 1e9:,.3f}B: " + ", ".join(f"{k} {v:,.0f}" for k, v in top)


def break_even(base: dict[str, Any], option: Option, used: bool, settings: dict[str, Any],
               tolerance: float) -> dict[str, Any]:
    """Bisect the price multiplier at which `option` flips in or out of the plan."""
    def solve_at(factor: float) -> Plan:
        problem = load_problem(base, {option.path: option.price * factor})
        return solve(problem, check=False, **settings)

    row: dict[str, Any] = {"kind": option.kind, "option": option.option, "in_plan": used, "price": option.price,
                           "unit": option.unit, "break_even_price": None, "plan_past_it": "", "solves": 0, "note": ""}
    if option.blocked:
        row["note"] = f"excluded before solving at any price: {option.blocked}"
        return row
    if used:
        inside, outside = 1.0, 2.0
        plan = solve_at(outside)
        row["solves"] += 1
        while in_plan(plan, option) and outside < MAX_FACTOR:
            inside, outside = outside, outside * 2
            plan = solve_at(outside)
            row["solves"] += 1
        if in_plan(plan, option):
            row["note"] = f"stays in the plan up to {MAX_FACTOR:g}x its price"
            return row
    else:
        outside, inside = 1.0, MIN_FACTOR
        plan = solve_at(inside)
        row["solves"] += 1
        if not in_plan(plan, option):
            why = "another limit keeps it out"
            if option.kind == "contract":
                why = f"its site {problem_site(base, option.option)} would also have to open"
            row["note"] = f"does not enter even at {MIN_FACTOR:.1%} of its price ({why})"
            return row
    while abs(outside - inside) > tolerance * min(inside, outside):
        middle = (inside * outside) ** 0.5
        row["solves"] += 1
        if in_plan(solve_at(middle), option):
            inside = middle
        else:
            outside = middle
    # The plan just past the break-even point: without the option if it was in, with it if not.
    past = solve_at(outside if used else inside)
    row["solves"] += 1
    row["break_even_price"] = option.price * (inside + outside) / 2
    row["plan_past_it"] = _summary(past)
    return row


def problem_site(base: dict[str, Any], contract: str) -> str:
    """The site a contract feeds, from the raw problem document."""
    return str((base.get("contracts") or {}).get(contract, {}).get("site", "?"))


def _task(args: tuple[dict[str, Any], Option, bool, dict[str, Any], float]) -> dict[str, Any]:
    return break_even(*args)


def blocking_reasons(exclusions: Iterable[Exclusion]) -> dict[tuple[str, str], str]:
    """(kind, option) -> why the option was pruned everywhere before solving."""
    reasons: dict[tuple[str, str], str] = {}
    for e in exclusions:
        if e.kind in ("site", "contract"):
            reasons[(e.kind, e.option)] = e.reason
        elif e.kind == "purchase" and e.where == "every site":
            kind, name = (("program", e.option.split(":", 1)[1]) if e.option.startswith("custom:")
                          else ("accelerator", e.option))
            reasons[(kind, name)] = e.reason
    return reasons


def break_even_table(base: dict[str, Any], problem: Problem, plan: Plan, settings: dict[str, Any],
                     tolerance: float = 0.01, workers: int | None = None,
                     exclusions: Iterable[Exclusion] = ()) -> list[dict[str, Any]]:
    """Break-even prices of every option, options in parallel on local processes."""
    tolerance = check_tolerance(tolerance)
    blocked = blocking_reasons(exclusions)
    options = [dataclasses.replace(o, blocked=blocked.get((o.kind, o.option), "")) for o in options_of(problem)]
    jobs = [(base, option, in_plan(plan, option), settings, tolerance) for option in options]
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        return [_task(job) for job in jobs]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        # submit, not map: map cancels the pending futures when interrupted, and the pool's
        # manager thread then fails on them (InvalidStateError on stderr, CPython 3.11).
        futures = [executor.submit(_task, job) for job in jobs]
        rows = [future.result() for future in futures]
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM) or a worker failed: `with` would wait for every running
        # search to finish; kill the workers and their solver children instead.
        kill_executor(executor)
        raise
    executor.shutdown(wait=True)
    return rows
