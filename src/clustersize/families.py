"""The constraint families, each declared once: what it is, its math, units, meaning and relaxation.

Every layer reads these declarations: the formulation builds one block of rows per family (in
this order), the verifier recomputes one check per family, marginal values and the infeasibility
diagnosis take their units, meanings and relaxation prices from here, and the reports take
which families are definitions rather than limits. The module holds data only, so the verifier
can read it without touching any model code.

Index sets (the names used in `index`): accelerator (catalog and custom chips), site, quarter,
contract, offer (cloud), program (custom chip), component, country (capped), run, window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

H100_TPP = 15_832.0
"""Total processing performance of one H100 SXM [TPP]: the unit of an H100-equivalent."""


@dataclass(frozen=True)
class Relaxation:
    """How the infeasibility diagnosis may exceed the family's limit, and what it says when it must.

    price_usd : cost of one user unit of excess [USD per `Family.unit`], far above any real cost,
        so the elastic solve exceeds a limit only when nothing else can reach the target.
    message : what an excess means, formatted with the index names, `amount` and `limit` (in the
        family's user unit) and `over` (" (12% over)" or "").
    """

    price_usd: float
    message: str


@dataclass(frozen=True)
class Family:
    """One family of rows of the model, declared for every layer.

    name : row family name, as it appears in plans and diagnoses.
    index : names of the index sets one row is keyed by.
    math : the rows, in the notation of docs/formulation.md.
    unit : user unit of one row's limit (and of its slack), e.g. "MW", "accelerator".
    scale : how many user units one internal unit of the row is (a key of
        `explanation.units.SCALES`: "one", "units_per_server", "units_per_instance", ...).
    meaning : what one more unit of the limit is, formatted with the index names; None when the
        family's dual is not reported as a marginal value: definitions, the energy balance (its dual
        is the energy price again) and max_sites (constant once the locations are fixed).
    definitional : the rows define a quantity rather than limit the plan: they never "bind".
    relaxation : how the diagnosis relaxes the family; None when it stays hard.
    hangs_on : a binary column family (open, sign, fund, pace) whose choice the row belongs to,
        keyed by the row's first index: a limit on an option not chosen has no marginal value and
        is not near-tight (a pace level not chosen leaves its target row relaxed by its big-M).
    linked : the row is `capacity x choice`; the diagnosis splits it so that slack can enlarge the
        capacity but never bypass the choice.
    loose : the row is `x - M y <= 0` with M a bound derived from other limits (site power, supply,
        the target); the diagnosis replaces M by a huge bound so relaxing those limits is not blocked.
    implied : a valid inequality: every integral plan of the other families satisfies it, and it only
        strengthens the relaxation; the diagnosis drops it, since the limits it follows from may be relaxed.
    check : what the verifier recomputes for the family, in plain language.
    build, verify : optional implementations for a family added from outside the package (a
        plug-in or a test); the package's own families are implemented by name in
        formulation/constraints.py and plan/checks.py.
    """

    name: str
    index: tuple[str, ...]
    math: str
    unit: str
    scale: str
    meaning: str | None
    check: str
    definitional: bool = False
    relaxation: Relaxation | None = None
    hangs_on: str | None = None
    linked: bool = False
    loose: bool = False
    implied: bool = False
    build: Callable[..., Any] | None = None
    verify: Callable[..., Any] | None = None

    @property
    def dual_unit(self) -> str:
        """Unit of the family's marginal value."""
        return f"USD per {self.unit}"

    def describe(self, key: tuple[str, ...]) -> str:
        """The meaning of one more unit of the limit at `key`."""
        return (self.meaning or self.name).format(**dict(zip(self.index, key)))

    def excess_message(self, key: tuple[str, ...], amount: float, limit: float | None) -> str:
        """The diagnosis's sentence for exceeding the limit at `key` by `amount` [unit]."""
        if self.relaxation is None:
            raise ValueError(f"family {self.name} is not relaxed")
        over = f" ({amount / limit:.0%} over)" if limit else ""
        return self.relaxation.message.format(amount=amount, limit=limit or 0.0, over=over,
                                              **dict(zip(self.index, key)))


