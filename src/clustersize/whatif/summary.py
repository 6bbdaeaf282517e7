"""Summaries of a what-if table: percentiles for Monte Carlo, a comparison for scenarios."""

from __future__ import annotations

import pandas as pd

from .evaluate import TIMING_COLUMNS

PLANNED = ("optimal", "feasible")
DECISION_PREFIXES = ("units:", "rent:", "mw:")


def decision_columns(frame: pd.DataFrame) -> list[str]:
    """Columns holding decisions: units per accelerator, rentals per offer, MW per site."""
    return [c for c in frame.columns if c.startswith(DECISION_PREFIXES)]


def percentiles(frame: pd.DataFrame) -> pd.DataFrame:
    """P10/P50/P90 of cost and of each decision over the points with a plan (missing = 0)."""
    planned = frame[frame.status.isin(PLANNED)]
    columns = ["objective_usd", *decision_columns(frame)]
    values = planned[columns].fillna(0.0)
    table = values.quantile([0.1, 0.5, 0.9]).T
    table.columns = ["p10", "p50", "p90"]
    table.insert(0, "mean", values.mean())
    return table.reset_index(names="quantity")


def reachable_share(frame: pd.DataFrame) -> float:
    """Share of points where the target can be reached at all."""
    return float(frame.status.isin(PLANNED).mean()) if len(frame) else float("nan")


def comparison(frame: pd.DataFrame) -> pd.DataFrame:
    """Scenarios side by side, each as a difference from the base (the scenario named `base`, else
    the first with a plan): its overrides, cost and change, status, mix, sites, what binds."""
    planned = frame[frame.status.isin(PLANNED)]
    named = planned[planned.scenario == "base"]
    base = (named if len(named) else planned).head(1)
    base_cost = float(base.objective_usd.iloc[0]) if len(base) else float("nan")
    rows = []
    for r in frame.to_dict(orient="records"):
        mix = {c.split(":", 1)[1]: v for c, v in r.items()
               if c.startswith(("units:", "rent:")) and pd.notna(v) and v > 0}
        sites = [c.split(":", 1)[1] for c, v in r.items() if c.startswith("mw:") and pd.notna(v) and v > 0]
        cost = r.get("objective_usd")
        change = cost - base_cost if cost is not None and pd.notna(cost) else float("nan")
        rows.append({"scenario": r["scenario"], "overrides": r.get("overrides") or "", "status": r["status"],
                     "objective_usd": cost, "change_usd": change,
                     "change": change / base_cost if base_cost else float("nan"),
                     "mix": ", ".join(f"{k} {v:,.0f}" for k, v in sorted(mix.items(), key=lambda kv: -kv[1])),
                     "sites": ", ".join(sites), "binding": r.get("binding") or ""})
    return pd.DataFrame(rows)


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """The table without timing columns, for comparing two runs of the same sweep."""
    return frame.drop(columns=[c for c in TIMING_COLUMNS if c in frame.columns])
