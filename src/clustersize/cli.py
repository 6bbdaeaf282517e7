"""The command line: a thin shell over the library.

Exit codes: 0 verified plan; 2 bad input; 3 infeasible; 4 limit reached without a plan;
5 the plan failed independent verification (a bug: please report it); 1 anything else.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from .errors import ClustersizeError, InputError
from .status import Status

if TYPE_CHECKING:
    import pandas as pd

WIDE_COLUMNS = 250
"""Characters per line of --wide output."""

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Plan AI compute build-outs: the cheapest verified way to a training-compute target.")
catalog_app = typer.Typer(no_args_is_help=True, help="Show catalog entries with derived figures.")
app.add_typer(catalog_app, name="catalog")
err = Console(stderr=True)

EXIT_BY_STATUS = {Status.INFEASIBLE: 3, Status.NO_SOLUTION: 4, Status.ERROR: 4, Status.UNBOUNDED: 1}
MAX_PLAN_BYTES = 200_000_000
MAX_SET_SEGMENTS = 8      # the deepest field, e.g. custom_programs.ID.chip.components.ID, has 5
MAX_SET_PATH_CHARS = 300
WHATIF_ENTRIES = frozenset({"results.parquet", "results.csv", "cost_distribution.png", "scenario_costs.png",
                            "objective.png", "mix.png"})
# Terminal escape sequences and other control characters: text from a problem file or the command
# line must not move the cursor, recolour or retitle the user's terminal.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object) -> str:
    """`text` safe to print through rich: control characters removed, [markup] shown literally."""
    return escape(_CONTROL.sub("", str(text)))


def parse_sets(items: list[str] | None) -> dict[str, str]:
    """['a.b=1', ...] -> {'a.b': '1'}; InputError for an item without '=' or with an absurd path."""
    overrides = {}
    for item in items or []:
        path, sep, value = item.partition("=")
        if not sep or not path.strip():
            raise InputError(f"--set {plain(item)[:200]!r} is not PATH=VALUE",
                             fix="e.g. --set accelerators.h100-sxm.price_usd=20000")
        if len(path) > MAX_SET_PATH_CHARS or path.count(".") >= MAX_SET_SEGMENTS:
            raise InputError(f"the path has {path.count('.') + 1:,} segments and {len(path):,} characters (at most "
                             f"{MAX_SET_SEGMENTS} and {MAX_SET_PATH_CHARS})", path="--set",
                             fix="e.g. --set accelerators.h100-sxm.price_usd=20000")
        overrides[path.strip()] = value.strip()
    return overrides


def read_plan(path: Path) -> Any:
    """A Plan from plan.json; InputError naming the file and the malformed field otherwise."""
    from .plan import Plan

    try:
        if path.stat().st_size > MAX_PLAN_BYTES:
            raise ValueError(f"larger than {MAX_PLAN_BYTES:,} bytes")
        return Plan.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, RecursionError, MemoryError) as exc:
        reason = str(exc)[:300] if not isinstance(exc, RecursionError) else "nested too deeply"
        raise InputError(f"not a clustersize plan ({reason})", file=str(path),
                         fix="pass plan.json from solve --out") from None


def _deterministic_only(problem: Any, what: str, problem_file: Path) -> None:
    """InputError before any solve when a command of deterministic solves is given a two-stage problem."""
    if problem.scenarios:
        raise InputError(f"{what} are deterministic solves, and this problem has scenarios (a two-stage problem)",
                         file=str(problem_file), path="scenarios",
                         fix="solve its scenarios with `clustersize solve`, or use a copy of the file without them")


def _is_two_stage(path: Path) -> bool:
    """True when `path` is the plan.json of a two-stage plan directory."""
    try:
        return path.stat().st_size <= MAX_PLAN_BYTES and json.loads(path.read_text(encoding="utf-8")).get("kind") \
            == "two_stage"
    except (OSError, ValueError, AttributeError, RecursionError):
        return False


def _verify_two_stage(plan_file: Path, problem: Any) -> None:
    """Verify a written two-stage plan: each scenarios/NAME/plan.json on its scenario's problem, then
    one first stage for all and every figure recomputed."""
    from .risk.written import verify_written

    if not problem.scenarios:
        raise InputError("this is a two-stage plan, but the problem has no scenarios", file=str(plan_file),
                         fix="pass the problem file with the scenarios it was solved with")
    report = verify_written(json.loads(plan_file.read_text(encoding="utf-8")), plan_file.parent, problem, read_plan)
    if report["ok"]:
        typer.echo(f"verified: every scenario's plan and {report['checks']} two-stage checks passed")
        return
    typer.echo(f"NOT verified: {len(report['violations'])} violations")
    for v in report["violations"]:
        typer.echo(_CONTROL.sub("", f"  {v['check']} [{v['index']}]: {v['message']}"))
    raise typer.Exit(5)


def _check_solve_options(solver: str | None, time_limit: float | None, gap: float | None) -> None:
    """Reject bad solver options before any work (the library checks them again)."""
    from .schema.errors import input_error_from_validation
    from .schema.problem import SolverOptions

    given = {k: v for k, v in {"name": solver, "time_limit_s": time_limit, "gap": gap}.items() if v is not None}
    if not given:
        return
    from pydantic import ValidationError

    try:
        SolverOptions.model_validate(given)
    except ValidationError as exc:
        raise input_error_from_validation(exc, file="command line", prefix="solver") from None


# The filter flags of solve and verify, declared once (they set the problem's filters section).
ExcludeSite = Annotated[list[str] | None, typer.Option("--exclude-site", help="A site the plan may not use (repeatable).")]
ExcludeCountry = Annotated[list[str] | None, typer.Option(
    "--exclude-country", help="A country (ISO alpha-2) whose sites and cloud offers the plan may not use (repeatable).")]
OnlySites = Annotated[list[str] | None, typer.Option("--only-sites", help="The only sites the plan may use (repeatable).")]
OnlyAccelerators = Annotated[list[str] | None, typer.Option(
    "--only-accelerators", help="The only accelerators the plan may buy or rent (repeatable).")]


@app.command()
def solve(
    problem_file: Path = typer.Argument(..., help="Problem YAML file."),
    solver: str | None = typer.Option(None, help="scip (default), highs, cpsat or cbc."),
    time_limit: float | None = typer.Option(None, help="Time budget for each solve, all solver calls included [s]."),
    gap: float | None = typer.Option(None, help="Relative optimality gap, e.g. 1e-4."),
    threads: int | None = typer.Option(None, help="Solver threads."),
    seed: int | None = typer.Option(None, help="Solver random seed."),
    integer_units: bool = typer.Option(False, "--integer-units", help="Solve whole servers exactly from the start."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a field: PATH=VALUE (repeatable)."),
    out: str | None = typer.Option(None, help="Write plan.json and tables/ here (replaced as a whole)."),
    table_format: str = typer.Option("csv", "--format", help="Table files: csv or parquet."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON on stdout instead of the summary."),
    objective: str | None = typer.Option(None, help="cost (default), finish (earliest end) or compute (most FLOP)."),
    budget: float | None = typer.Option(None, help="Most the plan may cost on its cost basis [USD]."),
    run: str | None = typer.Option(None, "--run", help="The run a finish or compute objective is about."),
    exclude_site: ExcludeSite = None,
    exclude_country: ExcludeCountry = None,
    only_sites: OnlySites = None,
    only_accelerators: OnlyAccelerators = None,
    report_file: str | None = typer.Option(None, "--report", help="Also write the plan as one HTML page here."),
    wide: bool = typer.Option(False, "--wide", help="Print the summary's tables at full width, whatever the terminal."),
    samples: int | None = typer.Option(None, "--samples", help="Solve a two-stage plan over N scenarios drawn from "
                                                                "the problem's uncertainty: (instead of its scenarios)."),
    sample_seed: int = typer.Option(0, "--sample-seed", help="Seed of the --samples draws (--seed is the solver's)."),
    evaluate: int = typer.Option(0, "--evaluate", help="Evaluate the two-stage plan on M fresh draws: mean cost and "
                                                        "its 95 % confidence interval."),
    workers: int | None = typer.Option(None, "--workers", help="Two-stage: solve scenario programs on N local "
                                                                "processes (default: one per core)."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Two-stage: solve scenario programs on this Dask "
                                                                    "scheduler, e.g. tcp://127.0.0.1:8786."),
    risk: str | None = typer.Option(None, "--risk", help="Two-stage objective: expected, or cvar:LEVEL:WEIGHT (e.g. "
                                                         "cvar:0.9:0.3 = 70 % expected + 30 % CVaR90)."),
) -> None:
    """Solve a problem, verify the plan, print it and write it; a problem with scenarios (or --samples)
    as a two-stage plan (docs/risk.md)."""
    from . import load_problem
    from . import solve as run_solve
    from .plan import write_plan
    from .plan.writers import PLAN_ENTRIES, check_out_dir, check_table_format
    from .reports.terminal import render
    from .risk.plan import ENTRIES as TWO_STAGE_ENTRIES

    # Everything that can be checked before the solve is: a bad --out must not cost a solve.
    check_table_format(table_format)
    # a problem with scenarios writes a two-stage plan directory: either may replace the other
    out_dir = check_out_dir(out, PLAN_ENTRIES | TWO_STAGE_ENTRIES) if out is not None else None
    report_path = _output_file(report_file, "--report") if report_file is not None else None
    _check_solve_options(solver, time_limit, gap)
    filters = _filter_sets(exclude_site, exclude_country, only_sites, only_accelerators)
    problem = load_problem(problem_file, {**parse_sets(set_), **_objective_sets(objective, budget, run), **filters,
                                          **_risk_sets(risk)})
    if problem.scenarios or samples is not None:
        if report_path is not None:
            raise InputError("a two-stage problem has no single-page report yet", path="--report",
                             fix="write --out DIR and report one scenario: clustersize report DIR/scenarios/NAME/plan.json")
        _solve_two_stage(problem, out_dir, table_format, as_json, wide, solver=solver, time_limit=time_limit, gap=gap,
                         threads=threads, seed=seed, integer_units=integer_units or None, samples=samples,
                         sample_seed=sample_seed, evaluate=evaluate, workers=workers, scheduler=scheduler)
        return
    for given, option in ((workers, "--workers"), (scheduler, "--scheduler")):
        if given is not None:
            raise InputError(f"{option} spreads a two-stage solve's scenarios, and this problem has none", path=option,
                             fix=f"drop {option}, or give scenarios (or --samples N)")
    if evaluate:
        raise InputError("--evaluate judges a two-stage plan, and this problem has no scenarios", path="--evaluate",
                         fix="add --samples N (or scenarios: to the problem), or drop --evaluate")
    if problem.uncertainty.given:
        err.print("note: the problem declares uncertainty:; this is its deterministic plan "
                  "(--samples N solves a two-stage plan over N draws)")
    plan = run_solve(problem, solver=solver, time_limit=time_limit, gap=gap, threads=threads, seed=seed,
                     integer_units=integer_units or None, check=False)
    if as_json:
        typer.echo(plan.to_json())
    else:
        render(plan, Console(width=WIDE_COLUMNS) if wide else Console())
    if out_dir is not None:
        written = write_plan(plan, out_dir, table_format)
        err.print(f"wrote {len(written)} files under {plain(out_dir)}")
    if report_path is not None:
        _write_report(plan, report_path)
    _exit_unless_verified(plan, "the plan")


def _exit_unless_verified(plan: Any, what: str) -> None:
    """Exit 5 with the first violations when `plan` (a plan or a two-stage plan) failed verification;
    with its status's code and its messages when it has no plan."""
    if plan.has_plan and not plan.verified:
        err.print(f"[red]{what} failed independent verification; this is a bug in clustersize[/red]")
        for v in (plan.verification or {}).get("violations", [])[:10]:
            err.print(plain(f"  {v['check']} [{v['index']}]: {v['message']}"))
        raise typer.Exit(5)
    if not plan.has_plan:
        for message in plan.messages:
            err.print(plain(message))
        raise typer.Exit(EXIT_BY_STATUS.get(plan.status, 1))


