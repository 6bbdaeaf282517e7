"""Supply deals in model units: what each raises, by how much, in which quarters, for what fee."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..schema.problem import Problem

KINDS = ("accelerator", "component", "program")


@dataclass(frozen=True)
class Deals:
    """The problem's supply deals: kind (index into KINDS), target (index into the model's
    accelerators, components or programs), extra supply per quarter (servers, or component units),
    the model quarters it covers, its fee [$M] and whether a share may be taken; for prepaid deals, the
    prepayment per model unit of extra supply [$M] and one credit column per deal and covered quarter
    (`take_deal`, `take_quarter`), by the supply it raises (`supplies`, e.g. "accelerator:b200")."""

    ids: list[str] = field(default_factory=list)
    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    target: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    amount: np.ndarray = field(default_factory=lambda: np.zeros(0))
    covers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    fee: np.ndarray = field(default_factory=lambda: np.zeros(0))
    divisible: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    prepay: np.ndarray = field(default_factory=lambda: np.zeros(0))
    per_unit: np.ndarray = field(default_factory=lambda: np.zeros(0))     # user units (accelerators, or
    # component units) in one model unit of the deal's supply
    take_deal: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    take_quarter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    supplies: list[str] = field(default_factory=list)
    take_supply: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))   # [take] into supplies

    @property
    def prepaid(self) -> np.ndarray:
        """What each deal prepays when taken whole: every unit of its extra supply in the horizon [$M]."""
        return np.asarray(self.prepay * self.amount * self.covers.sum(axis=1))

    def extra(self, kind: str, n_targets: int, n_periods: int) -> np.ndarray:
        """The most extra supply of one kind per target and quarter, every deal taken whole [target, quarter]."""
        found = np.zeros((n_targets, n_periods))
        for d in np.flatnonzero(self.kind == KINDS.index(kind)):
            found[self.target[d]] += self.amount[d] * self.covers[d]
        return found


def build_deals(problem: Problem, acc_ids: list[str], units_per_server: np.ndarray, components: list[str],
                prog_ids: list[str], periods: list[str], usd_per_musd: float) -> Deals:
    """The deals of `problem` over the model's accelerators, components, programs and quarters; a deal on
    an accelerator the model rules out is left out (the plan's supply_deals table has no row for it)."""
    ids, kinds, targets, amounts, covers, fees, divisible, per_unit, labels = [], [], [], [], [], [], [], [], []
    prepay = []
    for deal_id, deal in problem.supply_deals.items():
        kind, name = deal.target
        if kind == "component":
            index, amount = components.index(name), deal.units_per_quarter
        else:
            acc = name if kind == "accelerator" else f"custom:{name}"
            if acc not in acc_ids:      # ruled out (filters, export rules): the deal has nothing to raise
                continue
            index = acc_ids.index(acc) if kind == "accelerator" else prog_ids.index(name)
            amount = deal.units_per_quarter / float(units_per_server[acc_ids.index(acc)])
        ids.append(deal_id)
        labels.append(f"{kind}:{name}")
        kinds.append(KINDS.index(kind))
        targets.append(index)
        amounts.append(amount)
        covers.append([deal.covers(label) for label in periods])
        fees.append(deal.fee_usd / usd_per_musd)
        divisible.append(deal.divisible)
        per_unit.append(deal.units_per_quarter / amount)
        prepay.append(deal.prepay_usd_per_unit * per_unit[-1] / usd_per_musd)
    covered = np.array(covers, dtype=bool).reshape(len(kinds), len(periods))
    take_deal, take_quarter = np.nonzero(covered & (np.array(prepay) > 0)[:, None]) if ids else (np.zeros(0, int),) * 2
    supplies = sorted(set(labels[d] for d in take_deal.tolist()))
    return Deals(ids=ids, kind=np.array(kinds, dtype=np.int64), target=np.array(targets, dtype=np.int64),
                 amount=np.array(amounts, dtype=float),
                 covers=np.array(covers, dtype=bool).reshape(len(kinds), len(periods)),
                 fee=np.array(fees, dtype=float), divisible=np.array(divisible, dtype=bool),
                 prepay=np.array(prepay, dtype=float), per_unit=np.array(per_unit, dtype=float),
                 take_deal=take_deal.astype(np.int64), take_quarter=take_quarter.astype(np.int64), supplies=supplies,
                 take_supply=np.array([supplies.index(labels[d]) for d in take_deal.tolist()], dtype=np.int64))
