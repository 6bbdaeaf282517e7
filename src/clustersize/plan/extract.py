"""Solution vector -> plan tables in user units (accelerators, USD, MW, MWh, FLOP, TPP)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..costlines import CATEGORY, ECONOMICS, HOURS_PER_MONTH, LINES
from ..data.modeldata import FLOP_PER_EFLOPS_DAY, TPP_PER_MTPP, USD_PER_MUSD, ModelData
from ..families import FAMILIES, hangs_on
from ..formulation import LinearProgram
from ..periods import quarter_start
from ..schema.problem import Problem
from ..schema.runs import SPAN_LEVELS
from .plan import SERVING

ZERO = 1e-9
BINDING_TOL = 1e-6
VALUE_TOL_USD = 1e-6        # [USD per unit] a marginal value below this is zero
SECONDS_PER_DAY = 86400.0


def _cols(lp: LinearProgram, x: np.ndarray, family: str) -> np.ndarray:
    return x[lp.col_slices[family]]


def purchases_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """One row per (accelerator, site, quarter) with a purchase; `ready` is the quarter it is installed."""
    servers = _cols(lp, x, "buy")
    keep = servers > ZERO
    a, s, t = d.cell_acc[keep], d.cell_site[keep], d.cell_period[keep]
    units = servers[keep] * d.acc_units_per_server[a]
    cost = servers[keep] * d.cell_price[keep] * USD_PER_MUSD
    return pd.DataFrame({
        "accelerator": [d.acc_ids[i] for i in a], "site": [d.site_ids[i] for i in s],
        "country": [d.site_country[i] for i in s], "quarter": [d.periods[i] for i in t],
        "ready": [d.periods[i] for i in d.cell_ready[keep]],
        "units": units, "servers": servers[keep],
        "unit_cost_usd": cost / np.where(units > 0, units, 1), "capex_usd": cost,
    })


def _unit_load(d: ModelData, lp: LinearProgram, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per site: peak facility load of the runs and serving over the quarters [MW], facility energy [MWh]."""
    sl, sv = d.slots, d.serving
    slot, quarter, days, servers = _working(d, lp, x)
    serve = _cols(lp, x, "serve")
    n_s, n_t = len(d.site_ids), len(d.periods)
    peak = np.zeros((n_s, n_t))
    site = sl.unit_site[slot]
    mw = servers * d.acc_it_mw[sl.unit_acc[slot]] * d.site_pue[site]
    np.add.at(peak, (site, quarter), mw)
    serving = np.where(serve > ZERO, serve, 0.0) * d.acc_it_mw[sv.unit_acc] * d.site_pue[sv.unit_site]
    np.add.at(peak, (sv.unit_site, sv.unit_quarter), serving)
    energy = mw * d.acc_draw[sl.unit_acc[slot]] * days * 24.0
    energy_serving = serving * d.acc_draw[sv.unit_acc] * d.period_hours[sv.unit_quarter]
    return peak.max(axis=1, initial=0.0), (np.bincount(site, weights=energy, minlength=n_s)
                                           + np.bincount(sv.unit_site, weights=energy_serving, minlength=n_s))


