"""Site load by quarter: where the model follows the IT load installed at a site quarter by quarter.

Two things need it: existing capacity that is leased (paid each quarter it carries load the new
build does not) and a grid connection energised in phases (new MW powered from given quarters).
At other sites the load is held only in total (site_power) and before the build is powered
(site_energised).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..periods import quarter_index
from ..schema.problem import Problem


@dataclass(frozen=True)
class SiteLoad:
    """Keys (site, quarter) of the per-quarter load, from the first quarter hardware can arrive at
    the site to the last deadline, in site then quarter order.

    leased : the key's site leases its existing capacity.
    phased : the key's site is energised in phases; `powered_cap` is the new MW powered by then.
    """

    site: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    quarter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    leased: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    phased: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    powered_cap: np.ndarray = field(default_factory=lambda: np.zeros(0))      # [MW] new capacity powered


def powered_by_quarter(problem: Problem, site_id: str, n_periods: int) -> np.ndarray:
    """New MW powered at the start of each planning quarter [MW]: the phases of energised_mw, or the
    whole build from build_lead_quarters (inf: as much as is built)."""
    site = problem.sites[site_id]
    if not site.energised_mw:
        return np.where(np.arange(n_periods) >= site.build_lead_quarters, np.inf, 0.0)
    powered = np.zeros(n_periods)
    for label, mw in sorted(site.energised_mw.items()):
        t = quarter_index_of(label, problem)
        path = f"sites.{site_id}.energised_mw.{label}"
        if t < 0:
            raise InputError(f"{label} is before planning_start {problem.planning_start}", file=problem.source,
                             path=path, fix="give quarters from the planning start on")
        if t < site.build_lead_quarters:
            raise InputError(f"{label} is before the site's build lead of {site.build_lead_quarters} quarters",
                             file=problem.source, path=path,
                             fix="start the phases at the build lead, or shorten build_lead_quarters")
        powered[t:] = np.maximum(powered[t:], mw)
    return powered


def quarter_index_of(label: str, problem: Problem) -> int:
    """Planning quarter of a 'YYYYQn' label (negative before the planning start)."""
    year, q = int(label[:4]), int(label[5])
    return quarter_index(dt.date(year, 3 * q - 2, 1), problem.planning_start)


def build_site_load(problem: Problem, site_ids: list[str], cell_site: np.ndarray, cell_ready: np.ndarray,
                    n_periods: int, lease_price: list[float]) -> SiteLoad:
    """The per-quarter load keys of the sites that lease existing MW (at a positive price) or are phased."""
    sites, quarters, leased, phased, cap = [], [], [], [], []
    first_ready = np.full(len(site_ids), n_periods, dtype=np.int64)     # n_periods: no purchase can arrive
    np.minimum.at(first_ready, cell_site, cell_ready)
    for s, sid in enumerate(site_ids):
        site = problem.sites[sid]
        leases = site.existing_basis == "lease" and site.existing_mw > 0 and lease_price[s] > 0
        powered = powered_by_quarter(problem, sid, n_periods)       # checks the phases of every site
        if not (leases or site.energised_mw) or first_ready[s] >= n_periods:
            continue
        span = range(int(first_ready[s]), n_periods)
        sites += [s] * len(span)
        quarters += list(span)
        leased += [leases] * len(span)
        phased += [bool(site.energised_mw)] * len(span)
        cap += [float(powered[t]) for t in span]
    return SiteLoad(np.array(sites, dtype=np.int64), np.array(quarters, dtype=np.int64), np.array(leased, dtype=bool),
                    np.array(phased, dtype=bool), np.array(cap))
