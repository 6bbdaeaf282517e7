"""Free-format MPS written from our arrays at full precision.

OR-Tools' MPS writer prints 6 significant digits, which perturbs coefficients by up to
5e-7 relative: CBC then returned plans that broke energy balance rows by 4e-6 (caught
by the verifier). Here every number is written with 17 significant digits (round-trip).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..formulation import LinearProgram


def _num(value: float) -> str:
    return f"{float(value):.16e}"


def _row_types(lp: LinearProgram) -> tuple[list[str], np.ndarray, np.ndarray]:
    lo, hi = lp.row_lower, lp.row_upper
    types, rhs, ranges = [], np.zeros(len(lo)), np.full(len(lo), np.nan)
    for i, (a, b) in enumerate(zip(lo, hi)):
        if np.isfinite(a) and np.isfinite(b):
            types.append("E" if a == b else "G")
            rhs[i] = a
            if a != b:
                ranges[i] = b - a
        elif np.isfinite(b):
            types.append("L")
            rhs[i] = b
        elif np.isfinite(a):
            types.append("G")
            rhs[i] = a
        else:
            types.append("N")
    return types, rhs, ranges


def write_mps(lp: LinearProgram, path: str | Path) -> None:
    """Write `lp` with columns C0.. and rows R0..; integer columns inside MARKER blocks."""
    types, rhs, ranges = _row_types(lp)
    csc = lp.matrix.tocsc()
    # Field alignment as PuLP writes it: CBC 2.10 guesses fixed or free format from the layout.
    lines = ["NAME          MODEL", "ROWS", " N  COST"]
    lines += [f" {t}  R{i}" for i, t in enumerate(types)]
    lines.append("COLUMNS")
    in_integer = False
    for j in range(lp.shape[1]):
        if lp.integer[j] != in_integer:
            marker = "INTORG" if lp.integer[j] else "INTEND"
            lines.append(f"    MARKER                 'MARKER'                 '{marker}'")
            in_integer = bool(lp.integer[j])
        lines.append(f"    {f'C{j}':<8}  {'COST':<8}  {_num(lp.cost[j])}")
        start, end = csc.indptr[j], csc.indptr[j + 1]
        lines += [f"    {f'C{j}':<8}  {f'R{i}':<8}  {_num(v)}" for i, v in zip(csc.indices[start:end], csc.data[start:end])]
    if in_integer:
        lines.append("    MARKER                 'MARKER'                 'INTEND'")
    lines.append("RHS")
    lines += [f"    RHS       {f'R{i}':<8}  {_num(v)}" for i, v in enumerate(rhs) if v != 0]
    if np.isfinite(ranges).any():
        lines.append("RANGES")
        lines += [f"    RNG       {f'R{i}':<8}  {_num(v)}" for i, v in enumerate(ranges) if np.isfinite(v)]
    lines.append("BOUNDS")
    for j, (low, up) in enumerate(zip(lp.lower, lp.upper)):
        if low == up:
            lines.append(f" FX BND       {f'C{j}':<8}  {_num(low)}")
            continue
        # 0 is MPS's default lower bound; CBC 2.10 crashes on some explicit "LO ... 0" lines.
        if np.isneginf(low):
            lines.append(f" MI BND       C{j}")
        elif low != 0:
            lines.append(f" LO BND       {f'C{j}':<8}  {_num(low)}")
        lines.append(f" PL BND       C{j}" if np.isposinf(up) else f" UP BND       {f'C{j}':<8}  {_num(up)}")
    lines.append("ENDATA")
    Path(path).write_text("\n".join(lines) + "\n", encoding="ascii")
