"""A what-if sweep, Monte Carlo samples, a scenario comparison or a cost frontier as one page.

Self-contained like the plan's page (reports/html.py): inline SVG charts, no script, nothing
fetched. Sections: the answer in a sentence; the charts; every point as a difference from the
base, with what it changed; how the points were solved. Every figure comes from the run's
table (results.csv or frontier.csv), so the page says what the files say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..whatif.evaluate import TIMING_COLUMNS
from ..whatif.plots import Chart, charts, frontier_chart
from ..whatif.summary import DECISION_PREFIXES, PLANNED, comparison, percentiles, reachable_share
from .charts import svg
from .html import escape, figure, html_table, page
from .numbers import usd

STUDY_SECTIONS = ("answer", "charts", "points", "provenance")
KINDS = {"sweep": "What-if sweep", "sample": "Monte Carlo samples", "scenario": "Scenario comparison",
         "frontier": "Cost frontier"}


def _signed_usd(value: float) -> str:
    return "-" if pd.isna(value) else ("+" if value > 0 else "") + usd(value)


def _share(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:+.1%}"


NOT_PER_SAMPLE = ("point", "mode", "scenario", "plan_hash", "message", "bound_usd", "gap", *TIMING_COLUMNS)
PER_SOURCE = (*DECISION_PREFIXES, "cost:", "flop:")   # a column per accelerator, offer, site or cost line
MONEY = {"objective_usd": usd, "cost_usd": usd, "change_usd": _signed_usd, "change": _share, "mean": usd,
         "p10": usd, "p50": usd, "p90": usd}


def _base_row(frame: pd.DataFrame, parameters: list[str], base: Mapping[str, float | None]) -> tuple[int | None, str]:
    """The point each other is compared with: the one at the problem's own values, else the first with a plan."""
    planned = frame[frame.status.isin(PLANNED)]
    if planned.empty:
        return None, "no point has a plan"
    own = planned
    for p in parameters:
        value = base.get(p)
        own = own[np.isclose(own[p].astype(float), value)] if value is not None and p in own else own.iloc[:0]
    if parameters and len(own):
        return int(own.index[0]), "the point at the problem's own values"
    first = planned.index[0]
    return int(first), "the first point with a plan (" + ", ".join(f"{p} = {_value(planned.at[first, p])}"
                                                                   for p in parameters) + ")"


def _value(value: Any) -> str:
    """A varied value as the table shows it: numbers to 6 figures, words as they are."""
    return f"{value:,.6g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _sweep_points(frame: pd.DataFrame, parameters: list[str], base: Mapping[str, float | None]) -> tuple[str, str]:
    """(the sentence, the table) of a sweep: each point's cost and its change from the base point."""
    row, which = _base_row(frame, parameters, base)
    base_cost = float(frame.objective_usd[row]) if row is not None and "objective_usd" in frame else float("nan")
    costs = frame.objective_usd if "objective_usd" in frame else pd.Series(np.nan, index=frame.index)
    shown = frame[[*parameters, "status", "verified"]].assign(
        objective_usd=costs, change_usd=costs - base_cost, change=(costs - base_cost) / base_cost,
        binding=frame.get("binding", pd.Series("", index=frame.index)).fillna(""))
    planned = costs[frame.status.isin(PLANNED)]
    sentence = (f"{len(frame)} points varying {', '.join(parameters)}: {len(planned)} with a plan, costing "
                f"{usd(planned.min())} to {usd(planned.max())}; each compared with {which}, {usd(base_cost)}."
                if len(planned) else f"{len(frame)} points varying {', '.join(parameters)}: none has a plan.")
    return sentence, html_table(shown, MONEY)


def _sample_points(frame: pd.DataFrame) -> tuple[str, str]:
    """(the sentence, the tables) of Monte Carlo samples: percentiles, then every sample."""
    share = reachable_share(frame)
    if "objective_usd" not in frame or not frame.status.isin(PLANNED).any():
        return f"{len(frame)} samples: none reaches the target.", ""
    table = percentiles(frame)
    cost = table[table.quantity == "objective_usd"].iloc[0]
    sentence = (f"{len(frame)} samples: the target is reachable in {share:.0%}; the plan costs {usd(cost.p10)} "
                f"(P10), {usd(cost.p50)} (P50) and {usd(cost.p90)} (P90), {usd(cost['mean'])} on average.")
    money = table.quantity == "objective_usd"
    shown = table.assign(**{c: [usd(v) if m else f"{v:,.0f}" for v, m in zip(table[c], money)]
                            for c in ("mean", "p10", "p50", "p90")})
    samples = [c for c in frame.columns if c not in NOT_PER_SAMPLE and not c.startswith(PER_SOURCE)]
    return sentence, ("<h3>Percentiles over samples with a plan</h3>" + html_table(shown)
                      + "<h3>Every sample</h3>" + html_table(frame[samples], MONEY))


