"""Export-control rulesets as data: classification thresholds, country groups, policies.

Immutable like the problem that holds them: sequences are tuples, mappings refuse changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .types import CountryCode, FrozenDict, FrozenMap, Identifier, NonNegative, Positive, Strict

ALL_COUNTRIES = "ALL"


class Condition(Strict):
    """Bounds on an accelerator's specs; every bound given must hold."""

    tpp_min: NonNegative | None = Field(None, description="TPP >= this.")
    tpp_below: Positive | None = Field(None, description="TPP < this.")
    pd_min: NonNegative | None = Field(None, description="Performance density >= this [TPP/mm^2].")
    pd_below: Positive | None = Field(None, description="Performance density < this [TPP/mm^2].")
    mem_bw_below_tbps: Positive | None = Field(None, description="Memory bandwidth < this [TB/s].")
    mem_bw_min_tbps: Positive | None = Field(None, description="Memory bandwidth >= this [TB/s].")
    vendor_in: tuple[str, ...] | None = Field(None, description="Chip vendor is one of these.")

    @property
    def needs_pd(self) -> bool:
        """True when the condition cannot be judged without a performance density."""
        return self.pd_min is not None or self.pd_below is not None


class ClassRule(Strict):
    """An export classification (e.g. 3A090.a) and the specs that put a chip in it."""

    eccn: str
    any_of: tuple[Condition, ...] = Field(min_length=1)


class Policy(Strict):
    """What applies to a class of chips in a group of countries. The first matching policy wins."""

    id: str
    groups: tuple[str, ...] = Field(min_length=1, description="Country group names, or ALL.")
    classes: tuple[str, ...] = Field(min_length=1, description="ECCN classes covered, or * for any chip.")
    when: Condition | None = None
    action: Literal["allowed", "licence", "cap", "prohibited"]
    cap_tpp: Positive | None = Field(None, description="Cumulative cap per country for action cap [TPP].")
    applies_to_headquarters: bool = Field(
        False, description="Also applies wherever the buyer is headquartered in one of the groups.")
    source: str
    note: str | None = None

    @model_validator(mode="after")
    def _cap_needs_amount(self) -> Policy:
        if (self.action == "cap") != (self.cap_tpp is not None):
            raise ValueError("cap_tpp is given exactly when action is cap")
        return self


class Duty(Strict):
    """A tariff or duty on chips bought for sites in a group of countries, as a share of the chip's
    price (price_usd, after its decline); the first matching duty applies."""

    id: str
    groups: tuple[str, ...] = Field(min_length=1, description="Country group names, or ALL.")
    classes: tuple[str, ...] = Field(min_length=1, description="ECCN classes covered, or * for any chip.")
    when: Condition | None = None
    fraction: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=1)] = Field(
        description="Duty as a share of the chip price [fraction].")
    applies_to_headquarters: bool = Field(False, description="Also where the buyer is headquartered in a group.")
    source: str
    note: str | None = None


class ExportRuleset(Strict):
    """One export-control regime."""

    id: Identifier | None = Field(None, description="Its key in catalogs/export_rules.yaml, filled when loaded.")
    title: str
    status: Literal["in force", "rescinded", "scenario"]
    effective: dt.date | None = None
    sources: tuple[str, ...] = Field(min_length=1)
    as_of: dt.date
    confidence: Literal["H", "M", "L"]
    notes: str | None = None
    classification: tuple[ClassRule, ...] = Field(default_factory=tuple)
    country_groups: FrozenMap[str, tuple[CountryCode, ...]] = Field(default_factory=FrozenDict)
    policies: tuple[Policy, ...] = Field(default_factory=tuple)
    duties: tuple[Duty, ...] = Field(default_factory=tuple, description="Tariffs on chips bought for some countries.")

    @model_validator(mode="after")
    def _groups_known(self) -> ExportRuleset:
        named: list[tuple[str, tuple[str, ...]]] = [(f"policy {p.id}", p.groups) for p in self.policies]
        named += [(f"duty {d.id}", d.groups) for d in self.duties]
        for name, groups in named:
            for group in groups:
                if group != ALL_COUNTRIES and group not in self.country_groups:
                    raise ValueError(f"{name}: unknown country group {group!r}")
        return self
