"""The main window: 3D viewport in the centre, layer tree and basin picker docked at the side,
map coordinates and elevation under the cursor in the status bar.

Opening a basin runs in a worker thread (its ``prepare`` hook may generate data, reading a DEM
takes time); the scene is then built on the GUI thread, where VTK must live. Errors are shown,
never fatal: a broken basin stays listed with its error and the window keeps running.
"""

from __future__ import annotations

import logging
import math
import os
import time

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from hydrotwin.basin.discovery import BasinEntry, discover, find_basin
from hydrotwin.errors import HydroTwinError
from hydrotwin.fourpre.session import TwinSession
from hydrotwin.viewers.basin_picker import BasinPicker
from hydrotwin.viewers.layers import LayerTree
from hydrotwin.viewers.qt_session import QtDispatcher, wait_off_thread
from hydrotwin.viewers.viewport import Viewport

log = logging.getLogger(__name__)
PROCESS_START = time.monotonic()


class _BasinLoader(QObject):
    """Finds and prepares a basin off the GUI thread."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, name_or_path: str) -> None:
        super().__init__()
        self.name_or_path = name_or_path

    def run(self) -> None:
        try:
            basin = find_basin(self.name_or_path)
        except HydroTwinError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # a plugin's prepare hook may fail in any way: report it
            log.exception("loading basin %s failed", self.name_or_path)
            self.failed.emit(f"{self.name_or_path}: {type(exc).__name__}: {exc}")
            return
        self.loaded.emit(basin)


class MainWindow(QMainWindow):
    """HydroTwin's main window. ``basin_opened`` fires once the scene's first frame is drawn."""

    basin_opened = Signal(str)
    basin_failed = Signal(str)

    def __init__(self, lang: str = "zh_CN", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from hydrotwin.viewers.gc_guard import collect_on_gui_thread

        collect_on_gui_thread()  # the window's threads must never free a Qt object
        self.lang = lang
        self.basin = None
        self.scene = None
        self.first_frame_s: float | None = None
        self._thread: QThread | None = None
        self._loader: _BasinLoader | None = None
        self.live = None  # LiveController of the open basin
        self.fourpre = None  # FourPreController: timeline, forecast, BIM
        self.duty = None  # DutyController while duty mode runs (app/duty_controller.py)
        self.panel_docks: list[QDockWidget] = []  # plugin panels of the open basin
        self.dispatch = QtDispatcher(self)
        self.session = TwinSession(dispatch=self.dispatch)
        self._extra_layers: dict[str, object] = {}  # key -> set_visible(bool), e.g. BIM models
        self.setWindowTitle(self.tr("HydroTwin — river-basin flood control"))
        self.resize(1600, 1000)

        self.viewport = Viewport(self)
        self.setCentralWidget(self.viewport)
        self.viewport.cursor_moved.connect(self._show_cursor)
        self.viewport.clicked.connect(self._on_click)

        self.layer_tree = LayerTree(self)
        self.layer_tree.visibility_changed.connect(self._set_layer_visible)
        self.layers_dock = self._dock(self.tr("Layers"), "layers", self.layer_tree)

        self.picker = BasinPicker(self)
        self.picker.basin_chosen.connect(self.open_basin)
        self.basins_dock = self._dock(self.tr("Basins"), "basins", self.picker)
        self.tabifyDockWidget(self.layers_dock, self.basins_dock)
        self.layers_dock.raise_()

        self.coord_label = QLabel(self.tr("Move the cursor over the terrain"))
        self.crs_label = QLabel("")
        self.statusBar().addPermanentWidget(self.crs_label)
        self.statusBar().addWidget(self.coord_label, 1)

        self._build_menus()
        self.refresh_basins()

    # -- construction --------------------------------------------------------------------------
    def _dock(
        self,
        title: str,
        name: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.LeftDockWidgetArea,
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        open_act = QAction(self.tr("Open basin folder…"), self)
        open_act.setShortcut(QKeySequence.StandardKey.Open)
        open_act.triggered.connect(self._open_folder)
        file_menu.addAction(open_act)
        # -- basin builder (新建流域): the dialog writes a plugin folder, which then opens --
        new_act = QAction(self.tr("New basin…"), self)
        new_act.triggered.connect(self._new_basin)
        file_menu.addAction(new_act)
        shot_act = QAction(self.tr("Save screenshot…"), self)
        shot_act.triggered.connect(self._save_screenshot)
        file_menu.addAction(shot_act)
        # -- scenarios and presenter mode (app/scenario_controller.py) --
        from hydrotwin.app.scenario_controller import ScenarioController

        self.scenarios = ScenarioController(self)
        for text, slot in ((self.tr("Open scenario…"), self.scenarios.ask_open),
                           (self.tr("Save scenario…"), self.scenarios.ask_save)):  # fmt: skip
            act = QAction(text, self)
            act.triggered.connect(slot)
            file_menu.addAction(act)
        # -- end scenarios --
        file_menu.addSeparator()
        quit_act = QAction(self.tr("Quit"), self)
        quit_act.setShortcut(QKeySequence.StandardKey.Quit)
        quit_act.triggered.connect(self.close)
        file_menu.addAction(quit_act)

        view_menu = self.menuBar().addMenu(self.tr("&View"))
        reset_act = QAction(self.tr("Reset view"), self)
        reset_act.setShortcut(QKeySequence("R"))
        reset_act.triggered.connect(self.reset_view)
        view_menu.addAction(reset_act)
        view_menu.addAction(self.layers_dock.toggleViewAction())
        view_menu.addAction(self.basins_dock.toggleViewAction())
        presenter_act = QAction(self.tr("Presenter mode"), self)  # 会商模式: scenario controller
        presenter_act.setShortcut(QKeySequence("F11"))
        presenter_act.triggered.connect(self.scenarios.presenter_mode)
        view_menu.addAction(presenter_act)
        self.scenarios.add_actions(view_menu)  # trainer: camera key frames, annotations
        self.view_menu = view_menu

        self.fourpre_menu = self.menuBar().addMenu(self.tr("Four-&pre"))
        self.fourpre_menu.addAction(self.tr("Open a basin first")).setEnabled(False)
        self.live_menu = self.menuBar().addMenu(self.tr("L&ive"))
        self.live_menu.addAction(self.tr("Open a basin first")).setEnabled(False)

        lang_menu = self.menuBar().addMenu(self.tr("&Language"))
        for code, label in (("zh_CN", "简体中文"), ("en", "English")):
            act = QAction(label, self)
            act.setCheckable(True)
            act.setChecked(code == self.lang)
            act.triggered.connect(lambda _checked=False, c=code: self._set_language(c))
            lang_menu.addAction(act)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        about = QAction(self.tr("About HydroTwin"), self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    # -- basins --------------------------------------------------------------------------------
    def refresh_basins(self) -> list[BasinEntry]:
        entries = discover()
        self.picker.set_entries(entries, self.lang)
        return entries

    def open_basin(self, name_or_path: str) -> None:
        """Find and prepare the basin in a worker thread, then build the scene here."""
        if self._thread is not None:
            log.info("a basin is already loading; ignoring %s", name_or_path)
            return
        self.statusBar().showMessage(self.tr("Opening basin {name}…").format(name=name_or_path))
        self._thread = QThread(self)
        self._loader = _BasinLoader(str(name_or_path))
        self._loader.moveToThread(self._thread)
        self._thread.started.connect(self._loader.run)
        self._loader.loaded.connect(self._on_basin_loaded)
        self._loader.failed.connect(self._on_basin_failed)
        self._thread.start()

    def _finish_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None
            self._loader = None

    def _on_basin_failed(self, message: str) -> None:
        self._finish_thread()
        self.statusBar().showMessage(self.tr("Could not open the basin"))
        self.show_error(self.tr("Could not open the basin"), message)
        self.basin_failed.emit(message)

    def _on_basin_loaded(self, basin) -> None:
        self._finish_thread()
        try:
            self._build_scene(basin)
        except HydroTwinError as exc:
            self._on_basin_failed(str(exc))
            return
        self.basin = basin
        names = basin.basin.names
        self.setWindowTitle(f"HydroTwin — {names.zh if self.lang.startswith('zh') else names.en}")
        self.crs_label.setText(basin.basin.crs)
        self.statusBar().showMessage(self.tr("Basin {name} opened").format(name=basin.id), 5000)
        self.viewport.render()
        if self.first_frame_s is None:
            self.first_frame_s = time.monotonic() - PROCESS_START
            log.info("first frame of basin %s after %.2f s", basin.id, self.first_frame_s)
        self.session.warm_up()
        _freeze_heap()
        self.basin_opened.emit(basin.id)

    def _build_scene(self, basin) -> None:
        from hydrotwin.app.fourpre_controller import FourPreController
        from hydrotwin.app.live_controller import LiveController
        from hydrotwin.scenes.scene import BasinScene

        plotter = self.viewport.plotter
        self._close_controllers()
        self._extra_layers.clear()
        if self.scene is not None:
            plotter.clear()
        self.session.open_basin(basin)
        self.scene = BasinScene(basin, plotter, lang=self.lang, clock=self.session.clock)
        self.live = LiveController(self, self.session, self.scene, self.dispatch)
        self.fourpre = FourPreController(self, self.session, self.scene)
        # the station chart opens below the timeline, across the window's width
        self.splitDockWidget(
            self.fourpre.timeline_dock, self.live.hydrograph_dock, Qt.Orientation.Vertical
        )
        self._add_duty_action()  # duty mode (值守): app/duty_controller.py
        self._add_plugin_panels()
        self._add_capacity_menu()  # rain-holding capacity (issue 17)
        from hydrotwin.app.ensemble_controller import EnsembleController

        self.ensemble = EnsembleController(self)  # ensembles on Dask (issue 19)
        self.viewport.set_map_transform(self._local_to_map)
        self.layer_tree.set_layers(
            [(layer.key, layer.title(self.lang), layer.visible) for layer in self.scene.layers]
        )
        self.scene.reset_camera()

    def _local_to_map(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        mx, my, _mz = self.scene.local_to_map(x, y, z)
        return mx, my, self.scene.elevation_at(mx, my)

    # -- actions -------------------------------------------------------------------------------
    def add_extra_layer(self, key: str, title: str, set_visible) -> None:
        """A layer that is not the scene's own (a BIM model): listed and toggled the same way."""
        self._extra_layers[key] = set_visible
        rows = [r for r in self.layer_tree.rows() if r[0] != key]
        self.layer_tree.set_layers([*rows, (key, title, True)])

    def _set_layer_visible(self, key: str, visible: bool) -> None:
        if key in self._extra_layers:
            self._extra_layers[key](visible)
            self.viewport.render()
            return
        if self.scene is not None:
            self.scene.set_visible(key, visible)
            self.viewport.render()

    def _show_cursor(self, x: float, y: float, z: float) -> None:
        if math.isnan(x):
            self.coord_label.setText(self.tr("Off the terrain"))
            return
        zt = self.tr("no data") if math.isnan(z) else f"{z:.1f} m"
        self.coord_label.setText(
            self.tr("X {x:.1f}  Y {y:.1f}  elevation {z}").format(x=x, y=y, z=zt)
        )

    def _on_click(self, x: int, y: int) -> None:
        """A click on a station opens its hydrograph."""
        if self.scene is None:
            return
        if getattr(self, "capacity_dock", None) is not None and self.capacity_dock.pick(x, y):
            return  # a reservoir point of the rain-holding capacity layer (issue 17)
        hit = self.scene.pick(x, y)
        if hit is not None and hit.layer == "stations" and hit.item and self.live is not None:
            self.live.show_hydrograph(hit.item)

    def reset_view(self) -> None:
        if self.scene is not None:
            self.scene.reset_camera()
            self.viewport.render()

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open basin folder"))
        if folder:
            self.open_basin(folder)

    def _new_basin(self) -> None:
        from hydrotwin.viewers.basin_builder import BasinBuilderDialog

        dlg = BasinBuilderDialog(self)
        dlg.basin_built.connect(lambda folder: (self.refresh_basins(), self.open_basin(folder)))
        dlg.basin_built.connect(dlg.accept)
        dlg.open()

    def _save_screenshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save screenshot"), "hydrotwin.png", self.tr("PNG images (*.png)")
        )
        if path:
            self.grab().save(path)

    def _set_language(self, code: str) -> None:
        from hydrotwin.app.settings import settings

        settings().setValue("language", code)
        QMessageBox.information(
            self, self.tr("Language"), self.tr("The language changes when HydroTwin restarts.")
        )

    def _about(self) -> None:
        from hydrotwin import __version__

        QMessageBox.about(
            self,
            self.tr("About HydroTwin"),
            self.tr(
                "HydroTwin {version}: a digital twin for river-basin flood control "
                "(forecast, warning, rehearsal, plan)."
            ).format(version=__version__),
        )

    def show_error(self, title: str, message: str) -> None:
        """Non-modal error box: the app keeps running and the message stays readable."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self
        )
        box.setModal(False)
        box.setObjectName("error_box")
        box.show()
        self._last_error = box

    # -- rain-holding capacity (纳雨能力, issue 17): menu entry and dock --------------------------
    def _add_capacity_menu(self) -> None:
        act = QAction(self.tr("Rain-holding capacity…"), self)
        act.triggered.connect(self.open_capacity)
        self.fourpre_menu.addAction(act)

    def open_capacity(self, path: str | None = None, forecast: str | None = None) -> None:
        """Open the capacity dock on a reservoir table (asked for when not given)."""
        from hydrotwin.viewers.capacity import CapacityDock

        if path is None:
            kinds = self.tr("Reservoir tables (*.gpkg *.csv)")
            path, _ = QFileDialog.getOpenFileName(self, self.tr("Reservoir table"), "", kinds)
            if not path:
                return
            forecast, _ = QFileDialog.getOpenFileName(
                self, self.tr("Rain forecast (optional)"), "", self.tr("CSV files (*.csv)")
            )
        if getattr(self, "capacity_dock", None) is None:
            top = float(self.scene.terrain.mesh.bounds[5]) + 30.0  # points float over the terrain
            self.capacity_dock = CapacityDock(
                self, plotter=self.viewport.plotter, origin=tuple(self.scene.origin), z_local=top
            )
            self.addDockWidget(Qt.BottomDockWidgetArea, self.capacity_dock)
        store = getattr(getattr(self.live, "store", None), "where", None)  # the followed store
        self.capacity_dock.compute(path, forecast=forecast or None, store=store)
        self.capacity_dock.show()

    def _add_plugin_panels(self) -> None:
        """The one place a panel is added: each ``(title, factory)`` that the basin's plugins
        return from ``hydrotwin_panels`` becomes a dock; ``factory(parent, session)`` builds a
        widget that follows the session (see docs/plugins.md)."""
        from hydrotwin.basin.hooks import local_name, plugin_manager

        for answer in plugin_manager().hook.hydrotwin_panels(
            basin=self.basin or self.session.basin
        ):
            for name, factory in answer or []:
                title = local_name(name, self.lang)
                try:
                    widget = factory(self, self.session)
                except Exception as exc:  # a plugin's panel must not take the app down
                    log.exception("panel %s of a plugin failed", title)
                    self.show_error(self.tr("Plugin panel"), f"{title}: {exc}")
                    continue
                dock = self._dock(title, f"panel_{len(self.panel_docks)}", widget,
                                  Qt.DockWidgetArea.RightDockWidgetArea)  # fmt: skip
                self.view_menu.addAction(dock.toggleViewAction())
                self.panel_docks.append(dock)

    # -- duty mode (值守): the service and its dock live in app/duty_controller.py -------------
    def _add_duty_action(self) -> None:
        self.fourpre_menu.addSeparator()
        self.fourpre_menu.addAction(self.tr("Duty mode…")).triggered.connect(self.start_duty)

    def start_duty(self) -> None:
        from hydrotwin.app.duty_controller import DutyController

        if self.duty is not None:
            return
        if self.session.store is None:
            self.show_error(self.tr("Duty mode"), self.tr("Open a live store first (Live menu)."))
            return
        self.duty = DutyController(self, self.session)

    def _close_controllers(self) -> None:
        """Stop and remove the live and four-pre controllers of the open basin (their threads
        are joined) and the plugin panels; the session drops the basin's state."""
        if self.duty is not None:
            self.duty.close()
            self.duty = None
        for dock in self.panel_docks:
            self.view_menu.removeAction(dock.toggleViewAction())
            self.removeDockWidget(dock)
            dock.deleteLater()
        self.panel_docks.clear()
        if getattr(self, "capacity_dock", None) is not None:  # issue 17
            self.capacity_dock.close()
            self.removeDockWidget(self.capacity_dock)
            self.capacity_dock = None
        if getattr(self, "ensemble", None) is not None:  # issue 19: its Dask client too
            self.ensemble.close()
            self.ensemble = None
        self.session.reset()
        if self.live is not None:
            self.live.close()
            self.live = None
        if self.fourpre is not None:
            self.fourpre.close()
            self.fourpre = None

    def closeEvent(self, event) -> None:
        """Stop every worker (basin loader, live sources, forecast, BIM loads) before closing:
        a QThread destroyed while running aborts the process."""
        self._finish_thread()
        self._close_controllers()
        self.session.close()
        wait_off_thread()
        self.dispatch.close()
        self.viewport.close_plotter()
        super().closeEvent(event)


