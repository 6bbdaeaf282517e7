"""The cost lines, declared once: their names, how the cashflows table groups them, and the
conventions both the model (data/money.py) and the verifier (plan/cashflows.py) follow.

Data only, like families.py, so the verifier reads it without touching model code.
"""

from __future__ import annotations

LINES = ("hardware", "site_fixed", "site_build", "site_lease", "energy", "carbon", "contract_fixed", "capacity",
         "cloud", "commitments", "custom_nre", "supply_deals", "spot_premium", "opex", "shortfall", "sales",
         "residual")
"""Every cost line, in the order of the plan's costs table; `residual` is the resale credit (npv only);
`sales` the proceeds of servers sold before the last deadline (a credit, costs.sell_surplus);
`shortfall` is the penalty for compute a run falls short of its target (risk.shortfall_usd_per_1e24_flop):
a valuation, not cash."""

CATEGORY = {"hardware": "capex", "site_fixed": "capex", "site_build": "capex", "custom_nre": "capex",
            "contract_fixed": "capex", "supply_deals": "capex", "spot_premium": "capex",
            "site_lease": "opex", "energy": "opex", "carbon": "opex", "capacity": "opex",
            "cloud": "opex", "opex": "opex", "commitments": "commitments", "shortfall": "penalty", "sales": "residual",
            "residual": "residual"}
"""How the cashflows table groups the lines; a penalty is no cash and stays out of it and of the yearly budget."""

NOT_CASH = ("residual", "shortfall", "sales")
"""Lines the yearly budget leaves out: the resale credit, the shortfall penalty (no cash is paid), and
the proceeds of servers sold (the budget caps what is paid out)."""

BASES = ("full", "npv", "amortised")
"""The cost bases (costs.basis); the costs table gives every line on each."""

HOURS_PER_MONTH = 8760.0 / 12.0
"""Hours a commitment pays for per month [h]: a 3-year term is 26,280 hours."""

ECONOMICS = {
    "cost_per_pflop_day_usd": "USD per PFLOP-day delivered, on the plan's basis",
    "idle_unit_quarters": "accelerator-quarters installed but in no run and not serving",
    "idle_share": "idle / installed accelerator-quarters",
    "idle_capital_usd_quarters": "purchase cost of idle accelerators, summed over quarters [USD-quarters]",
}
"""The rows of the plan's economics table and what each means."""
