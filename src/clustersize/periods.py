"""Calendar quarters: labels, indexes from the planning start, and the run start."""

from __future__ import annotations

import datetime as dt


def quarter_index(day: dt.date, origin: dt.date) -> int:
    """Whole quarters from the quarter of `origin` to the quarter containing `day`."""
    return (day.year - origin.year) * 4 + (day.month - 1) // 3 - (origin.month - 1) // 3


def quarter_start(origin: dt.date, index: int) -> dt.date:
    """First day of the quarter `index` quarters after the quarter of `origin`."""
    months = (origin.month - 1) // 3 * 3 + 3 * index
    return dt.date(origin.year + months // 12, months % 12 + 1, 1)


def reveal_quarter(origin: dt.date, reveal: dt.date) -> int:
    """Quarters (from the quarter of `origin`) that start before `reveal`: a two-stage plan's
    decisions dated in them are first-stage."""
    quarter = 0
    while quarter_start(origin, quarter) < reveal:
        quarter += 1
    return quarter


def quarter_label(origin: dt.date, index: int) -> str:
    """E.g. '2027Q3'."""
    start = quarter_start(origin, index)
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"


def label_index(label: str, origin: dt.date) -> int | None:
    """Quarters from the quarter of `origin` to the quarter labelled `label` (e.g. '2028Q1'); None
    when `label` is not a quarter label."""
    if len(label) != 6 or label[4] != "Q" or not label[:4].isdigit() or label[5] not in "1234":
        return None
    return quarter_index(dt.date(int(label[:4]), 3 * int(label[5]) - 2, 1), origin)


def derived_run_start(deadline: dt.date, length_days: float, origin: dt.date) -> dt.date:
    """The latest quarter start from which a run of `length_days` ends by `deadline`.

    Starting later never costs more in this model: supply, sites and contracts only
    become available over time, and prices only fall.
    """
    latest = deadline - dt.timedelta(days=length_days)
    return quarter_start(origin, quarter_index(latest, origin))
