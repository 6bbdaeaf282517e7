"""The HTML report: every section, the plan's own numbers, self-contained; the CLI; a real browser."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import clustersize
from clustersize.reports.browser import FLAGS, find_chromium
from clustersize.reports.html import SECTIONS, render_html
from clustersize.reports.numbers import usd
from conftest import ROOT, served_problem

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
