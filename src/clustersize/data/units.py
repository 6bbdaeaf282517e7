"""Conversions from a row's internal unit to the planner's unit, by the scale its family declares."""

from __future__ import annotations

from collections.abc import Callable

from ..families import H100_TPP, Family
from .modeldata import FLOP_PER_EFLOPS_DAY, TPP_PER_MTPP, ModelData


def _units_per_server(key: tuple[str, ...], d: ModelData) -> float:
    """Accelerators per server of the row's accelerator (a program's row: its custom chip)."""
    acc = key[0] if key[0] in d.acc_ids else f"custom:{key[0]}"
    return float(d.acc_units_per_server[d.acc_ids.index(acc)])


def _units_per_instance(key: tuple[str, ...], d: ModelData) -> float:
    return float(d.cloud_units_per_instance[d.cloud_ids.index(key[0])])


SCALES: dict[str, Callable[[tuple[str, ...], ModelData], float]] = {
    "one": lambda key, d: 1.0,
    "units_per_server": _units_per_server,                                   # servers -> accelerators
    "units_per_instance": _units_per_instance,                               # instances -> accelerators
    "mwh_per_gwh": lambda key, d: 1000.0,                                    # GWh -> MWh
    "usd_per_musd": lambda key, d: 1e6,                                      # $M -> USD
    "h100e_per_mtpp": lambda key, d: TPP_PER_MTPP / H100_TPP,                # MTPP -> H100-equivalents
    "1e24flop_per_efday": lambda key, d: FLOP_PER_EFLOPS_DAY / 1e24,         # EFLOP/s-day -> 1e24 FLOP
}
"""User units in one internal unit, by the `scale` a family declares."""


def user_per_internal(family: Family, key: tuple[str, ...], d: ModelData) -> float:
    """How many of the family's user units one internal unit of its row at `key` is."""
    return SCALES[family.scale](key, d)
