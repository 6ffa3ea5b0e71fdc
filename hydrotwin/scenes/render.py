"""Off-screen rendering of a basin scene: no display, no Qt (VTK through EGL).

``render_basin`` is what ``hydrotwin render`` runs; ``offscreen_scene`` gives tests and
benchmarks the plotter and scene to change and screenshot again.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

# Off-screen VTK renders through EGL (Mesa llvmpipe) with no X server; choosing the EGL window
# up front skips VTK's noisy attempt at X first (anchors/rendering.md). Set before any window.
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

SKY_TOP = "#5b7fa6"
SKY_BOTTOM = "#dfe8ef"


def offscreen_scene(basin, size: tuple[int, int] = (1600, 900), **scene_kwargs):
    """An off-screen plotter (anti-aliasing off: it costs 3–5× on software GL) with the
    basin's scene and the default camera. Returns ``(plotter, scene)``; close the plotter."""
    import pyvista as pv

    from hydrotwin.scenes.scene import BasinScene

    plotter = pv.Plotter(off_screen=True, window_size=tuple(int(v) for v in size))
    plotter.disable_anti_aliasing()
    plotter.set_background(SKY_BOTTOM, top=SKY_TOP)
    scene = BasinScene(basin, plotter, **scene_kwargs)
    scene.reset_camera()
    return plotter, scene


def title_text(basin, lang: str, exaggeration: float) -> str:
    """The render's title: the basin's name and what the picture shows."""
    n = basin.basin.names
    if lang.startswith("zh"):
        return f"{n.zh} 三维场景  (竖向放大 {exaggeration:g} 倍)"
    return f"{n.en} 3D scene  (vertical exaggeration ×{exaggeration:g})"


def legend_entries(lang: str) -> list[tuple[str, tuple[int, int, int]]]:
    """(label, colour) of what the still image shows, in ``lang``."""
    from hydrotwin.fourpre.warning import GRADES
    from hydrotwin.scenes.reservoir import CONCRETE_RGB, LAKE_RGB
    from hydrotwin.scenes.rivers import RIVER_RGB
    from hydrotwin.scenes.stations import STATUS_RGB
    from hydrotwin.scenes.towns import ROOF_RGB

    zh = lang.startswith("zh")
    rows = [
        ("河网" if zh else "Rivers", RIVER_RGB),
        ("水库" if zh else "Reservoir", LAKE_RGB),
        ("大坝、水闸" if zh else "Dam, sluice", CONCRETE_RGB),
        ("城镇" if zh else "Town", ROOF_RGB),
        ("测站" if zh else "Station", STATUS_RGB["none"]),
    ]
    rows += [(g.signal(lang), STATUS_RGB[g.key]) for g in GRADES.values() if g.level > 0]
    return rows


def add_legend(plotter, lang: str, font_file: str | None) -> list:
    """A legend in the lower right: a coloured square and a white label per row, on a dark
    translucent band (VTK's legend box colours the text like the entry, unreadable here)."""
    w, h = plotter.window_size
    scale = h / 900.0
    size = max(6, round(9 * scale))
    row_h = round(24 * scale)
    entries = legend_entries(lang)
    x = w - round(170 * scale)
    actors = []
    for i, (text, rgb) in enumerate(entries):
        y = round(18 * scale) + (len(entries) - 1 - i) * row_h
        for dx, txt, colour, fs in (
            (0, "■", rgb, round(size * 1.4)),
            (round(24 * scale), text, (255, 255, 255), size),
        ):
            actor = plotter.add_text(
                txt,
                position=(x + dx, y - (round(2 * scale) if fs > size else 0)),
                font_size=fs,
                color=colour,
                font_file=font_file,
                name=f"legend-{i}-{dx}",
            )
            prop = actor.GetTextProperty()
            prop.SetBackgroundColor(0.12, 0.16, 0.22)
            prop.SetBackgroundOpacity(0.6)
            actors.append(actor)
    return actors


def write_png(img, out: Path, *, compact: bool = True) -> None:
    """Write an RGB(A) array as PNG, atomically. ``compact`` keeps 6 bits per channel and
    optimises the encoding: about half the bytes, a difference of at most 3/255 per channel
    (the hillshaded terrain's fine noise is what makes full-depth PNGs large)."""
    import numpy as np
    from PIL import Image, ImageOps

    im = Image.fromarray(np.asarray(img)[..., :3].astype(np.uint8), "RGB")
    if compact:
        im = ImageOps.posterize(im, 6)
    tmp = out.with_name(f".{out.name}.part")
    im.save(tmp, format="PNG", optimize=compact)
    tmp.replace(out)


def render_basin(
    basin,
    out: str | Path,
    size: tuple[int, int] = (1600, 900),
    *,
    lang: str = "zh_CN",
    labels: bool = True,
    title: bool = True,
    legend: bool = True,
    bim: bool = True,
    compact: bool = True,
    exaggeration: float | None = None,
    **scene_kwargs,
) -> Path:
    """Render ``basin`` off-screen into the PNG ``out``; returns its path."""
    from hydrotwin.scenes.terrain import RENDER_MAX_CELLS

    t0 = time.perf_counter()
    out = Path(out)
    scene_kwargs.setdefault("max_terrain_cells", RENDER_MAX_CELLS)
    scene_kwargs.setdefault("terrain_geometry_cells", None)  # a still: full-detail silhouettes
    plotter, scene = offscreen_scene(
        basin, size, lang=lang, labels=labels, exaggeration=exaggeration, **scene_kwargs
    )
    try:
        if bim and scene.bim_refs():
            n = scene.load_bim()
            log.info("BIM: %d model(s) placed", n)
        if title:
            plotter.add_text(
                title_text(basin, scene.label_lang, scene.exaggeration),
                position="upper_left",
                font_size=16,
                color=(20, 30, 45),
                font_file=scene.font_file,
                name="title",
            )
            plotter.add_text(
                f"{basin.basin.crs}  ·  {scene.clock.format_local()} ({scene.clock.tz})",
                position="lower_left",
                font_size=9,
                color=(40, 50, 60),
                name="footer",
            )
        if legend:
            add_legend(plotter, scene.label_lang, scene.font_file)
        out.parent.mkdir(parents=True, exist_ok=True)
        img = plotter.screenshot(return_img=True)
        write_png(img, out, compact=compact)
    finally:
        plotter.close()
    log.info("rendered %s (%dx%d) in %.2f s", out, size[0], size[1], time.perf_counter() - t0)
    return out
