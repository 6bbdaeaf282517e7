"""The canonical model the formulation emits: arrays plus our own row and column metadata.

    minimise    cost @ x + offset
    subject to  row_lower <= matrix @ x <= row_upper
                lower <= x <= upper,   x[j] integer where integer[j]

Backends load these arrays in one call; diagnosis and reports read the metadata.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


FAMILY_DTYPE = "<U24"


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
    col_label: np.ndarray
    row_family: np.ndarray
    row_label: np.ndarray
    col_slices: dict[str, slice]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.matrix.shape

    def col_names(self) -> list[str]:
        """family[label] for each column."""
        return [f"{f}[{l}]" for f, l in zip(self.col_family, self.col_label)]

    def row_names(self) -> list[str]:
        """family[label] for each row."""
        return [f"{f}[{l}]" for f, l in zip(self.row_family, self.row_label)]

    def structure_key(self) -> str:
        """Hash of names, integrality and sparsity: equal keys mean only coefficients differ."""
        digest = hashlib.sha256()
        for part in (self.col_family, self.col_label, self.row_family, self.row_label):
            digest.update("\x1f".join(map(str, part)).encode())
        for array in (self.integer, self.matrix.indptr, self.matrix.indices):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def coefficient_range(self) -> dict[str, tuple[float, float]]:
        """Smallest and largest nonzero magnitudes of matrix, cost and finite bounds."""
        def span(values: np.ndarray) -> tuple[float, float]:
            mags = np.abs(values[np.isfinite(values) & (values != 0)])
            return (float(mags.min()), float(mags.max())) if mags.size else (0.0, 0.0)
        bounds = np.concatenate([self.row_lower, self.row_upper, self.upper])
        return {"matrix": span(self.matrix.data), "cost": span(self.cost), "bounds": span(bounds)}


class ProgramBuilder:
    """Collects column families and vectorised row blocks, then assembles one CSR matrix."""

    def __init__(self) -> None:
        self._cols: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._rows: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._n_cols = 0
        self._n_rows = 0

    def add_columns(self, family: str, labels, lower, upper, cost, integer: bool) -> np.ndarray:
        """Add a family of columns; returns their indexes."""
        labels = np.asarray(labels, dtype=object)
        n = len(labels)
        full = lambda v: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()  # noqa: E731
        self._cols.append((family, labels, full(lower), full(upper), full(cost), np.full(n, integer)))
        index = np.arange(self._n_cols, self._n_cols + n)
        self._n_cols += n
        return index

    def add_rows(self, family: str, labels, row, col, coef, lower, upper) -> None:
        """Add a block of rows: entry i puts coef[i] at (row[i], col[i]), rows local to the block."""
        labels = np.asarray(labels, dtype=object)
        n = len(labels)
        if n == 0:
            return
        full = lambda v: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()  # noqa: E731
        self._rows.append((family, labels, np.asarray(row, dtype=np.int64) + self._n_rows,
                           np.asarray(col, dtype=np.int64), np.asarray(coef, dtype=float), full(lower), full(upper)))
        self._n_rows += n

    def build(self) -> LinearProgram:
        """Assemble the arrays; duplicate (row, column) entries are summed."""
        cat = lambda parts, i, dtype=float: (np.concatenate([p[i] for p in parts]) if parts  # noqa: E731
                                             else np.zeros(0, dtype=dtype))
        # Fixed-width strings: families repeat over up to millions of columns and concatenate as memory.
        col_family = np.concatenate([np.full(len(c[1]), c[0], dtype=FAMILY_DTYPE) for c in self._cols])
        row_family = (np.concatenate([np.full(len(r[1]), r[0], dtype=FAMILY_DTYPE) for r in self._rows])
                      if self._rows else np.zeros(0, dtype=FAMILY_DTYPE))
        matrix = sp.coo_matrix((cat(self._rows, 4), (cat(self._rows, 2, np.int64), cat(self._rows, 3, np.int64))),
                               shape=(self._n_rows, self._n_cols)).tocsr()
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        slices, start = {}, 0
        for family, labels, *_ in self._cols:
            slices[family] = slice(start, start + len(labels))
            start += len(labels)
        return LinearProgram(
            cost=cat(self._cols, 4), lower=cat(self._cols, 2), upper=cat(self._cols, 3),
            integer=cat(self._cols, 5, bool).astype(bool), matrix=matrix,
            row_lower=cat(self._rows, 5), row_upper=cat(self._rows, 6),
            col_family=col_family, col_label=cat(self._cols, 1, object), row_family=row_family,
            row_label=cat(self._rows, 1, object), col_slices=slices,
        )
