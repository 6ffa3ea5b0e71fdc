"""新建流域 (New basin): pick a DEM, click the outlet, see the network, add stations, save.

The map is a pyqtgraph image of the DEM in its own coordinates, so a click is a map point.
Every step that touches the terrain runs in a worker thread the dialog owns (stopped and
joined when it closes); the conditioned terrain is kept, so moving the stream-density slider
or the outlet only re-extracts the network. Saving writes the plugin folder through
:func:`hydrotwin.basin.builder.build_basin` and emits ``basin_built(folder)``.
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from hydrotwin.errors import HydroTwinError

log = logging.getLogger(__name__)

SLIDER_KM2 = (0.1, 200.0)
"""Stream-start area at the slider's ends (log scale), km²."""

# the builder's (headless, English) step names, translated when shown
STEPS = (
    QT_TRANSLATE_NOOP("BasinBuilderDialog", "reading and conditioning the DEM"),
    QT_TRANSLATE_NOOP("BasinBuilderDialog", "snapping the outlet"),
    QT_TRANSLATE_NOOP("BasinBuilderDialog", "extracting reaches and sub-basins"),
    QT_TRANSLATE_NOOP("BasinBuilderDialog", "writing the basin folder"),
    QT_TRANSLATE_NOOP("BasinBuilderDialog", "done"),
)


def slider_km2(pos: int) -> float:
    lo, hi = (math.log10(v) for v in SLIDER_KM2)
    return round(10 ** (lo + (hi - lo) * pos / 100.0), 2)


class _Job(QObject):
    """One worker run: ``fn(progress, cancelled)`` off the GUI thread."""

    progress = Signal(str, float)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn) -> None:
        super().__init__()
        self.fn = fn
        self.cancel = threading.Event()

    def run(self) -> None:
        try:
            self.done.emit(self.fn(self.progress.emit, self.cancel.is_set))
        except HydroTwinError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a worker must report, never kill the app
            log.exception("basin builder job failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")


