"""Terminal summary of a two-stage plan: what it costs across scenarios, what risk is worth, what to commit to now."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel

from ..risk.plan import TwoStagePlan
from ..status import Status
from .numbers import usd
from .terminal import frame_table


def headline(plan: TwoStagePlan) -> Panel:
    """Status, the objective and its distribution, VSS and EVPI, verification."""
    f = plan.figures
    state = {Status.OPTIMAL: "[green]OPTIMAL[/green]", Status.FEASIBLE: "[yellow]FEASIBLE, not proven optimal[/yellow]"}
    lines = [f"[bold]{plan.problem_name}[/bold]  two-stage, {len(plan.scenarios)} scenarios revealed on {plan.reveal}; "
             f"solver {plan.solver}",
             f"status {state.get(plan.status, f'[red]{plan.status.value.upper()}[/red]')}  in "
             f"{plan.solve_seconds:.2f} s"]
    if plan.has_plan:
        lines += [
            f"objective ({plan.measure}) [bold]{usd(f.get('objective_usd'))}[/bold]; lower bound {usd(plan.bound_usd)}",
            f"cost over scenarios: expected {usd(f.get('expected_usd'))}, P10 {usd(f.get('p10_usd'))}, "
            f"P50 {usd(f.get('p50_usd'))}, P90 {usd(f.get('p90_usd'))}, "
            f"CVaR{100 * float(f.get('cvar_level') or 0.9):g} {usd(f.get('cvar_usd'))}",
            f"deterministic plan (the file's own values) {usd(f.get('deterministic_usd'))}; its first stage across the "
            f"scenarios {usd(f.get('eev_usd'))}",
            f"value of the stochastic solution (VSS) [bold]{usd(f.get('vss_usd'))}[/bold]; "
            f"of perfect information (EVPI) {usd(f.get('evpi_usd'))}"]
        if plan.sampling:
            lines.append(f"scenarios: {plan.sampling['samples']} draws of uncertainty: (seed {plan.sampling['seed']}), "
                         "probability 1/N each")
        oos = plan.out_of_sample
        if oos and oos.get("mean_usd") is not None:
            lines.append(f"out of sample, this first stage on {oos['solved']} fresh draws: mean {usd(oos['mean_usd'])}, "
                         f"95 % CI {usd(oos['ci95_low_usd'])} .. {usd(oos['ci95_high_usd'])}"
                         + (f" ({oos['unsolved']} draws without a plan)" if oos.get("unsolved") else ""))
        checks = (plan.verification or {}).get("checks", 0)
        lines.append(f"verified: every scenario's plan and {checks} two-stage checks passed" if plan.verified
                     else "[red]verification FAILED[/red]")
    return Panel("\n".join(lines), title="two-stage plan", expand=False)


def render(plan: TwoStagePlan, console: Console | None = None) -> None:
    """Print the two-stage plan's summary."""
    console = console or Console()
    console.print(headline(plan))
    if plan.has_plan:
        hedges = plan.first_stage
        console.print(frame_table(hedges, f"Decisions before {plan.reveal}: the plan to commit to now "
                                          "(hedge: beyond the deterministic plan)"))
        console.print(frame_table(plan.scenarios.drop(columns=["overrides"]), "Scenarios"))
    for message in plan.messages:
        console.print(f"note: {message}")