FAMILIES: tuple[Family, ...] = (
    Family(
        "supply_cap", ("accelerator", "quarter"),
        "sum_s buy[a,s,t] - sum_{d on a, covering t} U[d] deal[d] - spot[a,t] <= S[a,t]   for catalog a with a "
        "finite supply S[a,t] [servers]",
        "accelerator", "units_per_server", "one more {accelerator} in {quarter} (supply)",
        "purchases of each accelerator per quarter within the buyer's supply",
        relaxation=Relaxation(1e7, "supply of {accelerator} in {quarter}: {amount:,.0f} units more than the "
                                   "{limit:,.0f} available{over}")),
    Family(
        "custom_volume", ("program", "quarter"),
        "sum_s buy[a_p,s,t] - V[p] fund[p] - sum_{d on p, covering t} U[d] deal[d] <= 0   for each program p and "
        "quarter t [servers]",
        "accelerator", "units_per_server", "one more custom-chip accelerator of volume from {program} in {quarter}",
        "custom chips bought only from a funded program, within its volume per quarter",
        relaxation=Relaxation(1e7, "custom-chip volume of {program} in {quarter}: {amount:,.0f} units more than "
                                   "the program makes"),
        hangs_on="fund", linked=True),
    Family(
        "deal_program", ("deal",),
        "deal[d] - fund[p(d)] <= 0   for each deal on a custom program's capacity",
        "deal", "one", None,
        "a deal on a custom program's foundry capacity only with the program funded", definitional=True),
    Family(
        "spot_purchase", ("accelerator", "quarter"),
        "spot[a,t] - sum_s buy[a,s,t] <= 0,  0 <= spot[a,t] <= D[a,t]   for each accelerator with a spot market "
        "[servers]",
        "accelerator", "units_per_server", None,
        "servers bought on the spot market, beyond the allocation and with built components, are part of the "
        "quarter's purchases, within the market's depth", definitional=True),
    Family(
        "deal_take", ("deal", "quarter"),
        "take[d,t] - U[d] deal[d] <= 0   for each deal with a prepayment and quarter it covers [servers, or component "
        "units]",
        "unit", "one", None,
        "units credited against a prepaid deal within the extra supply of the share taken", definitional=True),
    Family(
        "deal_credit", ("supply", "quarter"),
        "sum_{d on x} take[d,t] - sum_{a,s} U[a,x] buy[a,s,t] + sum_a U[a,x] spot[a,t] <= 0   for each supply x a "
        "prepaid deal raises (U[a,x] = 1 for its accelerator or chip, the units of a component) [servers, or "
        "component units]",
        "unit", "one", None,
        "prepayments credited only against units bought on allocation in the quarter", definitional=True),
    Family(
        "component_cap", ("component", "quarter"),
        "sum_{a,s} U[a,c] (buy[a,s,t] - spot[a,t]) - sum_{d on c, covering t} U[d] deal[d] <= K[c]   for each "
        "component c and quarter t [component units]",
        "unit", "one", "one more unit of {component} in {quarter}",
        "shared components (HBM stacks, CoWoS) used per quarter within their supply",
        relaxation=Relaxation(1e6, "{component} in {quarter}: {amount:,.0f} units more than the {limit:,.0f} "
                                   "supplied{over}")),
    Family(
        "site_power", ("site",),
        "sum_{a,t} W[a] buy[a,s,t] - E[s] open[s] - new_mw[s] <= 0 [MW]",
        "MW", "one", "one more MW of powered IT capacity at {site}",
        "IT load of all hardware bought for a site within its existing (if opened) plus new capacity",
        relaxation=Relaxation(1e9, "site {site} needs {amount:,.2f} MW more powered IT capacity than it can have"),
        hangs_on="open"),
    Family(
        "site_build", ("site",),
        "new_mw[s] - (M[s] - E[s]) open[s] <= 0 [MW]",
        "MW", "one", "one more MW of buildable capacity at {site}",
        "new capacity only at an opened site, within what can be built by the last run start",
        relaxation=Relaxation(1e9, "site {site} would need {amount:,.2f} MW beyond its maximum"),
        hangs_on="open", linked=True),
    Family(
        "site_energised", ("site",),
        "sum_{(a,t): ready(a,s,t) < R[s]} W[a] buy[a,s,t] - E[s] open[s] <= 0 [MW], R[s] = quarter new capacity "
        "is powered",
        "MW", "one", "one more MW of existing capacity at {site} before its build is powered",
        "hardware installed before a site's new capacity is powered fits its existing capacity",
        relaxation=Relaxation(1e9, "site {site} needs {amount:,.2f} MW before its new capacity is powered"),
        hangs_on="open"),
    Family(
        "installed_mw", ("site", "quarter"),
        "installed[s,t] - installed[s,t-1] - sum_{(a,t'): ready(a,s,t') = t} W[a] buy[a,s,t'] + sum_{a,t'} W[a] "
        "sell[a,s,t',t] = 0 [MW]  (leased and phased sites)",
        "MW", "one", None,
        "IT load installed at a leased or phased site by each quarter: every purchase from the quarter it is installed",
        definitional=True),
    Family(
        "site_phase", ("site", "quarter"),
        "installed[s,t] - E[s] open[s] - powered[s,t] <= 0 [MW],  powered[s,t] <= P[s,t]  (sites energised in "
        "phases)",
        "MW", "one", "one more MW energised at {site} by {quarter}",
        "IT load installed at a site energised in phases within its existing capacity and the new MW powered by then",
        relaxation=Relaxation(1e9, "site {site} needs {amount:,.2f} MW more energised by {quarter}"),
        hangs_on="open"),
    Family(
        "phase_build", ("site", "quarter"),
        "powered[s,t] - new_mw[s] <= 0 [MW]",
        "MW", "one", None,
        "new MW powered at a phased site within the MW built", definitional=True),
    Family(
        "site_lease", ("site", "quarter"),
        "installed[s,t] - built[s,t] - lease[s,t] <= 0 [MW],  built = powered[s,t] (phased) or [t >= R[s]] "
        "new_mw[s],  lease[s,t] <= E[s]",
        "MW", "one", None,
        "existing capacity in use each quarter is leased for that quarter: the load the new build does not carry",
        definitional=True),
    Family(
        "fleet", ("accelerator", "site", "quarter"),
        "sum_{w covers t} units[a,s,w] + ramp[a,s,w,t] + serve[a,s,t] - sum_{t': ready(a,s,t') <= t} buy[a,s,t'] "
        "+ sum_{t', t'' <= t} sell[a,s,t',t''] <= 0 [servers]   (a growing run's units only in its window's last "
        "quarter)",
        "accelerator", "units_per_server", "one more {accelerator} installed at {site} in {quarter}",
        "servers working in runs or serving sustained demand at each site and quarter within those installed "
        "there by then",
        definitional=True),
    Family(
        "sale_cohort", ("accelerator", "site", "quarter"),
        "sum_{t''} sell[a,s,t,t''] - buy[a,s,t] <= 0   (costs.sell_surplus; t'' from the order's installation) "
        "[servers]",
        "accelerator", "units_per_server", None,
        "servers sold before the last deadline, from each order, within the order", definitional=True),
    Family(
        "run_fleet", ("run", "accelerator", "site"),
        "sum_{w of r} units[a,s,w] - sum_t buy[a,s,t] <= 0   (implied by fleet) [servers]",
        "accelerator", "units_per_server", None,
        "a run's servers at a site, over all its candidate windows, within every purchase there (a valid "
        "inequality: the relaxation cannot count one server in several windows of a run)", definitional=True,
        implied=True),
    Family(
        "ramp_cluster", ("accelerator", "site", "window", "quarter"),
        "ramp[a,s,w,t] - units[a,s,w] <= 0 [servers]   (runs with grow: true; t before the window's last quarter)",
        "accelerator", "units_per_server", None,
        "a growing run's servers working in a quarter before its last within its full cluster",
        definitional=True),
    Family(
        "energy_balance", ("site", "window"),
        "sum_a W[a] D[a] PUE[s] (h[w] units[a,s,w] + sum_t h[w,t] ramp[a,s,w,t]) / 1000 - sum_{k at s} energy[k,w] "
        "<= 0 [GWh], D[a] = average draw fraction, h[w] = hours the full cluster works",
        "MWh", "mwh_per_gwh", None,
        "facility energy of each run window at each site covered by contracted energy",
        definitional=True,     # a balance: energy bought is energy used; its dual is the energy price again
        relaxation=Relaxation(1e6, "site {site} is short {amount:,.0f} MWh of contracted energy in {window}"),
        hangs_on="open"),
    Family(
        "serving_energy", ("site", "quarter"),
        "sum_a W[a] D[a] PUE[s] h[t] / 1000 serve[a,s,t] - sum_{k at s} serve_energy[k,t] <= 0 [GWh]",
        "MWh", "mwh_per_gwh", None,
        "facility energy of the servers serving sustained demand at each site and quarter covered by contracted energy",
        definitional=True,
        relaxation=Relaxation(1e6, "site {site} is short {amount:,.0f} MWh of contracted energy for serving in "
                                   "{quarter}"),
        hangs_on="open"),
    Family(
        "firm_power", ("site", "quarter"),
        "sum_a W[a] PUE[s] (sum_{w covers t} units[a,s,w] + serve[a,s,t]) - sum_{k at s live in t} f[k] "
        "contract_mw[k] <= 0 [MW]",
        "MW", "one", "one more MW of firm power at {site} in {quarter}",
        "peak facility load of the runs and of serving at each site and quarter covered by firm contracted capacity",
        relaxation=Relaxation(1e9, "site {site} is short {amount:,.2f} MW of firm power in {quarter}"),
        hangs_on="open"),
    Family(
        "contract_size", ("contract",),
        "contract_mw[k] - Mk[k] sign[k] <= 0 [MW]",
        "MW", "one", "one more MW under contract {contract}",
        "contracted MW only under a signed contract, within its maximum",
        relaxation=Relaxation(1e9, "contract {contract} would need {amount:,.2f} MW more than its maximum"),
        hangs_on="sign", linked=True),
    Family(
        "contract_output", ("contract", "quarter"),
        "sum_{w covers t} (days[w,t] / days[w]) energy[k,w] + serve_energy[k,t] - cf[k] h[t] / 1000 contract_mw[k] "
        "<= 0 [GWh]",
        "MWh", "mwh_per_gwh", None,
        "energy taken in each quarter within what the contracted MW deliver", definitional=True),
    Family(
        "contract_min_take", ("contract", "window"),
        "m[k] cf[k] h[w] / 1000 (contract_mw[k] + Mk[k] active[s(k),w]) - energy[k,w] <= m[k] cf[k] h[w] / 1000 Mk[k]"
        "   where m[k] > 0 [GWh]",
        "MWh", "mwh_per_gwh", None,
        "a run window at the site takes at least the contract's minimum share of its output", definitional=True),
    Family(
        "site_active", ("site", "window"),
        "use[r(w),s] + window[w] - active[s,w] <= 1   at sites with a minimum-take contract",
        "window", "one", None,
        "a site is active in a window when the window is chosen and its run uses the site", definitional=True),
    Family(
        "contract_site", ("contract",),
        "sign[k] - open[s(k)] <= 0",
        "contract", "one", None,
        "contracts signed only at opened sites", definitional=True),
    Family(
        "cloud_quota", ("offer", "quarter"),
        "sum_{w covers t} rent[o,w] + serve_rent[o,t] <= Q[o] [instances]",
        "accelerator", "units_per_instance", "one more rented accelerator of {offer} in {quarter}",
        "rentals of the runs and for serving in each quarter within what each offer rents",
        relaxation=Relaxation(1e7, "offer {offer} would need {amount:,.0f} more accelerators than it rents in "
                                   "{quarter}")),
    Family(
        "commitment_cover", ("offer", "quarter"),
        "sum_{w covers t} rent[o,w] + serve_rent[o,t] - sum_{q <= t < q + L[o]} commit[o,q] <= 0 [instances],  "
        "L[o] = term quarters",
        "accelerator", "units_per_instance", None,
        "a committed offer's rentals in each quarter within the commitments whose term covers it",
        definitional=True),
    Family(
        "run_location", ("run", "location"),
        "sum_{a,w of r} W[a] units[a,s,w] - M[s] use[r,s] <= 0 [MW];  sum_{w of r} rent[o,w] - Q[o] use[r,o] <= 0 "
        "[instances]",
        "location", "one", None,
        "hardware at a site or rentals from an offer serve a run only where the run uses that location",
        definitional=True, loose=True),
    Family(
        "location_open", ("run", "location"),
        "use[r,s] - open[s] <= 0",
        "location", "one", None,
        "a run uses only opened sites", definitional=True),
    Family(
        "cluster_size", ("window", "site"),
        "sum_a n[a] units[a,s,w] <= Z[s] [accelerators], Z[s] = largest fabric domain",
        "accelerator", "one", "one more accelerator in the fabric of {site}",
        "a run's cluster at each site within its largest fabric domain",
        relaxation=Relaxation(1e7, "the fabric at {site} would need {amount:,.0f} more accelerators in {window}")),
    Family(
        "max_sites", ("run",),
        "sum_loc use[r,loc] <= N[r] [locations]",
        "location", "one", None,
        "each run spans at most max_sites locations",
        relaxation=Relaxation(1e10, "run {run} would need {amount:,.0f} more location(s) than max_sites allows")),
    Family(
        "span_locations", ("run",),
        "sum_loc use[r,loc] - (N[r] - 1) spread[r,region] <= 1",
        "location", "one", None,
        "the region span efficiency applies when a run uses more than one location", definitional=True),
    Family(
        "location_region", ("run", "location"),
        "use[r,loc] - region_use[r,g(loc)] <= 0",
        "location", "one", None,
        "a location's region counts as used by the run", definitional=True),
    Family(
        "location_continent", ("run", "location"),
        "use[r,loc] - continent_use[r,c(loc)] <= 0",
        "location", "one", None,
        "a location's continent counts as used by the run", definitional=True),
    Family(
        "span_regions", ("run",),
        "sum_g region_use[r,g] - (N[r] - 1) spread[r,continent] <= 1",
        "region", "one", None,
        "the continent span efficiency applies when a run spans regions", definitional=True),
    Family(
        "span_continents", ("run",),
        "sum_c continent_use[r,c] - (N[r] - 1) spread[r,world] <= 1   (no spread[r,world] unless the run "
        "may cross an ocean)",
        "continent", "one", None,
        "a run stays on one continent unless it may cross an ocean, at the world span efficiency",
        relaxation=Relaxation(1e10, "run {run} would have to cross an ocean")),
    Family(
        "span_order", ("run", "span"),
        "spread[r,h] - spread[r,h-1] <= 0",
        "span", "one", None,
        "spanning continents spans regions, and spanning regions spans locations", definitional=True),
    Family(
        "window_choice", ("run",),
        "sum_{w of r} window[w] = 1",
        "window", "one", None,
        "each run takes exactly one (start, length) window", definitional=True),
    Family(
        "window_units", ("window",),
        "sum_{a,s} n[a] units[a,s,w] + sum_o n[o] rent[o,w] - U[w] window[w] <= 0 [accelerators]",
        "accelerator", "one", None,
        "hardware works for a run only in the window it takes", definitional=True, loose=True),
    Family(
        "slot_window", ("member", "window"),
        "units[a,s,w] - Us[a,s,w] window[w] <= 0 [servers];  rent[o,w] - Q[o] window[w] <= 0 [instances]",
        "server", "one", None,
        "each slot of a run works only in the window the run takes (disaggregated window_units)",
        definitional=True, loose=True),
    Family(
        "pace_choice", ("run",),
        "sum_{l of r} pace[l] = 1",
        "level", "one", None,
        "each run runs at one pace: one group (stack or model) and the rate of its slowest member",
        definitional=True),
    Family(
        "pace_member", ("run", "member"),
        "sum_{s,w} n[a] units[a,s,w] - U[a] sum_{l of r: g(l) = g(a), rho[l] <= rho[a]} pace[l] <= 0 [accelerators]",
        "accelerator", "one", None,
        "an accelerator or offer joins a run only at a pace of its group no faster than itself", definitional=True, loose=True),
    Family(
        "stack_member", ("run", "stack"),
        "sum_{members of stack k} n units - U[k] stack_used[r,k] <= 0 [accelerators]   (mix: any)",
        "accelerator", "one", None,
        "members of a stack join a run that mixes stacks only if the stack counts as used", definitional=True, loose=True),
    Family(
        "stack_count", ("run",),
        "sum_k stack_used[r,k] - sum_j extra[r,j] <= 1   (mix: any)",
        "stack", "one", None,
        "every stack beyond the first is an extra one, at the stack efficiency", definitional=True),
    Family(
        "band_choice", ("run",),
        "sum_{b of r} band[b] = 1",
        "band", "one", None,
        "each run is in one goodput band", definitional=True),
    Family(
        "band_size", ("run",),
        "sum n units + sum n rent - sum_b Z[b] band[b] <= 0 [accelerators]",
        "accelerator", "one", None,
        "a run's accelerators within its goodput band's size", definitional=True, loose=True),
    Family(
        "efficiency_loss", ("run", "band", "span", "extras"),
        "loss[r] - T[r] (f - 1) sum(binaries) + (f - 1) short[r] >= -T[r] (f - 1) (len(binaries) - 1),  "
        "f = 1 / (g[b] eta[h] e^n) [EFLOP/s-day]; short[r] only with a shortfall penalty (docs/risk.md)",
        "1e24 FLOP", "1e24flop_per_efday", None,
        "the compute a run loses to goodput, span and stack mixing for the band, span and stacks it takes",
        definitional=True),
    Family(
        "goodput_loss", ("run",),
        "loss[r] - T[r] sum_b (1/g[b] - 1) band[b] + c_max short[r] >= 0   (implied by efficiency_loss) "
        "[EFLOP/s-day]",
        "1e24 FLOP", "1e24flop_per_efday", None,
        "a run loses at least the goodput of its band (a valid inequality that holds for fractional bands)",
        definitional=True, implied=True),
    Family(
        "compute_target", ("level",),
        "sum_{members at l} rho[l] n (d[w] units + sum_t d[w,t] ramp + d[w] rent) - loss[r] + short[r] "
        "- T[r] f_max pace[l] >= T[r] (1 - f_max) (single level: >= T[r]) [EFLOP/s-day], d[w] = days the full "
        "cluster works",
        "1e24 FLOP", "1e24flop_per_efday", "1e24 FLOP more training compute for {level}",
        "each run's compute at its pace, after goodput, span and stack losses, reaches its target (less any "
        "shortfall paid for)",
        relaxation=Relaxation(1e11, "{level} short {amount:.3g} x 1e24 FLOP even with every other limit relaxed"),
        hangs_on="pace"),
    Family(
        "compute_bound", ("run",),
        "sum_{members} rho[r,a] n d[w] (units, rent) - loss[r] + short[r] >= T[r]   (implied by compute_target) "
        "[EFLOP/s-day]",
        "1e24 FLOP", "1e24flop_per_efday", None,
        "each run's compute at its members' own rates, after its losses, reaches its target (a valid "
        "inequality that keeps the relaxation's bound strong)", definitional=True, implied=True),
    Family(
        "run_site_power", ("run", "location"),
        "sum_{a,w of r} W[a] units[a,s,w] - E[s] use[r,s] - new_mw[s] <= 0   (implied by site_power and "
        "location_open) [MW]",
        "MW", "one", None,
        "a run's load at a site within the site's existing MW, where the run uses it, and its new MW (a valid "
        "inequality: the relaxation cannot draw on the existing MW of many sites at a fraction of each)",
        definitional=True, implied=True),
    Family(
        "location_reach", ("run", "location"),
        "sum_{a,w of r} own[a,s,w] units[a,s,w] (+ ramp) - C[r,s] use[r,s] <= 0   (implied by the compute, power "
        "and slot limits), own = rho[r,a] n d[w], C[r,s] = most compute the site can give the run [EFLOP/s-day]",
        "1e24 FLOP", "1e24flop_per_efday", None,
        "a run's compute at a site within what the site can give it, only where the run uses the site (a valid "
        "inequality, tighter than run_location's MW)", definitional=True, implied=True),
    Family(
        "location_cover", ("run",),
        "sum_loc min(C[r,loc], Nk[r]) use[r,loc] + short[r] - (Nk[r] - N[r]) spread[r,region] >= N[r]   (implied by "
        "the compute, power and slot limits), N[r] = T[r] + least loss, Nk[r] = N[r] / eta[region] (N[r] if the run "
        "may fall short), C[r,loc] = most compute the location can give the run [EFLOP/s-day]",
        "1e24 FLOP", "1e24flop_per_efday", None,
        "the locations a run uses can give the compute it needs (a valid inequality: the relaxation cannot mix "
        "locations none of which could carry the run)", definitional=True, implied=True),
    Family(
        "sustained_demand", ("quarter",),
        "sum_{a,s} P[a] serve[a,s,t] + sum_o P[o] serve_rent[o,t] >= D[t] [PFLOP/s],  P = dense BF16 peak per "
        "server or instance",
        "PFLOP/s", "one", "one more PFLOP/s of sustained demand in {quarter}",
        "sustained demand (inference, research) served each quarter by owned servers not in a run and by rentals",
        relaxation=Relaxation(1e7, "sustained demand in {quarter}: {amount:,.1f} PFLOP/s more than the fleet and "
                                   "the cloud can serve")),
    Family(
        "export_cap", ("country",),
        "sum_{(a,s,t): s in g, a capped in g} TPP[a] buy[a,s,t] <= cap[g] [MTPP]",
        "H100e", "h100e_per_mtpp", f"one more H100-equivalent ({H100_TPP:,.0f} TPP) of export cap in {{country}}",
        "TPP bought into each capped country within its export cap",
        relaxation=Relaxation(1e3 * H100_TPP, "export cap in {country} exceeded by {amount:,.1f} "
                                              "H100-equivalents{over}")),
    Family(
        "budget", ("objective",),
        "sum_j cost[j] x[j] <= budget_usd / 1e6   (budget.total_usd or objective.budget_usd) [$M]",
        "USD", "usd_per_musd", "one more USD of budget",
        "the plan's cost on its basis within the budget",
        relaxation=Relaxation(1e3, "the plan needs {amount:,.0f} USD more than the budget{over}")),
    Family(
        "annual_budget", ("year",),
        "sum_{flows f paid in year y, not resale} amount[f] x[column f] <= per_year_usd / 1e6 [$M]",
        "USD", "usd_per_musd", "one more USD of budget in {year}",
        "nominal cash paid in each calendar year within budget.per_year_usd",
        relaxation=Relaxation(1e3, "the plan needs {amount:,.0f} USD more than the yearly budget in {year}{over}")))


