"""The HTML report: every section, the plan's own numbers, self-contained; the CLI; a real browser."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import clustersize
from clustersize.reports.browser import FLAGS, find_chromium
from clustersize.reports.html import SECTIONS, render_html
from clustersize.reports.numbers import usd
from clustersize.reports.study import STUDY_SECTIONS, whatif_html
from conftest import ROOT, base_problem, served_problem

ARTEFACTS = ROOT / "test-artifacts"


class Page(HTMLParser):
    """What a reader of the page sees: section ids, figures (with svg and caption), text, external refs."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.figures: list[dict[str, bool]] = []
        self.external: list[str] = []
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section":
            self.sections.append(str(found.get("id")))
        if tag == "figure" and found.get("class") == "chart":
            self.figures.append({"svg": False, "caption": False})
        if tag == "svg" and self.figures:
            self.figures[-1]["svg"] = True
        if tag == "figcaption" and self.figures:
            self.figures[-1]["caption"] = True
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if re.match(r"^(https?:)?//", found.get(name) or "", re.IGNORECASE):
                self.external.append(str(found[name]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def plan() -> clustersize.Plan:
    return clustersize.solve(clustersize.load_problem(served_problem()), solver="scip")


def test_every_section_with_the_plans_numbers_and_nothing_fetched(plan):
    page = Page()
    page.feed(render_html(plan))
    assert page.sections == list(SECTIONS)
    assert len(page.figures) >= 5 and all(f["svg"] and f["caption"] for f in page.figures)
    assert page.scripts == 0 and page.external == []
    text = " ".join(page.text)
    assert usd(plan.objective_usd) in text and "independently verified" in text
    costs = plan.table("costs").set_index("component")
    for line in ("hardware", "energy", "cloud"):
        assert usd(costs.loc[line, "full_usd"]) in text
    assert plan.input_hash in text and "(sustained)" not in text      # serving shown as a table of its own
    assert "nan" not in text.lower().split() and "-0.0" not in text


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "clustersize.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env=env)


def test_report_from_a_problem_a_plan_file_and_solve(tmp_path):
    problem = tmp_path / "problem.yaml"
    problem.write_text((ROOT / "problems" / "gpt5.yaml").read_text())
    result = cli("report", str(ROOT / "problems" / "gpt5.yaml"), "--out", str(tmp_path / "a.html"))
    assert result.returncode == 0, result.stderr
    solved = cli("solve", str(ROOT / "problems" / "gpt5.yaml"), "--out", str(tmp_path / "out"), "--report",
                 str(tmp_path / "b.html"))
    assert solved.returncode == 0, solved.stderr
    again = cli("report", str(tmp_path / "out" / "plan.json"), "--out", str(tmp_path / "c.html"))
    assert again.returncode == 0, again.stderr
    objective = json.loads((tmp_path / "out" / "plan.json").read_text())["objective_usd"]
    for name in ("a.html", "b.html", "c.html"):
        assert usd(objective) in (tmp_path / name).read_text()


def test_bad_report_requests_say_what_to_do(tmp_path):
    missing = cli("report", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "x.html"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    directory = cli("report", str(ROOT / "problems" / "gpt5.yaml"), "--out", str(tmp_path))
    assert directory.returncode == 2 and "--out" in directory.stderr
    if find_chromium() is None:
        pdf = cli("report", str(ROOT / "problems" / "gpt5.yaml"), "--out", str(tmp_path / "r.html"), "--pdf",
                  str(tmp_path / "r.pdf"))
        assert pdf.returncode == 2 and "apt install chromium" in pdf.stderr and not (tmp_path / "r.html").exists()


@pytest.mark.slow
def test_the_page_in_a_real_headless_chromium(plan, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("headless Chromium is not installed here (CI installs Debian's chromium): browser test skipped")
    page = tmp_path / "report.html"
    page.write_text(render_html(plan))
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "report.png"
    base = [chromium, *FLAGS, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
    if "<html" not in dom.stdout:
        pytest.skip(f"Chromium at {chromium} did not load any page here (exit {dom.returncode}): {dom.stderr[-300:]}")
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Failed to load" in line]
    assert console == [], console
    loaded = Page()
    loaded.feed(dom.stdout)
    assert loaded.sections == list(SECTIONS)
    assert len(loaded.figures) >= 5 and all(f["svg"] for f in loaded.figures)
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1280,4000", page.as_uri()], capture_output=True,
                   timeout=180)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_the_summary_states_what_the_figures_take_for_granted(plan):
    from clustersize.reports.terminal import hidden_assumptions

    said = "\n".join(hidden_assumptions(plan))
    unit = plan.table("purchases").capex_usd.sum() / plan.table("purchases").units.sum()
    assert f"alpha {usd(unit)}" in said and "peak x MFU" in said and "snapped to quarters" in said
    assert "location of a run" in said


def test_wide_prints_the_summary_at_full_width():
    narrow = cli("solve", str(ROOT / "problems" / "rent-vs-buy.yaml"))
    wide = cli("solve", str(ROOT / "problems" / "rent-vs-buy.yaml"), "--wide")
    assert narrow.returncode == wide.returncode == 0
    assert max(map(len, wide.stdout.splitlines())) > max(map(len, narrow.stdout.splitlines()))


PRICE = "accelerators.alpha.price_usd"


def study_page(html: str) -> tuple[Page, str]:
    page = Page()
    page.feed(html)
    assert page.sections == list(STUDY_SECTIONS)
    assert page.scripts == 0 and page.external == []
    return page, " ".join(page.text)


def test_a_sweep_page_shows_each_point_against_the_problems_own_value():
    """1,000 alpha at $8k/$10k/$12k plus $120,000 of energy; the problem's own $10,000 is the base,
    so the points differ by -$2M, 0 and +$2M (worked by hand)."""
    frame = clustersize.sweep(base_problem(), vary={PRICE: [8000, 10000, 12000]}, workers=1)
    html = whatif_html(frame, [PRICE], problem="known-answer", input_hash="abc", settings={"solver": "scip"},
                       base={PRICE: 10_000.0})
    page, text = study_page(html)
    assert len(page.figures) == 2 and all(f["svg"] and f["caption"] for f in page.figures)
    assert "$8.12M to $12.12M; each compared with the point at the problem's own values, $10.12M" in text
    assert "-$2.00M" in text and "+$2.00M" in text and "+19.8%" in text
    assert "independently verified" in text and "abc" in text


def test_a_sweep_over_words_is_compared_with_its_first_point():
    """A ruleset sweep has no number to match: each point is compared with the first, named by its word."""
    frame = clustersize.sweep(base_problem(), vary={"export.ruleset": ["none", "us-2023-10"]}, workers=1)
    _, text = study_page(whatif_html(frame, ["export.ruleset"], problem="known-answer", input_hash="abc",
                                     settings={}, base={"export.ruleset": None}))
    assert "each compared with the first point with a plan (export.ruleset = none), $10.12M" in text


def test_a_scenario_page_names_each_override_and_the_largest_change():
    frame = clustersize.sweep(base_problem(), scenarios={"dear": {PRICE: 12_000}, "cheap": {PRICE: 9_000}}, workers=1)
    _, text = study_page(whatif_html(frame, [], problem="known-answer", input_hash="abc", settings={}))
    assert "the largest change from the base is dear: +$2.00M (+19.8%), $12.12M in all" in text
    assert f"{PRICE}=12000" in text and f"{PRICE}=9000" in text


def test_a_sample_page_gives_the_percentiles_of_the_table():
    frame = clustersize.sweep(base_problem(), samples={PRICE: "uniform(9000,11000)"}, n_samples=8, seed=1, workers=1)
    _, text = study_page(whatif_html(frame, [PRICE], problem="known-answer", input_hash="abc", settings={}))
    p50 = float(frame.objective_usd.quantile(0.5))
    assert "reachable in 100%" in text and f"{usd(p50)} (P50)" in text


def test_whatif_and_frontier_write_their_pages_from_the_cli(tmp_path):
    done = cli("whatif", str(ROOT / "problems" / "rent-vs-buy.yaml"), "--vary",
               "cloud.h100-market-median.price_usd_per_hour=1.5,2.5", "--out", str(tmp_path / "w"), "--report",
               str(tmp_path / "w.html"), "--workers", "1")
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(tmp_path / "w" / "results.csv")
    _, text = study_page((tmp_path / "w.html").read_text())
    for cost in frame.objective_usd:
        assert usd(cost) in text
    bad = cli("whatif", str(ROOT / "problems" / "gpt5.yaml"), "--vary", f"{PRICE}=1,2", "--report", str(tmp_path))
    assert bad.returncode == 2 and "--report" in bad.stderr and "Traceback" not in bad.stderr
