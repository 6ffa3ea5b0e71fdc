"""The plan report's flood part: indicator rows with the best marked, gate notes, and a
max-depth map per plan (a PNG made with numpy and Pillow, inline, legend in metres).

Reads :meth:`Comparison.rows` (the one best-value rule, ``fourpre.plan_table``) so the report
and the app's table mark the same cells.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP

from hydrotwin.basin.exposure import ExposurePoints
from hydrotwin.fourpre.flood import FLOODED_M, max_depth_map

if TYPE_CHECKING:
    from hydrotwin.app.report import Translator
    from hydrotwin.fourpre.plan import Comparison, PlanResult

BEST = "★"
# the last part of a row key → its label (lupdate collects these)
LABELS = {
    "flooded_km2": QT_TRANSLATE_NOOP("PlanReport", "Flooded area, depth ≥ 0.15 m (km²)"),
    "buildings_deep": QT_TRANSLATE_NOOP("PlanReport", "Buildings in water deeper than 0.5 m"),
    "people_deep": QT_TRANSLATE_NOOP("PlanReport", "People in water deeper than 0.5 m"),
    "max_depth_m": QT_TRANSLATE_NOOP("PlanReport", "Max depth (m)"),
    "arrival_h": QT_TRANSLATE_NOOP("PlanReport", "Arrival, depth ≥ 0.15 m (h after start)"),
    "duration_h": QT_TRANSLATE_NOOP("PlanReport", "Duration of flooding (h)"),
}
BEST_NOTE = QT_TRANSLATE_NOOP(
    "PlanReport",
    "★ marks the best value of a row: the lowest, the latest for arrival times (never flooded "
    "is best); a row where every plan is equal has no mark.",
)
PASSES_INFLOW = QT_TRANSLATE_NOOP(
    "PlanReport",
    "a sluice without storage passes its inflow: flows downstream are the same under any opening",
)
# depth colour ramp (m → RGB), light to dark blue; dry land grey, walls white
RAMP = ((0.15, (198, 219, 239)), (0.5, (107, 174, 214)), (1.0, (33, 113, 181)),
        (2.0, (8, 69, 148)), (4.0, (8, 29, 88)))  # fmt: skip
DRY, WALL, BUILDING = (232, 232, 226), (255, 255, 255), (140, 45, 35)
MAP_PX = 700  # widest map drawn; larger grids are shrunk by block maxima


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cell(v: float | None, digits: int, never: str) -> str:
    if v is None:
        return never
    return f"{v:.{digits}f}"


def flood_table(tr: Translator, comp: Comparison, chosen: str | None) -> list[str]:
    """The flood rows (flooded area, deep buildings and people, per place) as an HTML table."""
    res = comp.results
    never = _e(tr.translate("PlanReport", "never flooded"))
    head = "".join(f"<th>{_e(r.plan.name)}<br><span class='note'>{_e(r.plan.id)}</span></th>"
                   for r in res)  # fmt: skip
    out = ["<table>", f'<tr><th class="l">{_e(tr.translate("PlanReport", "Indicator"))}</th>'
           f"{head}</tr>"]  # fmt: skip
    group = None
    for row in comp.rows():
        if not row.group.startswith(("flood", "place:")):
            continue
        if row.group != group and row.group.startswith("place:"):
            name = row.group.partition(":")[2]
            out.append(f'<tr><th class="l" colspan="{len(res) + 1}">{_e(name)}</th></tr>')
        group = row.group
        label = tr.translate("PlanReport", LABELS[row.key.rpartition(":")[2]])
        tds = ""
        for r in res:
            text = _cell(row.values.get(r.plan.id), row.digits, never)
            mark = f" {BEST}" if r.plan.id in row.best else ""
            cls = "chosen" if r.plan.id == chosen else ""
            tds += f'<td class="{cls}">{text}{mark}</td>'
        out.append(f'<tr><td class="l">{_e(label)}</td>{tds}</tr>')
    out += ["</table>", f'<p class="note">{_e(tr(BEST_NOTE))}</p>']
    return out


def gate_notes(tr: Translator, comp: Comparison) -> list[str]:
    """Per plan and operated gate: when the gate is above the water (issue 13 item 8)."""
    lines = []
    for r in comp.results:
        for g in r.gate_effects:
            spans = ", ".join(
                tr.translate("PlanReport", "from %1 h to %2 h")
                .replace("%1", f"{a:g}").replace("%2", f"{b:g}")
                for a, b in g.above_water_h
            )  # fmt: skip
            text = (
                tr.translate("PlanReport", "gate above water") + " " + spans
                if spans
                else tr.translate("PlanReport", "gate in the water throughout")
            )
            if g.controls_h == 0:
                text += "; " + tr.translate("PlanReport", "its opening changes nothing")
            if g.passes_inflow:
                text += "; " + tr(PASSES_INFLOW)
            lines.append(f"<li>{_e(r.plan.name)} — {_e(g.gate)}: {_e(text)}</li>")
    return ["<ul>", *lines, "</ul>"] if lines else []


def depth_rgb(depth_m: np.ndarray) -> np.ndarray:
    """RGB (ny, nx, 3) uint8 of a max-depth grid: the ramp from 0.15 m, grey dry, white walls."""
    d = np.asarray(depth_m, float)
    out = np.empty((*d.shape, 3), np.uint8)
    out[:] = DRY
    out[np.isnan(d)] = WALL
    wet = np.nan_to_num(d) >= FLOODED_M
    xs = [m for m, _ in RAMP]
    for k in range(3):
        out[..., k] = np.where(wet, np.interp(d, xs, [c[k] for _, c in RAMP]), out[..., k])
    return out


def png_data_uri(rgb: np.ndarray) -> str:
    from PIL import Image

    img = Image.fromarray(rgb, "RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def legend_svg(tr: Translator) -> str:
    """The depth legend: one swatch per ramp stop, labelled in metres."""
    items = [(DRY, tr.translate("PlanReport", "dry (< 0.15 m)")),
             (BUILDING, tr.translate("PlanReport", "building"))]  # fmt: skip
    items += [(c, f"≥ {m:g} m") for m, c in RAMP]
    w = 110 * len(items)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="24" class="chart">']
    for i, (c, text) in enumerate(items):
        x = 110 * i
        parts.append(f'<rect x="{x}" y="4" width="16" height="14" fill="rgb{c}" stroke="#666"/>'
                     f'<text x="{x + 20}" y="16" class="tk">{_e(text)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def depth_maps(tr: Translator, comp: Comparison) -> list[str]:
    """One max-depth map per rehearsed plan, with the legend once."""
    from hydrotwin.basin.exposure import read_exposure_points

    exposure = read_exposure_points(comp.basin)
    out = [legend_svg(tr), '<div style="display:flex;flex-wrap:wrap;gap:12px">']
    for r in comp.results:
        out.append(_map_figure(r, exposure))
    out.append("</div>")
    return out


def block_max(a: np.ndarray, k: int) -> np.ndarray:
    """Maximum over k×k blocks (NaN-aware): a narrow flooded channel survives shrinking."""
    if k <= 1:
        return a
    ny, nx = a.shape
    pad = np.full((-(-ny // k) * k, -(-nx // k) * k), np.nan)
    pad[:ny, :nx] = a
    blocks = pad.reshape(pad.shape[0] // k, k, pad.shape[1] // k, k)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks stay NaN
        return np.nanmax(blocks, axis=(1, 3))


def _map_figure(r: PlanResult, exposure: ExposurePoints | None) -> str:
    assert r.rehearsal_nc is not None
    da = max_depth_map(r.rehearsal_nc)
    k = -(-da.shape[1] // MAP_PX)
    rgb = depth_rgb(block_max(da.values.astype(float), k))
    if exposure is not None:  # buildings as dark dots, so the towns can be found
        xs, ys = da.x.values, da.y.values
        col = ((exposure.x - xs[0]) / (xs[1] - xs[0]) + 0.5).astype(int) // k
        row = ((exposure.y - ys[0]) / (ys[1] - ys[0]) + 0.5).astype(int) // k
        ok = (row >= 0) & (row < rgb.shape[0]) & (col >= 0) & (col < rgb.shape[1])
        rgb[row[ok], col[ok]] = BUILDING
    if da.y.values[0] < da.y.values[-1]:  # north up
        rgb = rgb[::-1]
    return (f'<figure style="margin:0"><img alt="{_e(r.plan.id)}" src="{png_data_uri(rgb)}">'
            f"<figcaption>{_e(r.plan.name)} ({_e(r.plan.id)})</figcaption></figure>")  # fmt: skip
