"""Frames of a rehearsal video, rendered off-screen (EGL, no Qt): the flood on the basin scene
with the basin-local clock, the title, the depth legend, the station warning colours and the
trainer's annotations (:mod:`hydrotwin.scenes.annotations`) while their time window runs.

``RehearsalMovie`` owns an off-screen plotter; ``frames()`` yields one RGB image per video
frame. Video time maps to simulated time by ``speedup`` (simulated seconds per video second);
a camera path (key frames in map coordinates, linearly interpolated) is followed when given.
The encoder lives in ``hydrotwin.app.video``: this module knows nothing about files.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

Vec3 = tuple[float, float, float]
# Station id → (times, levels in the basin datum, m).
LevelSeries = Mapping[str, tuple[Sequence[datetime], Sequence[float]]]


@dataclass(frozen=True)
class CameraKey:
    """One key frame of a camera path: at ``t_s`` simulated seconds after the result's first
    time, the camera stands at ``position`` looking at ``focal_point`` (map coordinates of the
    basin CRS, z in the basin datum, m) with ``view_up`` (a direction, default up)."""

    t_s: float
    position: Vec3
    focal_point: Vec3
    view_up: Vec3 = (0.0, 0.0, 1.0)


def camera_at(path: Sequence[CameraKey], t_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position, focal point and unit view-up at ``t_s``: linear between the surrounding keys,
    held before the first and after the last."""
    keys = sorted(path, key=lambda k: k.t_s)
    if not keys:
        raise ValueError("camera path is empty; expected at least one CameraKey")
    ts = [k.t_s for k in keys]
    i = bisect.bisect_right(ts, t_s)
    a, b = keys[max(i - 1, 0)], keys[min(i, len(keys) - 1)]
    w = 0.0 if b.t_s == a.t_s else (t_s - a.t_s) / (b.t_s - a.t_s)
    w = min(max(w, 0.0), 1.0)

    def lerp(p: Vec3, q: Vec3) -> np.ndarray:
        return (1.0 - w) * np.asarray(p, float) + w * np.asarray(q, float)

    up = lerp(a.view_up, b.view_up)
    n = float(np.linalg.norm(up))
    return lerp(a.position, b.position), lerp(a.focal_point, b.focal_point), up / (n or 1.0)


def follow_camera(plotter, scene, path: Sequence[CameraKey], t_s: float) -> None:
    """Put ``plotter``'s camera where the path has it at ``t_s`` (map → the scene's frame);
    the video and the app's 3D view during playback both use it."""
    pos, focal, up = camera_at(path, t_s)
    cam = plotter.camera
    cam.position = tuple(float(v) for v in scene.map_to_local(*pos))
    cam.focal_point = tuple(float(v) for v in scene.map_to_local(*focal))
    cam.up = tuple(float(v) for v in up)
    plotter.renderer.ResetCameraClippingRange()


def resolve_result(result: str | Path) -> Path:
    """A rehearsal folder (``hydrotwin rehearse --out DIR``) or its NetCDF → the NetCDF path."""
    from hydrotwin.errors import InputDataError

    p = Path(result)
    if p.is_dir():
        p = p / "rehearsal.nc"
    if not p.is_file():
        raise InputDataError(
            f"rehearsal result {result}: no such file; expected a rehearsal folder holding "
            "rehearsal.nc or the .nc file itself"
        )
    return p


def video_times(start: datetime, end: datetime, fps: float, speedup: float) -> list[datetime]:
    """Simulated time of every video frame: ``round(span / speedup · fps)`` frames (at least
    one), frame k at ``start + k / fps · speedup``."""
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps = {fps!r}; expected a frame rate > 0")
    if not (math.isfinite(speedup) and speedup > 0):
        raise ValueError(f"speedup = {speedup!r}; expected simulated seconds per video second > 0")
    span_s = (end - start).total_seconds()
    n = max(1, round(span_s / speedup * fps))
    return [start + timedelta(seconds=k / fps * speedup) for k in range(n)]


