"""The problem file, after catalog entries and overrides are merged into it.

Every numeric field states its unit in brackets. Fields a catalog cannot source
(supply caps, lead times, site sizes) are scenario inputs the problem must give.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, StringConstraints, ValidationError, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError
from typing_extensions import TypedDict

from .catalog import load_catalog
from .deals import SpotMarket, SupplyDeal
from .errors import did_you_mean
from .risk import RiskOptions, Scenario, Uncertainty, check_scenarios, check_uncertainty
from .rules import ExportRuleset
from .sustained import Sustained
from .types import (
    PUE,
    AnnualRate,
    Count,
    CountryCode,
    Day,
    Fraction,
    FrozenDict,
    FrozenMap,
    Gap,
    Identifier,
    Months,
    NetworkShare,
    NonNegative,
    Positive,
    PositiveCount,
    QuarterLabel,
    Region,
    RunDays,
    Seconds,
    ServerOverhead,
    Share,
    Strict,
    TermMonths,
)

PriceType = Literal["list", "street", "analyst", "system-derived", "estimate", "input"]
PriceLevel = Literal["chip", "board", "system"]
DAYS_PER_YEAR = 365.25
DAYS_PER_QUARTER = DAYS_PER_YEAR / 4
Amortisation = Literal["straight-line", "epoch"]
ExistingBasis = Literal["lease", "book", "sunk"]
MONTHS_PER_QUARTER = 3.0
ContractKind = Literal["grid", "solar_ppa", "wind_ppa", "nuclear_ppa", "onsite_gas", "other"]
Precision = Literal["bf16", "fp8"]
Mix = Literal["stack", "model", "any"]
StackName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_:.-]*$", max_length=64)]


def field_error(loc: tuple[str | int, ...], message: str, value: Any) -> ValidationError:
    """A validation error at `loc`, relative to the model whose validator raises it.

    Raised inside a validator, pydantic nests it under the model's own location, so the
    InputError names the exact field (`runs.pretrain.max_length_days`), not only its model.
    """
    return ValidationError.from_exception_data("Problem", [InitErrorDetails(
        type=PydanticCustomError("value_error", "{reason}", {"reason": message}), loc=loc, input=value)])


class Chip(Strict):
    """Specifications of one accelerator type (dense figures, no sparsity)."""

    name: str = Field(description="Display name.")
    vendor: str = Field(description="Vendor or designer.")
    bf16_tflops: Positive = Field(description="Dense BF16 peak [TFLOP/s].")
    fp8_tflops: Positive | None = Field(None, description="Dense FP8 peak [TFLOP/s]; BF16 is used where absent.")
    fp4_tflops: Positive | None = Field(None, description="Dense FP4 peak [TFLOP/s].")
    int8_tops: Positive | None = Field(None, description="Dense INT8 peak [TOP/s].")
    memory_gb: Positive | None = Field(None, description="HBM capacity [GB].")
    mem_bw_tbps: Positive | None = Field(None, description="Memory bandwidth [TB/s].")
    tdp_w: Positive | None = Field(None, description="Board power [W].")
    it_power_kw: Positive | None = Field(
        None, description="IT power per accelerator incl. its server and network share, at full load [kW].")
    die_area_mm2: Positive | None = Field(None, description="Applicable logic die area for performance density [mm^2].")
    tpp: Positive | None = Field(None, description="Total Processing Performance (EAR 3A090); computed from specs when absent.")
    price_usd: Positive | None = Field(None, description="Unit price [USD].")
    price_type: PriceType | None = Field(None, description="What the price is: list, street, analyst, system-derived.")
    server_network_usd: NonNegative | None = Field(
        None, description="Server and network share per accelerator [USD]; derived from the price type when absent.")
    units_per_server: PositiveCount = Field(8, description="Accelerators per server or rack: the unit plans are rounded to.")
    for_sale: bool = Field(True, description="False for accelerators only rented as cloud offers (TPU, Trainium).")
    notes: str | None = None
    price_includes: PriceLevel | None = Field(
        None, description="What price_usd covers: chip (the accelerator alone), board (accelerators on their "
                          "baseboard, no host) or system (a whole server or rack). Absent: chip, unless price_type "
                          "is system-derived.")
    excluded_items_usd: NonNegative | None = Field(
        None, description="Cost of server items the price leaves out, per accelerator [USD]: the host of a board "
                          "price, or rack items a system price omits. Required for a board price.")
    price_date: Day | None = Field(
        None, description="Date the price was observed; it declines by price_decline_per_quarter from this date.")
    average_draw_fraction: Fraction | None = Field(
        None, description="Average draw during training / full-load IT power for this accelerator [fraction]; "
                          "run.average_draw_fraction when absent.")
    price_decline_per_quarter: Share = Field(
        0.0, description="Fall per quarter of the server-level cost (price and server/network share), "
                         "from price_date or else the planning start [fraction].")
    stack: StackName | None = Field(
        None, description="Software stack the accelerator trains with (cuda, rocm, gaudi, xla-tpu, neuron, cann, ...); "
                          "a run with mix: stack uses one stack. Absent: custom:<program> for a custom chip, else by vendor.")
    mfu_by_precision: FrozenMap[Precision, Fraction] = Field(
        default_factory=FrozenDict,
        description="Model FLOPs utilisation measured on this accelerator, by precision, on productive steps "
                    "(goodput is applied on top) [fraction of that precision's dense peak], e.g. {bf16: 0.40}; "
                    "defaults.accelerator_mfu where absent.")

    @model_validator(mode="after")
    def _board_price_names_its_host(self) -> Chip:
        if self.price_includes == "board" and self.excluded_items_usd is None and self.server_network_usd is None:
            raise ValueError("excluded_items_usd: a board price leaves out the host (CPUs, memory, chassis, NICs); "
                             "give its cost per accelerator [USD]")
        return self

    def price_age_quarters(self, planning_start: dt.date, quarter: Any = 0) -> Any:
        """Quarters from price_date to the start of planning quarter `quarter` [quarters]; `quarter`
        may be an array of quarters.

        Without a price date the age is `quarter`. Never negative: a price is not extrapolated
        back before the date it was observed (a retrospective needs a price of its own time).
        """
        if self.price_date is None:
            return quarter * 1.0
        return np.maximum(0.0, quarter + (planning_start - self.price_date).days / DAYS_PER_QUARTER)


class Accelerator(Chip):
    """An accelerator the planner may buy, with this buyer's supply terms."""

    from_: Identifier | None = Field(None, alias="from", description="Catalog id this entry is based on (default: its own id).")
    supply_per_quarter: NonNegative | None = Field(
        None, description="Units this buyer can obtain per quarter [units]; absent means unlimited.")
    supply_by_quarter: FrozenMap[QuarterLabel, NonNegative] = Field(
        default_factory=FrozenDict, description="Per-quarter supply overriding supply_per_quarter [units], e.g. {2027Q3: 0}.")
    lead_time_quarters: Count = Field(description="Quarters from order to installed and usable [quarters].")
    available_from: Day | None = Field(None, description="First date it can be ordered.")
    mfu: Fraction | None = Field(
        None, description="Model FLOPs utilisation on this accelerator for this problem, any precision [fraction]; "
                          "overrides mfu_by_precision and the catalog defaults. A run's own mfu overrides it.")
    components: FrozenMap[Identifier, NonNegative] = Field(
        default_factory=FrozenDict, description="Shared components used per unit, e.g. {hbm3e_stacks: 8} [units].")


