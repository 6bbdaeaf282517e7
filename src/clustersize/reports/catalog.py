"""Catalog tables with derived figures, for `clustersize catalog`."""

from __future__ import annotations

import json

import pandas as pd

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
               "source": _price_source(catalog, aid), "all_in_usd": all_in,
               "usd_per_pflops": all_in / pflops if all_in else None,
               "usd_per_pflop_hour": all_in / (pflops * life_hours) if all_in else None,
               "w_per_pflops": chip.it_power_kw * 1000.0 / pflops if chip.it_power_kw else None,
               "tpp": total_processing_performance(chip), "for_sale": chip.for_sale}
        for rid, rules in catalog.rulesets.items():
            if rid != "none":
                row[rid] = classify(chip, rules) or "-"
        rows.append(row)
    return pd.DataFrame(rows)


def accelerators_json() -> str:
    """`accelerators()` as a JSON array, one object per accelerator; unknown figures are null."""
    frame = accelerators().astype(object)
    records = frame.where(frame.notna(), None).to_dict(orient="records")
    return json.dumps(records, indent=2)


def section(name: str) -> pd.DataFrame:
    """Any catalog section as a table of plain values."""
    catalog = load_catalog()
    return pd.DataFrame([{"id": k, **{f: v for f, v in e.items() if not isinstance(v, dict)}}
                         for k, e in catalog.entries[name].items()])


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
