"""`ingestor status --html PATH`: one self-contained page (inline CSS and SVG, no script, nothing fetched) with,
per data type, a calendar of the days its records are about (for a type that declares their date; missing days in
red) or else of the days that had data loaded (a gap is a missed fetch), rows loaded per day, and stale types
first and highlighted."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from ingestor.ops.status import Freshness, Status, TypeStatus, ago

CELL, GAP = 13, 3
COLORS = ("#9be9a8", "#40c463", "#30a14e", "#216e39")  # few rows -> many rows
EMPTY = "#ebedf0"
MISSED = "#ffcecb"  # a missing day, or a day without data since a stale type's last load
BAR_HEIGHT = 36

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2328;background:#f6f8fa}
h1{font-size:20px;margin:0 0 4px}
.sub{color:#59636e;margin:0 0 16px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:12px 14px}
.card.stale{border:2px solid #cf222e;background:#fff8f8}
.head{display:flex;justify-content:space-between;align-items:baseline;gap:8px}
.name{font-weight:600;overflow-wrap:anywhere}
.badge{font-size:12px;border-radius:10px;padding:1px 8px;white-space:nowrap}
.badge.fresh{background:#dafbe1;color:#116329}.badge.unknown{background:#eaeef2;color:#59636e}
.badge.stale{background:#cf222e;color:#fff}
.meta{color:#59636e;font-size:12px;margin:4px 0 8px}
.warn{color:#cf222e;font-weight:600}
svg{display:block}
.sum{display:flex;gap:16px;margin:0 0 16px;flex-wrap:wrap}
.sum div{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:8px 14px}
.sum b{font-size:18px;display:block}
"""


def render(status: Status) -> str:
    """The page for a status report."""
    end = status.generated_at.date()
    start = end - timedelta(days=status.days - 1)
    order = {Freshness.STALE: 0, Freshness.FRESH: 1, Freshness.UNKNOWN: 2}
    types = sorted(status.types, key=lambda t: (order[t.freshness], -t.rejected, t.service, t.data_type))
    cards = "\n".join(_card(t, start, end, status) for t in types)
    fresh = sum(t.freshness is Freshness.FRESH for t in status.types)
    waiting = sum(t.waiting for t in status.types)
    summary = "".join(
        f"<div{' class=warn' if warn else ''}><b>{value}</b>{escape(label)}</div>"
        for value, label, warn in (
            (len(status.stale), "stale", bool(status.stale)),
            (fresh, "fresh", False),
            (status.rejected, "in rejected/", bool(status.rejected)),
            (waiting, "waiting in landing", False),
        )
    )
    last_run = ""
    if status.runs:
        run = status.runs[0]
        last_run = f" · last run {escape(run.status)} {ago(run.recorded_at, status.generated_at)}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>ingestor status [{escape(status.env)}]</title><style>{_CSS}</style></head><body>"
        f"<h1>ingestor status · {escape(', '.join(status.services))} [{escape(status.env)}]</h1>"
        f'<p class="sub">{status.generated_at:%Y-%m-%d %H:%M} UTC · last {status.days} days{last_run}</p>'
        f'<div class="sum">{summary}</div><div class="grid">{cards}</div></body></html>'
    )


def _card(t: TypeStatus, start: date, end: date, status: Status) -> str:
    now = status.generated_at
    badge = t.freshness.value + (f" · {t.expected_every}" if t.expected_every else "")
    facts = [f"last loaded {ago(t.last_loaded_at, now)}", f"{t.rows_recent:,} rows"]
    if t.waiting:
        facts.append(f"{t.waiting} waiting (oldest {ago(t.oldest_waiting_at, now)})")
    if t.rejected:
        facts.append(f'<span class="warn">{t.rejected} rejected</span>')
    if t.date_from:
        facts.append(f"{len(t.days_covered)} days covered ({escape(t.date_from)})")
    if t.missing_days:
        facts.append(f'<span class="warn">{_missing(t.missing_days)}</span>')
    return (
        f'<div class="card{" stale" if t.freshness is Freshness.STALE else ""}"><div class="head"><span class="name">'
        f'{escape(t.service)}.{escape(t.data_type)}</span><span class="badge {t.freshness.value}">{escape(badge)}'
        f'</span></div><div class="meta">{" · ".join(facts)}</div>'
        f"{_calendar_of(t, start, end)}{_bars(t.rows_by_day, start, end)}</div>"
    )