def _solve_two_stage(problem: Any, out_dir: Path | None, table_format: str, as_json: bool, wide: bool,
                     **settings: Any) -> None:
    """Solve, print and write a problem with scenarios (docs/risk.md); exit codes as for one plan."""
    from .reports.twostage import render as render_two_stage
    from .risk.solve import solve_two_stage

    plan = solve_two_stage(problem, check=False, **settings)
    if as_json:
        typer.echo(plan.to_json())
    else:
        render_two_stage(plan, Console(width=WIDE_COLUMNS) if wide else Console())
    if out_dir is not None and plan.has_plan:
        written = plan.write(out_dir, table_format)
        err.print(f"wrote {len(written)} files under {plain(out_dir)}")
    _exit_unless_verified(plan, "the two-stage plan")


def _write_page(html: str, path: Path) -> None:
    """Write an HTML page atomically and say so."""
    from .plan.writers import write_text

    write_text(html, path)
    err.print(f"wrote {plain(path)}")


def _write_report(plan: Any, path: Path, pdf: Path | None = None, chromium: str | None = None) -> None:
    """Write the HTML report (and its PDF) atomically."""
    from .reports.html import render_html

    _write_page(render_html(plan), path)
    if pdf is not None and chromium is not None:
        from .reports.browser import print_pdf

        print_pdf(path, pdf, chromium)
        err.print(f"wrote {plain(pdf)}")


