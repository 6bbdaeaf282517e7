"""The canonical model of every shipped problem and of generated instances, pinned by a digest.

A refactor of the formulation must emit the same model: the same named rows and columns (sorted by
name, so the order of building does not matter), bounds, costs, integrality and coefficients.
A deliberate change of model is refreshed with `--update-golden` and explained in its commit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import clustersize
from clustersize.baselines.generate import generate_problem
from clustersize.data.modeldata import build_model_data
from clustersize.formulation import build
from conftest import PROBLEMS

GOLDEN = Path(__file__).parent / "golden" / "models.json"
GENERATED = [("15x30x12x50", seed) for seed in range(3)] + [("4x5x6x8", seed) for seed in range(5)]


def _fmt(values: np.ndarray) -> list[str]:
    return [format(float(v), ".12g") for v in values]


def canonical_digest(problem: clustersize.Problem) -> dict:
    """Shape and a digest of the model with rows and columns sorted by name."""
    lp = build(build_model_data(problem))
    cols, rows = np.array(lp.col_names()), np.array(lp.row_names())
    col_order, row_order = np.argsort(cols, kind="stable"), np.argsort(rows, kind="stable")
    col_rank = np.empty_like(col_order)
    col_rank[col_order] = np.arange(col_order.size)
    matrix = lp.matrix.tocoo()
    row_rank = np.empty_like(row_order)
    row_rank[row_order] = np.arange(row_order.size)
    entries = sorted(zip(row_rank[matrix.row].tolist(), col_rank[matrix.col].tolist(), _fmt(matrix.data)))
    digest = hashlib.sha256()
    for part in (cols[col_order].tolist(), _fmt(lp.lower[col_order]), _fmt(lp.upper[col_order]),
                 _fmt(lp.cost[col_order]), lp.integer[col_order].astype(int).tolist(),
                 rows[row_order].tolist(), _fmt(lp.row_lower[row_order]), _fmt(lp.row_upper[row_order]), entries):
        digest.update(json.dumps(part).encode())
    return {"rows": int(lp.shape[0]), "columns": int(lp.shape[1]), "nonzeros": int(lp.matrix.nnz),
            "digest": digest.hexdigest()}


CASES = [(p.stem, lambda p=p: clustersize.load_problem(p)) for p in PROBLEMS] + [
    (f"generated-{size}-{seed}", lambda size=size, seed=seed: clustersize.load_problem(generate_problem(size, seed)))
    for size, seed in GENERATED]


@pytest.mark.parametrize("name,load", CASES, ids=[name for name, _ in CASES])
def test_canonical_model_unchanged(name, load, request):
    got = canonical_digest(load())
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if request.config.getoption("--update-golden"):
        golden[name] = got
        GOLDEN.write_text(json.dumps(golden, indent=2, sort_keys=True) + "\n")
        pytest.skip(f"rewrote {name} in {GOLDEN.name}")
    assert name in golden, f"no pinned model for {name}: run with --update-golden and review it"
    assert got == golden[name]
