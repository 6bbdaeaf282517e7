"""The verifier's check of each constraint family declared in families.py, by name.

Each check reads the ledger (the plan's decisions tallied in user units) and the problem, never
the model, and records one check per row of its family.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .ledger import Checker, Ledger

Check = Callable[[Ledger, Checker], None]


def _supply_limit(ledger: Ledger, acc: str, quarter: str) -> float:
    a = ledger.problem.accelerators[acc]
    default = a.supply_per_quarter if a.supply_per_quarter is not None else math.inf
    return a.supply_by_quarter.get(quarter, default)


def check_supply_cap(ledger: Ledger, c: Checker) -> None:
    """Purchases of each catalog accelerator per quarter within its supply [units]."""
    for (acc, quarter), units in ledger.supply_used.items():
        if not acc.startswith("custom:"):
            c.at_most("supply_cap", f"{acc},{quarter}", units, _supply_limit(ledger, acc, quarter), "units",
                      "purchases exceed supply")


def check_custom_volume(ledger: Ledger, c: Checker) -> None:
    """Custom chips only from a funded program, within its volume per quarter [units]."""
    for (acc, quarter), units in ledger.supply_used.items():
        if acc.startswith("custom:"):
            pid = acc.split(":", 1)[1]
            funded = ledger.funded.get(pid, False)
            limit = ledger.problem.custom_programs[pid].volume_per_quarter if funded else 0.0
            c.at_most("custom_volume", f"{pid},{quarter}", units, limit, "units",
                      "custom chips beyond the program's volume" if funded else f"program {pid} not funded")


def check_component_cap(ledger: Ledger, c: Checker) -> None:
    """Shared components per quarter within their supply [units]."""
    for (component, quarter), used in ledger.component_used.items():
        c.at_most("component_cap", f"{component},{quarter}", used, ledger.problem.components[component], "units",
                  "component use exceeds supply")


def check_site_power(ledger: Ledger, c: Checker) -> None:
    """IT load within existing capacity (if opened) plus new capacity [MW]."""
    for sid, site in ledger.problem.sites.items():
        capacity = (site.existing_mw if ledger.opened.get(sid, False) else 0.0) + ledger.new_mw.get(sid, 0.0)
        c.at_most("site_power", sid, ledger.load_mw.get(sid, 0.0), capacity, "MW", "IT load exceeds powered capacity")


def check_site_build(ledger: Ledger, c: Checker) -> None:
    """New capacity only at an opened site, within what can be built by the run start [MW]."""
    for sid, site in ledger.problem.sites.items():
        built, is_open = ledger.new_mw.get(sid, 0.0), ledger.opened.get(sid, False)
        buildable = (site.max_mw - site.existing_mw) if site.build_lead_quarters <= ledger.run_quarter else 0.0
        c.at_most("site_build", sid, built, buildable if is_open else 0.0, "MW",
                  "new capacity beyond what can be built by the run start" if is_open
                  else "capacity built at an unopened site")


def check_energy_balance(ledger: Ledger, c: Checker) -> None:
    """Facility energy over the run within the contracted energy at each site [MWh]."""
    taken: dict[str, float] = {}
    for use in ledger.contracts:
        taken[use.terms.site] = taken.get(use.terms.site, 0.0) + use.energy_mwh
    for sid, drawn in ledger.drawn_mw.items():
        need = drawn * ledger.problem.sites[sid].pue * ledger.hours
        c.at_most("energy_balance", sid, need, taken.get(sid, 0.0), "MWh", "facility energy exceeds contracted energy")


def check_firm_power(ledger: Ledger, c: Checker) -> None:
    """Peak facility load within firm contracted capacity at each site [MW]."""
    firm: dict[str, float] = {}
    for use in ledger.contracts:
        firm[use.terms.site] = firm.get(use.terms.site, 0.0) + use.terms.firm_fraction * use.mw
    for sid, load in ledger.load_mw.items():
        c.at_most("firm_power", sid, load * ledger.problem.sites[sid].pue, firm.get(sid, 0.0), "MW",
                  "peak facility load exceeds firm power")


def check_contract_size(ledger: Ledger, c: Checker) -> None:
    """Contracted MW only under a signed contract, within its maximum [MW]."""
    for use in ledger.contracts:
        c.at_most("contract_size", use.contract, use.mw, use.terms.max_mw if use.signed else 0.0, "MW",
                  "contracted MW beyond the contract")


def check_contract_output(ledger: Ledger, c: Checker) -> None:
    """Energy taken within what the contracted MW deliver over the run [MWh]."""
    for use in ledger.contracts:
        c.at_most("contract_output", use.contract, use.energy_mwh,
                  use.terms.capacity_factor * use.mw * ledger.hours, "MWh", "energy beyond output")


def check_contract_min_take(ledger: Ledger, c: Checker) -> None:
    """Energy taken at least the contract's minimum take [MWh]."""
    for use in ledger.contracts:
        minimum = use.terms.min_take_fraction * use.terms.capacity_factor * use.mw * ledger.hours
        c.at_most("contract_min_take", use.contract, minimum, use.energy_mwh, "MWh", "energy below the minimum take")


def check_contract_site(ledger: Ledger, c: Checker) -> None:
    """Contracts signed only at opened sites."""
    for use in ledger.contracts:
        if use.signed:
            c.true("contract_site", use.contract, ledger.opened.get(use.terms.site, False),
                   f"signed at unopened site {use.terms.site}")


def check_cloud_capacity(ledger: Ledger, c: Checker) -> None:
    """Rentals within what each offer rents [units]."""
    for oid, units in ledger.rentals.items():
        c.at_most("cloud_capacity", oid, units, ledger.problem.cloud[oid].max_units, "units", "rental beyond the offer")


def check_max_sites(ledger: Ledger, c: Checker) -> None:
    """The run spans at most max_sites locations."""
    c.at_most("max_sites", "run", ledger.locations, ledger.problem.run.max_sites, "locations",
              "run spans too many locations")


def check_multi_site(ledger: Ledger, c: Checker) -> None:
    """The plan counts the locations it spans as the decisions do (the efficiency hangs on it)."""
    c.true("multi_site", "run", ledger.plan.locations_used == ledger.locations,
           f"the plan says {ledger.plan.locations_used} location(s); its decisions use {ledger.locations}")


def check_compute_target(ledger: Ledger, c: Checker) -> None:
    """Delivered compute, after the multi-site efficiency, reaches the target [FLOP]."""
    c.at_most("compute_target", "run", ledger.problem.target.total_flop, ledger.delivered_flop, "FLOP",
              "target exceeds delivered compute")


def check_export_cap(ledger: Ledger, c: Checker) -> None:
    """TPP bought into each capped country within its remaining cap [TPP]."""
    for country, used in ledger.cap_used.items():
        c.at_most("export_cap", country, used, ledger.caps[country], "TPP", "export cap exceeded")


CHECKS: dict[str, Check] = {
    "supply_cap": check_supply_cap, "custom_volume": check_custom_volume, "component_cap": check_component_cap,
    "site_power": check_site_power, "site_build": check_site_build, "energy_balance": check_energy_balance,
    "firm_power": check_firm_power, "contract_size": check_contract_size, "contract_output": check_contract_output,
    "contract_min_take": check_contract_min_take, "contract_site": check_contract_site,
    "cloud_capacity": check_cloud_capacity, "max_sites": check_max_sites, "multi_site": check_multi_site,
    "compute_target": check_compute_target, "export_cap": check_export_cap,
}
"""The verifier's implementation of each family declared in families.py, by name."""