@app.command()
def report(
    source: Path = typer.Argument(..., help="A plan.json written by `clustersize solve --out`, or a problem YAML "
                                            "(solved first)."),
    out: str = typer.Option(..., "--out", help="The HTML file to write (self-contained: opens offline)."),
    pdf: str | None = typer.Option(None, "--pdf", help="Also print the page to this PDF with headless Chromium."),
    break_even: bool = typer.Option(False, "--break-even", help="Add break-even prices (a problem only: solves "
                                                                 "once per price tried)."),
    solver: str | None = typer.Option(None, help="scip (default), highs, cpsat or cbc (a problem only)."),
    time_limit: float | None = typer.Option(None, help="Time budget for each solve [s] (a problem only)."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a field: PATH=VALUE (a problem only)."),
) -> None:
    """One HTML page a planner can hand to a board: the answer, mix, timeline, costs, what binds,
    assumptions and provenance, charts inline."""
    from . import load_problem
    from . import solve as run_solve

    path = _output_file(out)
    pdf_path = _output_file(pdf, "--pdf") if pdf is not None else None
    chromium = None
    if pdf_path is not None:
        from .reports.browser import require_chromium

        chromium = require_chromium()        # before any solve: a missing browser must not cost one
    if source.suffix == ".json":
        if break_even or set_:
            raise InputError("--break-even and --set need the problem, not a plan file", path="--break-even",
                             fix="give the problem YAML instead of plan.json")
        plan = read_plan(source)
    else:
        _check_solve_options(solver, time_limit, None)
        problem = load_problem(source, parse_sets(set_))
        plan = run_solve(problem, solver=solver, time_limit=time_limit, check=False)
        if break_even and plan.has_plan:
            from .explanation import explain as run_explain

            plan.explanation = run_explain(problem, plan, solver=solver, time_limit=time_limit).to_dict()
    _write_report(plan, path, pdf_path, chromium)


@app.command()
def verify(
    plan_file: Path = typer.Argument(..., help="plan.json written by `clustersize solve --out`."),
    problem_file: Path = typer.Argument(..., help="The problem YAML the plan answers."),
    set_: list[str] | None = typer.Option(None, "--set", help="The overrides the plan was solved with."),
    exclude_site: ExcludeSite = None,
    exclude_country: ExcludeCountry = None,
    only_sites: OnlySites = None,
    only_accelerators: OnlyAccelerators = None,
) -> None:
    """Check a written plan against its problem, independently of any solver: the decisions obey
    every constraint, and every figure the file states is recomputed and compared."""
    from . import load_problem
    from .plan.verify import verify as run_verify

    problem = load_problem(problem_file, {**parse_sets(set_),
                                          **_filter_sets(exclude_site, exclude_country, only_sites, only_accelerators)})
    if _is_two_stage(plan_file):
        _verify_two_stage(plan_file, problem)
        return
    plan = read_plan(plan_file)
    report = run_verify(plan, problem)
    mismatches = report.mismatches
    if report.ok:
        typer.echo(f"verified: {report.checks} checks passed, every stated figure recomputed; "
                   f"cost {report.cost_usd or 0.0:,.2f} USD")
        return
    if report.violations or not plan.has_plan:
        typer.echo(f"NOT verified: {len(report.violations)} violations")
        for v in report.violations:
            typer.echo(_CONTROL.sub("", f"  {v.check} [{v.index}]: {v.message}"))
    if mismatches:
        typer.echo(f"NOT verified: {len(mismatches)} stated figures disagree with their recomputation")
        for m in mismatches:
            typer.echo(_CONTROL.sub("", f"  {m.field}: {m.message}"))
    raise typer.Exit(5 if plan.has_plan or mismatches else 4)


@app.command()
def whatif(
    problem_file: Path = typer.Argument(..., help="Problem YAML file."),
    vary: list[str] | None = typer.Option(None, help="PATH=START:STOP:N or PATH=a,b,c (repeatable: a grid)."),
    zip_values: bool = typer.Option(False, "--zip", help="Pair the --vary lists instead of a full grid."),
    sample: list[str] | None = typer.Option(None, help="PATH~triangular(a,b,c) etc. (repeatable): Monte Carlo."),
    samples: int = typer.Option(100, help="Monte Carlo draws."),
    seed: int = typer.Option(0, help="Monte Carlo seed."),
    correlate: list[str] | None = typer.Option(None, help="PATH_A,PATH_B=RHO between sampled parameters."),
    scenarios: Path | None = typer.Option(None, help="YAML file: scenarios: {name: {path: value}}."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a field for every point: PATH=VALUE."),
    solver: str | None = typer.Option(None, help="scip (default), highs, cpsat or cbc."),
    time_limit: float | None = typer.Option(None, help="Time budget for each solve, all solver calls included [s]."),
    gap: float | None = typer.Option(None, help="Relative optimality gap."),
    workers: int | None = typer.Option(None, help="Local worker processes (default: one per core)."),
    scheduler: str | None = typer.Option(None, help="Dask scheduler address, e.g. tcp://127.0.0.1:8786."),
    warm_start: bool = typer.Option(True, "--warm-start/--no-warm-start",
                                    help="Start each point from the previous plan."),
    out: str = typer.Option("whatif-out",
                            help="Directory for results.parquet, results.csv and plots (replaced as a whole)."),
    plot: bool = typer.Option(False, "--plot", help="Write PNG plots under --out."),
    report_file: str | None = typer.Option(None, "--report", help="Also write the run as one HTML page here."),
) -> None:
    """Solve the problem over a sweep, Monte Carlo samples or scenarios; every point verified."""
    from .plan.writers import check_out_dir
    from .schema.load import apply_overrides
    from .whatif import base_document, make_points, run_points
    from .whatif.runner import check_scheduler

    out_dir = check_out_dir(out, WHATIF_ENTRIES)
    report_path = _output_file(report_file, "--report") if report_file is not None else None
    if scheduler is not None:
        scheduler = check_scheduler(scheduler)
    _check_solve_options(solver, time_limit, gap)
    base = base_document(problem_file)
    apply_overrides(base, parse_sets(set_), file=str(problem_file))
    from . import load_problem

    base_problem = load_problem(base)  # the base problem itself must be valid
    _deterministic_only(base_problem, "what-if points", problem_file)
    points, parameters = make_points(base, vary=vary, zip_values=zip_values, samples=sample, n_samples=samples,
                                     seed=seed, correlations=correlate, scenarios=scenarios)
    settings = {"solver": solver, "time_limit": time_limit, "gap": gap, "warm_start": warm_start}
    result = run_points(base, points, settings, workers=workers, scheduler=scheduler, progress=True)
    frame = result.frame()
    if result.interrupted:
        written = _write_whatif(frame, parameters, out_dir, plot=False)
        err.print(f"interrupted: {len(frame)} of {len(points)} points finished and written under {plain(out_dir)}")
        raise typer.Exit(result.exit_code)
    _print_whatif(frame, parameters, points[0].mode if points else "")
    own = {p: _value_at(base_problem, p) for p in parameters}
    written = _write_whatif(frame, parameters, out_dir, plot, own)
    err.print(f"wrote {', '.join(plain(p) for p in written)}")
    if report_path is not None:
        from .reports.study import whatif_html
        from .schema.load import input_hash

        _write_page(whatif_html(frame, parameters, problem=base_problem.name, input_hash=input_hash(base_problem),
                                settings=settings, base=own), report_path)


def _filter_sets(exclude_site: list[str] | None, exclude_country: list[str] | None, only_sites: list[str] | None,
                 only_accelerators: list[str] | None) -> dict[str, Any]:
    """The filter flags as overrides of the filters section (checked against the problem's options)."""
    given = {"filters.exclude_sites": exclude_site, "filters.exclude_countries": exclude_country,
             "filters.only_sites": only_sites, "filters.only_accelerators": only_accelerators}
    return {path: list(values) for path, values in given.items() if values}


def _objective_sets(objective: str | None, budget: float | None, run: str | None) -> dict[str, Any]:
    """--objective, --budget and --run as overrides of the objective section (validated with the problem)."""
    given = {"objective.kind": objective, "objective.budget_usd": budget, "objective.run": run}
    return {path: value for path, value in given.items() if value is not None}


def _risk_sets(risk: str | None) -> dict[str, Any]:
    """--risk expected | cvar:LEVEL:WEIGHT as overrides of risk.cvar (LEVEL in (0, 1), WEIGHT in [0, 1],
    checked with the problem)."""
    if risk is None:
        return {}
    if risk.strip() == "expected":
        return {"risk.cvar": None}
    match = re.fullmatch(r"\s*cvar:([^:]+):([^:]+)\s*", risk)
    if not match:
        raise InputError(f"--risk {risk!r} is not 'expected' or 'cvar:LEVEL:WEIGHT'", path="--risk",
                         fix="e.g. --risk cvar:0.9:0.3 (70 % expected cost + 30 % CVaR90)")
    return {"risk.cvar.level": match.group(1), "risk.cvar.weight": match.group(2)}


FRONTIER_ENTRIES = frozenset({"frontier.csv", "frontier.png"})


@app.command()
def frontier(
    problem_file: Path = typer.Argument(..., help="Problem YAML file."),
    axis: str = typer.Option("finish", help="finish (the run's end date) or emissions [tCO2]."),
    points: int = typer.Option(5, help="Points from the least value of the axis to the cost optimum's (>= 2)."),
    out: str = typer.Option("frontier-out", help="Write frontier.csv and frontier.png here (replaced as a whole)."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a field: PATH=VALUE (repeatable)."),
    budget: float | None = typer.Option(None, help="Most any plan may cost on its cost basis [USD]."),
    run: str | None = typer.Option(None, "--run", help="The run whose finish is traced (default: the last)."),
    solver: str | None = typer.Option(None, help="scip (default), highs, cpsat or cbc."),
    time_limit: float | None = typer.Option(None, help="Time budget for each point [s]."),
    gap: float | None = typer.Option(None, help="Relative optimality gap."),
    report_file: str | None = typer.Option(None, "--report", help="Also write the frontier as one HTML page here."),
) -> None:
    """Trace cost against the finish date (or emissions): every point solved and verified."""
    report_path = _output_file(report_file, "--report") if report_file is not None else None
    from . import load_problem
    from .plan.writers import check_out_dir
    from .solving.objectives import AXES
    from .solving.objectives import frontier as trace
    from .solving.pipeline import solver_settings

    if axis not in AXES:
        raise InputError(f"unknown axis {axis!r}", path="--axis", fix=f"use one of {', '.join(AXES)}")
    if not 2 <= points <= 200:
        raise InputError(f"{points} points", path="--points", fix="give 2 to 200 points")
    out_dir = check_out_dir(out, FRONTIER_ENTRIES)
    _check_solve_options(solver, time_limit, gap)
    problem = load_problem(problem_file, {**parse_sets(set_), **_objective_sets(None, budget, run)})
    _deterministic_only(problem, "frontier points", problem_file)
    problem, settings, backend = solver_settings(problem, solver=solver, time_limit=time_limit, gap=gap)
    found, _ = trace(problem, axis, points, settings, backend)
    frame = _frontier_frame(found, axis, problem.planning_start)
    _show(frame, f"Cost against {axis}")
    written = _write_frontier(frame, axis, out_dir)
    err.print(f"wrote {len(written)} files under {plain(out_dir)}")
    if report_path is not None:
        from .reports.study import frontier_html
        from .schema.load import input_hash

        _write_page(frontier_html(frame, axis, problem=problem.name, input_hash=input_hash(problem),
                                  settings={"solver": settings.name, "time_limit_s": settings.time_limit_s,
                                            "gap": settings.gap}), report_path)
    if not frame.verified.all():
        raise typer.Exit(EXIT_BY_STATUS.get(Status(frame.status.iloc[0]), 4) if len(frame) == 1 else 5)


def _frontier_frame(found: list[Any], axis: str, origin: Any) -> pd.DataFrame:
    """frontier.csv: the axis value (a date for finish, tCO2 for emissions), cost, status, verified."""
    import datetime as dt

    import pandas as pd

    def shown(value: float | None) -> Any:
        if value is None or value != value:
            return None
        return (origin + dt.timedelta(days=round(value))).isoformat() if axis == "finish" else round(value, 3)

    column = "finish" if axis == "finish" else "emissions_t"
    return pd.DataFrame({column: [shown(p.value) for p in found], "cost_usd": [p.cost_usd for p in found],
                         "status": [p.status for p in found], "verified": [p.verified for p in found]})


def _write_frontier(frame: pd.DataFrame, axis: str, out: Path) -> list[Path]:
    """frontier.csv and, where matplotlib is installed, frontier.png, published together."""
    from .plan.writers import publish_dir, write_table

    def fill(tmp: Path) -> list[Path]:
        written = [write_table(frame, tmp / "frontier.csv")]
        try:
            from .whatif.plots import frontier_plot
            written.append(frontier_plot(frame, axis, tmp / "frontier.png"))
        except InputError:
            pass  # no matplotlib: the table alone
        return written

    return publish_dir(out, fill, FRONTIER_ENTRIES)


def _value_at(problem: Any, path: str) -> float | None:
    """The problem's own number at a field path (None where it is not a number)."""
    node = problem
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) or hasattr(node, "keys") else getattr(node, part, None)
        if node is None:
            return None
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def _write_whatif(frame: Any, parameters: list[str], out: Path, plot: bool,
                  base: dict[str, float | None] | None = None) -> list[Path]:
    """results.parquet, results.csv and the plots, published into `out` all at once."""
    from .plan.writers import publish_dir, write_table
    from .whatif.plots import plot as make_plots

    def fill(tmp: Path) -> list[Path]:
        written = [write_table(frame, tmp / "results.parquet"), write_table(frame, tmp / "results.csv")]
        if plot:
            written += make_plots(frame, parameters, tmp, {k: v for k, v in (base or {}).items() if v is not None})
        return written

    return publish_dir(out, fill, WHATIF_ENTRIES)


def _print_whatif(frame: Any, parameters: list[str], mode: str) -> None:
    """The what-if summary: counts, then percentiles, a scenario comparison or the sweep table."""
    import pandas as pd

    from .reports.numbers import usd
    from .reports.terminal import frame_table
    from .whatif.summary import comparison, percentiles, reachable_share

    console = Console()
    counts = frame.status.value_counts().to_dict() if "status" in frame else {}
    console.print(plain(f"{len(frame)} points: " + ", ".join(f"{n} {s}" for s, n in counts.items())))
    if "objective_usd" not in frame:  # no point has a plan: nothing more to tabulate
        return
    if mode == "sample":
        console.print(f"target reachable in {reachable_share(frame):.0%} of samples")
        console.print(frame_table(percentiles(frame), "Percentiles over samples with a plan"))
    elif mode == "scenario":
        shown = comparison(frame).assign(
            objective_usd=lambda f: f.objective_usd.map(usd),
            change_usd=lambda f: f.change_usd.map(lambda v: "-" if pd.isna(v) else ("+" if v > 0 else "") + usd(v)),
            change=lambda f: f.change.map(lambda v: "-" if pd.isna(v) else f"{v:+.1%}"))
        console.print(frame_table(shown, "Scenarios, each against the base"))
    else:
        shown = [*parameters, "status", "objective_usd", "binding"]
        console.print(frame_table(frame[[c for c in shown if c in frame.columns]]
                                  .assign(objective_usd=lambda f: f.objective_usd.map(usd)), "Sweep", max_rows=60))


@app.command()
def explain(
    problem_file: Path = typer.Argument(..., help="Problem YAML file."),
    plan_file: Path | None = typer.Option(None, "--plan", help="Explain this plan.json instead of solving."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a field: PATH=VALUE (repeatable)."),
    solver: str | None = typer.Option(None, help="scip (default), highs, cpsat or cbc."),
    time_limit: float | None = typer.Option(None, help="Time budget for each solve, all solver calls included [s]."),
    gap: float | None = typer.Option(None, help="Relative optimality gap."),
    break_even: bool = typer.Option(True, "--break-even/--no-break-even", help="Find break-even prices (re-solves)."),
    tolerance: float = typer.Option(0.01, help="Relative tolerance of break-even prices, in [1e-6, 1]."),
    workers: int | None = typer.Option(None, help="Processes for break-even searches (default: one per core)."),
    out: str | None = typer.Option(None, help="Write plan.json (with an 'explanation' key) and tables here."),
    as_json: bool = typer.Option(False, "--json", help="Print the explanation as JSON instead of the report."),
) -> None:
    """Why the plan is what it is: what binds and its worth, break-even prices, or why infeasible."""
    from . import load_problem
    from . import solve as run_solve
    from .explanation import explain as run_explain
    from .explanation.breakeven import check_tolerance
    from .explanation.render import render
    from .plan import write_plan
    from .plan.plan import jsonable
    from .plan.writers import PLAN_ENTRIES, check_out_dir
    from .whatif import base_document

    tolerance = check_tolerance(tolerance)
    out_dir = check_out_dir(out, PLAN_ENTRIES) if out is not None else None
    _check_solve_options(solver, time_limit, gap)
    base = base_document(problem_file)
    overrides = parse_sets(set_)
    problem = load_problem(problem_file, overrides)
    if plan_file is not None:
        plan = read_plan(plan_file)
    else:
        plan = run_solve(problem, solver=solver, time_limit=time_limit, gap=gap, check=False)
    if overrides:
        from .schema.load import apply_overrides

        apply_overrides(base, overrides, file=str(problem_file))
    explanation = run_explain(problem, plan, break_even=break_even, tolerance=tolerance, workers=workers,
                              solver=solver, time_limit=time_limit, gap=gap, base=base)
    plan.explanation = explanation.to_dict()
    if as_json:
        typer.echo(json.dumps(jsonable(plan.explanation), indent=2))
    else:
        render(explanation, Console())
    if out_dir is not None:
        written = write_plan(plan, out_dir)
        err.print(f"wrote {len(written)} files under {plain(out_dir)}")
    if not plan.has_plan:
        raise typer.Exit(EXIT_BY_STATUS.get(plan.status, 1))


def _output_file(out: str, option: str = "--out") -> Path:
    """A file to write, checked before any work: non-empty, not a directory."""
    if not out.strip() or Path(out).is_dir():
        raise InputError(f"{out!r} is not a file name", path=option, fix="e.g. --out problem.yaml")
    return Path(out)


@app.command()
def generate(
    size: str = typer.Option("3x3x4x4", help="CHIPSxSITESxQUARTERSxCONTRACTS, e.g. 15x30x12x50."),
    seed: int = typer.Option(0, help="Random seed: equal size and seed give an equal problem."),
    out: str | None = typer.Option(None, help="Write the problem YAML here instead of stdout."),
) -> None:
    """Write a seeded, valid, synthetic problem file."""
    import yaml

    from .baselines.generate import generate_problem
    from .plan.writers import write_text

    target = _output_file(out) if out is not None else None

    try:
        doc = generate_problem(size, seed)
    except ValueError as exc:
        raise InputError(str(exc), path="--size", fix="e.g. --size 15x30x12x50") from None
    text = yaml.safe_dump(doc, sort_keys=False)
    if target is not None:
        write_text(text, target)
        err.print(f"wrote {plain(target)}")
    else:
        typer.echo(text)


@app.command()
def schema(out: str | None = typer.Option(None, help="Write the JSON Schema here instead of stdout.")) -> None:
    """The JSON Schema of the problem file."""
    from .plan.writers import write_text
    from .schema.problem import Problem

    target = _output_file(out) if out is not None else None
    text = json.dumps(Problem.model_json_schema(by_alias=True), indent=2)
    if target is not None:
        write_text(text + "\n", target)
    else:
        typer.echo(text)


def _show(frame: pd.DataFrame, title: str, wide: bool = False) -> None:
    from .reports.terminal import frame_table

    console = Console()
    if wide or not console.is_terminal:
        console = Console(width=max(WIDE_COLUMNS, 16 * len(frame.columns)))
    console.print(frame_table(frame, title, max_rows=500))


CatalogSort = Annotated[str | None, typer.Option(
    "--sort", help="Sort by a column; a leading - sorts descending (e.g. --sort -usd_per_pflop_hour).")]
CatalogFilter = Annotated[str | None, typer.Option(
    "--filter", help="Keep rows matching a condition over the columns, e.g. \"price_usd < 30000 and confidence == 'H'\".")]
CatalogFormat = Annotated[str, typer.Option("--format", help="table, json (one object per row) or csv.")]
CatalogWide = Annotated[bool, typer.Option("--wide", help="Print every column at full width.")]


def _catalog_command(view: str) -> Callable[..., None]:
    def command(sort: CatalogSort = None, filter: CatalogFilter = None, format: CatalogFormat = "table",
                wide: CatalogWide = False) -> None:
        from .reports import catalog as catalog_views

        if format not in ("table", "json", "csv"):
            raise InputError(f"--format {format!r} is not known", path="--format",
                             fix="use --format table, json or csv")
        title, build = catalog_views.VIEWS[view]
        frame = catalog_views.select(build(), sort, filter)
        if format == "table":
            _show(frame, title, wide)
        else:
            typer.echo(catalog_views.render(frame, format), nl=False)

    return command


for _view, _help in {
        "accelerators": "Accelerators: all-in $/unit, $/PFLOP/s-hour, kW per PFLOP/s, the price's type, level, date, "
                        "source and confidence, export class.",
        "sites": "Datacenter markets, with the sources, oldest date and lowest confidence of their figures.",
        "contracts": "Energy contract templates, with their sources, dates and confidence.",
        "cloud": "Cloud offers, with $/PFLOP/s-hour (dense BF16) and their sources, dates and confidence.",
        "programs": "Custom-chip programs, with their sources, dates and confidence.",
        "rules": "Export-control policies of every ruleset, in precedence order."}.items():
    _command = _catalog_command(_view)
    _command.__doc__ = _help
    catalog_app.command(_view)(_command)


def _stop(interrupt: KeyboardInterrupt) -> None:
    """Kill every process this one started (in any group or session), then exit 128 + signal."""
    from .processes import descendants, kill_trees

    kill_trees(descendants(os.getpid()))
    err.print("interrupted")
    sys.exit(128 + int(getattr(interrupt, "signum", 2)))


def main() -> None:
    """Entry point: run the app, turning our errors into messages and exit codes.

    SIGTERM and SIGHUP stop it as Ctrl-C does (exit 128 + the signal's number); whichever it was,
    every process it started is killed before it exits.
    """
    from .processes import Terminated, install_termination_handlers, received_signal

    install_termination_handlers()
    try:
        # Outside standalone mode click returns the code of a typer.Exit instead of exiting.
        code = app(standalone_mode=False)
        signum = received_signal()
        if code == 130 or signum is not None:  # typer's code for an interrupt
            _stop(Terminated(signum) if signum is not None else KeyboardInterrupt())
        sys.exit(code if isinstance(code, int) else 0)
    except ClustersizeError as exc:
        err.print(f"[red]error:[/red] {plain(exc)}", highlight=False, markup=True)
        for line in getattr(exc, "diagnosis", []) or []:
            err.print(f"  {plain(line)}")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        _stop(exc)
    except Exception as exc:  # noqa: BLE001 - no tracebacks for users
        # Usage errors come from the click that typer bundles (privately, in recent typer):
        # recognise them by their interface rather than by import path.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        if type(exc).__name__ == "Abort":
            # click turns an interrupt inside a command into Abort; the interrupt is its cause.
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, KeyboardInterrupt):
                _stop(cause)
            sys.exit(1)
        if os.environ.get("CLUSTERSIZE_DEBUG"):
            raise
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {plain(exc)} "
                  "(set CLUSTERSIZE_DEBUG=1 for a traceback)")
        sys.exit(1)


if __name__ == "__main__":
    main()
