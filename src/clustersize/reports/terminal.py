"""Rich terminal summary of a plan: cost, compute, mix, sites, energy, what binds, export use."""

from __future__ import annotations

import pandas as pd
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from ..families import definitional_names
from ..plan.plan import Plan
from ..status import Status
from .numbers import usd
from .supply import supply_options


def frame_table(frame: pd.DataFrame, title: str | None = None, max_rows: int = 30) -> Table:
    """A DataFrame as a rich table (numbers formatted compactly)."""
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in frame.columns:
        table.add_column(str(column), justify="right" if pd.api.types.is_numeric_dtype(frame[column]) else "left")
    for _, row in frame.head(max_rows).iterrows():
        table.add_row(*[_cell(v) for v in row])
    if len(frame) > max_rows:
        table.caption = f"{len(frame) - max_rows} more rows in the written tables"
    return table


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if pd.isna(value):
            return "-"
        if abs(value) >= 1e7 or (0 < abs(value) < 1e-3):
            return f"{value:.3g}"
        return f"{value:,.2f}" if value != int(value) else f"{value:,.0f}"
    return str(value)


def headline(plan: Plan) -> Panel:
    """Status, cost and verification in one panel."""
    lines = [f"[bold]{plan.problem_name}[/bold]  solver {plan.solver} ({plan.solver_version})"]
    if plan.status is Status.OPTIMAL:
        state = f"[green]OPTIMAL[/green] (gap {plan.gap or 0:.2e} <= {plan.requested_gap:g})"
    elif plan.status is Status.FEASIBLE:
        state = (f"[yellow]FEASIBLE, not proven optimal[/yellow]: gap {plan.gap:.2%}" if plan.gap is not None
                 else "[yellow]FEASIBLE, no bound[/yellow]")
    else:
        state = f"[red]{plan.status.value.upper()}[/red]"
    lines.append(f"status {state}  in {plan.solve_seconds:.2f} s (limit {plan.time_limit_s:g} s)")
    if plan.model:
        span = plan.model["coefficient_range"]["matrix"]
        lines.append(f"model {plan.model['rows']:,} rows x {plan.model['columns']:,} columns, "
                     f"{plan.model['nonzeros']:,} nonzeros, |coefficients| {span[0]:.2g}..{span[1]:.2g}")
    if plan.has_plan:
        total = plan.table("costs").set_index("component").loc["total"]
        others = "; ".join(f"{basis} {usd(total[f'{basis}_usd'])}" for basis in ("full", "npv", "amortised")
                           if basis != plan.cost_basis)
        lines.append(f"cost [bold]{usd(plan.objective_usd)}[/bold] ({plan.cost_basis} basis; {others});"
                     f" lower bound {usd(plan.bound_usd)}")
        runs = plan.table("runs")
        lines.append(f"compute {plan.delivered_flop:.4g} FLOP delivered vs target {plan.target_flop:.4g} FLOP "
                     f"over {len(runs)} run(s); first run starts {plan.run_start}")
        economics = plan.table("economics").set_index("metric").value if len(plan.table("economics")) else {}
        if len(economics):
            lines.append(f"{usd(economics['cost_per_pflop_day_usd'])} per PFLOP-day delivered; "
                         f"{economics['idle_share']:.0%} of installed accelerator-quarters idle "
                         f"({usd(economics['idle_capital_usd_quarters'])}-quarters of capital waiting)")
        v = plan.verification or {}
        lines.append("[green]verified[/green]: " + f"{v.get('checks', 0)} independent checks passed" if v.get("ok")
                     else f"[red]verification failed[/red]: {len(v.get('violations', []))} violations")
        if plan.success_probability < 1:
            lines.append(f"custom-chip success probability {plan.success_probability:.0%}")
    for message in plan.messages:
        lines.append(message)
    return Panel("\n".join(lines), title="clustersize plan", expand=False)