def _scenario_points(frame: pd.DataFrame) -> tuple[str, str]:
    """(the sentence, the table) of a scenario comparison, each scenario against the base."""
    table = comparison(frame)
    planned = table[table.status.isin(PLANNED)]
    if planned.empty:
        return f"{len(table)} scenarios: none has a plan.", html_table(table)
    moved = planned.loc[planned.change_usd.abs().idxmax()]
    sentence = (f"{len(table)} scenarios, {len(planned)} with a plan; the largest change from the base is "
                f"{moved.scenario}: {_signed_usd(moved.change_usd)} ({_share(moved.change)}), "
                f"{usd(moved.objective_usd)} in all.")
    return sentence, html_table(table, MONEY)


def _provenance(problem: str, input_hash: str, settings: Mapping[str, Any], frame: pd.DataFrame) -> str:
    verified = int(frame.verified.fillna(False).astype(bool).sum()) if "verified" in frame else 0
    planned = int(frame.status.isin(PLANNED).sum()) if "status" in frame else 0
    rows = [("clustersize", __version__), ("problem", problem), ("input hash", input_hash),
            *((k, str(v)) for k, v in settings.items() if v is not None),
            ("points", f"{len(frame):,}"), ("with a plan", f"{planned:,}"), ("independently verified", f"{verified:,}")]
    return html_table(pd.DataFrame(rows, columns=["what", "value"]))


def _page(kind: str, problem: str, sentence: str, shown: list[Chart], points: str, provenance: str) -> str:
    figures = "".join(figure(svg(chart.figure), chart.caption) for chart in shown) or '<p class="note">no chart: ' \
                                                                                        'no point has a plan</p>'
    parts = {"answer": ("The answer", f'<p class="answer">{escape(sentence)}</p>'), "charts": ("Charts", figures),
             "points": ("Every point, against the base", points), "provenance": ("How it was solved", provenance)}
    body = "".join(f'<section id="{key}"><h2>{escape(parts[key][0])}</h2>{parts[key][1]}</section>'
                   for key in STUDY_SECTIONS)
    return page(f"{problem}: {KINDS[kind].lower()}", f"{problem}: {KINDS[kind]}", body)


def whatif_html(frame: pd.DataFrame, parameters: list[str], *, problem: str, input_hash: str,
                settings: Mapping[str, Any], base: Mapping[str, float | None] | None = None) -> str:
    """The page of a what-if run (a sweep, samples or scenarios, by the table's `mode`)."""
    mode = str(frame["mode"].iloc[0]) if len(frame) else "sweep"
    kind = mode if mode in ("sample", "scenario") else "sweep"
    if kind == "sample":
        sentence, points = _sample_points(frame)
    elif kind == "scenario":
        sentence, points = _scenario_points(frame)
    else:
        sentence, points = _sweep_points(frame, parameters, base or {})
    own = {k: v for k, v in (base or {}).items() if v is not None}
    return _page(kind, problem, sentence, charts(frame, parameters, own), points,
                 _provenance(problem, input_hash, settings, frame))


def frontier_html(frame: pd.DataFrame, axis: str, *, problem: str, input_hash: str,
                  settings: Mapping[str, Any]) -> str:
    """The page of a cost frontier: each point against the cheapest verified one."""
    column = "finish" if axis == "finish" else "emissions_t"
    good = frame[frame.verified & frame.cost_usd.notna()]
    if good.empty:
        sentence, shown = "No point of the frontier has a verified plan.", []
        table = frame
    else:
        cheapest = good.loc[good.cost_usd.idxmin()]
        dearest = good.loc[good.cost_usd.idxmax()]
        table = frame.assign(change_usd=frame.cost_usd - cheapest.cost_usd,
                             change=(frame.cost_usd - cheapest.cost_usd) / cheapest.cost_usd)
        sentence = (f"{len(good)} verified points: the cheapest plan, {usd(cheapest.cost_usd)}, has {column} "
                    f"{cheapest[column]}; {column} {dearest[column]} costs {usd(dearest.cost_usd)} "
                    f"({_signed_usd(dearest.cost_usd - cheapest.cost_usd)}).")
        shown = [frontier_chart(frame, axis)]
    return _page("frontier", problem, sentence, shown, html_table(table, MONEY),
                 _provenance(problem, input_hash, settings, frame))
