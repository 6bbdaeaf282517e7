"""One option's price as a factor on the problem, and the problem solved at a factor.

A probe rebuilds the problem with the option's price times the factor (rebuilding is cheap:
gpt5's program builds in about 15 ms) and solves it with server counts continuous, as the
first stage of every solve does (solving/pipeline.py); whole-unit rounding moves cost by
under 0.001 % (solver-bench.md), far inside a break-even tolerance.

Every price enters the cost vector linearly (data/money.py): c(f) = c(1) + (f - 1) d.
So a plan found at one factor costs exactly `cost + (f' - f) d.x` at any other, which is
what lets the break-even search jump straight to where a plan with the option ties the best
plan without it. Where a price also enters the constraints (a budget), or a probe's program
is not the interpolation of the two reference builds, the option is marked non-linear and
the search bisects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.modeldata import USD_PER_MUSD, ModelData, build_model_data
from ..formulation import LinearProgram, build
from ..schema.load import load_problem
from ..solvers import Backend, SolveOptions, solve_with_watchdog
from ..solving.pipeline import CONTINUOUS_GAP_SHARE, PIPELINE_GRACE, solver_settings
from ..solving.rounding import with_integer_counts

# The columns whose use puts an option "in the plan", by the option's kind, as the plan's
# tables count it (plan/extract.py); the option's name is the first part of each column's
# key. A contract is in use by its megawatts: "signed" at 0 MW is a free, meaningless choice.
USE_FAMILIES = {"accelerator": ("buy",), "site": ("open",), "contract": ("contract_mw",),
                "cloud": ("rent", "serve_rent", "commit"), "program": ("fund",)}
IN_USE = 1e-6     # a column above this is used (counts are in servers, choices 0/1)
SHOWN = 4         # sources named in a probe's summary


@dataclass(frozen=True)
class Probe:
    """The problem solved at one price factor.

    factor : the option's price multiplier.
    cost : the plan's cost at this factor [USD] (inf without a plan).
    uses : whether the plan uses the option.
    x : the plan's decisions, or None.
    summary : cost and the largest sources, e.g. "$4.521B: b200 41,072, gb200 30,312".
    """

    factor: float
    cost: float
    uses: bool
    x: np.ndarray | None
    summary: str


def use_columns(lp: LinearProgram, kind: str, name: str) -> np.ndarray:
    """Positions of the columns that use the option `name` of `kind`."""
    found = [np.zeros(0, dtype=np.int64)]
    for family in USE_FAMILIES[kind]:
        columns = lp.columns_of(family)
        if columns.size:
            found.append(columns[lp.col_keys.take(columns).firsts() == name])
    return np.concatenate(found)


def mix_summary(data: ModelData, lp: LinearProgram, x: np.ndarray, cost_usd: float) -> str:
    """The plan's cost and its largest sources of accelerators (bought, rented)."""
    mix: dict[str, float] = {}
    for family, per_member, ids, label in (("buy", data.acc_units_per_server, data.acc_ids, "{}"),
                                           ("rent", data.cloud_units_per_instance, data.cloud_ids, "cloud:{}")):
        columns = lp.columns_of(family)
        if not columns.size:
            continue
        names = lp.col_keys.take(columns).firsts()
        per = dict(zip(ids, per_member))
        for name, amount in zip(names, x[columns]):
            if amount > IN_USE:
                mix[label.format(name)] = mix.get(label.format(name), 0.0) + amount * per[name]
    top = sorted(mix.items(), key=lambda kv: -kv[1])[:SHOWN]
    return f"${cost_usd / 1e9:,.3f}B: " + ", ".join(f"{k} {v:,.0f}" for k, v in top)


@dataclass(frozen=True)
class Program:
    """The problem with some overrides, built and ready to solve on its backend."""

    data: ModelData
    lp: LinearProgram
    options: SolveOptions
    backend: Backend


