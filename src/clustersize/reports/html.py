"""A plan as one self-contained HTML page a planner can hand to a board.

Everything is inline: the style, the charts (SVG drawn by matplotlib, no script), the tables. The
page opens offline and fetches nothing. Sections, in order: the answer in a sentence; the mix and
sites; the fleet and run timeline; costs (waterfall and cash flows); compute by source; what binds
and what each limit is worth; break-even prices; the assumptions in force with their sources and
dates; provenance. Every figure comes from the plan's tables, so the page says what the verified
plan says.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from .. import __version__
from ..plan.plan import Plan
from . import charts
from .numbers import count, flop, price, usd
from .supply import supply_options
from .terminal import binding_worth

SECTIONS = ("answer", "mix", "timeline", "costs", "compute", "binding", "break-even", "assumptions", "provenance")
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: 13px; }
th, td { border-bottom: 1px solid #eee; padding: .25em .7em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 1em 0; } figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 13px; }
.answer { font-size: 1.15em; background: #f5f7fa; padding: .8em 1em; border-left: 4px solid #1f77b4; }
.note { color: #666; }
"""


def escape(value: object) -> str:
    """Text made safe for HTML."""
    return html.escape(str(value))


def html_table(frame: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]] | None = None, limit: int = 200) -> str:
    """A DataFrame as an HTML table; numbers right-aligned and formatted by `formats` (or as counts)."""
    if frame.empty:
        return '<p class="note">none</p>'
    formats = formats or {}
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    rows = []
    for values in frame.head(limit).itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, values):
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            shown = formats[column](value) if column in formats else count(value) if numeric else value
            cells.append(f'<td class="num">{escape(shown)}</td>' if numeric else f"<td>{escape(shown)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="note">{len(frame) - limit} more rows in the plan file</p>' if len(frame) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def figure(svg: str, caption: str) -> str:
    """An inline chart with its caption."""
    return f'<figure class="chart">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def answer_sentence(plan: Plan) -> str:
    """The plan in one sentence: cost, compute, finish and how sure it is."""
    runs = plan.table("runs")
    finish = str(runs.end.max()) if len(runs) else "-"
    proof = (f"proven within {plan.gap or 0:.2%} of the cheapest possible plan" if plan.status.value == "optimal"
             else f"not proven optimal (gap {plan.gap:.2%})" if plan.gap is not None else "not proven optimal")
    verified = (f"independently verified ({(plan.verification or {}).get('checks', 0):,} checks)" if plan.verified
                else "NOT verified")
    return (f"{plan.problem_name}: {flop(plan.delivered_flop)} over {len(runs)} run(s), the last ending {finish}, "
            f"for {usd(plan.objective_usd)} on the {plan.cost_basis} basis; {proof}, {verified}.")


def _mix(plan: Plan) -> str:
    purchases, rentals = plan.table("purchases"), plan.table("rentals")
    bought = (purchases.groupby(["accelerator", "site"], as_index=False)[["units", "capex_usd"]].sum()
              if len(purchases) else pd.DataFrame(columns=["accelerator", "site", "units", "capex_usd"]))
    rented = rentals[["run", "offer", "accelerator", "units", "cost_usd"]] if len(rentals) else rentals
    sites = plan.table("sites")
    opened = sites[sites.opened][["site", "country", "existing_mw", "existing_basis", "new_mw", "it_load_mw",
                                  "facility_peak_mw"]] if len(sites) else sites
    contracts = plan.table("contracts")
    signed = contracts[contracts.signed][["contract", "site", "kind", "contracted_mw", "energy_mwh",
                                          "energy_cost_usd"]] if len(contracts) else contracts
    money = {"capex_usd": usd, "cost_usd": usd, "energy_cost_usd": usd}
    options = supply_options(plan)
    beyond = ("<h3>Supply deals, spot purchases and sales</h3>" + html_table(options, money)) if len(options) else ""
    return ("<h3>Accelerators bought</h3>" + html_table(bought, money) + beyond + "<h3>Cloud rented for runs</h3>"
            + html_table(rented, money) + "<h3>Sites [MW]</h3>" + html_table(opened)
            + "<h3>Energy contracts</h3>" + html_table(signed, money))


def _timeline(plan: Plan) -> str:
    parts = []
    if len(plan.table("runs")):
        parts.append(figure(charts.runs(plan.table("runs")), "Run windows: each run's start and end, with its "
                                                             "compute and accelerators."))
        parts.append(html_table(plan.table("runs")[["run", "start", "end", "days", "stacks", "locations", "units",
                                                    "goodput", "flop"]], {"flop": flop}))
    if len(plan.table("fleet")):
        parts.append(figure(charts.fleet(plan.table("fleet")), "Accelerators installed each quarter: working in a "
                                                               "run, serving sustained demand, or idle [units]."))
    serving = plan.table("serving")
    if len(serving):
        served = serving.groupby(["quarter", "kind"], as_index=False)[["units", "pflops", "cost_usd"]].sum()
        parts.append("<h3>Sustained demand served [PFLOP/s dense BF16]</h3>" + html_table(served, {"cost_usd": usd}))
    return "".join(parts)


def _costs(plan: Plan) -> str:
    costs, basis = plan.table("costs"), plan.cost_basis
    shown = costs[(costs[["full_usd", "npv_usd", "amortised_usd"]].abs() > 0.5).any(axis=1)]
    money = {c: usd for c in ("full_usd", "npv_usd", "amortised_usd", "cost_usd")}
    parts = [figure(charts.cost_waterfall(costs, basis), f"Cost by line on the {basis} basis, adding up to the "
                                                         f"plan's {usd(plan.objective_usd)} [USD]."),
             html_table(shown[["component", "full_usd", "npv_usd", "amortised_usd"]], money)]
    cash = plan.table("cashflows")
    if len(cash):
        parts.append(figure(charts.cash_flows(cash), "Cash paid each quarter, nominal: capital, operating cost, "
                                                     "cloud commitments, and the resale credit at the end [USD]."))
    economics = plan.table("economics")
    if len(economics):
        shown = [usd(v) if "usd" in m else f"{v:.0%}" if m.endswith("share") else count(v)
                 for m, v in zip(economics.metric, economics.value)]
        parts.append(html_table(economics.assign(value=shown)[["metric", "value", "meaning"]]))
    return "".join(parts)


def _compute(plan: Plan) -> str:
    compute = plan.table("compute")
    if compute.empty:
        return '<p class="note">no compute</p>'
    return (figure(charts.compute_sources(compute), "Compute each source gives each run at the run's pace, before "
                                                    "goodput and span losses [FLOP].")
            + html_table(compute, {"flop": flop}))


def _binding(plan: Plan) -> str:
    worth = binding_worth(plan)
    if worth.empty:
        return '<p class="note">nothing binds</p>'
    return ('<p>Limits that change the answer, and what one more unit of each saves, with the plan\'s sites, '
            'contracts and choices kept (local to this plan).</p>' + html_table(worth))


def _break_even(plan: Plan) -> str:
    found = (plan.explanation or {}).get("break_even") or []
    if not found:
        return ('<p class="note">Not computed for this plan: <code>clustersize report PROBLEM --break-even</code> '
                'or <code>clustersize explain PROBLEM</code> finds the price at which each option enters or leaves '
                'the plan.</p>')
    frame = pd.DataFrame(found)
    shown = frame.assign(price=[price(v, u) for v, u in zip(frame.price, frame.unit)],
                         break_even_price=[price(v, u) for v, u in zip(frame.break_even_price, frame.unit)])
    return html_table(shown[["kind", "option", "in_plan", "price", "break_even_price", "plan_past_it", "note"]])


def _assumptions(plan: Plan) -> str:
    rows = [{"value": path, "source": ",".join(note["source"]) if isinstance(note.get("source"), list)
             else note.get("source", ""), "as of": str(note.get("as_of", "")), "confidence": note.get("confidence", ""),
             "note": note.get("note") or ""} for path, note in sorted(plan.provenance.items())]
    frame = pd.DataFrame(rows, columns=["value", "source", "as of", "confidence", "note"])
    used = set(plan.table("cluster").get("accelerator", [])) | set(plan.table("purchases").get("accelerator", []))
    sites = plan.table("sites")
    used |= set(sites.site[sites.opened]) if len(sites) else set()
    parts = frame.value.str.split(".")
    in_force = frame[frame.value.str.contains(r"\.(?:mfu|mfu_by_precision|pue)\b|goodput", regex=True)
                     & parts.map(lambda p: len(p) < 2 or p[1] in used or p[0] in ("goodput", "defaults"))]
    cluster = plan.table("cluster")
    rates = cluster[["run", "location", "accelerator", "rate_tflops"]] if len(cluster) else cluster
    return ("<h3>MFU, goodput and PUE in force</h3>" + html_table(in_force)
            + "<h3>Rate per accelerator in each run (dense peak x MFU) [TFLOP/s]</h3>" + html_table(rates)
            + f"<details><summary>Every input with its source and date ({len(frame):,})</summary>"
            + html_table(frame, limit=len(frame)) + "</details>")


def _provenance(plan: Plan) -> str:
    v = plan.verification or {}
    rows = [("clustersize", __version__), ("problem", plan.problem_name), ("input hash", plan.input_hash),
            ("plan hash", plan.decision_hash() if plan.has_plan else "-"),
            ("solver", f"{plan.solver} {plan.solver_version}"), ("status", plan.status.value),
            ("requested gap", f"{plan.requested_gap:g}"), ("solve time", f"{plan.solve_seconds:.2f} s"),
            ("verification", f"{'passed' if v.get('ok') else 'FAILED'}: {v.get('checks', 0):,} checks, "
                             f"{len(v.get('violations') or [])} violations"), ("created", plan.created)]
    return html_table(pd.DataFrame(rows, columns=["what", "value"]))


BUILDERS: dict[str, tuple[str, Callable[[Plan], str]]] = {
    "answer": ("The answer", lambda plan: f'<p class="answer">{escape(answer_sentence(plan))}</p>'),
    "mix": ("Mix and sites", _mix), "timeline": ("Fleet and run timeline", _timeline),
    "costs": ("Costs and cash flows", _costs), "compute": ("Compute by source", _compute),
    "binding": ("What binds, and what each limit is worth", _binding),
    "break-even": ("Break-even prices", _break_even), "assumptions": ("Assumptions used", _assumptions),
    "provenance": ("Provenance", _provenance)}


def render_html(plan: Plan) -> str:
    """The whole page for a plan with a solution (or, without one, its status and messages)."""
    if not plan.has_plan:
        body = (f'<p class="answer">{escape(plan.problem_name)}: no plan ({escape(plan.status.value)}).</p>'
                + "".join(f"<p>{escape(m)}</p>" for m in plan.messages))
    else:
        body = "".join(f'<section id="{key}"><h2>{escape(BUILDERS[key][0])}</h2>{BUILDERS[key][1](plan)}</section>'
                       for key in SECTIONS)
    return page(f"{plan.problem_name}: clustersize plan", plan.problem_name, body)


def page(title: str, heading: str, body: str) -> str:
    """A whole self-contained page around `body` (HTML)."""
    # the empty data: icon keeps a browser from asking for /favicon.ico: the page fetches nothing
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{escape(heading)}</h1>{body}</body></html>\n")
