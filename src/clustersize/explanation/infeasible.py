"""Why a problem is infeasible: instant pre-checks, then an elastic solve.

In the elastic program every capacity row may be violated at a stated price (RELAXATION,
far above any real cost), so the solve finds the cheapest set of violations that makes the
target reachable, and says by how much each limit is exceeded, in the planner's units.
The compute target itself is relaxed last, at the highest price, so the solve always has a
plan. No installed backend computes an IIS (capability `iis`), so none is offered.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data.prechecks import precheck
from ..formulation import LinearProgram
from ..formulation.variables import ROW_REPEATED_BOUNDS
from ..data.modeldata import FLOP_PER_EFLOPS_DAY, TPP_PER_MTPP, USD_PER_MUSD, ModelData
from ..solvers import SolveOptions, get_backend, solve_with_watchdog

H100_TPP = 15_832.0
# family: (price in USD per user unit, user unit); stated in docs/explain.md
RELAXATION = {
    "supply_cap": (1e7, "accelerator"), "custom_volume": (1e7, "accelerator"), "component_cap": (1e6, "unit"),
    "site_power": (1e9, "MW"), "site_build": (1e9, "MW"), "firm_power": (1e9, "MW"), "contract_size": (1e9, "MW"),
    "energy_balance": (1e6, "MWh"), "cloud_capacity": (1e7, "accelerator"), "max_sites": (1e10, "location"),
    "export_cap": (1e3, "TPP"), "compute_target": (1e11, "1e24 FLOP"),
}


def _user_per_internal(family: str, index: str, d: ModelData) -> float:
    """User units in one internal unit of the family's row."""
    if family == "supply_cap":
        return float(d.acc_units_per_server[d.acc_ids.index(index.split(",")[0])])
    if family == "custom_volume":
        return float(d.acc_units_per_server[d.acc_ids.index("custom:" + index.split(",")[0])])
    if family == "cloud_capacity":
        return float(d.cloud_units_per_instance[d.cloud_ids.index(index)])
    if family == "energy_balance":
        return 1000.0
    if family == "export_cap":
        return TPP_PER_MTPP
    if family == "compute_target":
        return FLOP_PER_EFLOPS_DAY / 1e24
    return 1.0


BINARIES = ("open", "sign", "use_cloud", "fund", "multi_site")
LINKED = ("site_build", "contract_size", "cloud_capacity", "custom_volume")   # capacity x binary
BIG = 1e5   # [MW, servers, instances]: far above any real quantity in a problem


def _split_links(lp: LinearProgram) -> LinearProgram:
    """Separate each capacity from the choice it hangs on, so that slack can enlarge one but not
    bypass the other: `x - M y <= 0` becomes `x - BIG y <= 0` (hard) and `x <= M` (elastic, same
    family and index); `site_power` gains the hard link `load - BIG open <= 0`."""
    matrix = lp.matrix.tocsr()
    is_binary = np.isin(lp.col_family, BINARIES)
    open_cols = dict(zip(lp.col_label[lp.col_slices["open"]], np.arange(lp.shape[1])[lp.col_slices["open"]]))
    data, upper = matrix.data.copy(), lp.row_upper.copy()
    extra_rows, extra_upper, extra_family, extra_label = [], [], [], []
    for i in np.flatnonzero(np.isin(lp.row_family, LINKED + ("site_power",))):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        cols, coefs = matrix.indices[start:end], matrix.data[start:end]
        binary = is_binary[cols]
        if lp.row_family[i] == "site_power":
            loads = ~binary & (lp.col_family[cols] != "new_mw")
            link = {c: v for c, v in zip(cols[loads], coefs[loads])}
            link[open_cols[lp.row_label[i]]] = -BIG
            extra_rows.append(link)
            extra_upper.append(0.0)
            extra_family.append("site_link")
            extra_label.append(lp.row_label[i])
            continue
        capacity = -float(coefs[binary].sum())
        data[start:end] = np.where(binary, -BIG, coefs)                    # the hard link
        extra_rows.append({c: v for c, v in zip(cols[~binary], coefs[~binary])})
        extra_upper.append(capacity + upper[i])                            # the elastic capacity
        extra_family.append(lp.row_family[i])
        extra_label.append(lp.row_label[i])
    hard = sp.csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)
    family = lp.row_family.copy()
    family[np.isin(family, LINKED)] = "link"                               # hard links are not relaxed
    rows = [(r, c, v) for r, entries in enumerate(extra_rows) for c, v in entries.items()]
    extra = sp.csr_matrix(([v for _, _, v in rows], ([r for r, _, _ in rows], [c for _, c, _ in rows])),
                          shape=(len(extra_rows), lp.shape[1]))
    return dataclasses.replace(
        lp, matrix=sp.vstack([hard, extra]).tocsr(),
        row_lower=np.concatenate([lp.row_lower, np.full(len(extra_rows), -np.inf)]),
        row_upper=np.concatenate([upper, extra_upper]),
        row_family=np.concatenate([family, np.array(extra_family, dtype=object)]),
        row_label=np.concatenate([lp.row_label, np.array(extra_label, dtype=object)]))


