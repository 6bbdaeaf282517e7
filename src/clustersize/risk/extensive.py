"""The extensive form: every scenario's program side by side, tied by non-anticipativity rows.

    minimise    (1 - w) sum_s p_s c_s x_s + w (eta + sum_s p_s z_s / (1 - alpha))
    subject to  A_s x_s in [l_s, u_s]                      each scenario's own program
                x_s[k] - x_r[k] = 0                        first-stage key k, r the first scenario with k
                z_s + eta - c_s x_s >= 0,  z_s >= 0        (CVaR only, Rockafellar-Uryasev)

A first-stage key that exists in only some scenarios' programs (an option one scenario rules out)
is fixed at 0 where it exists: a decision taken before the reveal must be possible in every
scenario. Costs stay in $M, the programs' own scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..formulation import LinearProgram
from ..formulation.program import Block, Key, KeyIndex, Keys
from ..schema.risk import Cvar


@dataclass(frozen=True)
class Stage:
    """One scenario's program, its probability and the mask of its first-stage columns."""

    name: str
    probability: float
    lp: LinearProgram
    first: np.ndarray


def first_stage_keys(lp: LinearProgram, mask: np.ndarray) -> dict[tuple[str, Key], int]:
    """Position of every first-stage column by (family, key)."""
    found: dict[tuple[str, Key], int] = {}
    for block in lp.col_keys.blocks:
        members = np.flatnonzero(mask[block.start:block.stop])
        for i, key in zip(members, block.keys.take(members).keys()):
            found[(block.family, tuple(key))] = block.start + int(i)
    return found


def offsets(stages: Sequence[Stage]) -> np.ndarray:
    """First column of each scenario in the extensive form, and the end of the last."""
    return np.concatenate([[0], np.cumsum([s.lp.shape[1] for s in stages])]).astype(np.int64)


def extensive_form(stages: Sequence[Stage], cvar: Cvar | None = None) -> LinearProgram:
    """The two-stage program of `stages`: their columns in order, then (with CVaR) eta and one z per scenario."""
    start = offsets(stages)
    weight = cvar.weight if cvar is not None else 0.0
    lower = np.concatenate([s.lp.lower for s in stages])
    upper = np.concatenate([s.lp.upper for s in stages])
    ties_row, ties_col, ties_coef, n_ties = _ties(stages, start, lower, upper)
    col_blocks = [Block(f"{s.name}:{b.family}", b.start + int(start[i]), b.keys)
                  for i, s in enumerate(stages) for b in s.lp.col_keys.blocks]
    row_offset = np.concatenate([[0], np.cumsum([s.lp.shape[0] for s in stages])])
    row_blocks = [Block(f"{s.name}:{b.family}", b.start + int(row_offset[i]), b.keys)
                  for i, s in enumerate(stages) for b in s.lp.row_keys.blocks]
    program = LinearProgram(
        cost=np.concatenate([(1.0 - weight) * s.probability * s.lp.cost for s in stages]), lower=lower, upper=upper,
        integer=np.concatenate([s.lp.integer for s in stages]),
        matrix=sp.block_diag([s.lp.matrix for s in stages], format="csr"),
        row_lower=np.concatenate([s.lp.row_lower for s in stages]),
        row_upper=np.concatenate([s.lp.row_upper for s in stages]),
        col_family=np.concatenate([s.lp.col_family for s in stages]),
        row_family=np.concatenate([s.lp.row_family for s in stages]),
        col_keys=KeyIndex(tuple(col_blocks)), row_keys=KeyIndex(tuple(row_blocks)))
    names = [s.name for s in stages]
    tie_keys = Keys(("scenario",), (names,), (np.asarray(ties_row[1], dtype=np.int64),))
    ties = sp.csr_matrix((ties_coef, (ties_row[0], ties_col)), shape=(n_ties, program.shape[1]))
    program = program.with_rows("nonanticipativity", tie_keys, ties, np.zeros(n_ties), np.zeros(n_ties))
    return _with_cvar(program, stages, start, cvar) if cvar is not None and weight > 0 else program


def _ties(stages: Sequence[Stage], start: np.ndarray, lower: np.ndarray,
          upper: np.ndarray) -> tuple[tuple[list[int], list[int]], list[int], list[float], int]:
    """Rows x_s[k] - x_r[k] = 0 for every first-stage key; keys missing from a scenario fixed at 0
    (in `lower` and `upper`, in place). Returns ((row, scenario of the row), column, coefficient, rows)."""
    held: dict[tuple[str, Key], list[int]] = {}
    for i, s in enumerate(stages):
        for key, position in first_stage_keys(s.lp, s.first).items():
            held.setdefault(key, []).append(int(start[i]) + position)
    rows, scenario, cols, coef = [], [], [], []
    n = 0
    stage_of = np.searchsorted(start, np.arange(int(start[-1])), side="right") - 1
    for positions in held.values():
        if len(positions) < len(stages):
            lower[positions] = upper[positions] = 0.0
            continue
        reference = positions[0]
        for position in positions[1:]:
            rows += [n, n]
            scenario.append(int(stage_of[position]))
            cols += [position, reference]
            coef += [1.0, -1.0]
            n += 1
    return (rows, scenario), cols, coef, n


def _with_cvar(program: LinearProgram, stages: Sequence[Stage], start: np.ndarray, cvar: Cvar) -> LinearProgram:
    """Add eta (the value at risk) and z_s >= c_s x_s - eta, priced so the objective mixes in CVaR."""
    n_s, n_rows = len(stages), program.shape[0]
    names = [s.name for s in stages]
    probability = np.array([s.probability for s in stages])
    program = program.with_columns("value_at_risk", Keys(("measure",), (["cvar"],), (np.zeros(1, dtype=np.int64),)),
                                   sp.csr_matrix((n_rows, 1)), np.array([-np.inf]), np.array([np.inf]),
                                   np.array([cvar.weight]))
    program = program.with_columns("excess", Keys(("scenario",), (names,), (np.arange(n_s, dtype=np.int64),)),
                                   sp.csr_matrix((n_rows, n_s)), np.zeros(n_s), np.full(n_s, np.inf),
                                   cvar.weight * probability / (1.0 - cvar.level))
    eta, z = int(start[-1]), int(start[-1]) + 1
    rows, cols, coef = [], [], []
    for i, s in enumerate(stages):
        used = np.flatnonzero(s.lp.cost)
        rows += [i] * (used.size + 2)
        cols += list(int(start[i]) + used) + [eta, z + i]
        coef += list(-s.lp.cost[used]) + [1.0, 1.0]
    excess = sp.csr_matrix((coef, (rows, cols)), shape=(n_s, program.shape[1]))
    return program.with_rows("cvar_excess", Keys(("scenario",), (names,), (np.arange(n_s, dtype=np.int64),)),
                             excess, np.zeros(n_s), np.full(n_s, np.inf))
