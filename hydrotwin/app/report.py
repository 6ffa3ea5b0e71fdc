"""Plan report (预案报告): a plan comparison as one self-contained HTML file, and as JSON.

The HTML has inline CSS and inline SVG charts (reservoir level and outflow, discharge and level
at the main control station: one line per plan, the chosen plan drawn thick, the
characteristic levels / warning thresholds drawn dashed), the comparison table (plans side by
side), the chosen plan's gate operations (hour, opening) and what makes the numbers traceable:
basin, storm, forecast start, length and step, software version. No network, no scripts: it
prints and mails as it is.

Labels are Qt translations (context ``PlanReport``) so the report comes out in Chinese with
``lang="zh_CN"``; it needs no QApplication (a QTranslator is read directly).
"""

from __future__ import annotations

import html
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from PySide6.QtCore import QCoreApplication, QTranslator

from hydrotwin import __version__
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.plan import Comparison, PlanResult, gate_operations, recommendation_rule
from hydrotwin.fourpre.warning import COLOURS, Level, grade
from hydrotwin.timeutil import datetimes_from_datetime64

log = logging.getLogger(__name__)

CONTEXT = "PlanReport"
WARNING_LINE = "#c9a800"  # the warning (yellow) threshold, dark enough to read on white
PLAN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


class Translator:
    """``tr(text)`` for the report's labels in ``lang``: "en" is the source text; another
    language reads ``hydrotwin_<lang>.qm`` (or ``qm``); None uses the running app's translators."""

    def __init__(self, lang: str | None = None, qm: str | Path | None = None) -> None:
        self.lang = lang
        self._qt: QTranslator | None = None
        if lang not in (None, "en"):
            from hydrotwin.app.i18n import TRANSLATIONS_DIR

            path = Path(qm) if qm else TRANSLATIONS_DIR / f"hydrotwin_{lang}.qm"
            t = QTranslator()
            if not t.load(str(path)):
                raise InputDataError(
                    f"report language {lang!r}: translation file {path} cannot be loaded "
                    "(expected a compiled .qm; languages: zh_CN, en)"
                )
            self._qt = t

    def translate(self, context: str, text: str) -> str:
        """Like ``QCoreApplication.translate`` (lupdate collects these calls)."""
        if self.lang == "en":
            return text
        if self._qt is not None:
            return self._qt.translate(context, text) or text
        return QCoreApplication.translate(context, text)

    def __call__(self, text: str) -> str:
        if self.lang == "en":
            return text
        if self._qt is not None:
            return self._qt.translate(CONTEXT, text) or text
        return QCoreApplication.translate(CONTEXT, text)

    @property
    def ui_lang(self) -> str:
        """ "zh_CN" or "en": the given language, else what the app's translators say."""
        if self.lang is None:
            return self.translate("Language", "en")
        return self.lang

    @property
    def html_lang(self) -> str:
        return "zh-CN" if self.ui_lang.startswith("zh") else "en"


def _zh(tr: Translator) -> bool:
    return tr.html_lang == "zh-CN"


# -- small helpers ------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _f(v: float | None, nd: int = 2, signed: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "—"
    return f"{v:+.{nd}f}" if signed else f"{v:.{nd}f}"


def _local(t: datetime | None, tz: ZoneInfo) -> str:
    return "—" if t is None else t.astimezone(tz).strftime("%m-%d %H:%M")


def _hours(ds, t: datetime | None) -> str:
    if t is None:
        return ""
    t0 = datetimes_from_datetime64(ds.time.values[:1])[0]
    return f" (+{(t - t0).total_seconds() / 3600.0:g} h)"


# -- SVG charts ---------------------------------------------------------------------------------


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not hi > lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = np.ceil(lo / step) * step
    return [float(v) for v in np.arange(first, hi + step * 0.001, step)]