def rehearsal_station_levels(basin, ds) -> dict[str, tuple[list[datetime], np.ndarray]]:
    """Water surface of a rehearsal result (``wse(time, y, x)``, basin datum) at every station
    with thresholds that lies on its grid; dry cells give NaN (no signal)."""
    from hydrotwin.timeutil import datetimes_from_datetime64

    if "wse" not in ds:
        return {}
    times = datetimes_from_datetime64(ds["time"].values)
    xs, ys = ds["x"].values, ds["y"].values
    dx, dy = abs(xs[1] - xs[0]), abs(ys[1] - ys[0])
    out = {}
    for st in basin.stations:
        if not _graded(st, basin):
            continue
        j, i = int(np.argmin(np.abs(xs - st.x))), int(np.argmin(np.abs(ys - st.y)))
        if abs(xs[j] - st.x) > dx or abs(ys[i] - st.y) > dy:
            continue
        out[st.id] = (times, np.asarray(ds["wse"][:, i, j].values, dtype=float))
    return out


def _graded(station, basin) -> bool:
    from hydrotwin.fourpre.warning import StationThresholds

    th = StationThresholds.from_station(station, basin)
    return any(v is not None for v in (th.blue_m, th.yellow_m, th.orange_m, th.red_m))


def forecast_station_levels(ds) -> dict[str, tuple[list[datetime], np.ndarray]]:
    """``station_level(station, time)`` of a forecast Dataset as level series."""
    from hydrotwin.timeutil import datetimes_from_datetime64

    times = datetimes_from_datetime64(ds["time"].values)
    lv = ds["station_level"]
    return {
        str(s): (times, np.asarray(lv.sel(station=s).values, dtype=float))
        for s in ds["station"].values
    }


class StationColours:
    """Warning grade of each station at a time, from level series and the stations' thresholds
    (fourpre.warning's classification, so the video shows what the alarm list would)."""

    def __init__(self, basin, levels: LevelSeries) -> None:
        from hydrotwin.fourpre.warning import StationThresholds

        by_id = {s.id: s for s in basin.stations}
        self.series = {}
        for sid, (times, vals) in levels.items():
            st = by_id.get(sid)
            if st is None or not _graded(st, basin):
                continue
            t_s = np.array([t.timestamp() for t in times])
            self.series[sid] = (
                t_s,
                np.asarray(vals, float),
                StationThresholds.from_station(st, basin),
            )

    def at(self, t: datetime) -> dict[str, str]:
        from hydrotwin.fourpre.warning import classify

        out = {}
        for sid, (t_s, vals, th) in self.series.items():
            ok = np.isfinite(vals)
            v = float(np.interp(t.timestamp(), t_s[ok], vals[ok])) if ok.sum() else math.nan
            level = classify(v, th)[0] if math.isfinite(v) else None
            out[sid] = "none" if level is None else level.name.lower()
        return out


def _text(plotter, text, pos, size, font_file, name, colour=(255, 255, 255)):
    actor = plotter.add_text(text, position=pos, font_size=size, color=colour,
                             font_file=font_file, name=name)  # fmt: skip
    prop = actor.GetTextProperty()
    prop.SetBackgroundColor(0.10, 0.14, 0.20)
    prop.SetBackgroundOpacity(0.65)
    return actor


def legend_rows(lang: str, clim_m: tuple[float, float]) -> list[tuple[str, tuple[int, int, int]]]:
    """Rows of the burned-in legend: the depth classes, then the warning colours."""
    from hydrotwin.scenes.stations import STATUS_RGB
    from hydrotwin.scenes.water import depth_classes

    zh = lang.startswith("zh")
    classes = depth_classes(clim_m)
    rows = [(f"{lo:g}–{hi:g} m", rgb) for lo, hi, rgb in classes[:-1]]
    rows.append((f"≥ {classes[-1][0]:g} m", classes[-1][2]))
    names = {"blue": "蓝色预警", "yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警"}
    rows += [(names[k] if zh else f"{k.capitalize()} warning", STATUS_RGB[k]) for k in names]
    return rows


