"""Numbers as a planner reads them: $4.335B, $45.60M, $7,890; 23,544; 5.0e+26 FLOP; never NaN or -0.0."""

from __future__ import annotations

import math


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def usd(value: float | None) -> str:
    """$1.234B / $45.60M / $7,890 / -$1.562B; '-' for an unknown figure."""
    if _missing(value):
        return "-"
    assert value is not None
    sign, magnitude = ("-" if value < 0 and round(abs(value)) > 0 else ""), abs(value)   # no -$0
    if magnitude >= 1e9:
        return f"{sign}${magnitude / 1e9:,.3f}B"
    if magnitude >= 1e6:
        return f"{sign}${magnitude / 1e6:,.2f}M"
    return f"{sign}${magnitude:,.0f}"


def count(value: float | None) -> str:
    """23,544 (whole numbers), 1,234.5 otherwise; '-' for an unknown figure."""
    if _missing(value):
        return "-"
    assert value is not None
    value = value + 0.0
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def flop(value: float | None) -> str:
    """5.0e+26 FLOP."""
    return "-" if _missing(value) else f"{value:.2g} FLOP".replace("e+", "e")


def price(value: float | None, unit: str = "USD") -> str:
    """A price in its unit: $9.30M per MW, $112.50 per MWh, $6.69 per accelerator-hour, $42,400 per unit."""
    if _missing(value):
        return "-"
    assert value is not None
    per = unit.removeprefix("USD").strip()
    text = f"${value:,.2f}" if abs(value) < 1000 else usd(value)
    return f"{text} {per}" if per else text
