"""The explanation in plain words and tables, for the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Console

from ..reports.numbers import price, usd
from ..reports.terminal import frame_table

if TYPE_CHECKING:
    from . import Explanation


def render(explanation: Explanation, console: Console | None = None) -> None:
    """Print what binds and its worth, the closest options, or why the problem is infeasible."""
    console = console or Console()
    diagnosis = explanation.diagnosis
    if diagnosis:
        console.print("[bold red]No plan reaches the target.[/bold red] Why:")
        for line in diagnosis.findings + diagnosis.sites_excluded:
            console.print(f"  - {line}")
        if diagnosis.violations:
            console.print("Cheapest relaxation (each limit priced as stated in docs/explain.md):")
            for v in diagnosis.violations:
                console.print(f"  - {v.message}  [dim]{v.family}[{v.index}][/dim]")
        console.print(f"[dim]IIS: {diagnosis.iis}[/dim]")
        return
    console.print(f"[bold]Plan cost {usd(explanation.objective_usd)}[/bold] ({explanation.status})")
    marginal = pd.DataFrame(explanation.marginal_values)
    if not marginal.empty:
        console.print(frame_table(marginal.assign(value=marginal.value_usd.map(lambda v: f"{usd(v)}"))[
            ["meaning", "value", "unit"]], "What binds, and what one more unit is worth"))
    run = explanation.run_length
    if run:
        sign = "saves" if run["value_usd"] >= 0 else "costs"
        console.print(f"{run['meaning']}: {sign} {usd(abs(run['value_usd']))} per day")
    console.print(f"[dim]{explanation.note}[/dim]")
    near = [b for b in explanation.binding if b["state"] == "near"]
    if near:
        console.print(frame_table(pd.DataFrame(near)[["family", "index", "relative_slack"]], "Near-tight limits"))
    breaks = pd.DataFrame(explanation.break_even)
    if breaks.empty:
        return
    breaks["change"] = breaks.break_even_price / breaks.price - 1
    breaks = breaks.assign(closest=breaks.change.abs().fillna(float("inf"))).sort_values("closest")
    table = pd.DataFrame({
        "option": breaks.kind + " " + breaks.option, "in plan": breaks.in_plan,
        "price": [price(v, u) for v, u in zip(breaks.price, breaks.unit)],
        "flips at": [price(v, u) for v, u in zip(breaks.break_even_price, breaks.unit)],
        "change": breaks.change.map(lambda v: "-" if pd.isna(v) else f"{v:+.0%}")})
    console.print(frame_table(table, f"Break-even prices, closest first (within "
                                     f"{explanation.break_even_tolerance:.0%})"))
    for row in breaks.itertuples():
        what = (f"past it: {row.plan_past_it}" if row.plan_past_it else row.note)
        console.print(f"  {row.kind} {row.option}: {what}")