def _working(d: ModelData, lp: LinearProgram, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Servers working in runs, per (unit slot, quarter): (slot, quarter, days of the window then,
    servers): a run's cluster in every quarter of its window, a growing run's ramp before its last."""
    sl = d.slots
    units, ramp = _cols(lp, x, "units"), _cols(lp, x, "ramp")
    slot, quarter, days = sl.unit_cover()
    keep = units[slot] > ZERO
    on = ramp > ZERO
    return (np.concatenate([slot[keep], sl.ramp_unit[on]]), np.concatenate([quarter[keep], sl.ramp_quarter[on]]),
            np.concatenate([days[keep], sl.ramp_days[on]]), np.concatenate([units[slot[keep]], ramp[on]]))


def sites_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Every candidate site: opened, capacity built, IT load of the hardware bought, the runs' peak and energy."""
    servers = _cols(lp, x, "buy")
    load = np.bincount(d.cell_site, weights=servers * d.acc_it_mw[d.cell_acc], minlength=len(d.site_ids))
    peak, energy = _unit_load(d, lp, x)
    opened = np.round(_cols(lp, x, "open")).astype(bool)
    new_mw = _cols(lp, x, "new_mw")
    return pd.DataFrame({
        "site": d.site_ids, "country": d.site_country, "opened": opened,
        "existing_basis": [problem.sites[s].existing_basis for s in d.site_ids],
        "existing_mw": np.where(opened, d.site_existing_mw, 0.0), "new_mw": new_mw,
        "it_capacity_mw": np.where(opened, d.site_existing_mw, 0.0) + new_mw, "it_load_mw": load,
        "facility_peak_mw": peak, "facility_energy_mwh": energy,
    })


def contracts_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Every usable contract: signed, size, energy taken over all run windows and its cost."""
    gwh, serving = _cols(lp, x, "energy"), _cols(lp, x, "serve_energy")
    # The same entries as the energy table: solver noise below ZERO (either sign) is no energy.
    n_k = len(d.con_ids)
    energy_mwh = (np.bincount(d.slots.energy_contract, weights=np.where(gwh > ZERO, gwh, 0.0), minlength=n_k)
                  + np.bincount(d.serving.energy_contract, weights=np.where(serving > ZERO, serving, 0.0),
                                minlength=n_k)) * 1000.0
    mw = _cols(lp, x, "contract_mw")
    contracts = [problem.contracts[c] for c in d.con_ids]
    price = np.array([c.price_usd_per_mwh for c in contracts])
    return pd.DataFrame({
        "contract": d.con_ids, "site": [c.site for c in contracts], "kind": d.con_kind,
        # A contract "signed" at 0 MW with no fixed cost is a free, meaningless choice of the solver.
        "signed": np.round(_cols(lp, x, "sign")).astype(bool) & ((mw > ZERO) | (d.con_fixed > 0)),
        "contracted_mw": mw, "firm_mw": mw * d.con_firm,
        "energy_mwh": energy_mwh, "price_usd_per_mwh": price, "energy_cost_usd": energy_mwh * price,
        "emissions_t": energy_mwh * d.con_carbon / 1000.0,
        "carbon_cost_usd": energy_mwh * d.con_carbon / 1000.0 * problem.costs.carbon_price_usd_per_t,
        "fixed_cost_usd": (np.round(_cols(lp, x, "sign")) * d.con_fixed + mw * d.con_fixed_per_mw) * USD_PER_MUSD,
    })


def energy_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Energy each contract delivers to each run window, and to serving in each quarter [MWh]."""
    gwh, serving = _cols(lp, x, "energy"), _cols(lp, x, "serve_energy")
    keep, served = gwh > ZERO, serving > ZERO
    sl, w, sv = d.slots, d.runs.windows, d.serving
    win, quarter = sl.energy_window[keep], sv.energy_quarter[served]
    starts = [quarter_start(problem.planning_start, t) for t in range(len(d.periods))]
    return pd.DataFrame({
        "contract": [d.con_ids[k] for k in sl.energy_contract[keep]] + [d.con_ids[k] for k in sv.energy_contract[served]],
        "run": [d.runs.ids[w.run[i]] for i in win] + [SERVING] * int(served.sum()),
        "start": [w.starts[i].isoformat() for i in win] + [starts[t].isoformat() for t in quarter],
        "days": np.concatenate([w.days[win], d.period_hours[quarter] / 24.0]),
        "energy_mwh": np.concatenate([gwh[keep], serving[served]]) * 1000.0,
    })


def rentals_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Cloud instances rented for each run window."""
    instances = _cols(lp, x, "rent")
    sl, w = d.slots, d.runs.windows
    keep = instances > ZERO
    o, win = sl.rent_offer[keep], sl.rent_window[keep]
    offers = [problem.cloud[d.cloud_ids[i]] for i in o]
    committed = np.array([offer.committed for offer in offers], dtype=bool)
    return pd.DataFrame({
        "run": [d.runs.ids[w.run[i]] for i in win], "offer": [d.cloud_ids[i] for i in o],
        "accelerator": [offer.accelerator for offer in offers], "country": [offer.country for offer in offers],
        "instances": instances[keep], "units": instances[keep] * d.cloud_units_per_instance[o],
        "hours": w.hours[win], "committed": committed,
        # a committed offer's hours are paid by its commitment (the commitments table), not here
        "cost_usd": np.where(committed, 0.0, instances[keep] * d.cloud_cost_per_hour[o] * w.hours[win] * USD_PER_MUSD),
    })


def ramp_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """A growing run's accelerators working in each quarter of its window before the last, per site."""
    sl, r, w = d.slots, d.runs, d.runs.windows
    ramp = _cols(lp, x, "ramp")
    on = ramp > ZERO
    u = sl.ramp_unit[on]
    return pd.DataFrame({
        "run": [r.ids[w.run[i]] for i in sl.unit_window[u]], "quarter": [d.periods[t] for t in sl.ramp_quarter[on]],
        "location": [d.site_ids[i] for i in sl.unit_site[u]], "accelerator": [d.acc_ids[i] for i in sl.unit_acc[u]],
        "units": ramp[on] * d.acc_units_per_server[sl.unit_acc[u]], "days": sl.ramp_days[on]})


def cluster_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Each run's cluster: accelerators at each site and from each offer, with their own rate [TFLOP/s]."""
    sl, r, w = d.slots, d.runs, d.runs.windows
    units, rent = _cols(lp, x, "units"), _cols(lp, x, "rent")
    u, v = units > ZERO, rent > ZERO
    run_u, run_v = w.run[sl.unit_window[u]], w.run[sl.rent_window[v]]
    return pd.DataFrame({
        "run": [r.ids[i] for i in run_u] + [r.ids[i] for i in run_v],
        "location": [d.site_ids[i] for i in sl.unit_site[u]] + [d.cloud_ids[i] for i in sl.rent_offer[v]],
        "kind": ["site"] * int(u.sum()) + ["cloud"] * int(v.sum()),
        "accelerator": [d.acc_ids[i] for i in sl.unit_acc[u]] + [d.cloud_accelerator[i] for i in sl.rent_offer[v]],
        "units": np.concatenate([units[u] * d.acc_units_per_server[sl.unit_acc[u]],
                                 rent[v] * d.cloud_units_per_instance[sl.rent_offer[v]]]),
        "rate_tflops": np.concatenate([r.acc_rate[run_u, sl.unit_acc[u]], r.offer_rate[run_v, sl.rent_offer[v]]]) * 1e6,
        # days at full size: the window, or a growing run's last quarter of it (its ramp works before)
        "days": np.concatenate([sl.unit_days[u], w.days[sl.rent_window[v]]]),
    })


def _span(d: ModelData, locations: list[str]) -> str:
    """How far apart a run's locations are: one, region, continent or world."""
    sl = d.slots
    where = [sl.location_ids.index(loc) for loc in locations]
    if len(where) <= 1:
        return "one"
    if len({sl.location_continent[i] for i in where}) > 1:
        return SPAN_LEVELS[2]
    return SPAN_LEVELS[1] if len({sl.location_region[i] for i in where}) > 1 else SPAN_LEVELS[0]


def runs_table(d: ModelData, lp: LinearProgram, x: np.ndarray, cluster: pd.DataFrame,
               ramp: pd.DataFrame) -> pd.DataFrame:
    """One row per run: window, pace, locations, span, goodput, compute delivered and target."""
    r, w = d.runs, d.runs.windows
    chosen, pace = _cols(lp, x, "window"), _cols(lp, x, "pace")
    short = _cols(lp, x, "shortfall")
    rows = []
    for i, name in enumerate(r.ids):
        mine = np.flatnonzero(w.run == i)
        win = int(mine[np.argmax(chosen[mine])])
        levels = np.flatnonzero(r.level_run == i)
        level = int(levels[np.argmax(pace[levels])])
        here = cluster[cluster.run == name]
        locations = list(dict.fromkeys(here.location))
        units = float(here.units.sum())
        span = _span(d, locations)
        span_eff = 1.0 if span == "one" else float(r.span_efficiency[i, SPAN_LEVELS.index(span)])
        bands = np.flatnonzero(r.band_run == i)
        band = bands[np.searchsorted(r.band_units[bands], units - 1e-6)] if bands.size > 1 else bands[0]
        stacks = sorted({_stack_of(d, loc, acc, kind) for loc, acc, kind in zip(here.location, here.accelerator, here.kind)})
        extra = max(0, len(stacks) - 1)
        kept = float(r.band_goodput[band]) * span_eff * float(r.stack_efficiency[i]) ** extra
        rate = float(r.level_rate[level])
        mine_ramp = ramp[ramp.run == name]
        raw = rate * (float((here.units * here.days).sum()) + float((mine_ramp.units * mine_ramp.days).sum()))
        # a run wholly short of its target has no member, hence no pace
        rows.append({
            "run": name, "start": w.starts[win].isoformat(),
            "end": (w.starts[win] + dt.timedelta(days=float(w.days[win]))).isoformat(), "days": float(w.days[win]),
            "group": r.level_group[level], "stacks": ";".join(stacks), "pace_tflops": rate * 1e6 if len(here) else 0.0,
            "locations": ";".join(locations), "span": span, "span_efficiency": span_eff, "units": units,
            "goodput": float(r.band_goodput[band]), "extra_stacks": extra,
            "flop": raw * kept * FLOP_PER_EFLOPS_DAY, "target_flop": float(r.stated_flop[i]),
            "shortfall_flop": float(short[i]) * FLOP_PER_EFLOPS_DAY if short.size else 0.0,
        })
    return pd.DataFrame(rows, columns=["run", "start", "end", "days", "group", "stacks", "pace_tflops", "locations", "span",
                                       "span_efficiency", "units", "goodput", "extra_stacks", "flop", "target_flop",
                                       "shortfall_flop"])


def _stack_of(d: ModelData, location: str, accelerator: str, kind: str) -> str:
    if kind == "site":
        return d.runs.acc_stack[d.acc_ids.index(accelerator)]
    return d.runs.offer_stack[d.cloud_ids.index(location)]


def serving_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Sustained demand served in each quarter: owned accelerators at each site and rented ones from
    each offer, their dense BF16 peak [PFLOP/s] and the cost of on-demand rentals [USD]."""
    sv = d.serving
    serve, rent = _cols(lp, x, "serve"), _cols(lp, x, "serve_rent")
    u, v = serve > ZERO, rent > ZERO
    o, t = sv.rent_offer[v], sv.rent_quarter[v]
    committed = np.array([problem.cloud[d.cloud_ids[i]].committed for i in o], dtype=bool)
    return pd.DataFrame({
        "quarter": [d.periods[i] for i in sv.unit_quarter[u]] + [d.periods[i] for i in t],
        "location": [d.site_ids[i] for i in sv.unit_site[u]] + [d.cloud_ids[i] for i in o],
        "kind": ["site"] * int(u.sum()) + ["cloud"] * int(v.sum()),
        "accelerator": [d.acc_ids[i] for i in sv.unit_acc[u]] + [d.cloud_accelerator[i] for i in o],
        "units": np.concatenate([serve[u] * d.acc_units_per_server[sv.unit_acc[u]], rent[v] * d.cloud_units_per_instance[o]]),
        "pflops": np.concatenate([serve[u] * sv.acc_pflops[sv.unit_acc[u]], rent[v] * sv.offer_pflops[o]]),
        # a committed offer's hours are paid by its commitment (the commitments table), not here
        "cost_usd": np.concatenate([np.zeros(int(u.sum())), np.where(committed, 0.0, rent[v] * d.cloud_cost_per_hour[o]
                                                                     * d.period_hours[t] * USD_PER_MUSD)]),
    })


def fleet_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Per quarter, site and accelerator: installed, working in a run, serving sustained demand, idle
    [accelerators]."""
    sl, sv = d.slots, d.serving
    servers = _cols(lp, x, "buy")
    n_a, n_s, n_t = len(d.acc_ids), len(d.site_ids), len(d.periods)
    installed = np.zeros((n_a, n_s, n_t))
    for c in np.flatnonzero(servers > ZERO):
        installed[d.cell_acc[c], d.cell_site[c], d.cell_ready[c]:] += servers[c]
    sold = _cols(lp, x, "sell")
    for j in np.flatnonzero(sold > ZERO):
        c = d.sales.cell[j]
        installed[d.cell_acc[c], d.cell_site[c], d.sales.quarter[j]:] -= sold[j]
    working = np.zeros_like(installed)
    slot, quarter, _, busy = _working(d, lp, x)
    np.add.at(working, (sl.unit_acc[slot], sl.unit_site[slot], quarter), busy)
    serving = np.zeros_like(installed)
    serve = _cols(lp, x, "serve")
    np.add.at(serving, (sv.unit_acc, sv.unit_site, sv.unit_quarter), np.where(serve > ZERO, serve, 0.0))
    a, s, t = np.nonzero(installed > ZERO)
    ups = d.acc_units_per_server[a]
    return pd.DataFrame({
        "quarter": [d.periods[i] for i in t], "site": [d.site_ids[i] for i in s], "accelerator": [d.acc_ids[i] for i in a],
        "installed": installed[a, s, t] * ups, "in_run": working[a, s, t] * ups, "serving": serving[a, s, t] * ups,
        "idle": (installed[a, s, t] - working[a, s, t] - serving[a, s, t]) * ups,
    })


def programs_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray, purchases: pd.DataFrame) -> pd.DataFrame:
    """Custom-chip programs: funded, units bought, success probability."""
    funded = np.round(_cols(lp, x, "fund")).astype(bool)
    units = [float(purchases.loc[purchases.accelerator == f"custom:{p}", "units"].sum()) for p in d.prog_ids]
    return pd.DataFrame({
        "program": d.prog_ids, "funded": funded, "nre_usd": d.prog_nre * USD_PER_MUSD * funded,
        "units": units, "success_probability": [problem.custom_programs[p].success_probability for p in d.prog_ids],
    })


