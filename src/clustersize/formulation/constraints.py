"""The rows of each constraint family, vectorised; the math of each is declared in families.py.

Index sets: a accelerators (incl. custom chips), s sites, t quarters up to the run start,
k energy contracts, o cloud offers, p custom programs, c shared components, g capped
countries. A purchase cell (a, s, t) exists only where the order can be delivered, licensed
and installed by the run start; pruned cells are listed in ModelData.exclusions.
Units as in data/modeldata.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data.modeldata import ModelData
from .program import ProgramBuilder, Term

INF = np.inf
Columns = dict[str, np.ndarray]
RowBuilder = Callable[[ProgramBuilder, ModelData, Columns], None]


def _group(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique codes and, for each element, the row of its code."""
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.unique(codes, return_inverse=True)


def _per_quarter(d: ModelData, first: np.ndarray, period: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group (first, quarter) pairs: the distinct pairs' codes and each element's row."""
    n_t = len(d.periods)
    pairs, row = _group(first * n_t + period)
    return pairs // n_t, pairs % n_t, row


def _arange(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int64)


def add_supply_cap(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per catalog accelerator and quarter with a finite supply."""
    finite = np.isfinite(d.acc_supply[d.cell_acc, d.cell_period]) & (d.acc_program[d.cell_acc] < 0)
    a, t, row = _per_quarter(d, d.cell_acc[finite], d.cell_period[finite])
    b.add_rows("supply_cap", b.keys(("accelerator", "quarter"), a, t), [Term(x["buy"][finite], row, 1.0)],
               -INF, d.acc_supply[a, t])


def add_custom_volume(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per custom program and quarter in which its chip can be bought."""
    custom = d.acc_program[d.cell_acc] >= 0
    p, t, row = _per_quarter(d, d.acc_program[d.cell_acc][custom], d.cell_period[custom])
    b.add_rows("custom_volume", b.keys(("program", "quarter"), p, t),
               [Term(x["buy"][custom], row, 1.0), Term(x["fund"][p], _arange(p.size), -d.prog_volume[p])], -INF, 0.0)


def add_component_cap(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per shared component and quarter in which it is used."""
    for c in range(len(d.components)):
        use = d.component_use[d.cell_acc, c]
        mask = use > 0
        t, row = _group(d.cell_period[mask])
        b.add_rows("component_cap", b.keys(("component", "quarter"), np.full(t.size, c), t),
                   [Term(x["buy"][mask], row, use[mask])], -INF, d.component_supply[c])


def add_site_power(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per site: IT load of the chips against existing plus new capacity."""
    sites = _arange(len(d.site_ids))
    b.add_rows("site_power", b.all_of("site"),
               [Term(x["buy"], d.cell_site, d.acc_it_mw[d.cell_acc]), Term(x["open"], sites, -d.site_existing_mw),
                Term(x["new_mw"], sites, -1.0)], -INF, 0.0)


def add_site_build(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per site: new capacity only at an opened site."""
    sites = _arange(len(d.site_ids))
    b.add_rows("site_build", b.all_of("site"),
               [Term(x["new_mw"], sites, 1.0), Term(x["open"], sites, -d.site_new_mw_max)], -INF, 0.0)


def add_energy_balance(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per site: facility energy over the run against contracted energy."""
    load_gwh = d.acc_it_mw[d.cell_acc] * d.acc_draw[d.cell_acc] * d.energy_gwh_per_it_mw[d.cell_site]
    b.add_rows("energy_balance", b.all_of("site"),
               [Term(x["buy"], d.cell_site, load_gwh), Term(x["energy"], d.con_site, -1.0)], -INF, 0.0)


def add_firm_power(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per site: peak facility load against firm contracted capacity."""
    peak_mw = d.acc_it_mw[d.cell_acc] * d.site_pue[d.cell_site]
    b.add_rows("firm_power", b.all_of("site"),
               [Term(x["buy"], d.cell_site, peak_mw), Term(x["contract_mw"], d.con_site, -d.con_firm)], -INF, 0.0)


def add_contract_size(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per contract: MW only under a signed contract."""
    k = _arange(len(d.con_ids))
    b.add_rows("contract_size", b.all_of("contract"),
               [Term(x["contract_mw"], k, 1.0), Term(x["sign"], k, -d.con_max_mw)], -INF, 0.0)


def add_contract_output(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per contract: energy within what the contracted MW deliver."""
    k = _arange(len(d.con_ids))
    b.add_rows("contract_output", b.all_of("contract"),
               [Term(x["energy"], k, 1.0), Term(x["contract_mw"], k, -d.con_energy_per_mw)], -INF, 0.0)


def add_contract_min_take(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per contract with a minimum take."""
    take = np.flatnonzero(d.con_min_take > 0)
    rows = _arange(take.size)
    b.add_rows("contract_min_take", b.keys(("contract",), take),
               [Term(x["contract_mw"][take], rows, d.con_min_take[take] * d.con_energy_per_mw[take]),
                Term(x["energy"][take], rows, -1.0)], -INF, 0.0)


def add_contract_site(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per contract: signed only at an opened site."""
    k = _arange(len(d.con_ids))
    b.add_rows("contract_site", b.all_of("contract"),
               [Term(x["sign"], k, 1.0), Term(x["open"][d.con_site], k, -1.0)], -INF, 0.0)


def add_cloud_capacity(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per cloud offer: rent only from a used offer, within its quota."""
    o = _arange(len(d.cloud_ids))
    b.add_rows("cloud_capacity", b.all_of("offer"),
               [Term(x["rent"], o, 1.0), Term(x["use_cloud"], o, -d.cloud_max)], -INF, 0.0)


def _locations(x: Columns) -> np.ndarray:
    return np.concatenate([x["open"], x["use_cloud"]])


def add_max_sites(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row: locations used within max_sites."""
    cols = _locations(x)
    if cols.size:
        b.add_rows("max_sites", b.all_of("run"), [Term(cols, 0, 1.0)], -INF, float(d.max_sites))


def add_multi_site(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row, when the multi-site indicator exists: it is 1 when more than one location is used."""
    cols = _locations(x)
    if cols.size and x["multi_site"].size:
        b.add_rows("multi_site", b.all_of("run"),
                   [Term(cols, 0, 1.0), Term(x["multi_site"], 0, -(d.max_sites - 1.0))], -INF, 1.0)


def add_compute_target(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row: delivered compute, less the multi-site loss, reaches the target.

    Spanning several locations keeps a share eta of the compute, so eta x compute >= T,
    i.e. compute >= T / eta: the indicator carries T (1/eta - 1).
    """
    terms = [Term(x["buy"], 0, d.acc_compute[d.cell_acc]), Term(x["rent"], 0, d.cloud_compute)]
    if x["multi_site"].size:
        terms.append(Term(x["multi_site"], 0, -d.target * (1.0 / d.multi_site_efficiency - 1.0)))
    b.add_rows("compute_target", b.all_of("run"), terms, d.target, INF)


def add_export_cap(b: ProgramBuilder, d: ModelData, x: Columns) -> None:
    """One row per capped country: TPP bought into it within the cap."""
    for g in range(len(d.cap_countries)):
        mask = d.cell_capped == g
        b.add_rows("export_cap", b.keys(("country",), [g]), [Term(x["buy"][mask], 0, d.acc_mtpp[d.cell_acc[mask]])],
                   -INF, d.cap_mtpp[g])


ROW_BUILDERS: dict[str, RowBuilder] = {
    "supply_cap": add_supply_cap, "custom_volume": add_custom_volume, "component_cap": add_component_cap,
    "site_power": add_site_power, "site_build": add_site_build, "energy_balance": add_energy_balance,
    "firm_power": add_firm_power, "contract_size": add_contract_size, "contract_output": add_contract_output,
    "contract_min_take": add_contract_min_take, "contract_site": add_contract_site,
    "cloud_capacity": add_cloud_capacity, "max_sites": add_max_sites, "multi_site": add_multi_site,
    "compute_target": add_compute_target, "export_cap": add_export_cap,
}
"""The package's implementation of each family declared in families.py, by name."""