def _missing(days: list[date]) -> str:
    """`missing 2025-01-03`, or how many are and the latest."""
    if len(days) > 3:
        return f"{len(days)} days missing, last {days[-1].isoformat()}"
    return f"missing {', '.join(day.isoformat() for day in days)}"


def _calendar_of(t: TypeStatus, start: date, end: date) -> str:
    """The days covered (missing ones red) for a type that declares the date of its records, else the days
    rows were loaded (red since a stale type's last load)."""
    if t.date_from:
        return _calendar(t.days_covered, start, end, set(t.missing_days), "records", "days the data covers")
    missed: set[date] = set()
    if t.freshness is Freshness.STALE:
        since = t.last_loaded_at.date() + timedelta(days=1) if t.last_loaded_at else start
        missed = {day for day in _days(max(since, start), end) if not t.rows_by_day.get(day)}
    return _calendar(t.rows_by_day, start, end, missed, "rows", "days with data loaded")


def _quartiles(rows: dict[date, int]) -> list[int]:
    """The values splitting the days with data into four equal groups (few rows -> many rows)."""
    values = sorted(v for v in rows.values() if v > 0)
    return [values[len(values) * q // 4] for q in (1, 2, 3)] if values else []


def _shade(rows: int, cuts: list[int]) -> str:
    """The green of a day's rows: one of four by quartile among the type's days, grey without data."""
    if rows <= 0:
        return EMPTY
    return COLORS[sum(rows >= cut for cut in cuts)]


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _calendar(rows: dict[date, int], start: date, end: date, missed: set[date], unit: str, label: str) -> str:
    """Weeks as columns (Monday on top), a square per day (the `missed` ones red); a day's count in its tooltip."""
    cuts = _quartiles(rows)
    first_monday = start - timedelta(days=start.weekday())
    cells = []
    labelled = -3
    for day in _days(start, end):
        x = ((day - first_monday).days // 7) * (CELL + GAP) + 28
        y = day.weekday() * (CELL + GAP) + 14
        n = rows.get(day, 0)
        fill = MISSED if day in missed else _shade(n, cuts)
        cells.append(
            f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" rx="2" fill="{fill}">'
            f"<title>{day.isoformat()}: {n:,} {unit}{', missing' if day in missed else ''}</title></rect>"
        )
        column = (day - first_monday).days // 7
        if (day.day == 1 or (day == start and day.day <= 14)) and column - labelled >= 3:  # never one over another
            labelled = column
            cells.append(f'<text x="{x}" y="10" font-size="10" fill="#59636e">{day:%b}</text>')
    weeks = (end - first_monday).days // 7 + 1
    labels = "".join(
        f'<text x="0" y="{row * (CELL + GAP) + 14 + CELL - 2}" font-size="10" fill="#59636e">{name}</text>'
        for row, name in ((0, "Mon"), (2, "Wed"), (4, "Fri"))
    )
    width, height = 28 + weeks * (CELL + GAP), 14 + 7 * (CELL + GAP)
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{label}">{labels}{"".join(cells)}</svg>'
    )


def _bars(rows: dict[date, int], start: date, end: date) -> str:
    """Rows per day as bars, one per day, the highest labelled."""
    days = _days(start, end)
    most = max(rows.values(), default=0)
    width = 300
    step = width / len(days)
    bars = []
    for n, day in enumerate(days):
        value = rows.get(day, 0)
        if value:
            h = max(1.0, BAR_HEIGHT * value / most)
            bars.append(
                f'<rect x="{n * step:.1f}" y="{BAR_HEIGHT - h + 12:.1f}" width="{max(1.0, step - 1):.1f}" '
                f'height="{h:.1f}" fill="#30a14e"><title>{day.isoformat()}: {value:,} rows</title></rect>'
            )
    axis = f'<line x1="0" y1="{BAR_HEIGHT + 12}" x2="{width}" y2="{BAR_HEIGHT + 12}" stroke="#d1d9e0"/>'
    label = f"max {most:,} rows/day" if most else "no rows loaded in this period"
    return (
        f'<svg width="{width}" height="{BAR_HEIGHT + 14}" viewBox="0 0 {width} {BAR_HEIGHT + 14}" role="img" '
        f'aria-label="rows per day"><text x="0" y="9" font-size="10" fill="#59636e">{label}</text>'
        f"{''.join(bars)}{axis}</svg>"
    )