def mix_table(plan: Plan) -> Table | None:
    """Accelerators bought by site, plus rentals [units]."""
    purchases, rentals = plan.table("purchases"), plan.table("rentals")
    rows = []
    if len(purchases):
        rows += [(acc, site, units) for (acc, site), units in purchases.groupby(["accelerator", "site"]).units.sum().items()]
    rows += [(r.accelerator, f"cloud:{r.offer}", r.units) for r in rentals.itertuples()]
    if rows:
        frame = pd.DataFrame(rows, columns=["accelerator", "location", "units"])
        return frame_table(frame.groupby(["accelerator", "location"], as_index=False, sort=False).units.sum(),
                           "Mix by accelerator and location")
    if not rows:
        return None
    return frame_table(pd.DataFrame(rows, columns=["accelerator", "location", "units"]), "Mix by accelerator and location")


def runs_table(plan: Plan) -> Table | None:
    """Each run: window, stack and pace, locations, size, goodput and compute."""
    runs = plan.table("runs")
    if runs.empty:
        return None
    shown = runs.assign(window=[f"{s} + {d:g} d" for s, d in zip(runs.start, runs.days)],
                        pace=runs.pace_tflops.map(lambda v: f"{v:,.0f} TFLOP/s"),
                        kept=runs.goodput * runs.span_efficiency)
    return frame_table(shown[["run", "window", "stacks", "pace", "locations", "span", "units", "kept", "flop",
                              "target_flop"]], "Runs (pace: the slowest member's peak x MFU; kept: goodput x span)")


def fleet_timeline(plan: Plan) -> Table | None:
    """Accelerators installed, working in runs and serving per quarter, summed over sites and kinds."""
    fleet = plan.table("fleet")
    if fleet.empty:
        return None
    columns = [c for c in ("installed", "in_run", "serving", "idle") if c in fleet]
    per_quarter = fleet.groupby("quarter", as_index=False)[columns].sum()
    return frame_table(per_quarter, "Fleet by quarter [accelerators]")


def serving_timeline(plan: Plan) -> Table | None:
    """Sustained demand served per quarter, by owned and rented accelerators [PFLOP/s dense BF16]."""
    serving = plan.table("serving")
    if serving.empty:
        return None
    per_quarter = serving.pivot_table(index="quarter", columns="kind", values="pflops", aggfunc="sum", fill_value=0.0)
    per_quarter = per_quarter.reindex(columns=["site", "cloud"], fill_value=0.0).rename(
        columns={"site": "owned_pflops", "cloud": "cloud_pflops"}).reset_index()
    per_quarter["cloud_cost"] = serving.groupby("quarter").cost_usd.sum().reindex(per_quarter.quarter).map(usd).to_numpy()
    return frame_table(per_quarter, "Sustained demand served by quarter [PFLOP/s dense BF16]")


def supply_table(plan: Plan) -> Table | None:
    """Supply deals taken, accelerators bought spot and servers sold; None when the plan has none."""
    found = supply_options(plan)
    if found.empty:
        return None
    return frame_table(found.assign(cost=found.cost_usd.map(usd))[["option", "amount", "cost"]],
                       "Supply deals, spot purchases and sales")


def binding_worth(plan: Plan) -> pd.DataFrame:
    """Limits that bind, definitions left out, with what one more unit of each saves (the most
    valuable first; an unpriced limit last): columns limit, at, one more unit saves."""
    binding = plan.table("binding")
    if binding.empty:
        return pd.DataFrame(columns=["limit", "at", "one more unit saves"])
    tight = binding[binding.binding & ~binding.family.isin(definitional_names())]
    tight = tight.loc[tight.value_usd.abs().fillna(-1.0).sort_values(ascending=False).index]
    worth = [("not priced" if pd.isna(v) else f"{usd(v)} {unit.replace('USD ', '')}")
             for v, unit in zip(tight.value_usd, tight.unit)]
    return pd.DataFrame({"limit": tight.family, "at": tight["index"], "one more unit saves": worth})


