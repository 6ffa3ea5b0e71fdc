"""The 预案 document: the chosen plan of a comparison as a PDF an officer can sign.

ReportLab lays it out and embeds a subset of the CJK font :func:`scenes.fonts.find_cjk_font`
finds, so Chinese text is real text (``pdftotext`` reads it). Each section starts a page:
cover with signature block; recommendation, its rule and the indicator table; maps (max depth
and arrival time of the chosen plan, the difference to another plan) with scale bar, north
arrow and legend; hydrographs with thresholds; operation orders, thresholds crossed and the
evacuation list. Rasters are drawn with numpy + Pillow (the HTML report's ramp), charts with
ReportLab's own graphics. Labels are Qt translations (context ``PlanPdf``), Chinese by default.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP
from reportlab.graphics.shapes import Drawing, Line, PolyLine, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from hydrotwin import __version__
from hydrotwin.app.report import PLAN_COLOURS, WARNING_LINE, Translator
from hydrotwin.app.report_flood import BUILDING, RAMP, block_max, depth_rgb
from hydrotwin.errors import InputDataError
from hydrotwin.files import atomic_path
from hydrotwin.fourpre.plan import Comparison, PlanResult, gate_operations, recommendation_rule
from hydrotwin.fourpre.warning import Level, StationThresholds, WarningEngine, grade

if TYPE_CHECKING:
    from hydrotwin.fourpre.warning import AlarmEvent

C = "PlanPdf"
# plan_table's row labels by the last part of their key (lupdate collects these)
ROW_LABELS = {
    "peak_level_m": QT_TRANSLATE_NOOP("PlanPdf", "Peak level"),
    "peak_outflow_m3s": QT_TRANSLATE_NOOP("PlanPdf", "Peak release"),
    "grade": QT_TRANSLATE_NOOP("PlanPdf", "Highest warning grade"),
    "hours_above_warning": QT_TRANSLATE_NOOP("PlanPdf", "Hours at or above warning"),
    "flooded_km2": QT_TRANSLATE_NOOP("PlanPdf", "Flooded area (depth ≥ 0.15 m)"),
    "buildings_deep": QT_TRANSLATE_NOOP("PlanPdf", "Buildings in water deeper than 0.5 m"),
    "people_deep": QT_TRANSLATE_NOOP("PlanPdf", "People in water deeper than 0.5 m"),
    "max_depth_m": QT_TRANSLATE_NOOP("PlanPdf", "Max depth"),
    "arrival_h": QT_TRANSLATE_NOOP("PlanPdf", "Arrival (depth ≥ 0.15 m)"),
    "duration_h": QT_TRANSLATE_NOOP("PlanPdf", "Duration of flooding"),
}
FONT = "HydroTwinCJK"
PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
TEXT_W = PAGE_W - 2 * MARGIN
DRY_RGB = (232, 232, 226)
MAP_MAX_H = 280.0
ARRIVAL_RAMP = ((0.0, (189, 0, 38)), (0.5, (253, 141, 60)), (1.0, (255, 237, 160)))


@dataclass(frozen=True)
class DocInfo:
    """What the cover says beyond the numbers: who prepared it, for whom, which storm."""

    prepared_by: str = ""
    organisation: str = ""
    title: str = ""


def _font(lang: str) -> str:
    """Register the CJK font once; English without one falls back to Helvetica."""
    from hydrotwin.scenes.fonts import find_cjk_font

    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    path = find_cjk_font()
    if path is None:
        if lang.startswith("zh"):
            raise InputDataError(
                "PDF in Chinese: no font with Chinese glyphs found (expected fonts-wqy-microhei "
                "or $HYDROTWIN_CJK_FONT naming a .ttf/.ttc)"
            )
        return "Helvetica"
    pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
    return FONT


class _Styles:
    def __init__(self, font: str) -> None:
        base = {"fontName": font, "wordWrap": "CJK", "leading": 14, "fontSize": 10}
        self.body = ParagraphStyle("body", **base)
        self.small = ParagraphStyle("small", **{**base, "fontSize": 8, "leading": 10})
        self.h1 = ParagraphStyle("h1", **{**base, "fontSize": 24, "leading": 32, "alignment": 1})
        self.h2 = ParagraphStyle("h2", **{**base, "fontSize": 15, "leading": 22, "spaceAfter": 6})
        self.h3 = ParagraphStyle("h3", **{**base, "fontSize": 11, "leading": 16, "spaceBefore": 6})
        self.cell = ParagraphStyle("cell", **{**base, "fontSize": 8, "leading": 10})


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(st: _Styles, rows: list[list[Any]], widths: list[float] | None = None) -> Table:
    cells = [
        [c if isinstance(c, Flowable) else Paragraph(_esc(c), st.cell) for c in r] for r in rows
    ]
    t = Table(cells, colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return t


# -- maps ---------------------------------------------------------------------------------------


def _nice_length(span_m: float) -> float:
    """A round scale-bar length near a quarter of the map's width (1, 2 or 5 × 10^k m)."""
    target = span_m / 4.0
    k = 10 ** np.floor(np.log10(target))
    return float(max(m * k for m in (1, 2, 5) if m * k <= target))


