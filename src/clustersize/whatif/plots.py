"""Charts of a what-if table or a cost frontier (matplotlib): PNG files, or figures for the HTML page."""

from __future__ import annotations

from dataclasses import dataclass
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
        raise InputError("--plot needs matplotlib, a dependency of clustersize", path="--plot",
                         fix='pip install matplotlib (or reinstall clustersize with its dependencies)') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


SECTIONS = {"accelerators": "Accelerator", "sites": "Site", "contracts": "Contract", "cloud": "CloudOffer",
            "custom_programs": "CustomProgram", "costs": "CostOptions", "run": "RunOptions", "runs": "Run",
            "target": "Target", "budget": "Budget", "export": "ExportOptions", "objective": "ObjectiveOptions"}


def axis_label(path: str) -> str:
    """An axis named by the field's description and unit, e.g. "price_usd: price per accelerator [USD]
    (accelerators.h100-sxm.price_usd)"; the path alone where the schema gives none."""
    from ..schema import problem as schema

    parts = path.split(".")
    model = getattr(schema, SECTIONS.get(parts[0], ""), None)
    field = getattr(model, "model_fields", {}).get(parts[-1]) if model is not None else None
    description = (field.description or "") if field is not None else ""
    if not description:
        return path
    first = description.split(". ")[0].split("; ")[0].rstrip(".")
    unit = description[description.rfind("["):description.rfind("]") + 1] if "[" in description else ""
    text = first if unit in first else f"{first} {unit}".strip()
    return f"{text}\n({path})"


@dataclass(frozen=True)
class Chart:
    """One figure of a what-if run: its file name, the figure, and what it shows."""

    name: str
    figure: Figure
    caption: str


def charts(frame: pd.DataFrame, parameters: list[str], base: dict[str, float] | None = None) -> list[Chart]:
    """Objective and compute mix against the first parameter; cost distribution for samples; scenario
    costs. `base` holds the problem's own value of each parameter, marked on the sweep's axis."""
    plt = _pyplot()
    planned = frame[frame.status.isin(PLANNED)] if "status" in frame else frame.iloc[:0]
    mode = frame["mode"].iloc[0] if len(frame) else ""
    if planned.empty or "objective_usd" not in planned:
        return []  # no point has a plan: nothing to draw
    if mode == "sample":
        return [_samples(plt, frame, planned)]
    if mode == "scenario":
        return [_scenarios(plt, planned)]
    if parameters and pd.api.types.is_numeric_dtype(frame[parameters[0]]):
        return _sweep(plt, planned, parameters, (base or {}).get(parameters[0]))
    return []


def plot(frame: pd.DataFrame, parameters: list[str], out: Path, base: dict[str, float] | None = None) -> list[Path]:
    """The charts of a what-if table as PNG files under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    return [save_png(chart.figure, out / f"{chart.name}.png") for chart in charts(frame, parameters, base)]


def _samples(plt: ModuleType, frame: pd.DataFrame, planned: pd.DataFrame) -> Chart:
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(planned.objective_usd / 1e9, bins=30, color="#4c72b0")
    ax.set_xlabel("plan cost [USD billion]")
    ax.set_ylabel("samples")
    share = len(planned) / max(len(frame), 1)
    ax.set_title(f"Cost over {len(frame)} samples ({share:.0%} reach the target)")
    return Chart("cost_distribution", fig, f"Plan cost over the {len(planned)} samples with a plan [USD billion]; "
                                           f"{share:.0%} of samples reach the target.")


def _scenarios(plt: ModuleType, planned: pd.DataFrame) -> Chart:
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(planned) + 1.5))
    colours = ["#333333" if name == "base" else "#4c72b0" for name in planned.scenario]
    ax.barh(planned.scenario, planned.objective_usd / 1e9, color=colours)
    ax.set_xlim(left=0)
    ax.set_xlabel("plan cost [USD billion]")
    ax.set_title("Plan cost by scenario (base in black)")
    ax.invert_yaxis()
    return Chart("scenario_costs", fig, "Plan cost in each scenario with a plan, the base in black [USD billion].")


def _sweep(plt: ModuleType, planned: pd.DataFrame, parameters: list[str], base: float | None) -> list[Chart]:
    x = parameters[0]
    first = planned
    for other in parameters[1:]:
        first = first[first[other] == first[other].iloc[0]] if len(first) else first
    label, name = axis_label(x), x.rsplit(".", 1)[-1]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(first[x], first.objective_usd / 1e9, marker="o")
    if base is not None:
        ax.axvline(base, color="#333333", linestyle="--", linewidth=1, label=f"the problem's value ({base:,.4g})")
        ax.legend(frameon=False)
    ax.set_xlabel(label)
    ax.set_ylabel("plan cost [USD billion]")
    ax.set_title(f"Plan cost as {name} varies")
    found = [Chart("objective", fig, f"Plan cost against {x} [USD billion]; the dashed line is the problem's own "
                                     "value.")]
    flop = [c for c in first.columns if c.startswith("flop:")]
    shares = first[flop].fillna(0.0)
    shares = shares.loc[:, shares.sum(axis=0) > 0]           # no legend entry for a source never used
    if shares.shape[1]:
        shares = shares.div(shares.sum(axis=1), axis=0)
        fig, ax = plt.subplots(figsize=(8, 4.5))
        ax.stackplot(first[x], *[shares[c] for c in shares.columns], labels=[c.split(":", 1)[1] for c in shares])
        if base is not None:
            ax.axvline(base, color="#333333", linestyle="--", linewidth=1)
        ax.set_xlabel(label)
        ax.set_ylabel("share of compute")
        ax.set_ylim(0, 1)
        ax.set_title(f"Where the compute comes from as {name} varies")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
        found.append(Chart("mix", fig, f"Share of the compute from each source against {x}."))
    return found


def save_png(fig: Figure, path: Path) -> Path:
    """Write the figure as a PNG and release it."""
    plt = _pyplot()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def frontier_chart(frame: pd.DataFrame, axis: str) -> Chart:
    """Cost [USD] against the finish date or emissions [tCO2], one marker per verified point."""
    plt = _pyplot()
    column = "finish" if axis == "finish" else "emissions_t"
    shown = frame[frame.verified & frame.cost_usd.notna()]
    fig, ax = plt.subplots(figsize=(7, 4))
    x = pd.to_datetime(shown[column]) if axis == "finish" else shown[column]
    ax.plot(x, shown.cost_usd / 1e9, marker="o")
    ax.set_xlabel("finish of the run [date]" if axis == "finish" else "emissions [tCO2]")
    ax.set_ylabel("plan cost [billion USD]")
    what = "finish date" if axis == "finish" else "emissions"
    ax.set_title(f"Cheapest plan by {what}")
    fig.autofmt_xdate() if axis == "finish" else None
    return Chart("frontier", fig, f"The cheapest plan at each {what}, one marker per verified point [USD billion].")


def frontier_plot(frame: pd.DataFrame, axis: str, path: Path) -> Path:
    """The frontier chart as a PNG file."""
    return save_png(frontier_chart(frame, axis).figure, path)
