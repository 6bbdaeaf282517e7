"""Catalog tables with derived figures, for `clustersize catalog`: every section with where its
figures come from (sources, the oldest date, the lowest confidence), sorted, filtered and written
as a table, JSON or CSV."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from ..errors import InputError
from ..schema.catalog import Catalog, load_catalog
from ..schema.derived import all_in_unit_cost_usd, price_level
from ..schema.exportcontrol import classify, total_processing_performance
from ..schema.problem import Chip, CostOptions

HOURS_PER_YEAR = 365.25 * 24.0


def _price_source(catalog: Catalog, aid: str) -> str | None:
    """Source keys of a catalog price, comma-joined; None for a price no source gives."""
    note = catalog.provenance.get(f"accelerators.{aid}.price_usd", {})
    source = note.get("source")
    return ",".join(source) if isinstance(source, list) else source


def accelerators() -> pd.DataFrame:
    """One row per catalog accelerator: specs, price with its type, level, date and source, all-in
    cost per unit [USD], per PFLOP/s [USD/(PFLOP/s)] and per PFLOP/s-hour over the default
    hardware life [USD/(PFLOP/s h)], W per PFLOP/s (BF16 dense, all-in), TPP and export class per ruleset.
    """
    catalog = load_catalog()
    costs = CostOptions.model_validate(catalog.defaults["costs"])
    life_hours = costs.hardware_life_years * HOURS_PER_YEAR
    rows = []
    for aid, entry in catalog.entries["accelerators"].items():
        chip = Chip.model_validate(entry)
        pflops = chip.bf16_tflops / 1000.0
        all_in = all_in_unit_cost_usd(chip, costs) if chip.price_usd is not None else None
        row = {"id": aid, "name": chip.name, "bf16_tflops": chip.bf16_tflops, "fp8_tflops": chip.fp8_tflops,
               "price_usd": chip.price_usd, "price_type": chip.price_type,
               "price_includes": price_level(chip) if chip.price_usd is not None else None,
               "date": chip.price_date.isoformat() if chip.price_date else None,
               "source": _price_source(catalog, aid),
               "confidence": catalog.provenance.get(f"accelerators.{aid}.price_usd", {}).get("confidence"),
               "all_in_usd": all_in,
               "usd_per_pflops": all_in / pflops if all_in else None,
               "usd_per_pflop_hour": all_in / (pflops * life_hours) if all_in else None,
               "w_per_pflops": chip.it_power_kw * 1000.0 / pflops if chip.it_power_kw else None,
               "kw_per_pflops": chip.it_power_kw / pflops if chip.it_power_kw else None,
               "tpp": total_processing_performance(chip), "for_sale": chip.for_sale}
        for rid, rules in catalog.rulesets.items():
            if rid != "none":
                row[rid] = classify(chip, rules) or "-"
        rows.append(row)
    return pd.DataFrame(rows)


def accelerators_json() -> str:
    """`accelerators()` as a JSON array, one object per accelerator; unknown figures are null."""
    return render(accelerators(), "json")


def section(name: str) -> pd.DataFrame:
    """Any catalog section as a table of plain values, with the provenance of each entry."""
    catalog = load_catalog()
    return pd.DataFrame([{"id": k, **{f: v for f, v in e.items() if not isinstance(v, dict)},
                          **_provenance(catalog, f"{name}.{k}")} for k, e in catalog.entries[name].items()])


CONFIDENCE_ORDER = ("L", "M", "H")


def _provenance(catalog: Catalog, prefix: str) -> dict[str, Any]:
    """Where an entry's figures come from: every source key its fields cite, the oldest date and the
    lowest confidence grade among them."""
    notes = [note for path, note in catalog.provenance.items() if path.startswith(prefix + ".")]
    sources: set[str] = set()
    for note in notes:
        given = note.get("source")
        sources.update(given if isinstance(given, list) else [given] if given else [])
    dates = [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for note in notes
             if (d := note.get("as_of")) is not None]
    grades = [g for note in notes if (g := note.get("confidence")) in CONFIDENCE_ORDER]
    return {"sources": ",".join(sorted(sources)) or None, "as_of": min(dates).isoformat() if dates else None,
            "confidence": min(grades, key=CONFIDENCE_ORDER.index) if grades else None}


def cloud() -> pd.DataFrame:
    """Cloud offers with the dense BF16 peak they rent and its price [USD per PFLOP/s-hour]."""
    catalog = load_catalog()
    frame = section("cloud_offers")
    peak = {aid: entry.get("bf16_tflops") for aid, entry in catalog.entries["accelerators"].items()}
    pflops = frame.accelerator.map(lambda aid: (peak.get(aid) or float("nan")) / 1000.0)
    frame.insert(frame.columns.get_loc("price_usd_per_hour") + 1, "usd_per_pflop_hour",
                 frame.price_usd_per_hour / pflops)
    return frame


VIEWS = {"accelerators": ("Accelerators (price: source, date, confidence)", accelerators),
         "sites": ("Datacenter markets", lambda: section("sites")),
         "contracts": ("Energy contract templates", lambda: section("energy_contracts")),
         "cloud": ("Cloud offers", cloud), "programs": ("Custom-chip programs", lambda: section("custom_programs")),
         "rules": ("Export-control rulesets", lambda: rules())}
"""Each `clustersize catalog` view: its title and how to build it."""


def select(frame: pd.DataFrame, sort: str | None = None, where: str | None = None) -> pd.DataFrame:
    """Rows matching `where` (a pandas query over the columns, e.g. "price_usd < 30000 and
    confidence == 'H'"), sorted by `sort` (a column; a leading '-' sorts descending)."""
    if where:
        try:
            frame = frame.query(where, engine="python")
        except Exception as exc:       # pandas raises many kinds for a bad expression
            raise InputError(f"{where!r}: {exc}", path="--filter",
                             fix=f"write a condition over the columns, e.g. \"price_usd < 30000\"; the columns are "
                                 f"{', '.join(frame.columns)}") from None
    if sort:
        column = sort.lstrip("-")
        if column not in frame.columns:
            raise InputError(f"no column {column!r}", path="--sort",
                             fix=f"sort by one of {', '.join(frame.columns)} (a leading - sorts descending)")
        frame = frame.sort_values(column, ascending=not sort.startswith("-"), na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def render(frame: pd.DataFrame, fmt: str) -> str:
    """The table as JSON (one object per row, unknown figures null) or CSV."""
    if fmt == "csv":
        return str(frame.to_csv(index=False))
    values = frame.astype(object)
    return json.dumps(values.where(values.notna(), None).to_dict(orient="records"), indent=2, default=str)


def rules() -> pd.DataFrame:
    """Export policies of every ruleset, in order of precedence."""
    catalog = load_catalog()
    rows = []
    for rid, ruleset in catalog.rulesets.items():
        for policy in ruleset.policies:
            rows.append({"ruleset": rid, "status": ruleset.status, "policy": policy.id,
                         "groups": ",".join(policy.groups), "classes": ",".join(policy.classes),
                         "action": policy.action, "cap_tpp": policy.cap_tpp,
                         "headquarters": policy.applies_to_headquarters})
    return pd.DataFrame(rows)