class RehearsalMovie:
    """The off-screen scene of a rehearsal result, ready to render video frames.

    ``result`` is a rehearsal NetCDF (``hydrotwin rehearse``'s ``rehearsal.nc``). ``levels``
    gives station level series for the warning colours (default: the result's water surface
    at the stations). The terrain is the app's: its colours draped over a coarser mesh
    (``scenes.terrain``). Close it (or use ``with``) to
    free the plotter and the file.
    """

    def __init__(
        self,
        basin,
        result: str | Path,
        *,
        size: tuple[int, int] = (1920, 1080),
        title: str | None = None,
        lang: str = "zh_CN",
        camera_path: Sequence[CameraKey] | None = None,
        levels: LevelSeries | None = None,
        terrain_geometry_cells: int | None = None,
        annotations: Sequence = (),
    ) -> None:
        from hydrotwin.scenes.annotations import AnnotationLayer
        from hydrotwin.scenes.render import offscreen_scene
        from hydrotwin.scenes.water import play_result

        self.size = (int(size[0]), int(size[1]))
        kw = {"terrain_geometry_cells": terrain_geometry_cells} if terrain_geometry_cells else {}
        self.plotter, self.scene = offscreen_scene(basin, self.size, lang=lang, **kw)
        try:
            self.water, self._stop, self.ds = play_result(self.scene, resolve_result(result))
        except BaseException:
            self.plotter.close()
            raise
        self.basin = basin
        self.camera_path = list(camera_path or [])
        series = levels if levels is not None else rehearsal_station_levels(basin, self.ds)
        self.stations = StationColours(basin, series)
        self._overlays(title, lang)
        # notes follow the scene clock, which render_at sets: shown inside their window only
        self.notes = AnnotationLayer(self.scene, annotations, round(26 * self.size[1] / 1080))

    def _overlays(self, title: str | None, lang: str) -> None:
        p, s = self.plotter, self.scene
        font = s.font_file
        zh = s.label_lang.startswith("zh")
        k = self.size[1] / 1080.0
        if title is None:
            n = self.basin.basin.names
            title = f"{n.zh} 洪水预演" if zh else f"{n.en} flood rehearsal"
        _text(p, title, "upper_left", round(22 * k), font, "movie-title")
        # A plain text actor (not a corner annotation): its text is replaced every frame.
        clock_xy = (self.size[0] - round(16 * k), self.size[1] - round(48 * k))
        self.clock_actor = _text(p, self._clock_text(), clock_xy, round(24 * k), font,
                                 "movie-clock")  # fmt: skip
        self.clock_actor.GetTextProperty().SetJustificationToRight()
        rows = legend_rows(s.label_lang, self.water.clim_m)
        head = "淹没水深" if zh else "Flood depth"
        w = self.size[0]
        x, row_h, fs = w - round(230 * k), round(30 * k), round(13 * k)
        top = round(20 * k) + len(rows) * row_h
        _text(p, head, (x, top), fs, font, "movie-legend-head")
        for i, (text, rgb) in enumerate(rows):
            y = top - (i + 1) * row_h
            _text(p, "■", (x, y), round(fs * 1.4), font, f"movie-legend-sq{i}", colour=rgb)
            _text(p, text, (x + round(34 * k), y), fs, font, f"movie-legend-{i}")

    def _clock_text(self) -> str:
        c = self.scene.clock
        return f"{c.format_local('%Y-%m-%d %H:%M')}  ({c.tz})"

    @property
    def start(self) -> datetime:
        return self.scene.clock.start

    @property
    def end(self) -> datetime:
        return self.scene.clock.end

    def render_at(self, t: datetime) -> np.ndarray:
        """The (height, width, 3) uint8 image of the scene at simulated time ``t``."""
        s = self.scene
        s.clock.set_time(t)  # the water layer follows the clock
        for sid, level in self.stations.at(s.clock.now).items():
            s.set_status(sid, level)
        if self.camera_path:
            follow_camera(self.plotter, s, self.camera_path, (t - self.start).total_seconds())
        self.clock_actor.SetInput(self._clock_text())
        self.plotter.render_window.Render()
        return np.asarray(self.plotter.screenshot(return_img=True))[..., :3]

    def frames(
        self, fps: float, speedup: float, cancelled: Callable[[], bool] | None = None
    ) -> Iterator[np.ndarray]:
        """Images of every video frame in order (see :func:`video_times`); stops early when
        ``cancelled()`` turns true."""
        for t in video_times(self.start, self.end, fps, speedup):
            if cancelled is not None and cancelled():
                return
            yield self.render_at(t)

    def close(self) -> None:
        self.notes.close()
        self._stop()
        self.ds.close()
        self.plotter.close()

    def __enter__(self) -> RehearsalMovie:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