def svg_chart(
    title: str,
    unit: str,
    hours: np.ndarray,
    series: Sequence[tuple[str, np.ndarray, str, bool]],
    lines: Sequence[tuple[str, float, str]] = (),
    width: int = 760,
    height: int = 280,
) -> str:
    """A line chart as inline SVG: ``series`` are (label, values, colour, highlighted) over
    ``hours``; ``lines`` are horizontal thresholds (label, value, colour), drawn dashed."""
    ml, mr, mt, mb = 64, 150, 28, 52
    pw, ph = width - ml - mr, height - mt - mb
    legend: list[tuple[float, int]] = []  # legend entries below the plot, wrapped into rows
    lx, ly = float(ml), mt + ph + 32
    for label, *_ in series:
        w = 40 + 6.5 * sum(2 if ord(c) > 0x2E80 else 1 for c in label)
        if lx + w > width and lx > ml:
            lx, ly = float(ml), ly + 16
        legend.append((lx, ly))
        lx += w
    height += ly - (mt + ph + 32)
    vals = [v[np.isfinite(v)] for _, v, _, _ in series]
    allv = np.concatenate([*vals, np.array([y for _, y, _ in lines], float)])
    if allv.size == 0:
        return ""
    lo, hi = float(allv.min()), float(allv.max())
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    lo, hi = lo - pad, hi + pad
    x0, x1 = float(hours[0]), float(hours[-1]) if hours[-1] > hours[0] else float(hours[0]) + 1

    def sx(h: float) -> float:
        return ml + (h - x0) / (x1 - x0) * pw

    def sy(v: float) -> float:
        return mt + (hi - v) / (hi - lo) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart" role="img" aria-label="{_e(title)}">',
        f'<text x="{ml}" y="18" class="ct">{_e(title)} ({_e(unit)})</text>',
        f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>',
    ]
    for v in _nice_ticks(lo, hi):
        y = sy(v)
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        tick = round(v, 9) + 0.0  # never "-0"
        out.append(
            f'<text x="{ml - 4}" y="{y + 4:.1f}" class="tk" text-anchor="end">{tick:g}</text>'
        )
    for h in _nice_ticks(x0, x1, 6):
        x = sx(h)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt}" y2="{mt + ph}" stroke="#eee"/>')
        out.append(
            f'<text x="{x:.1f}" y="{mt + ph + 14}" class="tk" text-anchor="middle">{h:g} h</text>'
        )
    for label, y, colour in lines:
        yy = sy(y)
        out.append(
            f'<line x1="{ml}" x2="{ml + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{colour}" '
            f'stroke-width="1.2" stroke-dasharray="6 4"/>'
        )
        out.append(
            f'<text x="{ml + pw + 4}" y="{yy + 4:.1f}" class="tk" fill="{colour}">'
            f"{_e(label)} {y:g}</text>"
        )
    ordered = sorted(series, key=lambda s: s[3])  # the highlighted plan on top
    for label, v, colour, strong in ordered:
        pts = " ".join(
            f"{sx(float(h)):.1f},{sy(float(y)):.1f}"
            for h, y in zip(hours, v, strict=True)
            if np.isfinite(y)
        )
        w, op = ("3.2", "1") if strong else ("1.4", "0.75")
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{w}" '
            f'stroke-opacity="{op}"><title>{_e(label)}</title></polyline>'
        )
    for (label, _, colour, strong), (lx, ly) in zip(series, legend, strict=True):
        weight = ' font-weight="bold"' if strong else ""
        out.append(
            f'<line x1="{lx:.0f}" x2="{lx + 20:.0f}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="{3 if strong else 1.5}"/>'
        )
        out.append(f'<text x="{lx + 24:.0f}" y="{ly}" class="tk"{weight}>{_e(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# -- the report ---------------------------------------------------------------------------------

CSS = """
body{font-family:"WenQuanYi Micro Hei","Microsoft YaHei","Noto Sans CJK SC",sans-serif;
 margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}
th{background:#f0f0f0}td.l,th.l{text-align:left}
.chosen{background:#fff4c2}.meta td{text-align:left}.bad{color:#b00;font-weight:bold}
.grade{display:inline-block;width:10px;height:10px;border:1px solid #666;margin-right:4px}
.chart{display:block;margin:8px 0}.ct{font-size:13px;font-weight:bold}.tk{font-size:11px}
.note{font-size:12px;color:#555}
"""


def _grade(tr: Translator, g: Level) -> str:
    name = grade(g).name(tr.ui_lang)
    return f'<span class="grade" style="background:{COLOURS[g]}"></span>{_e(name)}'


def _table(tr: Translator, comp: Comparison, chosen: str | None, tz: ZoneInfo) -> list[str]:
    res_ = comp.results
    head = "".join(
        f'<th class="{"chosen" if r.plan.id == chosen else ""}">{_e(r.plan.name)}<br>'
        f'<span class="note">{_e(r.plan.id)}</span></th>'
        for r in res_
    )
    rows: list[str] = [
        "<table>",
        '<tr><th class="l">' + _e(tr.translate("PlanReport", "Indicator")) + f"</th>{head}</tr>",
    ]

    marks = {row.key: row.best for row in comp.rows()}  # fourpre.plan_table.BEST_RULE

    def row(label: str, cells: list[str], key: str = "") -> None:
        best = marks.get(key, ())
        tds = "".join(
            f'<td class="{"chosen" if r.plan.id == chosen else ""}">{c}'
            f"{' ★' if r.plan.id in best else ''}</td>"
            for r, c in zip(res_, cells, strict=True)
        )
        rows.append(f'<tr><td class="l">{_e(label)}</td>{tds}</tr>')

    for j, m0 in enumerate(res_[0].reservoirs):
        name = m0.name_zh if _zh(tr) else m0.name_en
        rows.append(f'<tr><th class="l" colspan="{len(res_) + 1}">{_e(name)}</th></tr>')
        ms = [r.reservoirs[j] for r in res_]
        row(tr.translate("PlanReport", "Start level (m)"), [_f(m.start_level_m) for m in ms])
        row(
            tr.translate("PlanReport", "Peak level (m)"),
            [
                f"{_f(m.peak_level_m)}<br><span class='note'>{_local(m.peak_level_time, tz)}</span>"
                for m in ms
            ],
            f"reservoir:{m0.reservoir}:peak_level_m",
        )
        row(
            tr.translate("PlanReport", "Margin to design flood level (m)")
            + f" [{m0.design_flood_m:g}]",
            [_f(m.margin_to_design_m, signed=True) for m in ms],
        )
        row(
            tr.translate("PlanReport", "Margin to check flood level (m)")
            + f" [{m0.check_flood_m:g}]",
            [
                f'<span class="{"bad" if m.margin_to_check_m < 0 else ""}">'
                f"{_f(m.margin_to_check_m, signed=True)}</span>"
                for m in ms
            ],
        )
        row(
            tr.translate("PlanReport", "Peak inflow (m³/s)"), [_f(m.peak_inflow_m3s, 1) for m in ms]
        )
        safe = "" if m0.safe_downstream_m3s is None else f" [{m0.safe_downstream_m3s:g}]"
        row(
            tr.translate("PlanReport", "Peak release (m³/s)") + safe,
            [
                f'<span class="{"bad" if (m.release_over_safe_m3s or 0) > 0.05 else ""}">'
                f"{_f(m.peak_outflow_m3s, 1)}</span>"
                for m in ms
            ],
            f"reservoir:{m0.reservoir}:peak_outflow_m3s",
        )
        row(tr.translate("PlanReport", "End level (m)"), [_f(m.end_level_m) for m in ms])
    for k, s0 in enumerate(res_[0].stations):
        name = s0.name_zh if _zh(tr) else s0.name_en
        where = (
            ""
            if s0.downstream
            else " — " + tr.translate("PlanReport", "not downstream of a reservoir")
        )
        warn = tr.translate("PlanReport", "warning")
        guar = tr.translate("PlanReport", "guaranteed")
        th = f" [{warn} {_f(s0.warning_m)}, {guar} {_f(s0.guaranteed_m)}]"
        rows.append(
            f'<tr><th class="l" colspan="{len(res_) + 1}">{_e(name)} {_e(s0.station)}'
            f"{_e(th)}{_e(where)}</th></tr>"
        )
        ss = [r.stations[k] for r in res_]
        row(
            tr.translate("PlanReport", "Peak level (m)"),
            [
                f"{_f(s.peak_level_m)}<br><span class='note'>{_local(s.peak_level_time, tz)}</span>"
                for s in ss
            ],
            f"station:{s0.station}:peak_level_m",
        )
        row(
            tr.translate("PlanReport", "Peak discharge (m³/s)"),
            [_f(s.peak_discharge_m3s, 1) for s in ss],
        )
        row(
            tr.translate("PlanReport", "Highest warning grade"),
            [
                f"{_grade(tr, s.grade)}<br><span class='note'>{_local(s.grade_time, tz)}</span>"
                for s in ss
            ],
            f"station:{s0.station}:grade",
        )
        row(
            tr.translate("PlanReport", "Hours at or above warning"),
            [f"{s.hours_above_warning:g}" for s in ss],
            f"station:{s0.station}:hours_above_warning",
        )
    row(
        tr.translate("PlanReport", "Highest grade downstream"),
        [_grade(tr, r.downstream_grade) for r in res_],
    )
    row(
        tr.translate("PlanReport", "Acceptable (below check flood level)"),
        [
            _e(tr.translate("PlanReport", "yes"))
            if r.acceptable
            else '<span class="bad">' + _e(tr.translate("PlanReport", "no")) + "</span>"
            for r in res_
        ],
    )
    rec = comp.recommendation
    row(
        tr.translate("PlanReport", "Rank by the rule"),
        [str(rec.ranking.index(r.plan.id) + 1) if r.plan.id in rec.ranking else "—" for r in res_],
    )
    rows.append("</table>")
    return rows


def _charts(tr: Translator, comp: Comparison, chosen: str | None) -> list[str]:
    res_ = comp.results
    ds0 = res_[0].dataset
    hours = (ds0.time.values - ds0.time.values[0]) / np.timedelta64(1, "h")
    colours = {r.plan.id: PLAN_COLOURS[i % len(PLAN_COLOURS)] for i, r in enumerate(res_)}

    def series(var: str, dim: str, key: str) -> list[tuple[str, np.ndarray, str, bool]]:
        return [
            (
                r.plan.name,
                r.dataset[var].sel({dim: key}).values.astype(float),
                colours[r.plan.id],
                r.plan.id == chosen,
            )
            for r in res_
        ]

    out: list[str] = []
    for m in res_[0].reservoirs:
        name = m.name_zh if _zh(tr) else m.name_en
        out.append(
            svg_chart(
                name + ": " + tr.translate("PlanReport", "reservoir level"),
                "m",
                hours,
                series("reservoir_level", "reservoir", m.reservoir),
                [
                    (tr.translate("PlanReport", "flood limit"), m.flood_limit_m, "#0a7"),
                    (
                        tr.translate("PlanReport", "design flood"),
                        m.design_flood_m,
                        COLOURS[Level.ORANGE],
                    ),
                    (
                        tr.translate("PlanReport", "check flood"),
                        m.check_flood_m,
                        COLOURS[Level.RED],
                    ),
                ],
            )
        )
        lines = []
        if m.safe_downstream_m3s is not None:
            lines.append(
                (
                    tr.translate("PlanReport", "safe discharge"),
                    m.safe_downstream_m3s,
                    COLOURS[Level.RED],
                )
            )
        out.append(
            svg_chart(
                name + ": " + tr.translate("PlanReport", "reservoir outflow"),
                "m³/s",
                hours,
                series("reservoir_outflow", "reservoir", m.reservoir),
                lines,
            )
        )
    if comp.main_station is not None:
        st = comp.basin.station(comp.main_station)
        name = st.names.zh if _zh(tr) else st.names.en
        th = st.thresholds
        qlines = []
        if th.warning_q_m3s is not None:
            qlines.append(
                (
                    tr.translate("PlanReport", "warning discharge"),
                    th.warning_q_m3s,
                    WARNING_LINE,
                )
            )
        out.append(
            svg_chart(
                f"{name} {st.id}: " + tr.translate("PlanReport", "discharge"),
                "m³/s",
                hours,
                series("station_discharge", "station", st.id),
                qlines,
            )
        )
        zlines = [
            (label, v, c)
            for label, v, c in (
                (tr.translate("PlanReport", "warning"), th.warning_m, WARNING_LINE),
                (tr.translate("PlanReport", "guaranteed"), th.guaranteed_m, COLOURS[Level.ORANGE]),
                (
                    tr.translate("PlanReport", "historical max"),
                    th.historical_max_m,
                    COLOURS[Level.RED],
                ),
            )
            if v is not None
        ]
        out.append(
            svg_chart(
                f"{name} {st.id}: " + tr.translate("PlanReport", "water level"),
                "m",
                hours,
                series("station_level", "station", st.id),
                zlines,
            )
        )
    return out


def _gate_table(tr: Translator, r: PlanResult, tz: ZoneInfo) -> list[str]:
    ops = gate_operations(r.dataset)
    if not ops:
        return ["<p>" + _e(tr.translate("PlanReport", "No gates.")) + "</p>"]
    gates = list(ops)
    changes = sorted({h for g in gates for h, _ in ops[g]})
    t0 = datetimes_from_datetime64(r.dataset.time.values[:1])[0]
    head = "".join(f"<th>{_e(g)} (m)</th>" for g in gates)
    rows = [
        "<table>",
        "<tr><th>" + _e(tr.translate("PlanReport", "Hour")) + "</th>"
        "<th>" + _e(tr.translate("PlanReport", "Local time")) + f"</th>{head}</tr>",
    ]
    for h in changes:
        cells = []
        for g in gates:
            now = [e for hh, e in ops[g] if hh <= h][-1]
            changed = any(hh == h for hh, _ in ops[g])
            cells.append(f"<td>{'<b>' if changed else ''}{now:.2f}{'</b>' if changed else ''}</td>")
        t = t0.timestamp() + h * 3600.0
        local = datetime.fromtimestamp(t, UTC).astimezone(tz).strftime("%m-%d %H:%M")
        rows.append(f"<tr><td>{h:g}</td><td>{local}</td>{''.join(cells)}</tr>")
    rows.append("</table>")
    return rows


def render_html(
    comp: Comparison,
    chosen: str | None = None,
    tr: Translator | None = None,
    generated: datetime | None = None,
) -> str:
    """The report as one HTML string. ``chosen`` defaults to the recommended plan."""
    tr = tr or Translator(None)
    chosen = chosen or comp.recommendation.plan_id or comp.results[0].plan.id
    pick = comp.result(chosen)
    b = comp.basin
    tz = ZoneInfo(b.basin.timezone)
    gen = (generated or datetime.now(UTC)).astimezone(tz)
    lang = tr.html_lang
    start_local = comp.start.astimezone(tz)
    rec = comp.recommendation
    rec_name = (
        comp.result(rec.plan_id).plan.name
        if rec.plan_id
        else tr.translate("PlanReport", "none acceptable")
    )
    meta = [
        (tr.translate("PlanReport", "Basin"), f"{b.basin.names.zh} / {b.basin.names.en} ({b.id})"),
        (tr.translate("PlanReport", "Storm"), f"{comp.rain} — {comp.rain_description}"),
        (
            tr.translate("PlanReport", "Forecast start"),
            f"{start_local:%Y-%m-%d %H:%M} {b.basin.timezone} ({comp.start:%Y-%m-%d %H:%M} UTC)",
        ),
        (
            tr.translate("PlanReport", "Forecast length"),
            f"{comp.hours:g} h, " + tr.translate("PlanReport", "step") + f" {comp.dt_h:g} h",
        ),
        (tr.translate("PlanReport", "Levels"), b.basin.vertical_datum),
        (tr.translate("PlanReport", "Chosen plan"), f"{pick.plan.name} ({pick.plan.id})"),
        (
            tr.translate("PlanReport", "Recommended by the rule"),
            f"{rec_name} ({rec.plan_id or '—'})",
        ),
        (tr.translate("PlanReport", "Software"), f"HydroTwin {__version__}"),
        (tr.translate("PlanReport", "Generated"), f"{gen:%Y-%m-%d %H:%M} {b.basin.timezone}"),
    ]
    title = tr.translate("PlanReport", "Flood-control plan comparison")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{_e(title)} — {_e(b.basin.names.zh)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        '<table class="meta">',
        *(f'<tr><th class="l">{_e(k)}</th><td>{_e(v)}</td></tr>' for k, v in meta),
        "</table>",
        f'<p class="note">{_e(recommendation_rule(tr.ui_lang))}</p>',
    ]
    if rec.unacceptable:
        bad = ", ".join(f"{k} ({v})" for k, v in rec.unacceptable.items())
        above = tr.translate("PlanReport", "Above the check flood level:")
        parts.append(f'<p class="bad">{_e(above)} {_e(bad)}</p>')
    parts.append("<h2>" + _e(tr.translate("PlanReport", "Plans side by side")) + "</h2>")
    parts += _table(tr, comp, chosen, tz)
    parts += _flood_parts(tr, comp, chosen)
    parts.append("<h2>" + _e(tr.translate("PlanReport", "Hydrographs")) + "</h2>")
    parts += _charts(tr, comp, chosen)
    parts.append("<h2>" + _e(tr.translate("PlanReport", "Plans")) + "</h2><table>")
    parts += [
        f'<tr class="{"chosen" if r.plan.id == chosen else ""}"><td class="l">{_e(r.plan.id)}</td>'
        f'<td class="l">{_e(r.plan.name)}</td><td class="l">{_e(r.plan.description)}</td></tr>'
        for r in comp.results
    ]
    parts.append("</table>")
    ops = tr.translate("PlanReport", "Gate operations of the chosen plan")
    parts.append(f"<h2>{_e(ops)}: {_e(pick.plan.name)}</h2>")
    parts += _gate_table(tr, pick, tz)
    note = tr.translate("PlanReport", "Times are local to the basin; levels in the basin datum.")
    parts.append(f'<p class="note">{_e(note)} {_e(str(pick.dataset.attrs.get("scheme", "")))}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _flood_parts(tr: Translator, comp: Comparison, chosen: str | None) -> list[str]:
    """Gate notes, and after a 2D rehearsal the flood rows and a max-depth map per plan."""
    from hydrotwin.app import report_flood as rf

    out: list[str] = []
    notes = rf.gate_notes(tr, comp)
    if notes:
        out.append("<h2>" + _e(tr.translate("PlanReport", "Gates the plans operate")) + "</h2>")
        out += notes
    if comp.rehearsal_hours is None:
        return out
    head = tr.translate("PlanReport", "Flood in the 2D rehearsal (first %1 h)")
    out.append("<h2>" + _e(head.replace("%1", f"{comp.rehearsal_hours:g}")) + "</h2>")
    out += rf.flood_table(tr, comp, chosen)
    out.append("<h2>" + _e(tr.translate("PlanReport", "Maximum depth per plan")) + "</h2>")
    out += rf.depth_maps(tr, comp)
    return out


def _atomic_write(path: str | Path, text: str) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a report is for sharing: not mkstemp's private 0600
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def write_html(
    comp: Comparison,
    path: str | Path,
    chosen: str | None = None,
    lang: str | None = None,
    qm: str | Path | None = None,
) -> Path:
    """Write the HTML report atomically; ``lang`` "zh_CN" or "en" (None: the app's)."""
    return _atomic_write(path, render_html(comp, chosen, Translator(lang, qm)))


def write_json(comp: Comparison, path: str | Path, chosen: str | None = None) -> Path:
    """Write the same numbers as JSON (UTF-8, times ISO 8601 UTC)."""
    chosen = chosen or comp.recommendation.plan_id
    data = comp.to_dict(chosen)
    return _atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