def elastic_program(lp: LinearProgram, d: ModelData) -> tuple[LinearProgram, np.ndarray]:
    """The program with a priced slack column on every capacity row; returns it and the slack rows."""
    lp = _split_links(lp)
    rows = np.flatnonzero(np.isin(lp.row_family, list(RELAXATION)))
    sign = np.where(lp.row_family[rows] == "compute_target", 1.0, -1.0)   # >= target gains, <= limits give
    slack = sp.csr_matrix((sign, (rows, np.arange(rows.size))), shape=(lp.shape[0], rows.size))
    price = np.array([RELAXATION[f][0] * _user_per_internal(f, i, d) / USD_PER_MUSD
                      for f, i in zip(lp.row_family[rows], lp.row_label[rows])])
    # Column bounds that repeat a capacity row (supply, rentals, new MW, contract MW) are lifted so
    # that the priced row alone carries the limit and can be exceeded.
    upper = np.where(np.isin(lp.col_family, ROW_REPEATED_BOUNDS), np.inf, lp.upper)
    elastic = dataclasses.replace(
        lp, cost=np.concatenate([lp.cost, price]), lower=np.concatenate([lp.lower, np.zeros(rows.size)]),
        upper=np.concatenate([upper, np.full(rows.size, np.inf)]),
        integer=np.concatenate([lp.integer, np.zeros(rows.size, bool)]),
        matrix=sp.hstack([lp.matrix, slack]).tocsr(),
        col_family=np.concatenate([lp.col_family, np.full(rows.size, "slack", object)]),
        col_label=np.concatenate([lp.col_label, lp.row_label[rows]]))
    return elastic, rows


def _message(family: str, index: str, amount: float, limit: float | None) -> str:
    over = f" ({amount / limit:.0%} over)" if limit else ""
    first, last = index.split(",")[0], index.split(",")[-1]
    if family == "supply_cap":
        return f"supply of {first} in {last}: {amount:,.0f} units more than the {limit or 0:,.0f} available{over}"
    if family == "custom_volume":
        return f"custom-chip volume {index}: {amount:,.0f} units more than the program makes"
    if family == "component_cap":
        return f"{first} in {last}: {amount:,.0f} units more than the {limit or 0:,.0f} supplied{over}"
    if family == "export_cap":
        return (f"export cap in {index} exceeded by {amount:,.0f} TPP (~{amount / H100_TPP:,.0f} H100-equivalents)"
                f"{over}")
    if family == "compute_target":
        return f"short {amount * 1e24:.3g} FLOP even with every other limit relaxed"
    return {
        "site_power": f"site {index} needs {amount:,.2f} MW more powered IT capacity than it can have by the run start",
        "site_build": f"site {index} would need {amount:,.2f} MW beyond its maximum",
        "firm_power": f"site {index} is short {amount:,.2f} MW of firm power",
        "contract_size": f"contract {index} would need {amount:,.2f} MW more than its maximum",
        "energy_balance": f"site {index} is short {amount:,.0f} MWh of contracted energy",
        "cloud_capacity": f"offer {index} would need {amount:,.0f} more accelerators than it rents",
        "max_sites": f"the run would need {amount:,.0f} more location(s) than max_sites allows",
    }[family]


def diagnose(problem, d: ModelData, lp: LinearProgram, solver: str = "scip", time_limit: float = 60.0) -> dict:
    """Pre-check findings and the cheapest relaxation that makes the problem feasible."""
    findings = precheck(d)
    excluded_sites = [f"site {e.option} cannot be powered in time ({e.reason})" for e in d.exclusions if e.kind == "site"]
    prohibited = [e for e in d.exclusions if e.kind == "purchase" and e.rule]
    if len(d.cell_acc) == 0 and prohibited:
        rules = sorted({e.rule for e in prohibited})
        findings.insert(0, f"no accelerator can be bought at any site: {len(prohibited)} combinations prohibited by "
                           f"{', '.join(rules)}")
    elastic, rows = elastic_program(lp, d)
    result = solve_with_watchdog(get_backend(solver), elastic, SolveOptions(time_limit_s=time_limit, gap=1e-6))
    violations = []
    if result.status.has_plan:
        slack = result.x[lp.shape[1]:]
        for k in np.flatnonzero(slack > 1e-6):
            family, index = elastic.row_family[rows[k]], elastic.row_label[rows[k]]
            per = _user_per_internal(family, index, d)
            amount = slack[k] * per
            bound = elastic.row_upper[rows[k]] if family != "compute_target" else elastic.row_lower[rows[k]]
            limit = bound * per if np.isfinite(bound) and bound > 0 else None
            price, unit = RELAXATION[family]
            violations.append({"family": family, "index": index, "amount": amount, "unit": unit,
                               "relaxation_price_usd": price * amount,
                               "message": _message(family, index, amount, limit)})
    violations.sort(key=lambda v: -v["relaxation_price_usd"])
    return {"findings": findings, "sites_excluded": excluded_sites, "violations": violations,
            "elastic_status": result.status.value,
            "iis": "not available: no installed backend computes an irreducible infeasible subset",
            "relaxation_prices": {f: f"${p:,.0f} per {u}" for f, (p, u) in RELAXATION.items()}}


def violations_frame(diagnosis: dict) -> pd.DataFrame:
    """The violations as a table."""
    return pd.DataFrame(diagnosis.get("violations", []),
                        columns=["family", "index", "amount", "unit", "relaxation_price_usd", "message"])