class MapFlowable(Flowable):
    """A raster map, north up, with a scale bar, a north arrow and a legend under it."""

    def __init__(
        self,
        rgb: np.ndarray,
        extent: tuple[float, float, float, float],
        legend: list[tuple[tuple[int, int, int], str]],
        font: str,
        title: str,
    ) -> None:
        super().__init__()
        self.rgb, self.extent, self.legend, self.font, self.title = rgb, extent, legend, font, title
        x0, x1, y0, y1 = extent
        aspect = (y1 - y0) / (x1 - x0)
        self.map_w = min(TEXT_W, MAP_MAX_H / aspect)  # two maps fit on a page
        self.map_h = self.map_w * aspect
        self.width, self.height = self.map_w, self.map_h + 52

    def draw(self) -> None:
        from PIL import Image
        from reportlab.lib.utils import ImageReader

        c = self.canv
        y_map = 40
        c.setFont(self.font, 11)
        c.drawString(0, self.height - 10, self.title)
        c.drawImage(ImageReader(Image.fromarray(self.rgb, "RGB")), 0, y_map, self.map_w, self.map_h)
        c.setStrokeColor(colors.black)
        c.rect(0, y_map, self.map_w, self.map_h)
        self._scale_bar(y_map)
        self._north_arrow(y_map)
        self._legend()

    def _scale_bar(self, y_map: float) -> None:
        c = self.canv
        x0, x1, _, _ = self.extent
        length_m = _nice_length(x1 - x0)
        w = self.map_w * length_m / (x1 - x0)
        bx, by = 10, y_map + 10
        c.setFillColor(colors.white)
        c.rect(bx - 4, by - 4, w + 8, 20, fill=1, stroke=0)
        for i in range(4):  # alternating black/white quarters
            c.setFillColor(colors.black if i % 2 == 0 else colors.white)
            c.rect(bx + i * w / 4, by, w / 4, 4, fill=1, stroke=1)
        c.setFillColor(colors.black)
        c.setFont(self.font, 7)
        label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
        c.drawString(bx, by + 6, "0")
        c.drawRightString(bx + w, by + 6, label)

    def _north_arrow(self, y_map: float) -> None:
        c = self.canv
        cx, top = self.map_w - 18, y_map + self.map_h - 8
        c.setFillColor(colors.black)
        p = c.beginPath()
        p.moveTo(cx, top)
        p.lineTo(cx - 6, top - 20)
        p.lineTo(cx, top - 15)
        p.lineTo(cx + 6, top - 20)
        p.close()
        c.drawPath(p, fill=1, stroke=0)
        c.setFont(self.font, 9)
        c.drawCentredString(cx, top - 31, "N")

    def _legend(self) -> None:
        c = self.canv
        c.setFont(self.font, 7)
        x = 0.0
        for rgb, text in self.legend:
            c.setFillColorRGB(*(v / 255 for v in rgb))
            c.rect(x, 22, 12, 9, fill=1, stroke=1)
            c.setFillColor(colors.black)
            c.drawString(x + 15, 24, text)
            x += 20 + c.stringWidth(text, self.font, 7) + 10