class BasinBuilderDialog(QDialog):
    """The dialog (module docstring). ``preview_ready`` fires after each network preview."""

    basin_built = Signal(str)
    preview_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None, out_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("New basin"))
        self.out_dir = out_dir
        self._terrains = None
        self._terrain_key: tuple | None = None
        self._outlet: tuple[float, float] | None = None
        self._stations: list[dict] = []
        self._thread: QThread | None = None
        self._job: _Job | None = None
        self._pending: str | None = None
        self.result = None
        self._build_ui()
        self._debounce = QTimer(self, singleShot=True, interval=300)
        self._debounce.timeout.connect(self.run_preview)
        if parent is not None:  # the window may close first: join the worker then too
            parent.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Close and watched is self.parent():
            self.stop_worker()
        return False

    # -- layout ---------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.dem_edit = QLineEdit()
        dem_btn = QPushButton(self.tr("Browse…"))
        dem_btn.clicked.connect(self._pick_dem)
        self.id_edit = QLineEdit("new_basin")
        self.name_zh = QLineEdit()
        self.name_en = QLineEdit()
        self.stations_edit = QLineEdit()
        st_btn = QPushButton(self.tr("Browse…"))
        st_btn.clicked.connect(self._pick_stations)
        self.slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=40)
        self.slider_label = QLabel()
        self.slider.valueChanged.connect(self._on_slider)
        self.add_station_btn = QPushButton(self.tr("Add stations by clicking"), checkable=True)
        form = QFormLayout()
        form.addRow(self.tr("DEM"), _row(self.dem_edit, dem_btn))
        form.addRow(self.tr("Basin id"), self.id_edit)
        form.addRow(self.tr("Chinese name"), self.name_zh)
        form.addRow(self.tr("English name"), self.name_en)
        form.addRow(self.tr("Stations file"), _row(self.stations_edit, st_btn))
        form.addRow(self.tr("Stream density"), _row(self.slider, self.slider_label))
        form.addRow("", self.add_station_btn)
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem()
        self.labels_img = pg.ImageItem()
        self.labels_img.setOpacity(0.35)
        self.rivers = pg.PlotDataItem([], [], pen=pg.mkPen("#266ed7", width=2), connect="finite")
        self.outlet_dot = pg.ScatterPlotItem(size=12, brush=pg.mkBrush("#c0392b"))
        self.station_dots = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#f1c40f"))
        for item in (self.image, self.labels_img, self.rivers, self.outlet_dot, self.station_dots):
            self.plot.addItem(item)
        self.plot.scene().sigMouseClicked.connect(self._on_map_click)
        self.status = QLabel(self.tr("Pick a DEM, then click the outlet on the map."))
        self.status.setWordWrap(True)
        self.progress = QProgressBar(maximum=100)
        self.cancel_btn = QPushButton(self.tr("Cancel"))
        self.cancel_btn.clicked.connect(self.cancel_job)
        self.save_btn = QPushButton(self.tr("Save basin"))
        self.save_btn.clicked.connect(self.save)
        self.save_btn.setEnabled(False)
        buttons = _row(self.progress, self.cancel_btn, self.save_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.status)
        lay.addWidget(buttons)
        self._on_slider(self.slider.value())
        self.resize(900, 800)

    # -- inputs ---------------------------------------------------------------------------------
    def _pick_dem(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a DEM"))
        if path:
            self.set_dem(path)

    def _pick_stations(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a stations file"))
        if path:
            self.stations_edit.setText(path)
            self._debounce.start()

    def set_dem(self, path: str | Path) -> None:
        """Show the DEM (decimated read) and forget the previous terrain."""
        from hydrotwin.basin.dem import read_dem

        self.dem_edit.setText(str(path))
        try:
            dem = read_dem(path, max_cells=600_000)
        except HydroTwinError as exc:
            self._show_error(str(exc))
            return
        xmin, ymin, xmax, ymax = dem.bounds
        self.image.setImage(np.flipud(dem.z).T, autoLevels=True)
        self.image.setRect(pg.QtCore.QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
        self._terrains = None
        self._terrain_key = None
        self.status.setText(self.tr("Click the outlet on the map."))

    def set_outlet(self, x: float, y: float) -> None:
        self._outlet = (x, y)
        self.outlet_dot.setData([x], [y])
        self.run_preview()

    def add_station(self, x: float, y: float, kind: str = "river") -> None:
        n = len(self._stations) + 1
        self._stations.append({"id": f"9{n:07d}", "name_zh": f"测站{n}", "name_en": f"Station {n}",
                               "kind": kind, "x": x, "y": y})  # fmt: skip
        self.station_dots.setData(
            [s["x"] for s in self._stations], [s["y"] for s in self._stations]
        )
        self._debounce.start()

    def _on_map_click(self, ev) -> None:
        if self.image.image is None:
            return
        p = self.plot.getViewBox().mapSceneToView(ev.scenePos())
        if self.add_station_btn.isChecked():
            self.add_station(p.x(), p.y())
        else:
            self.set_outlet(p.x(), p.y())

    def _on_slider(self, pos: int) -> None:
        self.slider_label.setText(self.tr("rivers from {a} km²").format(a=slider_km2(pos)))
        if self._outlet is not None:
            self._debounce.start()

    # -- work -----------------------------------------------------------------------------------
    def spec(self, out: Path | None = None):
        from hydrotwin.basin.builder import BuildSpec

        st = self.stations_edit.text().strip()
        return BuildSpec(
            basin_id=self.id_edit.text().strip(), dem=Path(self.dem_edit.text()),
            outlet=self._outlet or (0.0, 0.0), out=out,
            stream_km2=slider_km2(self.slider.value()), stations=Path(st) if st else None,
            station_points=list(self._stations), name_zh=self.name_zh.text() or None,
            name_en=self.name_en.text() or None,
        )  # fmt: skip

    def run_preview(self) -> None:
        if self._outlet is None or not self.dem_edit.text():
            return
        self._start("preview", self._preview_fn(self.spec()))

    def _preview_fn(self, spec):
        from hydrotwin.basin import builder

        key = (str(spec.dem), spec.crs)

        def fn(progress, cancelled):
            if self._terrain_key != key or self._terrains is None:
                progress(self.tr("Conditioning the DEM…"), 0.05)
                self._terrains = builder.load(spec)
                self._terrain_key = key
            return builder.preview(spec, progress, cancelled, terrains=self._terrains)

        return fn

    def save(self) -> None:
        from hydrotwin.basin.builder import build_basin
        from hydrotwin.basin.discovery import user_basin_dir

        base = self.out_dir or user_basin_dir()
        spec = self.spec(base / self.id_edit.text().strip())
        terrains = self._terrains
        self._start("save", lambda p, c: build_basin(spec, p, c, terrains=terrains))

    def _start(self, kind: str, fn) -> None:
        if self._thread is not None:  # one job at a time: the newest request wins
            self._pending = kind
            self.cancel_job()
            return
        self._job = _Job(fn)
        self._thread = QThread(self)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        self._job.progress.connect(self._on_progress)
        self._job.done.connect(lambda r: self._on_done(kind, r))
        self._job.failed.connect(self._show_error)
        for sig in (self._job.done, self._job.failed):
            sig.connect(self._thread.quit)
        self._thread.finished.connect(self._on_finished)
        self.save_btn.setEnabled(False)
        self._thread.start()

    def cancel_job(self) -> None:
        if self._job is not None:
            self._job.cancel.set()

    def _on_finished(self) -> None:
        if self._thread is not None:
            self._thread.wait()
            self._thread.deleteLater()
        self._thread, self._job = None, None
        self.save_btn.setEnabled(self.result is not None)
        pending, self._pending = self._pending, None
        if pending == "preview":
            self.run_preview()
        elif pending == "save":
            self.save()

    def _on_progress(self, what: str, frac: float) -> None:
        self.progress.setValue(int(frac * 100))
        self.status.setText(QCoreApplication.translate("BasinBuilderDialog", what))

    def _on_done(self, kind: str, res) -> None:
        self.result = res
        self._draw(res)
        rep = res.report
        self.status.setText(
            self.tr("{area:.1f} km², {n} reaches, outlet snapped {snap:.0f} m").format(
                area=rep["area_km2"], n=rep["reaches"], snap=rep["outlet"]["snap_m"]
            )
        )
        if kind == "save":
            self.basin_built.emit(str(res.folder))
        else:
            self.preview_ready.emit(res)

    def _show_error(self, message: str) -> None:
        self.status.setText(self.tr("Error: {message}").format(message=message))
        self.progress.setValue(0)
        self.failed.emit(message)

    def _draw(self, res) -> None:
        from hydrotwin.basin.builder_network import line_cells

        t = res.terrain
        ncol = t.shape[1]
        ds = np.asarray(t.flw.idxs_ds)
        xs, ys = [], []
        for r in res.network.reaches:
            c = line_cells(r, ds)
            x, y = t.xy(c // ncol, c % ncol)
            xs += [*x, np.nan]
            ys += [*y, np.nan]
        xs, ys = _to_dem_crs(res, np.array(xs), np.array(ys))
        self.rivers.setData(xs, ys)
        lab = res.network.labels.astype(float)
        lab[lab == 0] = np.nan
        # sub-basins as a colour overlay where the analysis grid is the file's own grid
        self.labels_img.setVisible(_file_crs(res) == t.crs)
        self.labels_img.setImage(np.flipud((lab * 7919) % 97).T, autoLevels=True)
        x0, y1 = t.transform.c, t.transform.f
        w, h = ncol * t.transform.a, t.shape[0] * t.transform.e
        self.labels_img.setRect(pg.QtCore.QRectF(x0, y1 + h, w, -h))
        self.labels_img.setLookupTable(pg.colormap.get("CET-C6").getLookupTable(nPts=97))

    def stop_worker(self) -> None:
        """Cancel and join the worker: a QThread destroyed while running aborts the process."""
        self.cancel_job()
        self._pending = None
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()

    def closeEvent(self, event) -> None:
        self.stop_worker()
        super().closeEvent(event)

    def done(self, r: int) -> None:
        self.stop_worker()
        super().done(r)


def _file_crs(res):
    from hydrotwin.basin.builder_terrain import file_crs

    return file_crs(Path(res.report["dem"]))


def _to_dem_crs(res, xs: np.ndarray, ys: np.ndarray):
    """Network coordinates in the DEM file's own CRS (the map shows the file as it is)."""
    from pyproj import Transformer

    src = _file_crs(res)
    if src == res.terrain.crs:
        return xs, ys
    tr = Transformer.from_crs(res.terrain.crs, src, always_xy=True)
    return tr.transform(xs, ys)


def _row(*widgets) -> QWidget:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    for x in widgets:
        lay.addWidget(x)
    return w