def deals_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Every supply deal: the share taken (0 or 1 unless divisible) and its fee and prepayment for that
    share [USD]."""
    taken = _cols(lp, x, "deal")
    return pd.DataFrame({"deal": d.deals.ids, "taken": taken,
                         "cost_usd": taken * (d.deals.fee + d.deals.prepaid) * USD_PER_MUSD})


def credits_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Units bought under a prepaid deal in each quarter [accelerators, or component units] and the
    prepayment credited against them [USD]."""
    units = _cols(lp, x, "take")
    keep = np.flatnonzero(units > ZERO)
    deals = d.deals
    deal = deals.take_deal[keep]
    return pd.DataFrame({"deal": [deals.ids[j] for j in deal.tolist()],
                         "quarter": [d.periods[t] for t in deals.take_quarter[keep].tolist()],
                         "units": units[keep] * deals.per_unit[deal],
                         "credit_usd": units[keep] * deals.prepay[deal] * USD_PER_MUSD})


def sales_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Accelerators sold before the last deadline: from which order (accelerator, site, quarter
    ordered), in which quarter, how many, and what the sale brings [USD, nominal]."""
    sold = _cols(lp, x, "sell")
    keep = np.flatnonzero(sold > ZERO)
    cell, t = d.sales.cell[keep], d.sales.quarter[keep]
    proceeds = d.money.flows["sell"][0].amount[keep]        # the credit per server [$M, negative]
    return pd.DataFrame({"accelerator": [d.acc_ids[a] for a in d.cell_acc[cell].tolist()],
                         "site": [d.site_ids[s] for s in d.cell_site[cell].tolist()],
                         "ordered": [d.periods[q] for q in d.cell_period[cell].tolist()],
                         "quarter": [d.periods[q] for q in t.tolist()],
                         "units": sold[keep] * d.acc_units_per_server[d.cell_acc[cell]],
                         "proceeds_usd": -proceeds * sold[keep] * USD_PER_MUSD})


def spot_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Accelerators bought on the spot market in each quarter they are [accelerators], and the premium
    paid on them [USD]."""
    servers = _cols(lp, x, "spot")
    bought = np.flatnonzero(servers > ZERO)
    spot = d.spot
    return pd.DataFrame({"accelerator": [d.acc_ids[a] for a in spot.acc[bought].tolist()],
                         "quarter": [d.periods[t] for t in spot.quarter[bought].tolist()],
                         "units": servers[bought] * d.acc_units_per_server[spot.acc[bought]],
                         "premium_usd": servers[bought] * spot.premium[bought] * USD_PER_MUSD})