def _grid(path: Path, var: str) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    from hydrotwin.fourpre.flood import open_rehearsal

    with open_rehearsal(path) as ds:
        a = ds[var].values.astype(float)
        x, y = ds.x.values, ds.y.values
    dx, dy = abs(x[1] - x[0]), abs(y[1] - y[0])
    if y[0] < y[-1]:
        a = a[::-1]
    return a, (x.min() - dx / 2, x.max() + dx / 2, y.min() - dy / 2, y.max() + dy / 2)


def _ramp(v: np.ndarray, stops: tuple, mask: np.ndarray) -> np.ndarray:
    out = np.empty((*v.shape, 3), np.uint8)
    out[:] = DRY_RGB
    xs = [s for s, _ in stops]
    for k in range(3):
        out[..., k] = np.where(mask, np.interp(v, xs, [c[k] for _, c in stops]), out[..., k])
    return out


def _buildings(rgb: np.ndarray, ext: tuple[float, float, float, float], comp: Comparison):
    """Mark the basin's buildings (exposure points) on a north-up map, so places can be found."""
    from hydrotwin.basin.exposure import read_exposure_points

    pts = read_exposure_points(comp.basin)
    if pts is None:
        return rgb
    x0, x1, y0, y1 = ext
    h, w = rgb.shape[:2]
    col = ((np.asarray(pts.x) - x0) / (x1 - x0) * w).astype(int)
    row = ((y1 - np.asarray(pts.y)) / (y1 - y0) * h).astype(int)
    ok = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    out = rgb.copy()
    out[row[ok], col[ok]] = BUILDING
    return out


