"""PNG plots of a what-if table (matplotlib, installed with the `plot` extra)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import InputError
from .summary import PLANNED

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _pyplot() -> ModuleType:
    """matplotlib.pyplot on the Agg backend."""
    try:
        import matplotlib
    except ImportError:
        raise InputError("--plot needs matplotlib", path="--plot", fix='pip install "clustersize[plot]"') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot(frame: pd.DataFrame, parameters: list[str], out: Path) -> list[Path]:
    """Objective and compute mix against the first parameter; cost distribution for samples."""
    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    planned = frame[frame.status.isin(PLANNED)] if "status" in frame else frame.iloc[:0]
    mode = frame["mode"].iloc[0] if len(frame) else ""
    if planned.empty or "objective_usd" not in planned:
        return written  # no point has a plan: nothing to draw
    if mode == "sample":
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.hist(planned.objective_usd / 1e9, bins=30, color="#4c72b0")
        ax.set_xlabel("plan cost [USD billion]")
        ax.set_ylabel("samples")
        ax.set_title(f"Cost over {len(frame)} samples ({len(planned) / max(len(frame), 1):.0%} reach the target)")
        written.append(_save(fig, out / "cost_distribution.png", plt))
    elif mode == "scenario":
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.barh(planned.scenario, planned.objective_usd / 1e9, color="#4c72b0")
        ax.set_xlabel("plan cost [USD billion]")
        written.append(_save(fig, out / "scenario_costs.png", plt))
    elif parameters and pd.api.types.is_numeric_dtype(frame[parameters[0]]):
        x = parameters[0]
        first = planned
        for other in parameters[1:]:
            first = first[first[other] == first[other].iloc[0]] if len(first) else first
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(first[x], first.objective_usd / 1e9, marker="o")
        ax.set_xlabel(x)
        ax.set_ylabel("plan cost [USD billion]")
        written.append(_save(fig, out / "objective.png", plt))
        flop = [c for c in first.columns if c.startswith("flop:")]
        if flop:
            shares = first[flop].fillna(0.0)
            shares = shares.div(shares.sum(axis=1), axis=0)
            fig, ax = plt.subplots(figsize=(8, 4.5))
            ax.stackplot(first[x], *[shares[c] for c in flop], labels=[c.split(":", 1)[1] for c in flop])
            ax.set_xlabel(x)
            ax.set_ylabel("share of compute")
            ax.set_ylim(0, 1)
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
            written.append(_save(fig, out / "mix.png", plt))
    return written


def _save(fig: Figure, path: Path, plt: ModuleType) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def frontier_plot(frame: pd.DataFrame, axis: str, path: Path) -> Path:
    """Cost [USD] against the finish date or emissions [tCO2], one marker per verified point."""
    plt = _pyplot()
    column = "finish" if axis == "finish" else "emissions_t"
    shown = frame[frame.verified & frame.cost_usd.notna()]
    fig, ax = plt.subplots(figsize=(7, 4))
    x = pd.to_datetime(shown[column]) if axis == "finish" else shown[column]
    ax.plot(x, shown.cost_usd / 1e9, marker="o")
    ax.set_xlabel("finish of the run [date]" if axis == "finish" else "emissions [tCO2]")
    ax.set_ylabel("plan cost [billion USD]")
    ax.set_title(f"Cheapest plan by {'finish date' if axis == 'finish' else 'emissions'}")
    fig.autofmt_xdate() if axis == "finish" else None
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