def _freeze_heap() -> None:
    """Move what opening the basin built (scene, Qt wrappers, manifests) out of the cyclic
    collector's generations, so that a later full collection — which runs on whichever thread
    allocates and holds the interpreter — does not walk them again while a worker's result is
    unpacked. A precaution from the latency hunt behind the watchdog test; its own effect was
    not measured apart from the rest."""
    import gc

    gc.collect()
    gc.freeze()


def run_app(basin: str | None = None, lang: str | None = None) -> int:
    """Start the Qt application; open ``basin`` (id or path), else the last or the first one."""
    from hydrotwin.app.i18n import choose_language, install_translators
    from hydrotwin.app.settings import settings

    os.environ.setdefault("QT_AUTO_SCREEN_SCALE_FACTOR", "1")
    app = QApplication.instance() or QApplication([])
    app.setApplicationName("HydroTwin")
    app.setOrganizationName("hydrotwin")
    from hydrotwin.app.frozen import add_bundled_fonts  # bundle (issue 20)

    add_bundled_fonts()
    st = settings()
    lang = choose_language(lang, st.value("language"))
    translators = install_translators(app, lang)  # noqa: F841 - must stay referenced
    win = MainWindow(lang=lang)
    win.show()
    target = basin or st.value("last_basin")
    if not target:
        ok = [e for e in win.refresh_basins() if e.ok]
        target = ok[0].name if ok else None
    if target:
        win.basin_opened.connect(lambda bid: st.setValue("last_basin", bid))
        QTimer.singleShot(0, lambda: win.open_basin(str(target)))
    if os.environ.get("HYDROTWIN_EXIT_AFTER_FIRST_FRAME"):
        # Used by bench/app_start.py: print the time to first frame and quit.
        def _done(_bid: str) -> None:
            print(f"first_frame_s={win.first_frame_s:.3f}", flush=True)
            if shot := os.environ.get("HYDROTWIN_SCREENSHOT"):  # bundle smoke test (issue 20)
                from hydrotwin.app.first_frame import save_screenshot

                save_screenshot(win, shot)
            QTimer.singleShot(0, app.quit)

        win.basin_opened.connect(_done)
        win.basin_failed.connect(lambda msg: (print(f"failed: {msg}", flush=True), app.exit(1)))
    return app.exec()
