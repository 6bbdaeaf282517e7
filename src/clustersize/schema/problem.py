"""The problem file, after catalog entries and overrides are merged into it.

Every numeric field states its unit in brackets. Fields a catalog cannot source
(supply caps, lead times, site sizes) are scenario inputs the problem must give.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypedDict

from .catalog import load_catalog
from .errors import did_you_mean
from .rules import ExportRuleset
from .types import (
    PUE,
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
    RunDays,
    Seconds,
    ServerOverhead,
    Share,
    Strict,
)

PriceType = Literal["list", "street", "analyst", "system-derived", "estimate", "input"]
PriceLevel = Literal["chip", "board", "system"]
DAYS_PER_QUARTER = 365.25 / 4
Amortisation = Literal["straight-line", "epoch"]
ContractKind = Literal["grid", "solar_ppa", "wind_ppa", "nuclear_ppa", "onsite_gas", "other"]


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
    mfu: Fraction | None = Field(None, description="Model FLOPs utilisation on this accelerator; run.mfu when absent.")
    components: FrozenMap[Identifier, NonNegative] = Field(
        default_factory=FrozenDict, description="Shared components used per unit, e.g. {hbm3e_stacks: 8} [units].")


class Site(Strict):
    """A datacenter site the planner may open and build out."""

    from_: Identifier | None = Field(None, alias="from")
    name: str
    country: CountryCode = Field(description="ISO 3166 alpha-2 country code.")
    region: str | None = None
    pue: PUE = Field(description="Power usage effectiveness: facility power / IT power.")
    build_cost_usd_per_mw: NonNegative = Field(description="Construction cost per MW of IT capacity [USD/MW].")
    fixed_cost_usd: NonNegative = Field(description="One-off cost of opening the site (land, permits, substation) [USD].")
    max_mw: Positive = Field(description="Largest IT capacity the site can reach [MW].")
    existing_mw: NonNegative = Field(0.0, description="IT capacity already built and powered [MW].")
    build_lead_quarters: Count = Field(description="Quarters from decision to powered new capacity [quarters].")
    grid_price_usd_per_mwh: NonNegative | None = Field(
        None, description="Industrial grid tariff [USD/MWh]; grid contracts at the site default to it.")
    grid_carbon_g_per_kwh: NonNegative | None = Field(None, description="Grid carbon intensity [gCO2/kWh].")
    notes: str | None = None

    @model_validator(mode="after")
    def _existing_within_max(self) -> Site:
        if self.existing_mw > self.max_mw:
            raise ValueError(f"existing_mw ({self.existing_mw}) exceeds max_mw ({self.max_mw})")
        return self


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
    notes: str | None = None


class CloudOffer(Strict):
    """Cloud capacity that can be rented for the run instead of bought."""

    from_: Identifier | None = Field(None, alias="from")
    provider: str
    accelerator: Identifier = Field(description="Catalog accelerator id.")
    country: CountryCode
    price_usd_per_hour: Positive = Field(description="Price per accelerator-hour [USD/h].")
    max_units: NonNegative = Field(description="Most accelerators the provider will rent to this buyer [units].")
    units_per_instance: PositiveCount = Field(8, description="Accelerators per rentable instance [units].")
    mfu: Fraction | None = None
    notes: str | None = None


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


class Target(Strict):
    """Training compute to reach: `flop`, or `parameters` and `tokens` (C = 6 N D)."""

    flop: Positive | None = Field(None, description="Training compute [FLOP].")
    parameters: Positive | None = Field(None, description="Model parameters N [count].")
    tokens: Positive | None = Field(None, description="Training tokens D [count].")

    @model_validator(mode="after")
    def _one_form(self) -> Target:
        if (self.flop is None) == (self.parameters is None or self.tokens is None):
            raise ValueError("give either flop, or both parameters and tokens")
        return self

    @property
    def total_flop(self) -> float:
        """Training compute [FLOP]."""
        if self.flop is not None:
            return self.flop
        assert self.parameters is not None and self.tokens is not None  # _one_form requires both
        return 6.0 * self.parameters * self.tokens


class RunOptions(Strict):
    """The training run."""

    deadline: Day = Field(description="Date the run must finish by.")
    length_days: RunDays = Field(description="Run length [days].")
    start: Day | None = Field(None, description="Run start; default: the latest quarter start that meets the deadline.")
    precision: Literal["bf16", "fp8"] = "bf16"
    mfu: Fraction = Field(description="Model FLOPs utilisation of dense peak.")
    max_sites: PositiveCount = Field(1, description="Most sites (owned or rented) the synchronous run may span.")
    multi_site_efficiency: Fraction | None = Field(
        None, description="Share of compute kept when the run spans more than one site; needed when max_sites > 1.")
    average_draw_fraction: Fraction = Field(description="Average power draw during training / full-load power.")

    @model_validator(mode="after")
    def _multi_site(self) -> RunOptions:
        if self.max_sites > 1 and self.multi_site_efficiency is None:
            raise ValueError("max_sites > 1 needs multi_site_efficiency (no sourced default exists)")
        return self


class CostOptions(Strict):
    """How costs are counted."""

    basis: Literal["full", "amortised"] = Field(
        "full", description="full: all capex; amortised: hardware (and sites, given facility_life_years) for the run's share.")
    amortisation: Amortisation = Field(
        "straight-line", description="How the amortised basis charges hardware: straight-line (run days / "
                                     "hardware_life_years, sites by facility_life_years) or epoch (Epoch AI's method: "
                                     "value at the run start x price_performance_ooms_per_year x ln 10 per year; "
                                     "hardware, network and energy only, no site lines). See docs/costs.md.")
    hardware_life_years: Positive = Field(description="Hardware depreciation life [years].")
    price_performance_ooms_per_year: Positive = Field(
        0.14, description="Hardware price-performance trend the epoch amortisation uses: the value falls by this "
                          "many orders of magnitude a year from purchase to the run start [OOM/year].")
    facility_life_years: Positive | None = Field(None, description="Facility life for the amortised basis [years].")
    carbon_price_usd_per_t: NonNegative = Field(0.0, description="Carbon price [USD/tCO2].")
    server_overhead: ServerOverhead = Field(description="Server price / accelerator price, for chip-only prices.")
    interconnect_share: NetworkShare = Field(description="Cluster network share of total hardware cost.")


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
    target: Target
    run: RunOptions
    costs: CostOptions
    # `rules` is filled by ExportOptions' before-validator, which the constructor's type cannot see.
    export: ExportOptions = Field(default_factory=lambda: ExportOptions.model_validate({}))
    solver: SolverOptions = Field(default_factory=SolverOptions)
    accelerators: FrozenMap[Identifier, Accelerator] = Field(default_factory=FrozenDict)
    sites: FrozenMap[Identifier, Site]
    contracts: FrozenMap[Identifier, Contract] = Field(default_factory=FrozenDict)
    cloud: FrozenMap[Identifier, CloudOffer] = Field(default_factory=FrozenDict)
    custom_programs: FrozenMap[Identifier, CustomProgram] = Field(default_factory=FrozenDict)
    components: FrozenMap[Identifier, NonNegative] = Field(
        default_factory=FrozenDict, description="Shared component supply per quarter for this buyer [units/quarter].")
    cloud_chips: FrozenMap[Identifier, Chip] = Field(
        default_factory=FrozenDict, description="Specs of rented accelerators (filled from the catalog).")

    origin: SkipJsonSchema[Origin] = Field(
        default_factory=Origin, description="Source file, catalogs and provenance; filled by load_problem.")

    @model_validator(mode="after")
    def _references(self) -> Problem:
        if self.planning_start.day != 1 or self.planning_start.month not in (1, 4, 7, 10):
            raise ValueError("planning_start must be the first day of a quarter (Jan/Apr/Jul/Oct 1)")
        for cid, contract in self.contracts.items():
            if contract.site not in self.sites:
                raise ValueError(f"contracts.{cid}.site: unknown site {contract.site!r}")
        for oid, offer in self.cloud.items():
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
        return self

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