def compute_table(cluster: pd.DataFrame, runs: pd.DataFrame, ramp: pd.DataFrame) -> pd.DataFrame:
    """Compute each source gives each run at the run's pace [FLOP], before goodput and span losses;
    `units` is the source's accelerators in the full cluster (a growing run's ramp adds compute only)."""
    pace = dict(zip(runs.run, runs.pace_tflops))
    frame = cluster.assign(source=[acc if kind == "site" else f"cloud:{loc}" for acc, kind, loc
                                   in zip(cluster.accelerator, cluster.kind, cluster.location)],
                           unit_days=cluster.units * cluster.days)
    frame = frame.groupby(["run", "source"], as_index=False, sort=False)[["units", "unit_days"]].sum()
    ramped = ramp.assign(unit_days=ramp.units * ramp.days).groupby(["run", "accelerator"]).unit_days.sum()
    unit_days = [ud + float(ramped.get((r, src), 0.0)) for r, src, ud in zip(frame.run, frame.source, frame.unit_days)]
    flop = [ud * pace[r] * 1e12 * SECONDS_PER_DAY for r, ud in zip(frame.run, unit_days)]
    return pd.DataFrame({"run": frame.run, "source": frame.source, "units": frame.units, "flop": flop})


def export_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Use of each capped country's export cap [TPP]."""
    servers = _cols(lp, x, "buy")
    rows = []
    for g, country in enumerate(d.cap_countries):
        mask = d.cell_capped == g
        used = float((servers[mask] * d.acc_mtpp[d.cell_acc[mask]]).sum()) * TPP_PER_MTPP
        cap = d.cap_mtpp[g] * TPP_PER_MTPP
        rows.append({"country": country, "policy": d.cap_policy[g], "cap_tpp": cap, "used_tpp": used,
                     "share": used / cap if cap > 0 else float("nan")})
    return pd.DataFrame(rows, columns=["country", "policy", "cap_tpp", "used_tpp", "share"])


