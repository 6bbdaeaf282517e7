"""Supply beyond the allocation, as a report shows it: deals taken, their prepaid units, accelerators
bought spot and servers sold."""

from __future__ import annotations

import pandas as pd

from ..plan.plan import Plan


def supply_options(plan: Plan) -> pd.DataFrame:
    """One row per deal taken, prepaid credit, spot purchase and sale: option, amount, cost_usd (a
    credit negative) [USD]."""
    deals = plan.table("supply_deals")
    rows = [(f"deal {r.deal}", f"{r.taken:.3g} taken", r.cost_usd) for r in deals[deals.taken > 0].itertuples()]
    rows += [(f"deal {r.deal} (prepaid)", f"{r.units:,.0f} bought in {r.quarter}", -r.credit_usd)
             for r in plan.table("deal_credits").itertuples()]
    rows += [(f"spot {r.accelerator}", f"{r.units:,.0f} in {r.quarter}", r.premium_usd)
             for r in plan.table("spot").itertuples()]
    rows += [(f"sell {r.accelerator} at {r.site}", f"{r.units:,.0f} in {r.quarter} (ordered {r.ordered})",
              -r.proceeds_usd) for r in plan.table("sales").itertuples()]
    return pd.DataFrame(rows, columns=["option", "amount", "cost_usd"])
