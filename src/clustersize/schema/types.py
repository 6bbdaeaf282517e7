"""Constrained scalar types shared by the schema models.

Numbers are strict (a quoted "1e26" is refused, not coerced) and finite (NaN and
inf are refused: pydantic accepts them by default).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

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


class Strict(BaseModel):
    """Base model: unknown keys are errors, NaN/inf are refused, assignment re-validates."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)
