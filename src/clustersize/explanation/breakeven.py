"""Break-even prices: the price at which each option enters or leaves the plan.

An option in the plan is priced up until it leaves (to MAX_FACTOR at most); one outside is
priced down until it enters (to MIN_FACTOR). Each probe solves the problem at a price
(explanation/probes.py), and the answer is bracketed to a relative tolerance (default 1 %).

The search keeps a bracket [inside, outside]: the option is in the plan found at the lower
factor and out of the one at the upper. Because a plan's cost is linear in the price, the
plan at `inside` costs `cost + (f - inside) slope` at any factor f, and the plan at
`outside` does not depend on the option's price at all; where these two lines cross, the
plan with the option ties the best one without it, so the break-even is at least there. The
search moves `inside` to that crossing and probes just past it: most options close in one
or two probes after the first, where bisection took about ten. Where the price is not linear
in the program (a budget row), the search bisects, as it would without the lines.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..data.modeldata import USD_PER_MUSD, Exclusion
from ..errors import InputError
from ..plan.plan import Plan
from ..processes import kill_executor
from ..schema.problem import Problem
from .probes import PricedOption, Probe, mix_summary, program_at, solve_program

MIN_FACTOR = 1e-3
MAX_FACTOR = 64.0
MAX_PROBES = 60   # bisection alone needs log2(log(MAX_FACTOR / MIN_FACTOR) / log(1 + tolerance)): 24 at 1e-6
# Below MIN_TOLERANCE the solver's own gap makes the digits meaningless.
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


@dataclass(frozen=True)
class BasePlan:
    """The problem solved once at its own prices, shared by every option's search.

    cost [USD], x : the plan's decisions (None without a plan), summary : as in a probe.
    """

    cost: float
    x: Any
    summary: str


def base_plan(base: dict[str, Any], settings: dict[str, Any], solved: Plan | None = None) -> BasePlan:
    """The problem at its own prices: the solved plan's decisions where they fit its program, else
    a solve as every probe is solved (counts continuous)."""
    program = program_at(base, {}, settings)
    if solved is not None and solved.solution is not None and solved.structure == program.lp.structure_key():
        x = solved.solution
        cost = float(program.lp.cost @ x) * USD_PER_MUSD
        return BasePlan(cost, x, mix_summary(program.data, program.lp, x, cost))
    return BasePlan(*solve_program(program))


def _bracket(line: PricedOption, inside: Probe, outside: Probe, tolerance: float) -> tuple[Probe, float, Probe]:
    """Narrow [inside, outside] to `tolerance`: (the last plan with the option, the lower end, the last without).

    The lower end may lie past the last probe with the option: where that plan's cost line
    meets the best cost found without the option (module docstring).
    """
    low, best_out = inside.factor, outside.cost
    for _ in range(MAX_PROBES):
        if outside.factor - low <= tolerance * low:
            break
        slope = line.slope(inside) if line.linear else float("nan")
        crossing = inside.factor + (best_out - inside.cost) / slope if slope > 0 else float("nan")
        # A crossing outside [low, outside) contradicts a probe (solver gap): bisect instead.
        jumped = low <= crossing < outside.factor
        if jumped:
            low = crossing
        if outside.factor - low <= tolerance * low:
            break
        just_past = low * (1 + tolerance / 2)
        factor = just_past if jumped and just_past < outside.factor else (low * outside.factor) ** 0.5
        probe = line.probe(factor)
        if probe.uses:
            inside, low = probe, factor
        else:
            outside, best_out = probe, min(best_out, probe.cost)
    return inside, low, outside


def break_even(base: dict[str, Any], option: Option, plan: BasePlan, settings: dict[str, Any],
               tolerance: float) -> dict[str, Any]:
    """The price at which `option` flips in or out of the plan, within `tolerance` (relative)."""
    row: dict[str, Any] = {"kind": option.kind, "option": option.option, "in_plan": False, "price": option.price,
                           "unit": option.unit, "break_even_price": None, "plan_past_it": "", "solves": 0, "note": ""}
    if option.blocked:
        row["note"] = f"excluded before solving at any price: {option.blocked}"
        return row
    line = PricedOption(base, option.path, option.price, option.kind, option.option, settings)
    here = line.at(1.0, plan.x, plan.cost, plan.summary)
    row["in_plan"] = used = here.uses
    if used:
        inside, outside = here, line.probe(MAX_FACTOR if line.linear else 2.0)
        while not line.linear and outside.uses and outside.factor < MAX_FACTOR:  # double up to the cap
            inside, outside = outside, line.probe(outside.factor * 2)
        if outside.uses:
            row.update(solves=line.solves, note=f"stays in the plan up to {MAX_FACTOR:g}x its price")
            return row
    else:
        inside, outside = line.probe(MIN_FACTOR), here
        if not inside.uses:
            why = "another limit keeps it out"
            if option.kind == "contract":
                why = f"its site {problem_site(base, option.option)} would also have to open"
            row.update(solves=line.solves, note=f"does not enter even at {MIN_FACTOR:.1%} of its price ({why})")
            return row
    with_it, low, without = _bracket(line, inside, outside, tolerance)
    row.update(solves=line.solves, break_even_price=option.price * (low + without.factor) / 2,
               plan_past_it=without.summary if used else with_it.summary)
    return row


def problem_site(base: dict[str, Any], contract: str) -> str:
    """The site a contract feeds, from the raw problem document."""
    return str((base.get("contracts") or {}).get(contract, {}).get("site", "?"))


def _task(args: tuple[dict[str, Any], Option, BasePlan, dict[str, Any], float]) -> dict[str, Any]:
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


def break_even_table(base: dict[str, Any], problem: Problem, settings: dict[str, Any],
                     tolerance: float = 0.01, workers: int | None = None,
                     exclusions: Iterable[Exclusion] = (), solved: Plan | None = None) -> list[dict[str, Any]]:
    """Break-even prices of every option, options in parallel on local processes, from the `solved`
    plan where it is the problem's."""
    tolerance = check_tolerance(tolerance)
    blocked = blocking_reasons(exclusions)
    options = [dataclasses.replace(o, blocked=blocked.get((o.kind, o.option), "")) for o in options_of(problem)]
    here = base_plan(base, settings, solved)
    jobs = [(base, option, here, settings, tolerance) for option in options]
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