def binding_table(lp: LinearProgram, x: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Rows at (or within 1 % of) a bound, with slack in the row's internal units and what one more
    unit of the limit is worth (`values`, solving/duals.py). A limit binds when it has a value (it
    is tight in the plan's LP with its choices fixed, though rounding to whole servers may leave
    slack), or when it is tight and unpriced (a definition or a limit the duals do not price); a
    tight limit whose value is proven zero does not bind: relaxing it changes nothing."""
    activity = lp.matrix @ x
    slack_hi = np.where(np.isfinite(lp.row_upper), lp.row_upper - activity, np.inf)
    slack_lo = np.where(np.isfinite(lp.row_lower), activity - lp.row_lower, np.inf)
    slack = np.minimum(slack_hi, slack_lo)
    bound = np.where(slack_hi <= slack_lo, lp.row_upper, lp.row_lower)
    scale = np.maximum(1.0, np.abs(np.where(np.isfinite(bound), bound, 0.0)))
    magnitude = abs(lp.matrix) @ np.abs(x)
    # A row such as contract_mw - M sign <= 0 at 0 <= 0 is tight but says nothing: skip rows
    # whose every term is zero and whose bound is zero.
    near = (slack <= 0.01 * scale) & ((magnitude > 1e-9) | (np.abs(np.where(np.isfinite(bound), bound, 0.0)) > 1e-9))
    near &= ~lp.unchosen_rows(x, hangs_on())   # a limit on an option not chosen is relaxed by that choice
    priced = np.nan_to_num(np.abs(values)) > VALUE_TOL_USD
    near |= priced          # tight in the plan's LP, though rounding to whole servers may leave slack
    labels = np.asarray(lp.row_keys.labels(), dtype=object)
    units = {f.name: f.dual_unit for f in FAMILIES}
    frame = pd.DataFrame({"family": lp.row_family[near], "index": labels[near], "slack": slack[near],
                          "relative_slack": slack[near] / scale[near], "value_usd": values[near],
                          "unit": [units.get(str(f), "") for f in lp.row_family[near]]})
    frame["binding"] = priced[near] | ((frame.relative_slack <= BINDING_TOL) & frame.value_usd.isna()).to_numpy()
    return frame.reset_index(drop=True)


def _line_sums(d: ModelData, lp: LinearProgram, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nominal cash [line, cash quarter] and the amortised charge [line] of the solution [$M]."""
    m = d.money
    cash, amortised = np.zeros((len(LINES), len(m.labels))), np.zeros(len(LINES))
    for family, flows in m.flows.items():
        values = _cols(lp, x, family)
        for f in flows:
            owner, column, quarter, amount = f.expanded(values[f.column] != 0)
            np.add.at(cash, (f.line[owner], quarter), amount * values[column])
            np.add.at(amortised, f.line, f.amortised * f.count * values[f.column])
    return cash, amortised


def costs_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Each cost line on every basis (docs/costs.md); `cost_usd` is the basis the problem selected,
    and the last row, `total`, is the objective."""
    cash, amortised = _line_sums(d, lp, x)
    residual = LINES.index("residual")
    frame = pd.DataFrame({
        "component": list(LINES),
        "full_usd": np.where(np.arange(len(LINES)) == residual, 0.0, cash.sum(axis=1)) * USD_PER_MUSD,
        "npv_usd": cash @ d.money.discount * USD_PER_MUSD, "amortised_usd": amortised * USD_PER_MUSD})
    frame["cost_usd"] = frame[f"{problem.costs.basis}_usd"]
    total = frame[["full_usd", "npv_usd", "amortised_usd", "cost_usd"]].sum()
    return pd.concat([frame, pd.DataFrame([{"component": "total", **total.to_dict()}])], ignore_index=True)


def cashflows_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Cash per quarter, to the last one paid: capex, opex, commitments and the resale credit [USD],
    nominal, then discounted at the problem's rate."""
    cash, _ = _line_sums(d, lp, x)
    m = d.money
    frame = pd.DataFrame({"quarter": m.labels})
    for category in ("capex", "opex", "commitments", "residual"):
        rows = [i for i, line in enumerate(LINES) if CATEGORY[line] == category]
        frame[f"{category}_usd"] = cash[rows].sum(axis=0) * USD_PER_MUSD
    frame["net_usd"] = frame[["capex_usd", "opex_usd", "commitments_usd", "residual_usd"]].sum(axis=1)
    frame["discount_factor"] = m.discount
    frame["discounted_usd"] = frame.net_usd * m.discount
    return frame


FLOP_PER_PFLOP_DAY = 1e15 * SECONDS_PER_DAY


def economics_table(purchases: pd.DataFrame, fleet: pd.DataFrame, objective_usd: float,
                    delivered_flop: float) -> pd.DataFrame:
    """What the plan's money buys: cost per delivered PFLOP-day, and the capital that waits idle
    (installed accelerators in no run, quarter by quarter, at their purchase cost)."""
    per_unit = (purchases.groupby(["accelerator", "site"]).capex_usd.sum()
                / purchases.groupby(["accelerator", "site"]).units.sum()) if len(purchases) else pd.Series(dtype=float)
    idle_capital = float(sum(row.idle * per_unit.get((row.accelerator, row.site), 0.0) for row in fleet.itertuples()))
    installed = float(fleet.installed.sum()) if len(fleet) else 0.0
    idle = float(fleet.idle.sum()) if len(fleet) else 0.0
    values = {"cost_per_pflop_day_usd": objective_usd / (delivered_flop / FLOP_PER_PFLOP_DAY) if delivered_flop else 0.0,
              "idle_unit_quarters": idle, "idle_share": idle / installed if installed else 0.0,
              "idle_capital_usd_quarters": idle_capital}
    return pd.DataFrame([(metric, values[metric], meaning) for metric, meaning in ECONOMICS.items()],
                        columns=["metric", "value", "meaning"])


def leases_table(d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Existing MW leased per site and quarter."""
    mw = _cols(lp, x, "lease")
    keep = mw > ZERO
    m = d.money
    return pd.DataFrame({"site": [d.site_ids[s] for s in m.lease_site[keep]],
                         "quarter": [d.periods[t] for t in m.lease_quarter[keep]], "leased_mw": mw[keep]})


def commitments_table(problem: Problem, d: ModelData, lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Cloud commitments: offer, first quarter of the term, size, and their whole-term cost [USD]."""
    instances = _cols(lp, x, "commit")
    keep = instances > ZERO
    m = d.money
    offers = [problem.cloud[d.cloud_ids[o]] for o in m.commit_offer[keep]]
    units = instances[keep] * d.cloud_units_per_instance[m.commit_offer[keep]]
    months = np.array([o.term_months for o in offers])
    price = np.array([o.price_usd_per_hour for o in offers])
    resale = np.array([o.resale_fraction for o in offers])
    return pd.DataFrame({
        "offer": [d.cloud_ids[o] for o in m.commit_offer[keep]], "start": [d.periods[q] for q in m.commit_quarter[keep]],
        "term_months": months, "instances": instances[keep], "units": units,
        "cost_usd": units * price * months * HOURS_PER_MONTH * (1.0 - resale)})