class Site(Strict):
    """A datacenter site the planner may open and build out."""

    from_: Identifier | None = Field(None, alias="from")
    name: str
    country: CountryCode = Field(description="ISO 3166 alpha-2 country code.")
    region: Region | None = Field(None, description="Region within the country (e.g. US-TX); default: the country.")
    max_cluster_units: PositiveCount | None = Field(
        None, description="Largest fabric domain at the site: most accelerators one run may use there [accelerators]; "
                          "absent: unlimited.")
    pue: PUE = Field(description="Power usage effectiveness: facility power / IT power.")
    build_cost_usd_per_mw: NonNegative = Field(
        description="Cost of new capacity per MW of IT load [USD/MW]; the sum of build_cost_items_usd_per_mw when "
                    "those are given.")
    build_cost_items_usd_per_mw: FrozenMap[Identifier, NonNegative] = Field(
        default_factory=FrozenDict,
        description="The build cost by item [USD/MW], e.g. {shell_mep: 11.7e6, liquid_cooling: 0.4e6, land: ..., "
                    "soft_costs: ...}: C&W's figure covers shell and MEP only, so name what else the site needs.")
    fixed_cost_usd: NonNegative = Field(description="One-off cost of opening the site (land, permits, substation) [USD].")
    max_mw: Positive = Field(description="Largest IT capacity the site can reach [MW].")
    existing_mw: NonNegative = Field(0.0, description="IT capacity already built and powered [MW].")
    build_lead_quarters: Count = Field(description="Quarters from decision to powered new capacity [quarters].")
    energised_mw: FrozenMap[QuarterLabel, NonNegative] = Field(
        default_factory=FrozenDict,
        description="New IT capacity powered from each quarter on, cumulative, as the grid connection is "
                    "energised in phases [MW], e.g. {2028Q1: 100, 2028Q3: 300}; none before the first. Absent: all "
                    "new capacity from build_lead_quarters.")
    existing_basis: ExistingBasis = Field(
        "lease", description="How the existing capacity is paid for: lease (per kW-month of IT load leased, each "
                             "quarter it holds hardware), book (its stated book value, when the site is opened) or "
                             "sunk (already paid: free to this plan, and the plan says so).")
    lease_usd_per_kw_month: NonNegative | None = Field(
        None, description="Lease of existing capacity [USD per kW of IT load per month]; costs.lease_usd_per_kw_month "
                          "when absent.")
    existing_book_value_usd: NonNegative | None = Field(
        None, description="Book value of the existing capacity, charged when the site is opened [USD]; "
                          "required with existing_basis: book.")
    grid_price_usd_per_mwh: NonNegative | None = Field(
        None, description="Industrial grid tariff [USD/MWh]; grid contracts at the site default to it.")
    grid_carbon_g_per_kwh: NonNegative | None = Field(None, description="Grid carbon intensity [gCO2/kWh].")
    notes: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _build_cost_from_items(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not isinstance(data.get("build_cost_items_usd_per_mw"), Mapping) \
                or not data["build_cost_items_usd_per_mw"]:
            return data
        items = data["build_cost_items_usd_per_mw"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items.values()):
            return data                   # the field's own validation names the bad item
        total = float(sum(items.values()))
        given = data.get("build_cost_usd_per_mw")
        if given is None:
            return {**data, "build_cost_usd_per_mw": total}
        if isinstance(given, (int, float)) and abs(given - total) > 1e-6 * max(1.0, total):
            raise ValueError(f"build_cost_usd_per_mw ({given:g}) differs from the sum of build_cost_items_usd_per_mw "
                             f"({total:g}); give the items alone (build_cost_usd_per_mw: null over a catalog site's figure), "
                             "or make them add up")
        return data

    @model_validator(mode="after")
    def _existing_within_max(self) -> Site:
        if self.existing_mw > self.max_mw:
            raise ValueError(f"existing_mw ({self.existing_mw}) exceeds max_mw ({self.max_mw})")
        phases = [self.energised_mw[q] for q in sorted(self.energised_mw)]
        if any(later < earlier for earlier, later in zip(phases, phases[1:])):
            raise ValueError("energised_mw: give the cumulative MW powered from each quarter, never decreasing "
                             f"(found {', '.join(f'{q}: {self.energised_mw[q]:g}' for q in sorted(self.energised_mw))})")
        if phases and phases[-1] > self.max_mw - self.existing_mw + 1e-9:
            raise ValueError(f"energised_mw: {phases[-1]:g} MW is more new capacity than the site can take "
                             f"(max_mw - existing_mw = {self.max_mw - self.existing_mw:g} MW)")
        if self.existing_basis == "book" and self.existing_book_value_usd is None:
            raise ValueError("existing_book_value_usd: existing_basis book needs the book value of the existing "
                             "capacity [USD]; or use lease, or sunk if it is already paid for")
        return self


def _term_is_a_quarter_or_more(term_months: float | None, hint: str = "") -> None:
    """ValueError for a term of more than nothing but less than one planning quarter."""
    if term_months is not None and 0 < term_months < MONTHS_PER_QUARTER:
        raise ValueError(f"term_months: {term_months:g} months is shorter than a planning quarter (3 months){hint}")


class Contract(Strict):
    """An energy contract that can be signed for one site."""

    from_: Identifier | None = Field(None, alias="from")
    name: str | None = None
    kind: ContractKind
    site: Identifier = Field(description="Site id the contract feeds.")
    price_usd_per_mwh: NonNegative = Field(description="Energy price [USD/MWh].")
    max_mw: Positive = Field(description="Largest contracted capacity [MW].")
    capacity_factor: Fraction = Field(1.0, description="Average output / contracted capacity.")
    firm_fraction: Share = Field(description="Share of contracted MW that counts as firm at every hour.")
    min_take_fraction: Share = Field(0.0, description="Minimum energy taken, as a share of deliverable energy.")
    fixed_cost_usd: NonNegative = Field(0.0, description="One-off cost of signing [USD].")
    fixed_cost_usd_per_mw: NonNegative = Field(0.0, description="Cost per contracted MW, e.g. on-site turbines [USD/MW].")
    carbon_g_per_kwh: NonNegative = Field(description="Carbon intensity of the energy [gCO2/kWh].")
    first_available: Day | None = Field(None, description="First date the energy flows.")
    capacity_charge_usd_per_mw_month: NonNegative = Field(
        0.0, description="Capacity or demand charge on contracted MW, every month of the term [USD per MW-month].")
    capacity_charge_usd_per_mw_day: NonNegative = Field(
        0.0, description="The same charge quoted per MW-day (e.g. a PJM capacity price) [USD per MW-day].")
    term_months: TermMonths | None = Field(
        None, description="Term the contract is signed for, from its start (its first flow, and no earlier than the "
                          "first run may start) [months]; absent: to the last deadline. The months of the term after "
                          "the last deadline pay the minimum bill and the take-or-pay energy (min_take_fraction of "
                          "the output).")
    min_bill_fraction: Share = Field(
        0.0, description="Minimum bill: share of the contracted MW billed the capacity charge in the months of "
                         "the term after the last deadline, when no run uses it [fraction]; needs term_months.")
    notes: str | None = None

    @model_validator(mode="after")
    def _term_terms(self) -> Contract:
        if self.capacity_charge_usd_per_mw_month and self.capacity_charge_usd_per_mw_day:
            raise ValueError("capacity_charge_usd_per_mw_day: give the capacity charge per MW-month or per MW-day, "
                             "not both")
        _term_is_a_quarter_or_more(self.term_months)
        if self.min_bill_fraction > 0 and not self.term_months:
            raise ValueError("min_bill_fraction: a minimum bill needs the term it runs for; give term_months")
        return self

    def capacity_usd_per_mw_month(self) -> float:
        """The capacity charge per contracted MW and month [USD/MW-month], from either quoted form."""
        return self.capacity_charge_usd_per_mw_month or self.capacity_charge_usd_per_mw_day * DAYS_PER_YEAR / 12.0


class CloudOffer(Strict):
    """Cloud capacity that can be rented for the run instead of bought."""

    from_: Identifier | None = Field(None, alias="from")
    provider: str
    accelerator: Identifier = Field(description="Catalog accelerator id.")
    country: CountryCode
    region: Region | None = Field(None, description="Region of the capacity (e.g. US-TX); default: the country.")
    price_usd_per_hour: Positive = Field(description="Price per accelerator-hour [USD/h].")
    max_units: NonNegative = Field(description="Most accelerators the provider will rent to this buyer [units].")
    units_per_instance: PositiveCount = Field(8, description="Accelerators per rentable instance [units].")
    mfu: Fraction | None = Field(
        None, description="Model FLOPs utilisation on this offer [fraction]; overrides the accelerator's figure.")
    term_months: TermMonths = Field(
        0.0, description="Commitment term the price is quoted for [months]: 0 on demand (paid for the hours a run "
                         "uses), 12 for one year, 36 for three. A commitment is paid for every hour of its term.")
    term_start: Day | None = Field(
        None, description="First day of a commitment's term; absent: the plan chooses the quarter it starts.")
    resale_fraction: Share = Field(
        0.0, description="Share of a commitment's cost recovered by reselling unused hours [fraction].")
    notes: str | None = None

    @model_validator(mode="after")
    def _term_is_a_period_or_more(self) -> CloudOffer:
        _term_is_a_quarter_or_more(self.term_months, "; use 0 for on demand")
        if self.term_start is not None and not self.term_months:
            raise ValueError("term_start: an on-demand offer (term_months 0) has no term to start")
        return self

    @property
    def committed(self) -> bool:
        return self.term_months > 0


class CustomProgram(Strict):
    """A custom-chip program: fund it (NRE) to be able to buy its chip."""

    from_: Identifier | None = Field(None, alias="from")
    name: str
    nre_usd: NonNegative = Field(description="Non-recurring engineering cost [USD].")
    months_to_volume: Months = Field(description="Months from the funding decision to volume supply [months].")
    success_probability: Fraction = Field(description="Chance the program delivers on time; reported, not optimised.")
    volume_per_quarter: NonNegative = Field(description="Units that can be made per quarter once in volume [units].")
    chip: Accelerator
    notes: str | None = None


def _total_flop(flop: float | None, parameters: float | None, tokens: float | None) -> float:
    """`flop`, or C = 6 N D from parameters and tokens [FLOP] (validation requires one form)."""
    if flop is not None:
        return flop
    assert parameters is not None and tokens is not None
    return 6.0 * parameters * tokens


def _one_target_form(flop: float | None, parameters: float | None, tokens: float | None) -> None:
    if (flop is None) == (parameters is None or tokens is None):
        raise ValueError("give either flop, or both parameters and tokens")


class Target(Strict):
    """Training compute to reach: `flop`, or `parameters` and `tokens` (C = 6 N D)."""

    flop: Positive | None = Field(None, description="Training compute [FLOP].")
    parameters: Positive | None = Field(None, description="Model parameters N [count].")
    tokens: Positive | None = Field(None, description="Training tokens D [count].")

    @model_validator(mode="after")
    def _one_form(self) -> Target:
        _one_target_form(self.flop, self.parameters, self.tokens)
        return self

    @property
    def total_flop(self) -> float:
        """Training compute [FLOP]."""
        return _total_flop(self.flop, self.parameters, self.tokens)


class SpanEfficiency(Strict):
    """Share of compute a synchronous run keeps when its locations span a region, a continent or the
    world [fraction]. A level left out takes defaults.run.span_efficiency (documented assumptions)."""

    region: Fraction | None = Field(None, description="Several locations in one region (e.g. US-TX) [fraction].")
    continent: Fraction | None = Field(None, description="Several regions of one continent [fraction].")
    world: Fraction | None = Field(None, description="Locations on more than one continent (needs allow_cross_ocean) "
                                                     "[fraction].")


class RunShape(Strict):
    """What a training run needs and where it may run: the fields the single-run form (`run:`) and
    each entry of `runs:` share."""

    deadline: Day = Field(description="Date the run must finish by.")
    earliest_start: Day | None = Field(None, description="First day the run may start; default: planning_start.")
    start: Day | None = Field(
        None, description="Fixes the run start; default: chosen by the planner (a quarter start in the window).")
    length_days: RunDays | None = Field(
        None, description="Fixed run length [days]; or give min_length_days and max_length_days.")
    min_length_days: RunDays | None = Field(None, description="Shortest run the planner may choose [days].")
    max_length_days: RunDays | None = Field(None, description="Longest run the planner may choose [days].")
    precision: Precision = Field("bf16", description="Training precision: bf16 or fp8 (chips without FP8 run at BF16).")
    mfu: Fraction | None = Field(
        None, description="Wall-clock effective model FLOPs utilisation [fraction]: when given, no goodput is applied "
                          "on top and it overrides every accelerator's figure. Absent: each accelerator's MFU "
                          "(catalog, by precision) times the goodput of the run's size.")
    max_sites: PositiveCount = Field(1, description="Most locations (sites or cloud offers) the synchronous run may span.")
    mix: Mix = Field(
        "stack", description="Which accelerators one run may combine: stack (one software stack), model (one "
                             "accelerator model) or any (stacks mixed, losing stack_efficiency per extra stack).")
    stack_efficiency: Fraction | None = Field(
        None, description="Share of compute kept per extra software stack in a run with mix: any [fraction]; "
                          "required for mix: any (no sourced default exists).")
    span_efficiency: SpanEfficiency | None = Field(
        None, description="Share of compute kept when the run spans a region, a continent or the world [fraction]; "
                          "defaults.run.span_efficiency where absent.")
    allow_cross_ocean: bool = Field(False, description="True lets one run span locations on different continents.")
    memory_gb: Positive | None = Field(
        None, description="Memory per accelerator the model needs [GB]: accelerators with less are not used for it.")
    average_draw_fraction: Fraction = Field(
        description="Average power draw during training / full-load power, for accelerators without their own "
                    "[fraction]; defaults.run.average_draw_fraction.")
    grow: bool = Field(
        False, description="True lets the run start on part of its cluster and add owned accelerators quarter by "
                           "quarter as they are installed, compute accumulating per quarter; the full cluster (its "
                           "goodput band, fabric limit and pace) works in the window's last quarter. Rentals serve "
                           "the whole window.")

    @model_validator(mode="after")
    def _lengths_and_window(self) -> RunShape:
        if self.length_days is not None:
            for name in ("min_length_days", "max_length_days"):
                if getattr(self, name) is not None:
                    raise field_error((name,), "give length_days (a fixed length) or min_length_days and "
                                               "max_length_days, not both", getattr(self, name))
        elif self.min_length_days is None and self.max_length_days is None:
            raise ValidationError.from_exception_data("Problem", [InitErrorDetails(
                type="missing", loc=("length_days",), input=None)])
        elif self.min_length_days is None or self.max_length_days is None:
            given, other = (("min_length_days", "max_length_days") if self.max_length_days is None
                            else ("max_length_days", "min_length_days"))
            raise field_error((other,), f"{given} needs {other} too (or give a fixed length_days)", None)
        elif self.min_length_days > self.max_length_days:
            raise field_error(("min_length_days",), f"{self.min_length_days:g} days is above max_length_days "
                                                    f"({self.max_length_days:g} days)", self.min_length_days)
        if self.mix == "any" and self.stack_efficiency is None:
            raise field_error(("stack_efficiency",), "mix: any needs stack_efficiency, the share of compute kept "
                                                     "per extra software stack (no sourced default exists)", None)
        if self.start is not None and self.earliest_start is not None and self.start < self.earliest_start:
            raise field_error(("start",), f"{self.start} is before earliest_start {self.earliest_start}", self.start)
        first = self.start or self.earliest_start
        if first is not None:
            named = "start" if self.start is not None else "earliest_start"
            _window_fits(self, first, named, (named,))
        return self

    @property
    def min_days(self) -> float:
        """Shortest run length [days]: length_days, else min_length_days."""
        value = self.length_days if self.length_days is not None else self.min_length_days
        assert value is not None  # _lengths_and_window requires one form
        return value

    @property
    def max_days(self) -> float:
        """Longest run length [days]: length_days, else max_length_days."""
        value = self.length_days if self.length_days is not None else self.max_length_days
        assert value is not None  # _lengths_and_window requires one form
        return value


def _window_fits(run: RunShape, first: dt.date, named: str, loc: tuple[str, ...]) -> None:
    """Refuse a window the run can never fit: from `first` (its start, earliest start or the
    planning start, named `named`), the shortest run must end by the deadline. The error is at `loc`."""
    if run.deadline < first:
        raise field_error(loc, f"the deadline {run.deadline} is before {named} {first}", run.deadline)
    end = first + dt.timedelta(days=run.min_days)
    if end > run.deadline:
        raise field_error(loc, f"a {run.min_days:g}-day run from {named} {first} ends after the deadline "
                               f"{run.deadline} (on {end}): move the deadline later, start earlier or shorten "
                               f"the run", run.deadline)


class RunOptions(RunShape):
    """The training run of the single-run form (`target:` + `run:`): the run named `main`."""

    multi_site_efficiency: Fraction | None = Field(
        None, description="Legacy: share of compute kept when the run spans more than one location [fraction]; "
                          "when given it sets all three span efficiencies (give it or span_efficiency, not both).")

    @model_validator(mode="after")
    def _one_efficiency_form(self) -> RunOptions:
        if self.multi_site_efficiency is not None and self.span_efficiency is not None:
            raise field_error(("multi_site_efficiency",), "give span_efficiency or the legacy multi_site_efficiency "
                                                          "(which sets all three span levels), not both",
                              self.multi_site_efficiency)
        return self


class Run(RunShape):
    """One training run under `runs:`: its compute target (`flop`, or `parameters` and `tokens`) and its shape."""

    flop: Positive | None = Field(None, description="Training compute [FLOP].")
    parameters: Positive | None = Field(None, description="Model parameters N [count].")
    tokens: Positive | None = Field(None, description="Training tokens D [count].")

    @model_validator(mode="after")
    def _one_form(self) -> Run:
        try:
            _one_target_form(self.flop, self.parameters, self.tokens)
        except ValueError as exc:
            raise field_error(("flop",), str(exc), self.flop) from None
        return self

    @property
    def total_flop(self) -> float:
        """Training compute [FLOP]."""
        return _total_flop(self.flop, self.parameters, self.tokens)


class GoodputBand(Strict):
    """Goodput of runs up to a size."""

    max_units: PositiveCount = Field(description="Largest run of this band [accelerators].")
    goodput: Fraction = Field(description="Share of wall-clock time that is productive training [fraction].")


class GoodputOptions(Strict):
    """Productive share of a run's wall-clock time by its size: interruptions, restarts and checkpoints
    grow with the number of accelerators. Applied on top of per-accelerator MFU; not applied to a run
    that gives its own (wall-clock) mfu."""

    bands: tuple[GoodputBand, ...] = Field(
        description="Bands by size, max_units strictly ascending [accelerators, fraction].")
    floor: Fraction = Field(description="Goodput of runs larger than the last band [fraction].")

    @model_validator(mode="after")
    def _ascending(self) -> GoodputOptions:
        for i in range(1, len(self.bands)):
            if self.bands[i].max_units <= self.bands[i - 1].max_units:
                raise field_error(("bands", i, "max_units"), f"{self.bands[i].max_units} is not above the previous "
                                                             f"band's {self.bands[i - 1].max_units}: bands go by "
                                                             f"strictly ascending max_units", self.bands[i].max_units)
        return self


class AcceleratorMfu(Strict):
    """MFU on productive steps of an accelerator without its own figure for the precision
    (Chip.mfu_by_precision) [fraction of that precision's dense peak]; defaults.accelerator_mfu."""

    bf16: Fraction | None = Field(None, description="BF16 runs [fraction].")
    fp8: Fraction | None = Field(None, description="FP8 runs [fraction].")


class CostOptions(Strict):
    """How costs are counted; docs/costs.md gives each basis line by line."""

    basis: Literal["full", "npv", "amortised"] = Field(
        "full", description="full: every obligation the plan incurs, whenever paid, undiscounted; npv: the cash "
                            "flows discounted at discount_rate, hardware left at the last deadline credited at its "
                            "resale value; amortised: the cost of using the capital for the periods used.")
    amortisation: Amortisation = Field(
        "straight-line", description="How the amortised basis charges hardware: straight-line (capital recovery at "
                                     "discount_rate over hardware_life_years for the quarters held; a plain straight "
                                     "line at a zero rate; sites over facility_life_years) or epoch (Epoch AI's "
                                     "method: value at the run start x price_performance_ooms_per_year x ln 10 per "
                                     "year; hardware, network and energy only). See docs/costs.md.")
    discount_rate: AnnualRate = Field(
        description="Nominal discount rate: the cost of capital [fraction per year]. Discounts the npv basis and "
                    "sets the capital recovery of the amortised basis.")
    hardware_life_years: Positive = Field(description="Hardware depreciation life [years].")
    price_performance_ooms_per_year: Positive = Field(
        0.14, description="Hardware price-performance trend: the epoch amortisation's fall in value from purchase to "
                          "the run start, and the fall of resale value to the last deadline [OOM/year].")
    facility_life_years: Positive = Field(description="Datacentre life the amortised basis spreads site costs over [years].")
    lease_usd_per_kw_month: NonNegative = Field(
        description="Lease of existing capacity where a site gives none [USD per kW of IT load per month].")
    opex_fraction_per_year: Share = Field(
        description="Non-energy operating cost (maintenance, staff, insurance) per year, as a share of the hardware "
                    "and new-build capital in service [fraction per year].")
    resale_haircut: Share = Field(
        description="Share of hardware's trend value lost when it is sold, at the last deadline or before [fraction].")
    sell_surplus: bool = Field(
        False, description="True: owned servers may be sold before the last deadline, at their trend value less the "
                           "haircut, saving their operating cost from then (docs/risk.md).")
    carbon_price_usd_per_t: NonNegative = Field(0.0, description="Carbon price [USD/tCO2].")
    server_overhead: ServerOverhead = Field(description="Server price / accelerator price, for chip-only prices.")
    interconnect_share: NetworkShare = Field(description="Cluster network share of total hardware cost.")


class Budget(Strict):
    """Limits on what the plan may spend."""

    total_usd: Positive | None = Field(None, description="Most the plan may cost on its cost basis [USD].")
    per_year_usd: Positive | None = Field(
        None, description="Most the plan may pay in any calendar year: nominal cash, undiscounted, no resale credit [USD].")


class ExportOptions(Strict):
    """Export-control regime applied to purchases."""

    ruleset: Identifier = Field("none", description="Ruleset id from catalogs/export_rules.yaml.")
    headquarters: CountryCode = Field("US", description="Buyer's headquarters country.")
    licence_lead_quarters: Count | None = Field(
        None, description="Extra lead time where a licence is required [quarters]; needed when one applies.")
    cap_used_tpp: FrozenMap[CountryCode, NonNegative] = Field(
        default_factory=FrozenDict, description="Cap already used in a country by earlier exports [TPP].")
    # `rules` holds the content of the ruleset named by `ruleset` as data, so a dump of the problem
    # carries the rules in force. load_problem fills it from the catalogs it loads; validation
    # without it takes the bundled catalog's ruleset of that id.
    rules: SkipJsonSchema[ExportRuleset] = Field(
        description="The ruleset named by `ruleset`, as data; filled from the catalog when absent.")

    @model_validator(mode="before")
    @classmethod
    def _rules_from_bundled_catalog(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or data.get("rules") is not None:
            return data
        rid = data.get("ruleset", "none")
        if not isinstance(rid, str):
            return data
        known = load_catalog().rulesets
        if rid not in known:
            raise ValueError(f"export.ruleset: unknown export ruleset {rid!r}{did_you_mean(rid, known)}; "
                             f"use one of {', '.join(sorted(known))}")
        return {**data, "rules": known[rid]}

    @model_validator(mode="after")
    def _rules_match_ruleset(self) -> ExportOptions:
        if self.rules.id != self.ruleset:
            raise ValueError(f"export.rules holds ruleset {self.rules.id!r} but export.ruleset is {self.ruleset!r}: "
                             "leave rules out to take them from the catalog, or change the ruleset with "
                             "problem.with_({'export.ruleset': ...})")
        return self


class ObjectiveOptions(Strict):
    """What the plan optimises first; cost is always minimised at that value.

    cost: the cheapest plan. finish: the earliest end of one run (`run`, default the run with the
    latest deadline), then the cheapest plan that ends then. compute: the most FLOP for one run
    (`run`, default the first) by its deadline, then the cheapest plan that delivers it. `budget_usd`
    bounds the plan's cost on its basis; `finish_by` bounds the end of `run` (every run when no run
    is named).
    """

    kind: Literal["cost", "finish", "compute"] = Field("cost", description="Primary objective.")
    run: Identifier | None = Field(None, description="The run the finish or compute objective is about.")
    budget_usd: Positive | None = Field(None, description="Most the plan may cost on its cost basis [USD].")
    finish_by: Day | None = Field(None, description="Latest end of the run (every run if none named) [date].")


class Filters(Strict):
    """Options the planner rules out, or the only ones allowed (the CLI's --exclude-site,
    --exclude-country, --only-sites, --only-accelerators set them). Empty lists rule nothing out."""

    exclude_sites: tuple[Identifier, ...] = Field((), description="Sites the plan may not use.")
    exclude_countries: tuple[CountryCode, ...] = Field(
        (), description="Countries whose sites and cloud offers the plan may not use (ISO 3166 alpha-2).")
    only_sites: tuple[Identifier, ...] = Field((), description="The only sites the plan may use; empty: all.")
    only_accelerators: tuple[str, ...] = Field(
        (), description="The only accelerators the plan may buy or rent (catalog ids, custom:<program>); empty: all.")

    def allows_site(self, site_id: str, country: str) -> str | None:
        """None when a site may be used, else which filter rules it out."""
        if site_id in self.exclude_sites:
            return "filters.exclude_sites"
        if country in self.exclude_countries:
            return "filters.exclude_countries"
        if self.only_sites and site_id not in self.only_sites:
            return "filters.only_sites"
        return None

    def allows_accelerator(self, accelerator: str) -> str | None:
        """None when an accelerator may be bought or rented, else the filter that rules it out."""
        if self.only_accelerators and accelerator not in self.only_accelerators:
            return "filters.only_accelerators"
        return None

    def allows_offer(self, accelerator: str, country: str) -> str | None:
        """None when a cloud offer may be used, else the filter that rules it out."""
        if country in self.exclude_countries:
            return "filters.exclude_countries"
        return self.allows_accelerator(accelerator)


class SolverOptions(Strict):
    """Defaults for the solve; CLI flags override them."""

    name: Literal["scip", "highs", "cpsat", "cbc"] = "scip"
    time_limit_s: Seconds = Field(60.0, description="Wall-clock limit for each solver call [s].")
    gap: Gap = Field(1e-4, description="Relative optimality gap at which a solve stops.")
    threads: PositiveCount = 1
    seed: Count = 0
    integer_units: bool = Field(False, description="Solve whole servers exactly instead of rounding a continuous plan.")


class SourceNote(TypedDict, total=False):
    """Where one value came from: catalog source keys, date and grade, or the problem file."""

    source: str | list[str]
    as_of: Annotated[dt.date | str, Field(union_mode="left_to_right")]
    confidence: str
    price_type: str
    note: str | None


class Origin(Strict):
    """Where a problem came from. Not a scenario input: `load_problem` records it, `with_` and
    dumps carry it, so `Problem.model_validate(problem.model_dump())` keeps it."""

    file: str = Field("<dict>", description="The problem file, or <dict> for a problem given as a dict.")
    catalog_dir: str | None = Field(None, description="Catalogs merged in; None for the bundled ones.")
    provenance: FrozenMap[str, SourceNote] = Field(
        default_factory=FrozenDict, description="Source of each input value by field path (derived figures excluded).")


class Problem(Strict):
    """A complete, validated planning problem.

    Immutable: assigning an attribute raises FrozenProblemError. `with_` returns an edited,
    re-validated copy; derived figures (clustersize.schema.derived) are recomputed from it.
    """

    name: str
    description: str | None = None
    planning_start: Day = Field(description="First day of the first planning quarter.")
    target: Target | None = Field(None, description="Single-run form: the compute of the run `main` (with run).")
    run: RunOptions | None = Field(None, description="Single-run form: the run `main` (with target).")
    runs: FrozenMap[Identifier, Run] | None = Field(
        None, description="Several runs by name, in file order (instead of target and run).")
    goodput: GoodputOptions | None = Field(
        None, description="Productive share of wall-clock time by run size; defaults.goodput when absent.")
    accelerator_mfu: AcceleratorMfu | None = Field(
        None, description="MFU of accelerators without a catalog figure, by precision; defaults.accelerator_mfu.")
    costs: CostOptions
    # `rules` is filled by ExportOptions' before-validator, which the constructor's type cannot see.
    export: ExportOptions = Field(default_factory=lambda: ExportOptions.model_validate({}))
    solver: SolverOptions = Field(default_factory=SolverOptions)
    objective: ObjectiveOptions = Field(default_factory=ObjectiveOptions)
    budget: Budget = Field(default_factory=Budget, description="Spending limits (objective.budget_usd is total_usd).")
    filters: Filters = Field(default_factory=Filters, description="Sites, countries and accelerators ruled out or in.")
    risk: RiskOptions = Field(default_factory=RiskOptions,
                              description="Reveal date, shortfall penalty and risk measure (docs/risk.md).")
    scenarios: FrozenMap[Identifier, Scenario] = Field(
        default_factory=FrozenDict, description="Named scenarios with probabilities and overrides: a problem with "
                                                "scenarios is solved as a two-stage problem (docs/risk.md).")
    uncertainty: Uncertainty = Field(default_factory=Uncertainty,
                                     description="Distributions `solve --samples N` draws scenarios from (docs/risk.md).")
    sustained: FrozenMap[Identifier, Sustained] = Field(
        default_factory=FrozenDict, description="Capacity served every quarter beside the runs (inference, research), "
                                                "by name: dense BF16 PFLOP/s or H100-equivalents from a quarter on.")
    accelerators: FrozenMap[Identifier, Accelerator] = Field(default_factory=FrozenDict)
    sites: FrozenMap[Identifier, Site]
    contracts: FrozenMap[Identifier, Contract] = Field(default_factory=FrozenDict)
    cloud: FrozenMap[Identifier, CloudOffer] = Field(default_factory=FrozenDict)
    custom_programs: FrozenMap[Identifier, CustomProgram] = Field(default_factory=FrozenDict)
    components: FrozenMap[Identifier, NonNegative] = Field(
        default_factory=FrozenDict, description="Shared component supply per quarter for this buyer [units/quarter].")
    supply_deals: FrozenMap[Identifier, SupplyDeal] = Field(
        default_factory=FrozenDict, description="Pay now to raise a supply cap from a quarter on (docs/risk.md).")
    spot: FrozenMap[Identifier, SpotMarket] = Field(
        default_factory=FrozenDict, description="Spot markets by catalog accelerator: servers beyond the allocation "
                                                "at a premium (docs/risk.md).")
    cloud_chips: FrozenMap[Identifier, Chip] = Field(
        default_factory=FrozenDict, description="Specs of rented accelerators (filled from the catalog).")

    origin: SkipJsonSchema[Origin] = Field(
        default_factory=Origin, description="Source file, catalogs and provenance; filled by load_problem.")

    @model_validator(mode="after")
    def _run_form(self) -> Problem:
        if self.runs is not None:
            if self.target is not None or self.run is not None:
                given = " and ".join(name for name in ("target", "run") if getattr(self, name) is not None)
                raise field_error(("runs",), f"give runs, or the single-run form target + run, not both "
                                             f"(this problem also gives {given})", None)
            if not self.runs:
                raise field_error(("runs",), "give at least one run: runs: {NAME: {flop: ..., deadline: ..., "
                                             "length_days: ...}}", None)
        elif self.target is None and self.run is None:
            raise field_error(("runs",), "no run given: write runs: {NAME: {flop, deadline, length_days, ...}}, "
                                         "or the single-run form target: + run:", None)
        else:
            for name in ("target", "run"):
                if getattr(self, name) is None:
                    raise ValidationError.from_exception_data("Problem", [InitErrorDetails(
                        type="missing", loc=(name,), input=None)])
        names = list(self.runs) if self.runs is not None else ["main"]
        if self.objective.run is not None and self.objective.run not in names:
            raise field_error(("objective", "run"), f"unknown run {self.objective.run!r}; the runs are "
                                                    f"{', '.join(names)}", self.objective.run)
        for loc, shape in self.run_shapes().items():
            if shape.earliest_start is not None and shape.earliest_start < self.planning_start:
                raise field_error((*loc, "earliest_start"), f"{shape.earliest_start} is before planning_start "
                                                            f"{self.planning_start}", shape.earliest_start)
            if shape.start is not None and shape.start < self.planning_start:
                raise field_error((*loc, "start"), f"{shape.start} is before planning_start {self.planning_start}",
                                  shape.start)
            if shape.start is None and shape.earliest_start is None:
                _window_fits(shape, self.planning_start, "planning_start", (*loc, "deadline"))
        return self

    def run_shapes(self) -> dict[tuple[str, ...], RunShape]:
        """Each run by its location in the problem: ("run",) for the single-run form, else ("runs", name)."""
        if self.runs is not None:
            return {("runs", name): run for name, run in self.runs.items()}
        return {("run",): self.run} if self.run is not None else {}

    @model_validator(mode="after")
    def _references(self) -> Problem:
        if self.planning_start.day != 1 or self.planning_start.month not in (1, 4, 7, 10):
            raise ValueError("planning_start must be the first day of a quarter (Jan/Apr/Jul/Oct 1)")
        for cid, contract in self.contracts.items():
            if contract.site not in self.sites:
                raise ValueError(f"contracts.{cid}.site: unknown site {contract.site!r}")
        for oid, offer in self.cloud.items():
            if oid in self.sites:
                raise field_error(("cloud", oid), f"{oid!r} is also a site id: sites and cloud offers are locations "
                                                  "of a run and need distinct ids", oid)
            if offer.accelerator not in self.cloud_chips:
                raise ValueError(f"cloud.{oid}.accelerator: no specs for {offer.accelerator!r}")
        for aid, acc in self.accelerators.items():
            if acc.price_usd is None:
                raise ValueError(f"accelerators.{aid}.price_usd: no sourced price in the catalog; set one")
            for comp in acc.components:
                if comp not in self.components:
                    raise ValueError(f"accelerators.{aid}.components.{comp}: no supply given under components")
        for pid, program in self.custom_programs.items():
            for comp in program.chip.components:
                if comp not in self.components:
                    raise ValueError(f"custom_programs.{pid}.chip.components.{comp}: no supply given under components")
        self._filters_name_known_options()
        self._sustained_within_planning()
        self._deals_name_known_supply()
        for loc, message, value in check_scenarios(dict(self.scenarios), self.risk, self.uncertainty) \
                + check_uncertainty(self.uncertainty):
            raise field_error(loc, message, value)
        if self.risk.reveal is not None and self.risk.reveal < self.planning_start:
            raise field_error(("risk", "reveal"), f"{self.risk.reveal} is before planning_start {self.planning_start}",
                              self.risk.reveal)
        return self

    def _deals_name_known_supply(self) -> None:
        known: dict[str, Mapping[str, object]] = {"accelerator": self.accelerators, "component": self.components,
                                                  "program": self.custom_programs}
        for name, deal in self.supply_deals.items():
            kind, target = deal.target
            if target not in known[kind]:
                raise field_error(("supply_deals", name, kind), f"unknown {kind} {target!r}"
                                                               f"{did_you_mean(target, known[kind])}", target)
            acc = self.accelerators.get(target) if kind == "accelerator" else None
            if acc is not None and acc.supply_per_quarter is None and not acc.supply_by_quarter:
                raise field_error(("supply_deals", name, kind), f"{target} has no supply limit in this problem, so a "
                                                               "deal cannot raise it; give its supply_per_quarter", target)
        for name in self.spot:
            if name in self.custom_programs:
                raise field_error(("spot", name), f"{name} is a custom program: its chips come only from its own "
                                                  "volume (raise it with a supply deal), not from a spot market", name)
            if name not in self.accelerators:
                raise field_error(("spot", name), f"{name!r} is not one of this problem's accelerators"
                                                  f"{did_you_mean(name, self.accelerators)}: list it under "
                                                  "accelerators (a catalog id brings its specs) to buy it spot", name)
            if not self.accelerators[name].for_sale:
                raise field_error(("spot", name), f"{name} is not for sale (cloud offers only), so no spot market "
                                                  "sells it; rent it under cloud instead", name)

    def _sustained_within_planning(self) -> None:
        first = f"{self.planning_start.year}Q{(self.planning_start.month - 1) // 3 + 1}"
        for name, entry in self.sustained.items():
            form = "pflops" if entry.pflops is not None else "h100e"
            labels = [label for label in entry.steps() if label is not None]
            for label in labels:
                if label < first:
                    raise field_error(("sustained", name, form, label), f"{label} is before the planning start "
                                                                        f"({first})", label)
            if entry.until is not None and entry.until < max(labels, default=first):
                raise field_error(("sustained", name, "until"), f"{entry.until} is before the demand starts "
                                                                f"({max(labels, default=first)})", entry.until)

    def _filters_name_known_options(self) -> None:
        known_accelerators = {*self.accelerators, *(f"custom:{p}" for p in self.custom_programs),
                              *(o.accelerator for o in self.cloud.values())}
        for name, given, known in (("exclude_sites", self.filters.exclude_sites, self.sites),
                                   ("only_sites", self.filters.only_sites, self.sites),
                                   ("only_accelerators", self.filters.only_accelerators, known_accelerators)):
            for i, value in enumerate(given):
                if value not in known:
                    raise field_error(("filters", name, i), f"unknown {name.split('_', 1)[1].rstrip('s')} {value!r}"
                                                            f"{did_you_mean(value, known)}; the problem has "
                                                            f"{', '.join(sorted(known))}", value)

    @property
    def budget_total_usd(self) -> float | None:
        """Most the plan may cost on its basis [USD]: budget.total_usd or objective.budget_usd, the
        smaller when both are given (the CLI's --budget sets the latter)."""
        given = [b for b in (self.budget.total_usd, self.objective.budget_usd) if b is not None]
        return min(given) if given else None

    @property
    def provenance(self) -> dict[str, SourceNote]:
        """Source, date and confidence of each value used, by field path, derived figures included."""
        from .derived import derived_provenance

        notes = {path: SourceNote(**note) for path, note in self.origin.provenance.items()}
        return {**notes, **derived_provenance(self)}

    @property
    def source(self) -> str:
        """The file the problem was loaded from, or <dict>."""
        return self.origin.file

    def with_(self, edits: Mapping[str, Any]) -> Problem:
        """A new validated problem with `edits` applied: ``{"accelerators.h100-sxm.price_usd": 25000}``.

        Paths and values are those of ``--set`` (a string value is read as a YAML scalar).
        Every validator runs again and derived figures follow the new values; edited paths
        are recorded in the provenance. Raises InputError naming the path on a bad edit.
        """
        from .load import edit_problem

        return edit_problem(self, edits)