def binding_summary(plan: Plan, shown: int = 12) -> Table | None:
    """The limits that bind and their worth, the `shown` most valuable."""
    worth = binding_worth(plan)
    if worth.empty:
        return None
    more = f" (the {shown} most valuable of {len(worth)})" if len(worth) > shown else ""
    return frame_table(worth.head(shown), f"What binds, and what one more unit of it is worth{more}")


def hidden_assumptions(plan: Plan) -> list[str]:
    """What the figures above take for granted, with this plan's numbers where it has them."""
    purchases, runs = plan.table("purchases"), plan.table("runs")
    lines = []
    if len(runs):
        paces = "; ".join(f"{r.run}: peak x MFU {r.pace_tflops:,.0f} TFLOP/s per accelerator, goodput {r.goodput:.2f}"
                          for r in runs.itertuples())
        lines.append(f"- compute = accelerators x dense peak x MFU x goodput x days ({paces}); MFU from the catalog "
                     f"per accelerator and precision unless the run states a wall-clock mfu")
    if len(purchases):
        per = purchases.groupby("accelerator").apply(lambda f: f.capex_usd.sum() / f.units.sum(), include_groups=False)
        lines.append("- unit costs are all-in: the catalog price plus the server and network share (and any duty): "
                     + ", ".join(f"{a} {usd(v)}" for a, v in per.items()) + " per accelerator on average")
    lines.append("- a cloud offer counts as one location of a run, like a site (max_sites)")
    lines.append("- dates are snapped to quarters: orders, builds, contracts and sustained demand by quarter; a run "
                 "starts on a quarter start unless its start is given")
    return lines


def render(plan: Plan, console: Console | None = None) -> None:
    """Print the summary."""
    console = console or Console()
    parts: list[Panel | Table] = [headline(plan)]
    if plan.has_plan:
        costs = plan.table("costs")
        shown = costs[(costs[["full_usd", "npv_usd", "amortised_usd"]].abs() > 0.5).any(axis=1)]
        parts.append(frame_table(shown.assign(
            full=lambda f: f.full_usd.map(usd), npv=lambda f: f.npv_usd.map(usd),
            amortised=lambda f: f.amortised_usd.map(usd))[["component", "full", "npv", "amortised"]],
            f"Cost by line (this plan minimises the {plan.cost_basis} basis)"))
        compute = plan.table("compute")
        parts.append(frame_table(compute.assign(share=compute.flop / compute.flop.sum()), "Compute by source [FLOP]"))
        for item in (runs_table(plan), fleet_timeline(plan), serving_timeline(plan), mix_table(plan),
                     supply_table(plan)):
            if item is not None:
                parts.append(item)
        sites = plan.table("sites")
        parts.append(frame_table(sites[sites.opened][["site", "country", "existing_mw", "existing_basis", "new_mw", "it_load_mw",
                                                      "facility_peak_mw"]], "Sites [MW]"))
        contracts = plan.table("contracts")
        signed = contracts[contracts.signed].assign(cost=lambda f: f.energy_cost_usd.map(usd))
        parts.append(frame_table(signed[["contract", "kind", "contracted_mw", "energy_mwh", "cost", "emissions_t"]]
                                 .rename(columns={"contracted_mw": "MW", "energy_mwh": "MWh", "emissions_t": "tCO2"}),
                                 "Energy"))
        binding = binding_summary(plan)
        if binding is not None:
            parts.append(binding)
        parts.append(Panel("\n".join(hidden_assumptions(plan)), title="Read the plan with", expand=False))
        export = plan.table("export_usage")
        if not export.empty:
            parts.append(frame_table(export, "Export-control caps [TPP]"))
    licences = plan.table("licences")
    if not licences.empty:
        parts.append(frame_table(licences, "Licences required"))
    exclusions = plan.table("exclusions")
    if not exclusions.empty:
        parts.append(frame_table(exclusions[["kind", "option", "where", "reason"]], "Excluded before solving", max_rows=15))
    console.print(Group(*parts))
