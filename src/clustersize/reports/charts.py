"""The report's charts, drawn with matplotlib as inline SVG: no script and no network fetch.

Each function takes plan tables and returns one `<svg>` element with readable axes: units in the
axis labels, dollars as $M or $B, bars from zero.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLOURS = {"in_run": "#1f77b4", "serving": "#2ca02c", "idle": "#c7c7c7", "capex": "#1f77b4", "opex": "#ff7f0e",
           "commitments": "#9467bd", "residual": "#8c564b"}


def _figure(draw: Callable[[Axes], None], width: float = 8.0, height: float = 3.6) -> str:
    """One figure drawn by `draw`, as an inline <svg> element (glyphs as paths: no font needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.fonttype": "path", "font.size": 9, "axes.spines.top": False,
                                "axes.spines.right": False}):
        fig, ax = plt.subplots(figsize=(width, height))
        try:
            draw(ax)
        except BaseException:
            plt.close(fig)
            raise
        return svg(fig)


def svg(fig: Figure) -> str:
    """A finished figure as an inline <svg> element (glyphs as paths), the figure released."""
    import matplotlib
    import matplotlib.pyplot as plt

    try:
        with matplotlib.rc_context({"svg.fonttype": "path"}):
            fig.tight_layout()
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg")
    finally:
        plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def usd_tick(value: float) -> str:
    """An axis tick in dollars: -$1.5B, $500M, $20k, $0."""
    sign, magnitude = ("-" if value < 0 else ""), abs(value)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= scale:
            return f"{sign}${magnitude / scale:,.4g}{suffix}"
    return f"{sign}${magnitude:,.0f}"


def _usd_axis(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(lambda v, _: usd_tick(v))


def _quarter_axis(ax: Axes, labels: list[str], most: int = 16) -> None:
    """Quarter labels on the x axis, at most `most` of them shown."""
    step = max(1, -(-len(labels) // most))
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=60)


def fleet(fleet_table: pd.DataFrame) -> str:
    """Accelerators per quarter: in a run, serving sustained demand, idle (stacked bars)."""
    columns = [c for c in ("in_run", "serving", "idle") if c in fleet_table]
    per_quarter = fleet_table.groupby("quarter")[columns].sum().clip(lower=0.0)

    def draw(ax: Axes) -> None:
        bottom = pd.Series(0.0, index=per_quarter.index)
        for column in columns:
            if per_quarter[column].abs().sum() > 0:
                ax.bar(per_quarter.index, per_quarter[column], bottom=bottom, label=column.replace("_", " "),
                       color=COLOURS[column])
                bottom = bottom + per_quarter[column]
        ax.set_ylabel("accelerators installed [units]")
        ax.set_xlabel("quarter")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
        _quarter_axis(ax, list(per_quarter.index))
        ax.legend(frameon=False)
    return _figure(draw)


def runs(runs_table: pd.DataFrame) -> str:
    """Each run's window on a calendar (horizontal bars), labelled with its FLOP."""
    frame = runs_table.assign(start=pd.to_datetime(runs_table.start), end=pd.to_datetime(runs_table.end))

    def draw(ax: Axes) -> None:
        for i, row in enumerate(frame.itertuples()):
            ax.barh(i, row.end - row.start, left=row.start, color=COLOURS["in_run"], height=0.5)
            ax.text(row.end, i, f"  {row.flop:.2g} FLOP, {row.units:,.0f} units", va="center", fontsize=8)
        import matplotlib.dates as mdates

        ax.set_yticks(range(len(frame)), list(frame.run))
        ax.set_xlabel("date")
        years = (frame.end.max() - frame.start.min()).days / 365.25
        locator = mdates.YearLocator() if years > 2 else mdates.MonthLocator(bymonth=[1, 4, 7, 10])  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y" if years > 2 else "%Y-%m"))  # type: ignore[no-untyped-call]
        ax.invert_yaxis()
    return _figure(draw, height=max(1.6, 0.6 * len(frame) + 1.0))


def cost_waterfall(costs: pd.DataFrame, basis: str) -> str:
    """Each cost line on the plan's basis, cumulated to the total (a waterfall) [USD]."""
    lines = costs[(costs.component != "total") & (costs[f"{basis}_usd"].abs() > 0.5)]
    values = lines[f"{basis}_usd"].to_numpy()
    starts = values.cumsum() - values

    def draw(ax: Axes) -> None:
        ax.bar(lines.component, values, bottom=starts, color=["#d62728" if v < 0 else "#1f77b4" for v in values])
        ax.bar(["total"], [values.sum()], color="#333333")
        ax.set_ylabel(f"cost, {basis} basis [USD]")
        _usd_axis(ax)
        ax.tick_params(axis="x", labelrotation=45)
    return _figure(draw)


def cash_flows(cashflows: pd.DataFrame) -> str:
    """Nominal cash per quarter by kind (capex, opex, commitments, resale credit) [USD]."""
    kinds = [k for k in ("capex", "opex", "commitments", "residual") if cashflows[f"{k}_usd"].abs().sum() > 0.5]
    cashflows = cashflows.reset_index(drop=True)

    def draw(ax: Axes) -> None:
        up = pd.Series(0.0, index=cashflows.index)
        for kind in kinds:
            values = cashflows[f"{kind}_usd"]
            ax.bar(cashflows.index, values, bottom=up.where(values >= 0, 0.0), label=kind, color=COLOURS[kind])
            up = up + values.clip(lower=0.0)
        ax.axhline(0.0, color="#333333", linewidth=0.6)
        ax.set_ylabel("cash paid [USD, nominal]")
        ax.set_xlabel("quarter")
        _usd_axis(ax)
        _quarter_axis(ax, list(cashflows.quarter))
        ax.legend(frameon=False)
    return _figure(draw)


def compute_sources(compute: pd.DataFrame) -> str:
    """Compute each source gives each run [FLOP] (horizontal bars)."""
    frame = compute.assign(label=compute.run + ": " + compute.source)

    def draw(ax: Axes) -> None:
        ax.barh(frame.label, frame.flop, color=COLOURS["in_run"])
        ax.set_xlabel("compute at the run's pace, before losses [FLOP]")
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.1e}")
        ax.invert_yaxis()
    return _figure(draw, height=max(1.6, 0.35 * len(frame) + 1.0))


CHARTS: dict[str, Any] = {"fleet": fleet, "runs": runs, "cost_waterfall": cost_waterfall, "cash_flows": cash_flows,
                          "compute_sources": compute_sources}
"""The report's charts by name."""
