"""The canonical model the formulation emits: arrays plus structured keys of every row and column.

    minimise    cost @ x + offset
    subject to  row_lower <= matrix @ x <= row_upper
                lower <= x <= upper,   x[j] integer where integer[j]

Rows and columns come in named families (blocks). A block's keys are integer codes into named
index sets (accelerator, site, quarter, ...), kept as arrays and turned into labels only when a
reader asks, so a million-column model carries no million strings. Backends load the arrays in
one call; diagnosis and reports read the keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

FAMILY_DTYPE = "<U24"
Key = tuple[str, ...]


@dataclass(frozen=True)
class Keys:
    """Structured keys of a block: per dimension, its name, its values and an integer code per member."""

    dims: tuple[str, ...]
    values: tuple[Sequence[str], ...]
    codes: tuple[np.ndarray, ...]

    def __len__(self) -> int:
        return len(self.codes[0]) if self.codes else 0

    def key(self, i: int) -> Key:
        """The key of member i, e.g. ('h100-sxm', 'us-oh', '2027Q1')."""
        return tuple(str(values[int(codes[i])]) for values, codes in zip(self.values, self.codes))

    def keys(self) -> Iterator[Key]:
        """Every member's key, in order."""
        columns = [np.asarray(values, dtype=object)[codes] for values, codes in zip(self.values, self.codes)]
        return zip(*columns) if columns else iter(())

    def firsts(self) -> np.ndarray:
        """Each member's first key part (an option's name: accelerator, site, offer, level), as strings."""
        if not self.codes:
            return np.zeros(0, dtype=object)
        names: np.ndarray = np.asarray(self.values[0], dtype=object)[self.codes[0]].astype(str)
        return names

    def take(self, members: np.ndarray) -> Keys:
        """The keys of a subset of members."""
        return Keys(self.dims, self.values, tuple(codes[members] for codes in self.codes))


class Term(NamedTuple):
    """One term of a row block: coef[i] x column[i] enters the block's row at[i]."""

    columns: np.ndarray
    at: np.ndarray | int
    coef: np.ndarray | float


@dataclass(frozen=True)
class Block:
    """A family of rows or columns occupying positions start .. start + len(keys)."""

    family: str
    start: int
    keys: Keys

    @property
    def stop(self) -> int:
        return self.start + len(self.keys)


@dataclass(frozen=True)
class KeyIndex:
    """The keys of all rows (or all columns), block by block."""

    blocks: tuple[Block, ...] = ()

    def __len__(self) -> int:
        return self.blocks[-1].stop if self.blocks else 0

    def appended(self, family: str, keys: Keys) -> KeyIndex:
        """This index with one more block at the end."""
        return KeyIndex(self.blocks + (Block(family, len(self), keys),))

    def key(self, position: int) -> Key:
        """The key at one position."""
        starts = [b.start for b in self.blocks]
        block = self.blocks[int(np.searchsorted(starts, position, side="right")) - 1]
        return block.keys.key(position - block.start)

    def take(self, positions: np.ndarray) -> Keys:
        """The keys at some positions, all within one block."""
        if positions.size == 0:
            return Keys(("none",), ((),), (np.zeros(0, dtype=np.int64),))
        starts = [b.start for b in self.blocks]
        block = self.blocks[int(np.searchsorted(starts, positions[0], side="right")) - 1]
        if positions.min() < block.start or positions.max() >= block.stop:
            raise ValueError(f"positions span more than the block {block.family}")
        return block.keys.take(positions - block.start)

    def slices(self) -> dict[str, slice]:
        """Positions of each family (families occupy one block each)."""
        return {b.family: slice(b.start, b.stop) for b in self.blocks}

    def labels(self) -> list[str]:
        """Comma-joined keys, in position order, for names and tables."""
        return [",".join(key) for block in self.blocks for key in block.keys.keys()]

    def positions(self) -> dict[tuple[str, Key], int]:
        """Position of every (family, key)."""
        return {(block.family, key): block.start + i
                for block in self.blocks for i, key in enumerate(block.keys.keys())}