def _maps(tr: Translator, comp: Comparison, pick: PlanResult, font: str) -> list[Flowable]:
    assert pick.rehearsal_nc is not None
    depth, ext = _grid(pick.rehearsal_nc, "max_depth")
    k = max(1, -(-depth.shape[1] // 900))
    legend = [
        (DRY_RGB, tr.translate("PlanPdf", "dry")),
        (BUILDING, tr.translate("PlanPdf", "building")),
    ]
    legend += [(c, f"≥ {m:g} m") for m, c in RAMP]
    out: list[Flowable] = [
        MapFlowable(
            _buildings(depth_rgb(block_max(depth, k)), ext, comp),
            ext,
            legend,
            font,
            tr.translate("PlanPdf", "Maximum depth") + f" — {pick.plan.name}",
        )
    ]
    arr, _ = _grid(pick.rehearsal_nc, "arrival_time")
    hours = comp.rehearsal_hours or comp.hours
    wet = np.isfinite(arr) & (np.nan_to_num(depth) >= 0.15)
    rel = np.clip(np.nan_to_num(arr) / 3600.0 / hours, 0, 1)
    legend_a = [(DRY_RGB, tr.translate("PlanPdf", "not flooded"))] + [
        (c, f"{f * hours:g} h") for f, c in ARRIVAL_RAMP
    ]
    out += [
        Spacer(1, 8),
        MapFlowable(
            _buildings(_ramp(rel, ARRIVAL_RAMP, wet)[::k, ::k], ext, comp),
            ext,
            legend_a,
            font,
            tr.translate("PlanPdf", "Arrival time (hours after start)"),
        ),
    ]
    others = [r for r in comp.results if r is not pick and r.rehearsal_nc is not None]
    if others:
        other = others[0]
        da = comp.difference(other.plan.id, pick.plan.id)
        d = da.values.astype(float)
        if da.y.values[0] < da.y.values[-1]:  # north up
            d = d[::-1]
        stops = ((-1.0, (33, 102, 172)), (0.0, (247, 247, 247)), (1.0, (178, 24, 43)))
        changed = np.abs(np.nan_to_num(d)) >= 0.05
        legend_d = [(DRY_RGB, "< 0.05 m")] + [(c, f"{v:+g} m") for v, c in stops]
        title = tr.translate("PlanPdf", "Difference of maximum depth") + (
            f": {pick.plan.name} − {other.plan.name}"
        )
        out += [
            PageBreak(),
            MapFlowable(
                _ramp(np.clip(np.nan_to_num(d), -1, 1), stops, changed)[::k, ::k],
                ext,
                legend_d,
                font,
                title,
            ),
        ]
    return out


# -- hydrographs --------------------------------------------------------------------------------


def _chart(
    title: str,
    series: list[tuple[str, np.ndarray, np.ndarray, bool]],
    lines: list[tuple[str, float, str]],
    unit: str,
    font: str,
) -> Drawing:
    """Values against hours since the start: one line per plan (the chosen thick) and dashed
    threshold lines labelled at the right."""
    w, h, left, bottom, right = TEXT_W, 150.0, 42.0, 22.0, 70.0
    d = Drawing(w, h)
    pw, ph = w - left - right, h - bottom - 18
    t_hi = max(float(t[-1]) for _, t, _, _ in series) or 1.0
    vals = np.concatenate(
        [v[np.isfinite(v)] for _, _, v, _ in series] + [np.array([v for _, v, _ in lines])]
    )
    lo, hi = float(vals.min()), float(vals.max())
    pad = max(0.05 * (hi - lo), 0.1)
    lo, hi = lo - pad, hi + pad

    def xy(t: float, v: float) -> tuple[float, float]:
        return left + pw * t / t_hi, bottom + ph * (v - lo) / (hi - lo)

    d.add(String(left, h - 12, title, fontName=font, fontSize=9))
    d.add(Line(left, bottom, left + pw, bottom))
    d.add(Line(left, bottom, left, bottom + ph))
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        d.add(
            String(
                left - 4, xy(0, v)[1] - 3, f"{v:.1f}", fontName=font, fontSize=6, textAnchor="end"
            )
        )
        t = t_hi * k / 4
        d.add(
            String(
                xy(t, lo)[0], bottom - 9, f"{t:g} h", fontName=font, fontSize=6, textAnchor="middle"
            )
        )
    d.add(String(left - 4, bottom + ph + 4, unit, fontName=font, fontSize=6, textAnchor="end"))
    for label, v, colour in lines:
        y = xy(0, v)[1]
        d.add(
            Line(
                left,
                y,
                left + pw,
                y,
                strokeColor=colors.HexColor(colour),
                strokeDashArray=[3, 2],
                strokeWidth=0.8,
            )
        )
        d.add(String(left + pw + 3, y - 3, f"{label} {v:.2f}", fontName=font, fontSize=6))
    for i, (name, t, v, chosen) in enumerate(series):
        pts = [c for tt, vv in zip(t, v, strict=True) if np.isfinite(vv) for c in xy(tt, vv)]
        colour = colors.HexColor(PLAN_COLOURS[i % len(PLAN_COLOURS)])
        d.add(PolyLine(pts, strokeColor=colour, strokeWidth=2.2 if chosen else 0.9))
        d.add(String(left + 4 + 110 * i, h - 24, name, fontName=font, fontSize=6, fillColor=colour))
    return d


def _hours_axis(ds: Any) -> np.ndarray:
    return (ds.time.values - ds.time.values[0]) / np.timedelta64(1, "h")


def _hydrographs(tr: Translator, comp: Comparison, pick: PlanResult, font: str) -> list:
    b, lang = comp.basin, tr.ui_lang
    out: list = []
    for res in b.reservoirs:
        series = [
            (
                r.plan.name,
                _hours_axis(r.dataset),
                r.dataset.reservoir_level.sel(reservoir=res.id).values.astype(float),
                r is pick,
            )
            for r in comp.results
        ]
        lines = [
            (tr.translate("PlanPdf", "flood limit"), res.levels.flood_limit_m, "#2ca02c"),
            (tr.translate("PlanPdf", "design flood"), res.levels.design_flood_m, "#ff7f00"),
            (tr.translate("PlanPdf", "check flood"), res.levels.check_flood_m, "#d62728"),
        ]
        name = res.names.zh if lang.startswith("zh") else res.names.en
        title = f"{name} — " + tr.translate("PlanPdf", "reservoir level")
        out += [_chart(title, series, lines, "m", font), Spacer(1, 4)]
    engine = WarningEngine.from_basin(b)
    for s in pick.stations:
        th: StationThresholds = engine.thresholds[s.station]
        series = [
            (
                r.plan.name,
                _hours_axis(r.dataset),
                r.dataset.station_level.sel(station=s.station).values.astype(float),
                r is pick,
            )
            for r in comp.results
        ]
        lines = [
            (grade(lv).name(lang), v, WARNING_LINE if lv == Level.YELLOW else grade(lv).colour)
            for lv in (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)
            if (v := th.threshold(lv)) is not None
        ]
        name = s.name_zh if lang.startswith("zh") else s.name_en
        title = f"{name} ({s.station}) — " + tr.translate("PlanPdf", "water level")
        out += [_chart(title, series, lines, "m", font), Spacer(1, 4)]
    return out


# -- tables -------------------------------------------------------------------------------------


def _local(t: datetime, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%m-%d %H:%M")


def _indicators(tr: Translator, st: _Styles, comp: Comparison) -> Table:
    ids = [r.plan.id for r in comp.results]
    rows: list[list[Any]] = [
        [tr.translate("PlanPdf", "Indicator")] + [r.plan.name for r in comp.results]
    ]
    for row in comp.rows():
        label = _group_name(comp, row.group, tr.ui_lang)
        what = ROW_LABELS.get(row.key.rpartition(":")[2], row.label)
        what = tr.translate("PlanPdf", what)
        label = f"{label} · {what}" if label else what
        cells = []
        for i in ids:
            v = row.values.get(i)
            text = "—" if v is None else f"{v:.{row.digits}f}"
            if v is not None and row.key.endswith(":grade"):
                text = grade(int(v)).name(tr.ui_lang)
            cells.append(text + (" ★" if i in row.best else ""))
        rows.append([f"{label} ({row.unit})" if row.unit else label, *cells])
    w0 = TEXT_W * 0.46
    return _table(st, rows, [w0] + [(TEXT_W - w0) / len(ids)] * len(ids))


def _group_name(comp: Comparison, group: str, lang: str) -> str:
    kind, _, ref = group.partition(":")
    zh = lang.startswith("zh")
    if kind == "reservoir":
        n = comp.basin.reservoir(ref).names
        return n.zh if zh else n.en
    if kind == "station":
        n = next(s for s in comp.basin.stations if s.id == ref).names
        return n.zh if zh else n.en
    return ref if ref else ""


def _structure_name(comp: Comparison, gate_id: str, lang: str) -> str:
    sid, _, group = gate_id.partition("/")
    b = comp.basin
    for x in [*b.reservoirs, *b.sluice_gates]:
        if x.id == sid:
            return f"{x.names.zh if lang.startswith('zh') else x.names.en} · {group}"
    return gate_id


def _orders(tr: Translator, st: _Styles, comp: Comparison, pick: PlanResult) -> Table:
    """The chosen plan's operation orders: pre-release targets, then every gate change."""
    tz = ZoneInfo(comp.basin.basin.timezone)
    lang = tr.ui_lang
    rows: list[list[Any]] = [
        [
            tr.translate("PlanPdf", "No."),
            tr.translate("PlanPdf", "Structure"),
            tr.translate("PlanPdf", "From"),
            tr.translate("PlanPdf", "Order"),
            tr.translate("PlanPdf", "Responsible / signature"),
        ]
    ]
    for rid, act in pick.plan.reservoirs.items():
        if act.start_level_m is not None:
            res = comp.basin.reservoir(rid)
            name = res.names.zh if lang.startswith("zh") else res.names.en
            order = tr.translate("PlanPdf", "pre-release to level %1 m").replace(
                "%1", f"{act.start_level_m:.2f}"
            )
            rows.append(
                [str(len(rows)), name, tr.translate("PlanPdf", "before the start"), order, ""]
            )
    for gid, ops in gate_operations(pick.dataset).items():
        for h, e in ops:
            t = comp.start + timedelta(hours=h)
            order = tr.translate("PlanPdf", "set opening to %1 m").replace("%1", f"{e:.2f}")
            rows.append(
                [
                    str(len(rows)),
                    _structure_name(comp, gid, lang),
                    f"{_local(t, tz)} (+{h:g} h)",
                    order,
                    "",
                ]
            )
    return _table(st, rows, [26, 150, 90, 150, TEXT_W - 416])


def _warnings(comp: Comparison, pick: PlanResult) -> list[AlarmEvent]:
    """Thresholds the chosen plan's forecast crosses, each at its first crossing."""
    from hydrotwin.timeutil import datetimes_from_datetime64

    engine = WarningEngine.from_basin(comp.basin)
    ds = pick.dataset
    times = datetimes_from_datetime64(ds.time.values)
    out: list[AlarmEvent] = []
    for sid in ds.station.values:
        z = ds.station_level.sel(station=sid).values.astype(float)
        if str(sid) in engine.thresholds and not np.all(np.isnan(z)):
            out += engine.evaluate_forecast(str(sid), times, z, times[0], publish=False)
    return sorted(out, key=lambda e: (e.time, e.station, int(e.level)))


def _warning_table(tr: Translator, st: _Styles, comp: Comparison, pick: PlanResult) -> Table:
    tz = ZoneInfo(comp.basin.basin.timezone)
    names = {
        s.id: (s.names.zh if tr.ui_lang.startswith("zh") else s.names.en)
        for s in comp.basin.stations
    }
    rows: list[list[Any]] = [
        [
            tr.translate("PlanPdf", "Station"),
            tr.translate("PlanPdf", "Grade"),
            tr.translate("PlanPdf", "Threshold (m)"),
            tr.translate("PlanPdf", "Reached"),
            tr.translate("PlanPdf", "Lead time (h)"),
        ]
    ]
    for ev in _warnings(comp, pick):
        rows.append(
            [
                f"{names.get(ev.station, ev.station)} ({ev.station})",
                grade(ev.level).signal(tr.ui_lang),
                f"{ev.threshold:.2f}",
                _local(ev.time, tz),
                f"{ev.lead_time_s / 3600.0:g}",
            ]
        )
    if len(rows) == 1:
        rows.append([tr.translate("PlanPdf", "no threshold is crossed"), "", "", "", ""])
    return _table(st, rows, [170, 90, 80, 90, TEXT_W - 430])


def _evacuation(tr: Translator, st: _Styles, comp: Comparison, pick: PlanResult) -> Table:
    """Places at risk, first reached first: people, buildings, arrival, depth, duration."""
    tz = ZoneInfo(comp.basin.basin.timezone)
    rows: list[list[Any]] = [
        [
            tr.translate("PlanPdf", "Place"),
            tr.translate("PlanPdf", "People"),
            tr.translate("PlanPdf", "Buildings"),
            tr.translate("PlanPdf", "Water arrives"),
            tr.translate("PlanPdf", "Max depth (m)"),
            tr.translate("PlanPdf", "Duration (h)"),
            tr.translate("PlanPdf", "Evacuate"),
        ]
    ]
    places = [] if pick.flood is None else list(pick.flood.places)
    places.sort(key=lambda p: (p.arrival_h is None, p.arrival_h or 0.0, -p.max_depth_m))
    for p in places:
        when = (
            tr.translate("PlanPdf", "not reached")
            if p.arrival_h is None
            else f"{_local(comp.start + timedelta(hours=p.arrival_h), tz)} (+{p.arrival_h:g} h)"
        )
        go = (
            tr.translate("PlanPdf", "yes")
            if p.max_depth_m >= 0.5
            else tr.translate("PlanPdf", "stand by")
        )
        rows.append(
            [
                p.place,
                f"{p.population:g}",
                str(p.buildings),
                when,
                f"{p.max_depth_m:.2f}",
                f"{p.duration_h:g}",
                go,
            ]
        )
    return _table(st, rows, [100, 55, 55, 110, 70, 65, TEXT_W - 455])


# -- the document -------------------------------------------------------------------------------


def _cover(tr: Translator, st: _Styles, comp: Comparison, pick: PlanResult, info: DocInfo) -> list:
    b = comp.basin
    tz = ZoneInfo(b.basin.timezone)
    zh = tr.ui_lang.startswith("zh")
    title = tr.translate("PlanPdf", "Flood-control plan (预案)")
    meta = [
        [
            tr.translate("PlanPdf", "Basin"),
            f"{b.basin.names.zh if zh else b.basin.names.en} ({b.id})",
        ],
        [tr.translate("PlanPdf", "Scenario"), info.title or "—"],
        [tr.translate("PlanPdf", "Storm"), f"{_storm_name(comp, zh)} ({comp.rain})"],
        [
            tr.translate("PlanPdf", "Forecast issued"),
            f"{comp.start.astimezone(tz):%Y-%m-%d %H:%M} {b.basin.timezone}",
        ],
        [tr.translate("PlanPdf", "Forecast length"), f"{comp.hours:g} h"],
        [tr.translate("PlanPdf", "Plan chosen"), f"{pick.plan.name} ({pick.plan.id})"],
        [tr.translate("PlanPdf", "Prepared by"), info.prepared_by or "—"],
        [tr.translate("PlanPdf", "Organisation"), info.organisation or "—"],
        [tr.translate("PlanPdf", "Software"), f"HydroTwin {__version__}"],
    ]
    sign = [
        [
            tr.translate("PlanPdf", "Role"),
            tr.translate("PlanPdf", "Name"),
            tr.translate("PlanPdf", "Signature"),
            tr.translate("PlanPdf", "Date"),
        ]
    ]
    sign += [
        [tr.translate("PlanPdf", r), "", "", ""]
        for r in (
            QT_TRANSLATE_NOOP("PlanPdf", "Prepared"),
            QT_TRANSLATE_NOOP("PlanPdf", "Reviewed"),
            QT_TRANSLATE_NOOP("PlanPdf", "Approved"),
        )
    ]
    sig = _table(st, sign, [90, 130, 170, TEXT_W - 390])
    sig.setStyle(
        TableStyle(
            [
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white]),
                ("BOTTOMPADDING", (0, 1), (-1, -1), 18),
            ]
        )
    )
    return [
        Spacer(1, 60),
        Paragraph(_esc(title), st.h1),
        Spacer(1, 30),
        _table(st, meta, [120, TEXT_W - 120]),
        Spacer(1, 40),
        Paragraph(_esc(tr.translate("PlanPdf", "Signatures")), st.h3),
        sig,
        PageBreak(),
    ]


def _storm_name(comp: Comparison, zh: bool) -> str:
    """The design storm's name in the document's language (else the forecast's description)."""
    sid = comp.rain.removeprefix("design:").split(" ")[0]
    for storm in comp.basin.design_storms:
        if storm.id == sid:
            return storm.names.zh if zh else storm.names.en
    return comp.rain_description


def _recommendation(tr: Translator, st: _Styles, comp: Comparison, pick: PlanResult) -> list:
    rec = comp.recommendation
    name = comp.result(rec.plan_id).plan.name if rec.plan_id else tr.translate("PlanPdf", "none")
    out: list = [
        Paragraph(_esc(tr.translate("PlanPdf", "Recommendation and why")), st.h2),
        Paragraph(_esc(tr.translate("PlanPdf", "Recommended by the rule:") + f" {name}"), st.body),
        Paragraph(_esc(tr.translate("PlanPdf", "Plan chosen:") + f" {pick.plan.name}"), st.body),
        Paragraph(
            _esc(tr.translate("PlanPdf", "Rule:") + " " + recommendation_rule(tr.ui_lang)), st.body
        ),
    ]
    if rec.ranking:
        order = " > ".join(comp.result(i).plan.name for i in rec.ranking)
        out.append(Paragraph(_esc(tr.translate("PlanPdf", "Ranking:") + f" {order}"), st.body))
    if rec.unacceptable:
        bad = ", ".join(f"{comp.result(k).plan.name} ({v})" for k, v in rec.unacceptable.items())
        out.append(
            Paragraph(
                _esc(tr.translate("PlanPdf", "Above the check flood level:") + f" {bad}"), st.body
            )
        )
    out.append(Paragraph(_esc(pick.plan.description), st.small))
    out += [
        Paragraph(_esc(tr.translate("PlanPdf", "Indicators of all plans")), st.h3),
        _indicators(tr, st, comp),
        Paragraph(_esc(tr.translate("PlanPdf", "★ marks the best value of a row.")), st.small),
    ]
    return [*out, PageBreak()]


def build_story(comp: Comparison, chosen: str | None, tr: Translator, info: DocInfo) -> list:
    """The document's flowables, section by section (each section starts a page)."""
    font = _font(tr.ui_lang)
    st = _Styles(font)
    pick = comp.result(chosen or comp.recommendation.plan_id or comp.results[0].plan.id)
    story = _cover(tr, st, comp, pick, info) + _recommendation(tr, st, comp, pick)
    if pick.rehearsal_nc is not None:
        story += [Paragraph(_esc(tr.translate("PlanPdf", "Flood maps")), st.h2)]
        story += [*_maps(tr, comp, pick, font), PageBreak()]
    story += [Paragraph(_esc(tr.translate("PlanPdf", "Hydrographs")), st.h2)]
    story += [*_hydrographs(tr, comp, pick, font), PageBreak()]
    story += [
        Paragraph(
            _esc(tr.translate("PlanPdf", "Operation orders")) + f": {_esc(pick.plan.name)}", st.h2
        ),
        _orders(tr, st, comp, pick),
        Paragraph(_esc(tr.translate("PlanPdf", "Thresholds crossed")), st.h3),
        _warning_table(tr, st, comp, pick),
        Paragraph(_esc(tr.translate("PlanPdf", "Places at risk: evacuation list")), st.h3),
        _evacuation(tr, st, comp, pick),
    ]
    return story


def _footer(font: str, text: str):
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(MARGIN, 10 * mm, text)
        canvas.drawRightString(PAGE_W - MARGIN, 10 * mm, str(doc.page))
        canvas.restoreState()

    return draw


def render_pdf(
    comp: Comparison, chosen: str | None = None, lang: str = "zh_CN", info: DocInfo | None = None
) -> bytes:
    """The 预案 document as PDF bytes (``lang`` "zh_CN" or "en")."""
    tr = Translator(lang)
    info = info or DocInfo()
    story = build_story(comp, chosen, tr, info)
    font = _font(tr.ui_lang)
    buf = io.BytesIO()
    title = tr.translate("PlanPdf", "Flood-control plan (预案)")
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author=info.prepared_by,
        creator=f"HydroTwin {__version__}",
    )
    gen = datetime.now(UTC).astimezone(ZoneInfo(comp.basin.basin.timezone))
    foot = _footer(font, f"{title} — {comp.basin.basin.names.zh} — {gen:%Y-%m-%d %H:%M}")
    doc.build(story, onFirstPage=foot, onLaterPages=foot)
    return buf.getvalue()


def check_pdf_path(path: str | Path) -> Path:
    """Refuse a PDF path whose folder does not exist before any work is done."""
    p = Path(path)
    if not p.parent.is_dir():
        raise InputDataError(
            f"PDF {p}: folder {p.parent} does not exist (expected an existing "
            "folder; it is not created)"
        )
    return p


def write_plan_pdf(
    comp: Comparison,
    path: str | Path,
    chosen: str | None = None,
    lang: str = "zh_CN",
    info: DocInfo | None = None,
) -> Path:
    """Write the 预案 PDF atomically: nothing appears under ``path`` unless it is complete."""
    p = check_pdf_path(path)
    data = render_pdf(comp, chosen, lang, info)
    with atomic_path(p) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return p
