"""Which run choices exist: the locations, span levels, regions, stacks and extra-stack counts
each run can have, and which choices are fixed because the run has one option only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.modeldata import ModelData
from ..schema.runs import SPAN_LEVELS

SPAN_CODE = {level: i + 1 for i, level in enumerate(SPAN_LEVELS)}
"""Code of each span level in the `span` index set (0 = one location)."""


def _ints(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


@dataclass
class RunShape:
    """Index arrays of the choice columns of every run."""

    use_run: np.ndarray
    use_location: np.ndarray
    spread_run: np.ndarray
    spread_level: np.ndarray        # codes into ("one",) + SPAN_LEVELS
    region_run: np.ndarray
    region: np.ndarray
    continent_run: np.ndarray
    continent: np.ndarray
    stack_run: np.ndarray
    stack: np.ndarray
    extra_run: np.ndarray
    extra: np.ndarray               # code j - 1 of the j-th extra stack
    active_site: np.ndarray
    active_window: np.ndarray

    def fixed_one(self, owner: np.ndarray) -> np.ndarray:
        """Lower bound of a one-of choice: 1 where its run has that one option only."""
        counts = np.bincount(owner, minlength=int(owner.max(initial=-1)) + 1)
        return np.asarray(counts[owner] == 1, dtype=float)

    def levels(self, run: int) -> list[int]:
        """Span level codes that exist for a run."""
        return [int(h) for h in self.spread_level[self.spread_run == run]]


def run_locations(data: ModelData) -> list[list[int]]:
    """Location codes each run can use: sites with a slot in one of its windows, offers it may rent."""
    runs, sl = data.runs, data.slots
    n_sites = len(data.site_ids)
    found: list[set[int]] = [set() for _ in runs.ids]
    for s, w in zip(sl.unit_site.tolist(), sl.unit_window.tolist()):
        found[int(runs.windows.run[w])].add(s)
    for o, w in zip(sl.rent_offer.tolist(), sl.rent_window.tolist()):
        found[int(runs.windows.run[w])].add(n_sites + o)
    return [sorted(f) for f in found]


def run_stacks(data: ModelData, run: int) -> list[str]:
    """Stacks of the accelerators and offers that may join a run."""
    r = data.runs
    stacks = {r.acc_stack[a] for a in np.flatnonzero(r.acc_rate[run] > 0)}
    return sorted(stacks | {r.offer_stack[o] for o in np.flatnonzero(r.offer_rate[run] > 0)})


def run_shape(data: ModelData) -> RunShape:
    """The choice columns every run needs, and no more."""
    runs, sl = data.runs, data.slots
    regions = sorted(set(sl.location_region))
    continents = sorted(set(sl.location_continent))
    stacks = sorted(set(runs.acc_stack) | set(runs.offer_stack))
    cols: dict[str, list[list[int]]] = {k: [[], []] for k in ("use", "spread", "region", "continent", "stack", "extra")}

    def add(kind: str, r: int, values: list[int]) -> None:
        cols[kind][0].extend([r] * len(values))
        cols[kind][1].extend(values)

    for r, locations in enumerate(run_locations(data)):
        add("use", r, locations)
        here_regions = sorted({regions.index(sl.location_region[loc]) for loc in locations})
        here_continents = sorted({continents.index(sl.location_continent[loc]) for loc in locations})
        spans = int(runs.max_sites[r]) > 1
        levels = [("region", len(locations) > 1), ("continent", len(here_regions) > 1),
                  ("world", len(here_continents) > 1 and runs.runs[r].allow_cross_ocean)]
        add("spread", r, [SPAN_CODE[name] for name, needed in levels if needed and spans])
        add("region", r, here_regions if spans and len(here_regions) > 1 else [])
        add("continent", r, here_continents if len(here_continents) > 1 and len(locations) > 1 else [])
        mine = run_stacks(data, r)
        if runs.mixes[r] == "any" and len(mine) > 1:
            add("stack", r, [stacks.index(k) for k in mine])
            add("extra", r, list(range(len(mine) - 1)))
    active = _active_slots(data)
    return RunShape(
        use_run=_ints(cols["use"][0]), use_location=_ints(cols["use"][1]),
        spread_run=_ints(cols["spread"][0]), spread_level=_ints(cols["spread"][1]),
        region_run=_ints(cols["region"][0]), region=_ints(cols["region"][1]),
        continent_run=_ints(cols["continent"][0]), continent=_ints(cols["continent"][1]),
        stack_run=_ints(cols["stack"][0]), stack=_ints(cols["stack"][1]),
        extra_run=_ints(cols["extra"][0]), extra=_ints(cols["extra"][1]),
        active_site=active[0], active_window=active[1])


def _active_slots(data: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """(site, window) pairs whose min-take contracts the window may have to pay."""
    sl = data.slots
    take = data.con_min_take[sl.energy_contract] > 0
    pairs = sorted({(int(data.con_site[k]), int(w)) for k, w in zip(sl.energy_contract[take], sl.energy_window[take])})
    return _ints([p[0] for p in pairs]), _ints([p[1] for p in pairs])

