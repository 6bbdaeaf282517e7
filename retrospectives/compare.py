"""Solve each retrospective and compare it with Epoch AI's published figures; write docs/fidelity.md.

    python retrospectives/compare.py            # all runs, rewrites docs/fidelity.md
    python retrospectives/compare.py --check    # all runs, exit 1 if docs/fidelity.md is out of date

Each problem in retrospectives/ (and retrospectives/held_out/) fixes a published run's fleet, dates and
effective MFU, and is solved on `costs.amortisation: epoch`. The tool's compute [FLOP], acquisition
cost [USD], amortised cost [USD] and facility power [MW] are set beside Epoch AI's figures, each
with its source below. The held-out runs were written by the same rules and not looked at while
the rules were chosen; no catalog value was changed for any run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import clustersize

HERE = Path(__file__).resolve().parent
FIDELITY = HERE.parent / "docs" / "fidelity.md"
AMORTISED_TOLERANCE = 0.25   # goal: amortised cost within 25 % of Epoch's
POWER_TOLERANCE = 0.10       # goal: facility power within 10 % of Epoch's

NM = "Epoch AI Notable AI Models (snapshot 2025-06-05), 2023 USD"
COSTS = "Epoch AI model_costs.csv (training-cost-trends, commit fb92689)"


@dataclass(frozen=True)
class Published:
    """Epoch AI's figures for one run: compute [FLOP], amortised hardware-and-energy cost [USD],
    hardware acquisition cost [USD] (None when not published), facility power [W]."""

    run: str
    flop: float
    amortised_usd: float
    amortised_source: str
    acquisition_usd: float | None
    power_w: float


PUBLISHED = {
    "retro-gpt3": Published("GPT-3 175B", 3.14e23, 2_056_969, NM, 242_000_906, 5_100_760),
    "retro-gpt4": Published("GPT-4", 2.1e25, 40_586_593, NM, 778_066_899, 19_944_368),
    "retro-llama-3.1-405b": Published("Llama 3.1 405B", 3.8e25, 51_040_524, COSTS, 896_044_949, 22_622_532),
    "retro-gemini-1.0-ultra": Published("Gemini 1.0 Ultra", 5.0e25, 29_827_342, NM, 597_913_206, 19_211_950),
    "retro-deepseek-v3": Published("DeepSeek-V3", 3.4078e24, 5_390_000,
                                   NM + ": DeepSeek's own 2.788M GPU-h x $2/h, not Epoch's amortisation",
                                   None, 2_818_135),
    "retro-palm-540b": Published("PaLM 540B", 2.5272e24, 2_945_950, NM, 65_515_456, 2_099_216),
    "retro-megatron-turing-nlg-530b": Published("Megatron-Turing NLG 530B", 1.17e24, 3_704_291, NM,
                                                142_311_688, 3_615_659),
    "retro-nemotron-4-340b": Published("Nemotron-4 340B", 1.8e25, 20_528_978, COSTS, 336_631_911, 8_490_821),
    "retro-opt-175b": Published("OPT-175B", 4.3e23, 731_668, NM, 32_030_089, 822_709),
}

@dataclass(frozen=True)
class EpochInputs:
    """The inputs Epoch AI's code takes for one run, for a reproduction by hand of its method.

    server_usd: server-level price per accelerator [USD] (a DGX listing / 8, or a TPU's
    purchase-equivalent x 1.64); acquired: release + 90 days, or the price's date when later;
    start: training start; server_kw: chip TDP x Epoch's chip-to-server factor [kW]; draw: average
    share of it in training; pue: Epoch's rule by organisation; usd_per_kwh: US industrial
    average of the publication year [USD/kWh].
    """

    server_usd: float
    acquired: dt.date
    start: dt.date
    chips: int
    hours: float
    server_kw: float
    draw: float
    pue: float
    usd_per_kwh: float

    def amortised_usd(self) -> float:
        """Hardware at its value at the training start x 0.14 ln 10 a year, network 19 % of all
        hardware, energy at the facility [USD, nominal]."""
        held_years = max(0, (self.start - self.acquired).days) / DAYS_PER_YEAR
        value = self.server_usd * float(10.0 ** (-EPOCH_TREND * held_years))
        chip_years = self.chips * self.hours / (24.0 * DAYS_PER_YEAR)
        hardware = value * EPOCH_TREND * math.log(10.0) * chip_years / (1.0 - EPOCH_NETWORK_SHARE)
        energy = self.server_kw * self.draw * self.pue * self.chips * self.hours * self.usd_per_kwh
        return hardware + energy


DAYS_PER_YEAR = 365.25
EPOCH_TREND = 0.14            # [OOM/year], Epoch's ML GPU price-performance trend
EPOCH_NETWORK_SHARE = 0.19    # cluster interconnect share of all hardware
A100_SERVER_KW = 0.4 * (6.5 / 8) / 0.4
H100_SERVER_KW = 0.7 * (10.2 / 8) / 0.7
TPU_V4_SERVER_KW = 0.170 * 1.56
V100_SERVER_KW = 0.3 * ((10 / 16) / 0.3 + (1.5 / 4) / 0.3) / 2
TPU_V4_SERVER_USD = 5167 * 1.64
D = dt.date

# Epoch's code has no price for the H800 (its GPU aliases name the H100, not the H800): no reproduction.
EPOCH_INPUTS = {
    "retro-gpt3": EpochInputs(18625, D(2017, 9, 19), D(2019, 10, 1), 10000, 355.2, V100_SERVER_KW, 0.75, 1.25, 0.0667),
    "retro-gpt4": EpochInputs(24875, D(2020, 8, 12), D(2022, 5, 12), 25000, 2280, A100_SERVER_KW, 0.75, 1.25, 0.0806),
    "retro-llama-3.1-405b": EpochInputs(44490, D(2022, 12, 19), D(2024, 2, 25), 16384, 2142, H100_SERVER_KW, 0.75,
                                        1.10, 0.0771),
    "retro-gemini-1.0-ultra": EpochInputs(TPU_V4_SERVER_USD, D(2021, 5, 20), D(2023, 5, 10), 57000, 2400,
                                          TPU_V4_SERVER_KW, 0.43, 1.10, 0.0806),
    "retro-palm-540b": EpochInputs(TPU_V4_SERVER_USD, D(2021, 5, 20), D(2021, 12, 1), 6144, 1536, TPU_V4_SERVER_KW,
                                   0.43, 1.10, 0.0832),
    "retro-megatron-turing-nlg-530b": EpochInputs(24875, D(2020, 8, 12), D(2021, 7, 11), 4480, 770, A100_SERVER_KW,
                                                  0.75, 1.10, 0.0718),
    "retro-nemotron-4-340b": EpochInputs(44490, D(2022, 12, 19), D(2024, 1, 15), 6144, 2200, H100_SERVER_KW, 0.75,
                                         1.25, 0.0771),
    "retro-opt-175b": EpochInputs(24875, D(2020, 8, 12), D(2022, 1, 29), 1024, 793.5, A100_SERVER_KW, 0.75, 1.10,
                                  0.0832),
}

# Why each run differs from Epoch's figures (docs/fidelity.md). Common to all: the tool buys on the
# first day of the acquisition quarter, up to a quarter before Epoch's acquisition date, so it counts
# up to 0.25 years more of 0.14 OOM/year (at most 8 % less value); its figures are nominal USD at each
# price's date, Epoch's are 2023 USD (Notable AI Models) or as model_costs.csv states them.
GAPS = {
    "retro-gpt3": "Epoch's published $2.06M is 23 % above its own method by hand with its own inputs "
                  "($1.67M); we cannot tell how much of that is its adjustment to 2023 USD and how much "
                  "other inputs in that snapshot. The tool is 7 % below the reproduction: bought 2017-07-01, "
                  "80 days before Epoch's acquisition date (release + 90 days), and energy at PUE 1.10 "
                  "(an Azure datacentre) instead of Epoch's 1.25 for OpenAI. Power: Epoch's dataset has "
                  "0.51 kW per V100 at the facility; the tool 0.50 kW (Epoch's cost-model server figure) x 1.10.",
    "retro-gpt4": "Cost: the reproduction by hand is within 1 % of the published figure; the tool is 6 % "
                  "below it (bought 2020-07-01, 42 days before Epoch's acquisition date, and PUE 1.10 for "
                  "an Azure datacentre instead of 1.25 for OpenAI). Power: Epoch's dataset has 0.80 kW per "
                  "A100 at the facility, less than its own cost model's server figure before PUE (6.5 kW per "
                  "8 GPUs = 0.81 kW); the tool takes the cost model's figure x 1.10, 12 % more.",
    "retro-llama-3.1-405b": "Cost: the reproduction matches the published figure; the tool is 6 % below it "
                            "because it buys on 2022-10-01, 79 days before Epoch's acquisition date. "
                            "Power: within 2 %.",
    "retro-gemini-1.0-ultra": "Cost: within 2 % of both. Power: Epoch's dataset counts 0.34 kW per TPU v4 "
                              "at the facility (about 2 x its 170 W); the tool uses Epoch's cost-model TPU v4 "
                              "server factor (1.56 x 170 W = 0.265 kW) x 1.10, 13 % less.",
    "retro-deepseek-v3": "Epoch publishes no amortised cost for this run: its code has no price for the "
                         "H800. The figure compared is DeepSeek's own rental-equivalent ($2 per H800-hour, "
                         "$5.58M, $5.39M in 2023 USD), which Epoch records; it is a different method. The "
                         "tool's figure is Epoch's method on the DGX H800 listing, dated after the run, so "
                         "the value is not depreciated. Power: Epoch's dataset has 1.38 kW per H800; the "
                         "tool 1.275 kW (the H100 server figure) x PUE 1.25 (not a hyperscaler), 16 % more.",
    "retro-palm-540b": "Cost: the tool equals the reproduction; the published figure is 7 % below both, "
                       "for reasons in that snapshot we cannot see. Power: as Gemini (TPU v4 server factor "
                       "1.56 against about 2 x TDP in the dataset), 15 % less.",
    "retro-megatron-turing-nlg-530b": "Cost: as GPT-3, the published figure is 21 % above the reproduction "
                                      "by hand; the tool is 3 % below the reproduction. Power: as GPT-4 for "
                                      "the A100, with PUE 1.25 (Selene is NVIDIA's, not a hyperscaler's), 26 % more.",
    "retro-nemotron-4-340b": "Cost: the reproduction matches the published figure; the tool is 6 % below "
                             "(bought 79 days earlier). Power: PUE 1.25 (NVIDIA's cluster) on 1.275 kW per "
                             "H100 gives 1.59 kW at the facility, 15 % above the 1.38 kW of Epoch's dataset.",
    "retro-opt-175b": "Cost: as GPT-3, the published figure is 19 % above the reproduction by hand; the "
                      "tool is 4 % below the reproduction. Power: as GPT-4 for the A100, 11 % more.",
}


@dataclass(frozen=True)
class Row:
    """The tool's figures for one retrospective beside Epoch's."""

    name: str
    held_out: bool
    published: Published
    flop: float
    acquisition_usd: float
    amortised_usd: float
    power_mw: float
    by_hand_usd: float | None

    @property
    def amortised_ratio(self) -> float:
        return self.amortised_usd / self.published.amortised_usd

    @property
    def power_ratio(self) -> float:
        return self.power_mw * 1e6 / self.published.power_w

    @property
    def within(self) -> bool:
        return abs(self.amortised_ratio - 1) <= AMORTISED_TOLERANCE and abs(self.power_ratio - 1) <= POWER_TOLERANCE


def problem_files() -> list[tuple[Path, bool]]:
    """Retrospectives first, then the held-out runs."""
    return ([(p, False) for p in sorted(HERE.glob("*.yaml"))]
            + [(p, True) for p in sorted((HERE / "held_out").glob("*.yaml"))])


def compare(path: Path, held_out: bool = False) -> Row:
    """Solve one retrospective on its own basis and collect the compared figures."""
    problem = clustersize.load_problem(path)
    plan = clustersize.solve(problem, solver="scip")
    check = clustersize.verify(plan, problem)
    if not check.ok:
        raise SystemExit(f"{path.name}: the plan failed verification: {check.violations}")
    costs = plan.table("costs").set_index("component")
    by_hand = EPOCH_INPUTS.get(problem.name)
    return Row(problem.name, held_out, PUBLISHED[problem.name], float(check.delivered_flop or 0.0),
               float(costs.loc["hardware", "full_usd"]), float(plan.objective_usd or 0.0),
               float(plan.table("sites").facility_peak_mw.sum()), by_hand.amortised_usd() if by_hand else None)


def _money(usd: float | None) -> str:
    return "-" if usd is None else f"${usd / 1e6:,.2f}M"


def _ratio(ours: float, theirs: float | None) -> str:
    return "-" if not theirs else f"{ours / theirs - 1:+.1%}"


def render(rows: list[Row]) -> str:
    """docs/fidelity.md: the comparison table, the tolerances, the gaps and the sources."""
    lines = [
        "# Fidelity: retrospectives against Epoch AI's published figures",
        "",
        "Generated by `python retrospectives/compare.py`; do not edit by hand. Each run in",
        "`retrospectives/` (held-out runs in `retrospectives/held_out/`) fixes a published fleet, its dates",
        "and its wall-clock effective MFU, and is solved with `costs: {basis: amortised, amortisation: epoch}`",
        "(see [costs.md](costs.md)). Goal: amortised cost within "
        f"{AMORTISED_TOLERANCE:.0%} and facility power within {POWER_TOLERANCE:.0%} of Epoch's figure on every run.",
        "",
        "Compute is the target the fixed fleet meets (equal by construction: a check of the run's",
        "arithmetic). Acquisition is the all-in purchase (network included) on the full basis. \"By hand\" is",
        "Epoch's published method computed in `compare.py` from the inputs Epoch's code takes for the run",
        "(`EPOCH_INPUTS`): where it matches the published figure, the method is reproduced and the rest of the",
        "gap is the tool's.",
        "",
        "| run | set | compute [FLOP] | acquisition (tool / Epoch) | amortised: tool / by hand / Epoch "
        "| tool vs Epoch | tool vs by hand | power MW: tool / Epoch | within goal |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        p = r.published
        hand = _money(r.by_hand_usd) if r.by_hand_usd else "-"
        lines.append(
            f"| {p.run} | {'held out' if r.held_out else 'main'} | {r.flop:.4g} / {p.flop:.4g} | "
            f"{_money(r.acquisition_usd)} / {_money(p.acquisition_usd)} "
            f"({_ratio(r.acquisition_usd, p.acquisition_usd)}) | "
            f"{_money(r.amortised_usd)} / {hand} / {_money(p.amortised_usd)} | "
            f"{_ratio(r.amortised_usd, p.amortised_usd)} | {_ratio(r.amortised_usd, r.by_hand_usd)} | "
            f"{r.power_mw:,.2f} / {p.power_w / 1e6:,.2f} ({_ratio(r.power_mw * 1e6, p.power_w)}) | "
            f"{'yes' if r.within else 'no'} |")
    cost_ok = sum(abs(r.amortised_ratio - 1) <= AMORTISED_TOLERANCE for r in rows)
    power_ok = sum(abs(r.power_ratio - 1) <= POWER_TOLERANCE for r in rows)
    lines += ["", f"Amortised cost within {AMORTISED_TOLERANCE:.0%}: {cost_ok} of {len(rows)} runs. "
              f"Facility power within {POWER_TOLERANCE:.0%}: {power_ok} of {len(rows)} runs. Epoch's power figures "
              "(Notable AI Models) put about 2.0 x the chip's TDP at the facility (1.7 x for the V100), while its "
              "cost model, which the catalog follows, has a server figure per chip type and a PUE of 1.10 or "
              "1.25: the two Epoch sources disagree by chip type (A100 and H100 at PUE 1.25 above, TPU v4 "
              "below), and the tool keeps the cost model's figures rather than fit the dataset."]
    lines += ["", "## Gaps, run by run", ""]
    lines += [f"- **{r.published.run}** ({_ratio(r.amortised_usd, r.published.amortised_usd)} cost, "
              f"{_ratio(r.power_mw * 1e6, r.published.power_w)} power): {GAPS[r.name]}" for r in rows]
    lines += ["", "## Sources of Epoch's figures", ""]
    lines += [f"- {r.published.run}: compute, power: {NM}; amortised: {r.published.amortised_source}; "
              f"acquisition: {COSTS if r.published.acquisition_usd else 'not published'}." for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/fidelity.md is out of date")
    args = parser.parse_args(argv)
    try:
        rows = [compare(path, held_out) for path, held_out in problem_files()]
    except clustersize.ClustersizeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows.sort(key=lambda row: list(PUBLISHED).index(row.name))
    text = render(rows)
    if args.check:
        current = FIDELITY.read_text(encoding="utf-8") if FIDELITY.exists() else ""
        if current != text:
            print("docs/fidelity.md is out of date: run python retrospectives/compare.py", file=sys.stderr)
            return 1
        return 0
    FIDELITY.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