def program_at(base: dict[str, Any], overrides: dict[str, Any], settings: dict[str, Any]) -> Program:
    """Build the problem `base` with `overrides`; settings: solver, time_limit [s], gap (None keeps the problem's)."""
    problem, solver, backend = solver_settings(load_problem(base, overrides), **settings)
    data = build_model_data(problem)
    lp = build(data)
    options = SolveOptions(time_limit_s=solver.time_limit_s, gap=solver.gap * CONTINUOUS_GAP_SHARE,
                           threads=solver.threads, seed=solver.seed, grace_s=PIPELINE_GRACE)
    if solver.integer_units:   # whole units asked for: the exact program at the requested gap
        lp, options = with_integer_counts(lp), dataclasses.replace(options, gap=solver.gap)
    return Program(data, lp, options, backend)


def solve_program(program: Program) -> tuple[float, np.ndarray | None, str]:
    """(cost [USD], decisions, summary) of the program solved; (inf, None, status) without a plan."""
    result = solve_with_watchdog(program.backend, program.lp, program.options)
    if not result.status.has_plan or result.x is None:
        return float("inf"), None, result.status.value
    cost = float(program.lp.cost @ result.x) * USD_PER_MUSD
    return cost, result.x, mix_summary(program.data, program.lp, result.x, cost)


class PricedOption:
    """The problem as a function of one option's price factor.

    base : the raw problem document; path : the price field; price : its value [its unit];
    kind, name : the option. settings : solver, time_limit [s], gap (None keeps the problem's).
    linear : whether every program built so far is the reference (factor 1) with only its
        cost moved by (factor - 1) d, d read from a second build at factor 2.
    """

    def __init__(self, base: dict[str, Any], path: str, price: float, kind: str, name: str,
                 settings: dict[str, Any]) -> None:
        self.base, self.path, self.price, self.kind, self.name = base, path, price, kind, name
        self.settings = settings
        self.solves = 0
        one, two = self._program(1.0).lp, self._program(2.0).lp
        self.reference = one
        self.per_factor = (two.cost - one.cost) * USD_PER_MUSD  # [USD per column unit per unit of factor]
        self.linear = _same_but_cost(one, two)

    def _program(self, factor: float) -> Program:
        return program_at(self.base, {self.path: self.price * factor}, self.settings)

    def slope(self, probe: Probe) -> float:
        """How the probe's plan's cost moves with the factor [USD per unit of factor]."""
        return float(self.per_factor @ probe.x) if probe.x is not None else float("nan")

    def uses(self, lp: LinearProgram, x: np.ndarray | None) -> bool:
        """Whether the decisions `x` of `lp` use the option."""
        return x is not None and bool((x[use_columns(lp, self.kind, self.name)] > IN_USE).any())

    def at(self, factor: float, x: np.ndarray | None, cost: float, summary: str) -> Probe:
        """A probe from a plan solved elsewhere at this factor (the base plan, at factor 1)."""
        return Probe(factor, cost, self.uses(self.reference, x), x, summary)

    def probe(self, factor: float) -> Probe:
        """Solve the problem at `factor` (cold: a start costs SCIP more than it saves, solver-bench.md)."""
        program = self._program(factor)
        if self.linear and not self._interpolates(program.lp, factor):
            self.linear = False
        cost, x, summary = solve_program(program)
        self.solves += 1
        return Probe(factor, cost, self.uses(program.lp, x), x, summary)

    def _interpolates(self, lp: LinearProgram, factor: float) -> bool:
        """The program at `factor` is the reference with the cost moved by (factor - 1) d."""
        expected = self.reference.cost + (factor - 1.0) * self.per_factor / USD_PER_MUSD
        return _same_but_cost(self.reference, lp) and np.allclose(lp.cost, expected, rtol=1e-9, atol=1e-12)


def _same_but_cost(a: LinearProgram, b: LinearProgram) -> bool:
    """Same columns, rows, coefficients and bounds: only the cost vector may differ."""
    return (a.structure_key() == b.structure_key() and np.array_equal(a.matrix.data, b.matrix.data)
            and all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("lower", "upper", "row_lower", "row_upper")))
