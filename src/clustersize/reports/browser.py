"""Headless Chromium, where it is installed: the report as PDF, and the page as a browser loads it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--allow-file-access-from-files")
TIMEOUT_S = 120.0


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable on PATH, or None."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium(option: str = "--pdf") -> str:
    """The Chromium executable, or the project's error saying how to install it."""
    found = find_chromium()
    if found is None:
        raise InputError("headless Chromium is not installed here", path=option,
                         fix="install it (Debian/Ubuntu: apt install chromium) or open the HTML report and print it")
    return found


def print_pdf(html_file: Path, pdf_file: Path, chromium: str) -> Path:
    """Render the HTML file to PDF with headless Chromium, written atomically."""
    pdf_file = Path(pdf_file)
    with tempfile.TemporaryDirectory(dir=pdf_file.parent) as scratch:
        tmp = Path(scratch) / pdf_file.name
        result = subprocess.run([chromium, *FLAGS, f"--print-to-pdf={tmp}", "--no-pdf-header-footer",
                                 html_file.resolve().as_uri()], capture_output=True, text=True, timeout=TIMEOUT_S)
        if result.returncode != 0 or not tmp.exists():
            raise InputError(f"Chromium could not print the report (exit {result.returncode}): "
                             f"{result.stderr.strip()[-300:]}", path="--pdf", fix="check the Chromium installation")
        tmp.replace(pdf_file)
    return pdf_file
