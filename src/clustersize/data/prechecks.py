"""Instant pre-checks that explain an infeasible problem in the planner's terms.

Each bound ignores every other constraint, so a shortfall it finds is certain; a problem
that passes them all may still be infeasible through their interaction.
"""

from __future__ import annotations

import numpy as np

from .modeldata import FLOP_PER_EFLOPS_DAY, ModelData


def _flop(ef_days: float) -> str:
    return f"{ef_days * FLOP_PER_EFLOPS_DAY:.3g} FLOP"


def precheck(d: ModelData) -> list[str]:
    """Shortfalls visible without solving: supply and power bounds on deliverable compute."""
    findings = []
    target = d.target
    if len(d.cell_acc) == 0 and len(d.cloud_ids) == 0:
        return ["no accelerator can be bought, delivered and installed by the run start, and no cloud offer "
                "is available (see the exclusions)"]
    cloud = float((d.cloud_max * d.cloud_compute).sum())
    # Supply bound: each (a, t) supply counts once, however many sites could take it.
    seen = np.unique(d.cell_acc * len(d.periods) + d.cell_period) if len(d.cell_acc) else np.zeros(0, dtype=int)
    a, t = seen // len(d.periods), seen % len(d.periods)
    program = d.acc_program[a] if len(a) else np.zeros(0, dtype=int)
    servers = np.where(program >= 0, d.prog_volume[np.maximum(program, 0)] if d.prog_ids else 0.0,
                       d.acc_supply[a, t]) if len(a) else np.zeros(0)
    supply_compute = float((servers * d.acc_compute[a]).sum()) + cloud
    if supply_compute < target * (1 - 1e-9):
        findings.append(f"short {_flop(target - supply_compute)}: all supply deliverable by {d.run_start} "
                        f"(purchases and cloud) gives {_flop(supply_compute)}, the target is {_flop(target)}")
    if len(d.cell_acc):
        # Each location (site or cloud offer) can deliver at most its capacity at the best density
        # usable anywhere; the run may use the max_sites best locations.
        best_density = float((d.acc_compute / d.acc_it_mw)[np.unique(d.cell_acc)].max())
        capacity = d.site_existing_mw + d.site_new_mw_max
        per_location = np.sort(np.concatenate([capacity * best_density, d.cloud_max * d.cloud_compute]))[::-1]
        power_compute = float(per_location[:d.max_sites].sum())
        if power_compute < target * (1 - 1e-9):
            where = (f"the {d.max_sites} best of {len(per_location)} locations (max_sites)"
                     if len(per_location) > d.max_sites else f"all {len(per_location)} locations")
            findings.append(f"short {_flop(target - power_compute)}: power that can be built by {d.run_start} at "
                            f"{where} holds at most {_flop(power_compute)}; the target is {_flop(target)}")
    return findings
