"""Where sustained demand can be served: the (accelerator, site, quarter), (offer, quarter) and
(contract, quarter) serving columns.

Owned accelerators serve from the quarter they are installed, in any quarter with demand, at
their dense BF16 peak; rented ones from any offer the filters allow; the energy of owned
serving comes from the site's contracts live in that quarter. Serving shares the fleet with the
runs: a server works in a run or serves, never both in the same quarter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..schema.problem import Problem
from ..schema.sustained import demand_by_quarter
from .slots import earliest_ready

PFLOPS_PER_TFLOPS = 1e-3


def _none() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass
class Serving:
    """Sustained demand per quarter and the columns that may serve it."""

    demand: np.ndarray = field(default_factory=lambda: np.zeros(0))       # [t] dense BF16 [PFLOP/s]
    acc_pflops: np.ndarray = field(default_factory=lambda: np.zeros(0))   # [a] per server [PFLOP/s]
    offer_pflops: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [o] per instance [PFLOP/s]
    unit_acc: np.ndarray = field(default_factory=_none)                   # serve columns (a, s, t)
    unit_site: np.ndarray = field(default_factory=_none)
    unit_quarter: np.ndarray = field(default_factory=_none)
    rent_offer: np.ndarray = field(default_factory=_none)                 # serve_rent columns (o, t)
    rent_quarter: np.ndarray = field(default_factory=_none)
    energy_contract: np.ndarray = field(default_factory=_none)            # serve_energy columns (k, t)
    energy_quarter: np.ndarray = field(default_factory=_none)

    @property
    def quarters(self) -> np.ndarray:
        """Quarters with demand to serve."""
        return np.flatnonzero(self.demand > 0)


def build_serving(problem: Problem, n_quarters: int, acc_pflops: np.ndarray, cells: dict[str, np.ndarray],
                  n_sites: int, con_site: np.ndarray, con_live_from: np.ndarray, cloud_max: np.ndarray) -> Serving:
    """The serving columns of every quarter with sustained demand.

    acc_pflops : dense BF16 peak per server of each purchasable accelerator [PFLOP/s].
    cells : the purchase cells (cell_acc, cell_site, cell_ready).
    """
    demand = np.array(demand_by_quarter(dict(problem.sustained), problem.planning_start, n_quarters))
    offers = [problem.cloud[o] for o in problem.cloud]
    offer_pflops = np.array([problem.cloud_chips[o.accelerator].bf16_tflops * o.units_per_instance for o in offers]) \
        * PFLOPS_PER_TFLOPS
    serving = Serving(demand=demand, acc_pflops=acc_pflops, offer_pflops=offer_pflops)
    quarters = serving.quarters
    if quarters.size == 0:
        return serving
    pairs, ready = earliest_ready(cells["cell_acc"], cells["cell_site"], cells["cell_ready"], n_sites)
    pair_of, quarter_of = np.nonzero(ready[:, None] <= quarters[None, :]) if pairs.size else (_none(), _none())
    serving.unit_acc, serving.unit_site = pairs[pair_of, 0].astype(np.int64), pairs[pair_of, 1].astype(np.int64)
    serving.unit_quarter = quarters[quarter_of].astype(np.int64)
    offer_of, rent_quarter = np.nonzero(np.broadcast_to(cloud_max[:, None] > 0, (cloud_max.size, quarters.size)))
    serving.rent_offer, serving.rent_quarter = offer_of.astype(np.int64), quarters[rent_quarter].astype(np.int64)
    served = set(zip(serving.unit_site.tolist(), serving.unit_quarter.tolist()))
    energy = [(k, int(t)) for k in range(con_site.size) for t in quarters.tolist()
              if con_live_from[k] <= t and (int(con_site[k]), int(t)) in served]
    serving.energy_contract = np.array([k for k, _ in energy], dtype=np.int64)
    serving.energy_quarter = np.array([t for _, t in energy], dtype=np.int64)
    return serving
