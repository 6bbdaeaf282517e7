"""Supply deals: pay now to raise a supply cap by an amount from a quarter on (an accelerator
allocation, HBM stacks or CoWoS capacity, a custom program's foundry capacity, a share of a fab)."""

from __future__ import annotations

from pydantic import Field, model_validator

from .types import Identifier, NonNegative, Positive, PositiveCount, QuarterLabel, Strict


class SupplyDeal(Strict):
    """Extra supply for a fee: taken whole, or in any share when `divisible`."""

    accelerator: Identifier | None = Field(None, description="Catalog accelerator whose supply the deal raises.")
    component: Identifier | None = Field(None, description="Shared component (HBM, CoWoS) whose supply it raises.")
    program: Identifier | None = Field(None, description="Custom program whose volume it raises (foundry capacity).")
    units_per_quarter: Positive = Field(description="Extra supply per quarter [accelerators, or component units].")
    first_quarter: QuarterLabel = Field(description="First quarter of the extra supply, e.g. 2028Q1.")
    quarters: PositiveCount | None = Field(None, description="Quarters the extra supply lasts; absent: to the horizon.")
    fee_usd: NonNegative = Field(description="Paid when the deal is signed, in the first planning quarter [USD].")
    prepay_usd_per_unit: NonNegative = Field(
        0.0, description="Prepaid at signing for every unit of the extra supply within the horizon, and credited "
                         "against each unit of it bought; units not bought are forfeit (take-or-pay) [USD per "
                         "accelerator, or per component unit].")
    divisible: bool = Field(False, description="True: any share of the deal may be taken, for that share of the fee "
                                               "(a share of a fab); false: all or nothing.")
    notes: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SupplyDeal:
        given = [name for name in ("accelerator", "component", "program") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a deal raises one supply: give exactly one of accelerator, component or program "
                             f"(got {', '.join(given) or 'none'})")
        return self

    @property
    def target(self) -> tuple[str, str]:
        """(kind, id): what the deal raises."""
        for kind in ("accelerator", "component", "program"):
            value = getattr(self, kind)
            if value is not None:
                return kind, str(value)
        raise AssertionError("validated: one target")

    def prepaid_usd(self, quarters: list[str]) -> float:
        """What signing the whole deal prepays: the prepayment for every unit of extra supply in the
        covered quarters among `quarters` (labels) [USD]."""
        return self.prepay_usd_per_unit * self.units_per_quarter * sum(self.covers(q) for q in quarters)

    def covers(self, quarter: str) -> bool:
        """True when the deal's extra supply is there in `quarter` (a label such as 2028Q1)."""
        if quarter < self.first_quarter:
            return False
        if self.quarters is None:
            return True
        year, q = int(self.first_quarter[:4]), int(self.first_quarter[5])
        last = (q - 1) + self.quarters - 1
        return quarter <= f"{year + last // 4}Q{last % 4 + 1}"


class SpotMarket(Strict):
    """Servers of one catalog accelerator bought beyond the buyer's allocation, from resellers or
    the secondary market, at a premium over the price (docs/risk.md). Spot servers are already
    built: they use none of the allocation and none of the shared components (HBM, CoWoS)."""

    premium: NonNegative = Field(description="Extra paid over the accelerator's all-in price, as a share of it "
                                             "(0.25: a quarter more) [fraction].")
    units_per_quarter: Positive = Field(description="Most accelerators the spot market sells per quarter [accelerators].")
    first_quarter: QuarterLabel | None = Field(None, description="First quarter the market sells, e.g. 2027Q3; "
                                                                 "absent: from the planning start.")
    notes: str | None = None

    def open_in(self, quarter: str) -> bool:
        """True when the market sells in `quarter` (a label such as 2028Q1)."""
        return self.first_quarter is None or quarter >= self.first_quarter
