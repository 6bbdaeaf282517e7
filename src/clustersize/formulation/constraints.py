"""Constraint families: one `add_<family>` each, with its math. Units as in modeldata.

Index sets: a accelerators (incl. custom chips), s sites, t quarters up to the run start,
k energy contracts, o cloud offers, p custom programs, c shared components, g capped
countries. A purchase cell (a, s, t) exists only where the order can be delivered, licensed
and installed by the run start; pruned cells are listed in ModelData.exclusions.
"""

from __future__ import annotations

import numpy as np

from ..data.modeldata import ModelData
from .program import ProgramBuilder

INF = np.inf


def _group(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique keys and, for each element, the index of its key."""
    if keys.size == 0:
        return np.zeros(0, dtype=keys.dtype), np.zeros(0, dtype=np.int64)
    return np.unique(keys, return_inverse=True)


def add_supply_cap(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """Supply to this buyer per accelerator and quarter [servers]:

        sum_s buy[a,s,t] <= S[a,t]            for catalog a with finite S[a,t]
    """
    finite = np.isfinite(d.acc_supply[d.cell_acc, d.cell_period]) & (d.acc_program[d.cell_acc] < 0)
    keys, row = _group(d.cell_acc[finite] * len(d.periods) + d.cell_period[finite])
    a, t = keys // len(d.periods), keys % len(d.periods)
    b.add_rows("supply_cap", [f"{d.acc_ids[i]},{d.periods[j]}" for i, j in zip(a, t)],
               row, x["buy"][finite], np.ones(row.size), -INF, d.acc_supply[a, t])


def add_custom_volume(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """A custom chip can be bought only if its program is funded, up to its volume [servers]:

        sum_s buy[a_p,s,t] - V[p] fund[p] <= 0        for each program p and quarter t
    """
    custom = d.acc_program[d.cell_acc] >= 0
    prog = d.acc_program[d.cell_acc][custom]
    keys, row = _group(prog * len(d.periods) + d.cell_period[custom])
    p, t = keys // len(d.periods), keys % len(d.periods)
    n = keys.size
    b.add_rows("custom_volume", [f"{d.prog_ids[i]},{d.periods[j]}" for i, j in zip(p, t)],
               np.concatenate([row, np.arange(n)]), np.concatenate([x["buy"][custom], x["fund"][p]]),
               np.concatenate([np.ones(row.size), -d.prog_volume[p]]), -INF, 0.0)


def add_component_cap(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """Shared components (HBM stacks, CoWoS) per quarter [component units]:

        sum_{a,s} U[a,c] buy[a,s,t] <= K[c]           for each component c and quarter t
    """
    for c, name in enumerate(d.components):
        use = d.component_use[d.cell_acc, c]
        mask = use > 0
        keys, row = _group(d.cell_period[mask])
        b.add_rows("component_cap", [f"{name},{d.periods[t]}" for t in keys], row, x["buy"][mask], use[mask],
                   -INF, d.component_supply[c])


def add_site_power(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """IT load of the chips at a site fits its powered IT capacity at the run start [MW]:

        sum_{a,t} W[a] buy[a,s,t] - E[s] open[s] - new_mw[s] <= 0
    """
    n_s, n = len(d.site_ids), len(d.cell_acc)
    b.add_rows("site_power", d.site_ids,
               np.concatenate([d.cell_site, np.arange(n_s), np.arange(n_s)]),
               np.concatenate([x["buy"], x["open"], x["new_mw"]]),
               np.concatenate([d.acc_it_mw[d.cell_acc] if n else [], -d.site_existing_mw, -np.ones(n_s)]),
               -INF, 0.0)


def add_site_build(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """New capacity only at an opened site, up to its maximum [MW]:

        new_mw[s] - (M[s] - E[s]) open[s] <= 0
    """
    n_s = len(d.site_ids)
    b.add_rows("site_build", d.site_ids, np.tile(np.arange(n_s), 2), np.concatenate([x["new_mw"], x["open"]]),
               np.concatenate([np.ones(n_s), -d.site_new_mw_max]), -INF, 0.0)


def add_energy_balance(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """Contracted energy covers the site's facility energy over the run [GWh]:

        sum_{a,t} W[a] G[s] buy[a,s,t] - sum_{k at s} energy[k] <= 0

    where G[s] = PUE[s] x average draw fraction x run hours / 1000 [GWh per MW of IT load].
    """
    coef = d.acc_it_mw[d.cell_acc] * d.energy_gwh_per_it_mw[d.cell_site] if len(d.cell_acc) else np.zeros(0)
    b.add_rows("energy_balance", d.site_ids, np.concatenate([d.cell_site, d.con_site]),
               np.concatenate([x["buy"], x["energy"]]), np.concatenate([coef, -np.ones(len(d.con_ids))]),
               -INF, 0.0)


def add_firm_power(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """Firm contracted capacity covers the site's peak facility load [MW]:

        sum_{a,t} W[a] PUE[s] buy[a,s,t] - sum_{k at s} f[k] contract_mw[k] <= 0
    """
    coef = d.acc_it_mw[d.cell_acc] * d.site_pue[d.cell_site] if len(d.cell_acc) else np.zeros(0)
    b.add_rows("firm_power", d.site_ids, np.concatenate([d.cell_site, d.con_site]),
               np.concatenate([x["buy"], x["contract_mw"]]), np.concatenate([coef, -d.con_firm]), -INF, 0.0)


def add_contract_terms(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """Contract size, output and minimum take [MW, GWh]:

        contract_mw[k] - Mk[k] sign[k] <= 0                        (size only if signed)
        energy[k] - H[k] contract_mw[k] <= 0                        (output: H = capacity factor x run hours / 1000)
        m[k] H[k] contract_mw[k] - energy[k] <= 0                   (minimum take, where m > 0)
        sign[k] - open[s(k)] <= 0                                   (only at an opened site)
    """
    n = len(d.con_ids)
    idx = np.arange(n)
    b.add_rows("contract_size", d.con_ids, np.tile(idx, 2), np.concatenate([x["contract_mw"], x["sign"]]),
               np.concatenate([np.ones(n), -d.con_max_mw]), -INF, 0.0)
    b.add_rows("contract_output", d.con_ids, np.tile(idx, 2), np.concatenate([x["energy"], x["contract_mw"]]),
               np.concatenate([np.ones(n), -d.con_energy_per_mw]), -INF, 0.0)
    take = np.flatnonzero(d.con_min_take > 0)
    m = take.size
    b.add_rows("contract_min_take", [d.con_ids[k] for k in take], np.tile(np.arange(m), 2),
               np.concatenate([x["contract_mw"][take], x["energy"][take]]),
               np.concatenate([d.con_min_take[take] * d.con_energy_per_mw[take], -np.ones(m)]), -INF, 0.0)
    b.add_rows("contract_site", d.con_ids, np.tile(idx, 2), np.concatenate([x["sign"], x["open"][d.con_site]]),
               np.concatenate([np.ones(n), -np.ones(n)]), -INF, 0.0)


def add_cloud_capacity(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """Rent only from an offer that is used, up to what it will rent [instances]:

        rent[o] - Q[o] use_cloud[o] <= 0
    """
    n = len(d.cloud_ids)
    b.add_rows("cloud_capacity", d.cloud_ids, np.tile(np.arange(n), 2), np.concatenate([x["rent"], x["use_cloud"]]),
               np.concatenate([np.ones(n), -d.cloud_max]), -INF, 0.0)


def add_max_sites(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """The synchronous run spans at most N locations (sites and cloud offers):

        sum_s open[s] + sum_o use_cloud[o] <= N
        sum_s open[s] + sum_o use_cloud[o] - (N - 1) multi_site <= 1      (when multi_site exists)
    """
    cols = np.concatenate([x["open"], x["use_cloud"]])
    if cols.size == 0:
        return
    b.add_rows("max_sites", ["run"], np.zeros(cols.size), cols, np.ones(cols.size), -INF, float(d.max_sites))
    if x["multi_site"].size:
        b.add_rows("multi_site", ["run"], np.zeros(cols.size + 1), np.concatenate([cols, x["multi_site"]]),
                   np.concatenate([np.ones(cols.size), [-(d.max_sites - 1.0)]]), -INF, 1.0)


def add_compute_target(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """Delivered training compute reaches the target [EFLOP/s-day]:

        sum_{a,s,t} C[a] buy[a,s,t] + sum_o C[o] rent[o] - T (1/eta - 1) multi_site >= T

    C = units x dense peak (run precision) x MFU x run seconds. Spanning several locations
    keeps a share eta of the compute, so eta x compute >= T, i.e. compute >= T / eta.
    """
    cols = [x["buy"], x["rent"]]
    coefs = [d.acc_compute[d.cell_acc] if len(d.cell_acc) else np.zeros(0), d.cloud_compute]
    if x["multi_site"].size:
        cols.append(x["multi_site"])
        coefs.append(np.array([-d.target * (1.0 / d.multi_site_efficiency - 1.0)]))
    cols, coefs = np.concatenate(cols), np.concatenate(coefs)
    b.add_rows("compute_target", ["run"], np.zeros(cols.size), cols, coefs, d.target, INF)


def add_export_cap(b: ProgramBuilder, d: ModelData, x: dict) -> None:
    """Cumulative export cap per capped country, over the chips the cap policy covers [MTPP]:

        sum_{(a,s,t): s in g, a capped in g} TPP[a] buy[a,s,t] <= cap[g]
    """
    for g, name in enumerate(d.cap_countries):
        mask = d.cell_capped == g
        b.add_rows("export_cap", [name], np.zeros(int(mask.sum())), x["buy"][mask], d.acc_mtpp[d.cell_acc[mask]],
                   -INF, d.cap_mtpp[g])


CONSTRAINT_FAMILIES = (
    add_supply_cap, add_custom_volume, add_component_cap, add_site_power, add_site_build,
    add_energy_balance, add_firm_power, add_contract_terms, add_cloud_capacity, add_max_sites,
    add_compute_target, add_export_cap,
)
