"""Constrained scalar types shared by the schema models.

Numbers are strict (a quoted "1e26" is refused, not coerced) and finite (NaN and
inf are refused: pydantic accepts them by default).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, NoReturn, TypeVar

import pycountry
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

Num = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Positive = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Fraction = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=1)]
Share = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
Count = Annotated[int, Field(strict=True, ge=0)]
PositiveCount = Annotated[int, Field(strict=True, ge=1)]
PUE = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=1, le=3)]
Gap = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]


# Bounds on every horizon, so no date arithmetic overflows and no model grows past what a plan
# could mean: a build-out is planned years ahead, not centuries (docs/security.md).
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_RUN_DAYS = 3650.0            # [days] a ten-year training run
MAX_MONTHS = 240.0               # [months] twenty years to volume
MAX_SECONDS = 7 * 86400.0        # [s] a week of solver time

RunDays = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=MAX_RUN_DAYS)]
Months = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_MONTHS)]
Seconds = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=MAX_SECONDS)]
# A nominal annual rate: above -100 % (a factor of zero) and at most 100 % a year (no lab's cost of
# capital; a larger figure is a percent typed as a number, 8 for 0.08).
AnnualRate = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=-1, le=1)]
# A commitment or contract term: none (0), or at least one planning quarter, at most twenty years.
TermMonths = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_MONTHS)]
# Server price / accelerator price, and the network's share of hardware cost: the derived
# server-and-network cost divides by (1 - share), so a share of 1 would divide by zero.
ServerOverhead = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=10)]
NetworkShare = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=0.9)]


def _no_number_for_date(value: Any) -> Any:
    # pydantic reads a number as seconds since 1970: 0 would silently become 1970-01-01.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("a date is written YYYY-MM-DD, not as a number")
    return value


def _plausible_year(day: dt.date) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{day.isoformat()} is outside {FIRST_YEAR}..{LAST_YEAR}")
    return day


Day = Annotated[dt.date, BeforeValidator(_no_number_for_date), AfterValidator(_plausible_year)]


def _iso_country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code (Norway is NO, the UK is GB)")
    return code


CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_iso_country)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
QuarterLabel = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}Q[1-4]$")]
# A region within a country, e.g. US-TX or NO-NO4 (ISO 3166-2 or a grid zone); locations in one
# region count as one region for a run's span efficiency.
Region = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$", max_length=64)]


EDIT_HOW = ("make an edited copy instead: problem.with_({'accelerators.h100-sxm.price_usd': 25000}) "
            "(the dotted paths of --set), or load_problem(path, overrides=...)")


class FrozenProblemError(AttributeError):
    """An attribute of a validated problem (or of one of its parts) was assigned or deleted.

    Validated models are immutable so that figures derived from them (server and network
    share, all-in unit cost, TPP, export class) are recomputed from current values and can
    never go stale. The message names the supported way to edit.
    """


_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenDict(dict[_K, _V]):
    """The mappings inside a validated problem (accelerators, sites, supply by quarter, ...):
    reading works as for a dict, any change raises FrozenProblemError. `dict(m)` is a mutable copy."""

    def _refuse(self) -> NoReturn:
        raise FrozenProblemError(f"this mapping belongs to a validated problem and cannot be changed; {EDIT_HOW}")

    def __setitem__(self, key: _K, value: _V) -> NoReturn:
        self._refuse()

    def __delitem__(self, key: _K) -> NoReturn:
        self._refuse()

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]  # |= must not change it in place
        self._refuse()

    def clear(self) -> NoReturn:
        self._refuse()

    def pop(self, *args: Any) -> NoReturn:
        self._refuse()

    def popitem(self) -> NoReturn:
        self._refuse()

    def setdefault(self, *args: Any) -> NoReturn:
        self._refuse()

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse()

    def __reduce__(self) -> tuple[type[FrozenDict[_K, _V]], tuple[dict[_K, _V]]]:
        # Copies and pickles rebuild from a plain dict instead of setting items one by one.
        return (type(self), (dict(self),))


FrozenMap = Annotated[dict[_K, _V], AfterValidator(FrozenDict)]


class Strict(BaseModel):
    """Base model: unknown keys are errors, NaN/inf are refused, instances are immutable.

    Dumps use field aliases (``from``), so ``Model.model_validate(m.model_dump())`` round-trips.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, serialize_by_alias=True)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise FrozenProblemError(f"{type(self).__name__}.{name} cannot be assigned: a validated problem is "
                                 f"immutable, so its derived figures never go stale; {EDIT_HOW}")

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenProblemError(f"{type(self).__name__}.{name} cannot be deleted: a validated problem is "
                                 f"immutable; {EDIT_HOW}")