def family_named(name: str, families: tuple[Family, ...] = FAMILIES) -> Family:
    """The declaration of the family called `name`; KeyError naming the known ones otherwise."""
    for family in families:
        if family.name == name:
            return family
    raise KeyError(f"no constraint family {name!r}; known: {', '.join(f.name for f in families)}")


def hangs_on(families: tuple[Family, ...] = FAMILIES) -> dict[str, str]:
    """Row family -> the binary column family whose choice its rows belong to (Family.hangs_on)."""
    return {f.name: f.hangs_on for f in families if f.hangs_on}


def definitional_names(families: tuple[Family, ...] = FAMILIES) -> frozenset[str]:
    """Names of the families that define a quantity rather than limit the plan."""
    return frozenset(f.name for f in families if f.definitional)


def markdown_table(families: tuple[Family, ...] = FAMILIES) -> str:
    """The families as the table docs/formulation.md shows (`python -m clustersize.families`)."""
    lines = ["| family | index | rows | unit of a row | marginal value | relaxed in a diagnosis at |",
             "|---|---|---|---|---|---|"]
    for f in families:
        value = "definition" if f.definitional else (f.dual_unit if f.meaning else "not reported")
        relaxed = (f"${f.relaxation.price_usd:,.0f} per {f.unit}" if f.relaxation
                   else "left out (valid inequality)" if f.implied else "hard")
        lines.append(f"| `{f.name}` | {', '.join(f.index)} | `{f.math}` | {f.unit} | {value} | {relaxed} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