@dataclass
class LinearProgram:
    """A MILP in canonical array form with named families of columns and rows."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    matrix: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_family: np.ndarray
    row_family: np.ndarray
    col_keys: KeyIndex
    row_keys: KeyIndex
    col_slices: dict[str, slice] = field(init=False)

    def __post_init__(self) -> None:
        self.col_slices = self.col_keys.slices()

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        rows, columns = self.matrix.shape
        return int(rows), int(columns)

    def col_names(self) -> list[str]:
        """family[label] for each column."""
        return [f"{f}[{label}]" for f, label in zip(self.col_family, self.col_keys.labels())]

    def row_names(self) -> list[str]:
        """family[label] for each row."""
        return [f"{f}[{label}]" for f, label in zip(self.row_family, self.row_keys.labels())]

    def columns_of(self, family: str) -> np.ndarray:
        """Column positions of a family (empty when the family has no columns)."""
        part = self.col_slices.get(family, slice(0, 0))
        return np.arange(part.start, part.stop)

    def unchosen_rows(self, x: np.ndarray, hangs_on: Mapping[str, str]) -> np.ndarray:
        """Rows that belong to an option the solution `x` did not choose: for each row family in
        `hangs_on` (families.hangs_on()), its rows whose first key part is not that of a chosen
        (value 1) column of the binary family it hangs on."""
        unchosen = np.zeros(self.shape[0], dtype=bool)
        for row_family, col_family in hangs_on.items():
            rows = np.flatnonzero(self.row_family == row_family)
            if rows.size:
                cols = self.columns_of(col_family)
                chosen = self.col_keys.take(cols[x[cols] > 0.5]).firsts() if cols.size else np.zeros(0, dtype=object)
                unchosen[rows] = ~np.isin(self.row_keys.take(rows).firsts(), chosen)
        return unchosen

    @cached_property
    def _structure(self) -> str:
        digest = hashlib.sha256()
        for part in (self.col_family, self.row_family):
            digest.update("\x1f".join(map(str, part)).encode())
        for index in (self.col_keys, self.row_keys):
            for block in index.blocks:
                digest.update(f"{block.family}:{','.join(block.keys.dims)}".encode())
                for values, codes in zip(block.keys.values, block.keys.codes):
                    digest.update("\x1f".join(map(str, values)).encode())
                    digest.update(np.ascontiguousarray(codes, dtype=np.int64).tobytes())
        for array in (self.integer, self.matrix.indptr, self.matrix.indices):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def structure_key(self) -> str:
        """Hash of keys, integrality and sparsity: equal keys mean only coefficients differ."""
        return self._structure

    def coefficient_range(self) -> dict[str, tuple[float, float]]:
        """Smallest and largest nonzero magnitudes of matrix, cost and finite bounds."""
        def span(values: np.ndarray) -> tuple[float, float]:
            mags = np.abs(values[np.isfinite(values) & (values != 0)])
            return (float(mags.min()), float(mags.max())) if mags.size else (0.0, 0.0)
        bounds = np.concatenate([self.row_lower, self.row_upper, self.upper])
        return {"matrix": span(self.matrix.data), "cost": span(self.cost), "bounds": span(bounds)}

    def with_rows(self, family: str, keys: Keys, matrix: sp.spmatrix, lower: np.ndarray,
                  upper: np.ndarray) -> LinearProgram:
        """A copy with one more family of rows (e.g. cuts, or the links of a diagnosis)."""
        return LinearProgram(
            cost=self.cost, lower=self.lower, upper=self.upper, integer=self.integer,
            matrix=sp.vstack([self.matrix, sp.csr_matrix(matrix)]).tocsr(),
            row_lower=np.concatenate([self.row_lower, lower]), row_upper=np.concatenate([self.row_upper, upper]),
            col_family=self.col_family, row_family=np.concatenate([self.row_family, _family_array(family, len(keys))]),
            col_keys=self.col_keys, row_keys=self.row_keys.appended(family, keys))

    def without_rows(self, families: Sequence[str]) -> LinearProgram:
        """A copy without the row families named (e.g. valid inequalities whose premises a diagnosis relaxes)."""
        keep = ~np.isin(self.row_family, list(families))
        index = KeyIndex()
        for block in self.row_keys.blocks:
            if block.family not in families:
                index = index.appended(block.family, block.keys)
        return dataclasses.replace(self, matrix=self.matrix[keep], row_lower=self.row_lower[keep],
                                   row_upper=self.row_upper[keep], row_family=self.row_family[keep], row_keys=index)

    def with_columns(self, family: str, keys: Keys, matrix: sp.spmatrix, lower: np.ndarray, upper: np.ndarray,
                     cost: np.ndarray) -> LinearProgram:
        """A copy with one more family of continuous columns (e.g. the slacks of an elastic program)."""
        return LinearProgram(
            cost=np.concatenate([self.cost, cost]), lower=np.concatenate([self.lower, lower]),
            upper=np.concatenate([self.upper, upper]),
            integer=np.concatenate([self.integer, np.zeros(len(keys), dtype=bool)]),
            matrix=sp.hstack([self.matrix, sp.csr_matrix(matrix)]).tocsr(),
            row_lower=self.row_lower, row_upper=self.row_upper,
            col_family=np.concatenate([self.col_family, _family_array(family, len(keys))]),
            row_family=self.row_family, col_keys=self.col_keys.appended(family, keys), row_keys=self.row_keys)


def _family_array(family: str, n: int) -> np.ndarray:
    # Fixed-width strings: families repeat over up to millions of columns.
    return np.full(n, family, dtype=FAMILY_DTYPE)


def _full(value: np.ndarray | float | Sequence[float], n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()


class ProgramBuilder:
    """Collects column families and row blocks of named terms, then assembles one CSR matrix."""

    def __init__(self, sets: Mapping[str, Sequence[str]]) -> None:
        self.sets = dict(sets)
        self._cols: list[tuple[str, Keys, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._rows: list[tuple[str, Keys, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._n_cols = 0
        self._n_rows = 0

    def keys(self, dims: tuple[str, ...], *codes: np.ndarray | Sequence[int]) -> Keys:
        """Keys over the named index sets, one code array per dimension."""
        return Keys(dims, tuple(self.sets[d] for d in dims), tuple(np.asarray(c, dtype=np.int64) for c in codes))

    def all_of(self, dim: str) -> Keys:
        """One key per member of an index set, in its order."""
        return self.keys((dim,), np.arange(len(self.sets[dim])))

    def column_costs(self) -> np.ndarray:
        """The objective coefficient of every column added so far, in column order."""
        return np.concatenate([c[4] for c in self._cols]) if self._cols else np.zeros(0)

    def column_keys(self, family: str) -> Keys:
        """The keys of a column family added so far (empty keys if it has none)."""
        for name, keys, *_ in self._cols:
            if name == family:
                return keys
        raise KeyError(family)

    def add_columns(self, family: str, keys: Keys, lower: np.ndarray | float, upper: np.ndarray | float,
                    cost: np.ndarray | float, integer: bool | np.ndarray) -> np.ndarray:
        """Add a family of columns (integer: for all, or per column); returns their positions."""
        n = len(keys)
        whole = np.broadcast_to(np.asarray(integer, dtype=bool), (n,)).copy()
        self._cols.append((family, keys, _full(lower, n), _full(upper, n), _full(cost, n), whole))
        index = np.arange(self._n_cols, self._n_cols + n)
        self._n_cols += n
        return index

    def add_rows(self, family: str, keys: Keys, terms: Sequence[Term], lower: np.ndarray | float,
                 upper: np.ndarray | float) -> None:
        """Add a block of rows, one per key, each the sum of its terms."""
        n = len(keys)
        if n == 0:
            return
        at = np.concatenate([np.broadcast_to(np.asarray(t.at, dtype=np.int64), np.shape(t.columns)) for t in terms])
        cols = np.concatenate([np.asarray(t.columns, dtype=np.int64) for t in terms])
        coef = np.concatenate([np.broadcast_to(np.asarray(t.coef, dtype=float), np.shape(t.columns)) for t in terms])
        if at.size and (at.min() < 0 or at.max() >= n):
            raise ValueError(f"{family}: a term enters a row outside the block's {n} rows")
        self._rows.append((family, keys, at + self._n_rows, cols, coef, _full(lower, n), _full(upper, n)))
        self._n_rows += n

    def build(self) -> LinearProgram:
        """Assemble the arrays; duplicate (row, column) entries are summed."""
        def cat(parts: Sequence[tuple[Any, ...]], i: int, dtype: type = float) -> np.ndarray:
            return np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype=dtype)

        def families(parts: Sequence[tuple[Any, ...]]) -> np.ndarray:
            # One repeat of the few names: much faster than a full array per block at a million columns.
            return np.repeat(np.array([p[0] for p in parts], dtype=FAMILY_DTYPE), [len(p[1]) for p in parts])

        matrix = sp.coo_matrix((cat(self._rows, 4), (cat(self._rows, 2, np.int64), cat(self._rows, 3, np.int64))),
                               shape=(self._n_rows, self._n_cols)).tocsr()
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        col_keys, row_keys = KeyIndex(), KeyIndex()
        for family, keys, *_ in self._cols:
            col_keys = col_keys.appended(family, keys)
        for family, keys, *_ in self._rows:
            row_keys = row_keys.appended(family, keys)
        return LinearProgram(
            cost=cat(self._cols, 4), lower=cat(self._cols, 2), upper=cat(self._cols, 3),
            integer=cat(self._cols, 5, bool).astype(bool), matrix=matrix,
            row_lower=cat(self._rows, 5), row_upper=cat(self._rows, 6),
            col_family=families(self._cols), row_family=families(self._rows), col_keys=col_keys, row_keys=row_keys)
