"""BIM inspector: spatial tree ↔ 3D selection, properties, isolate/hide, section, measure.

A dockable widget over the app's 3D view. ``BimInspector(plotter)`` takes the pyvista plotter
(a ``pyvistaqt.QtInteractor``) the main window owns; ``load(path, ...)`` tessellates in a
``QThread`` with progress and a cancel button, then puts the model in the scene as a
:class:`~hydrotwin.scenes.bim.BimLayer`. Selecting in the tree highlights in 3D; clicking in
3D selects in the tree. Every user-visible string goes through ``self.tr``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hydrotwin.basin.ifc import IfcLoadCancelledError, IfcModel, Placement, SpatialNode, load_ifc
from hydrotwin.errors import HydroTwinError
from hydrotwin.scenes.bim import BimLayer

log = logging.getLogger(__name__)

GID_ROLE = Qt.ItemDataRole.UserRole


class _LoadWorker(QObject):
    """Runs :func:`load_ifc` off the GUI thread; reports progress, result or error."""

    progress = Signal(float, str)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, path: Path, use_cache: bool) -> None:
        super().__init__()
        self.path = path
        self.use_cache = use_cache
        self.cancel_event = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            model = load_ifc(
                self.path,
                progress=lambda f, stage: self.progress.emit(f, stage),
                cancel=self.cancel_event,
                use_cache=self.use_cache,
            )
        except IfcLoadCancelledError:
            self.cancelled.emit()
        except HydroTwinError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # the GUI shows every error and keeps running
            log.exception("IFC loading failed: %s", self.path)
            self.failed.emit(f"{self.path}: {type(exc).__name__}: {exc}")
        else:
            self.done.emit(model)


class BimInspector(QWidget):
    """Inspector of one IFC model placed in the scene shown by ``plotter``."""

    loaded = Signal(object)  # the BimLayer
    failed = Signal(str)
    cancelled = Signal()
    selection_changed = Signal(str)  # GlobalId, "" when cleared
    distance_measured = Signal(float)

    def __init__(self, plotter: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plotter = plotter
        self.layer: BimLayer | None = None
        self._thread: QThread | None = None
        self._worker: _LoadWorker | None = None
        self._placement_args: dict[str, Any] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._selected: str = ""
        self._measure_points: list[np.ndarray] = []
        self._measure_actor: Any = None
        self._observer: int | None = None
        self._build_ui()
        self._install_click_observer()

    # -- UI --------------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.setWindowTitle(self.tr("BIM inspector"))
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Search name, class or GlobalId"))
        self.search.textChanged.connect(self.filter)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels([self.tr("Name"), self.tr("Class")])
        self.tree.itemSelectionChanged.connect(self._tree_selection_changed)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Set"), self.tr("Property"), self.tr("Value")]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)

        self.btn_isolate = QPushButton(self.tr("Isolate"), self)
        self.btn_hide = QPushButton(self.tr("Hide"), self)
        self.btn_show = QPushButton(self.tr("Show all"), self)
        self.btn_zoom = QPushButton(self.tr("Zoom to"), self)
        self.btn_section = QPushButton(self.tr("Section"), self)
        self.btn_section.setCheckable(True)
        self.btn_measure = QPushButton(self.tr("Measure"), self)
        self.btn_measure.setCheckable(True)
        self.btn_isolate.clicked.connect(lambda: self.isolate_selected())
        self.btn_hide.clicked.connect(lambda: self.hide_selected())
        self.btn_show.clicked.connect(lambda: self.show_all())
        self.btn_zoom.clicked.connect(lambda: self.zoom_to_selected())
        self.btn_section.toggled.connect(self.set_section_enabled)
        self.btn_measure.toggled.connect(self.set_measuring)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.btn_cancel = QPushButton(self.tr("Cancel"), self)
        self.btn_cancel.setVisible(False)
        self.btn_cancel.clicked.connect(self.cancel)
        self.status = QLabel(self)
        self.status.setWordWrap(True)

        tools = QHBoxLayout()
        for b in (
            self.btn_isolate,
            self.btn_hide,
            self.btn_show,
            self.btn_zoom,
            self.btn_section,
            self.btn_measure,
        ):
            tools.addWidget(b)
        load_row = QHBoxLayout()
        load_row.addWidget(self.progress, 1)
        load_row.addWidget(self.btn_cancel)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.tree)
        split.addWidget(self.table)
        lay = QVBoxLayout(self)
        lay.addWidget(self.search)
        lay.addLayout(tools)
        lay.addWidget(split, 1)
        lay.addLayout(load_row)
        lay.addWidget(self.status)
        self._set_tools_enabled(False)

    def _set_tools_enabled(self, on: bool) -> None:
        for b in (
            self.btn_isolate,
            self.btn_hide,
            self.btn_show,
            self.btn_zoom,
            self.btn_section,
            self.btn_measure,
            self.search,
        ):
            b.setEnabled(on)

    # -- loading -----------------------------------------------------------------------------
    def load(
        self,
        path: str | Path,
        *,
        origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
        exaggeration: float = 1.0,
        crs: str | None = None,
        placement: Placement | None = None,
        use_cache: bool = True,
    ) -> None:
        """Start loading in a worker thread; ``loaded``/``failed``/``cancelled`` follow."""
        if self._thread is not None:
            self.cancel()
            self._thread.quit()
            self._thread.wait()
        self._placement_args = {
            "origin": origin,
            "exaggeration": exaggeration,
            "crs": crs,
            "placement": placement,
        }
        worker = _LoadWorker(Path(path), use_cache)
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.done.connect(self._on_loaded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        for sig in (worker.done, worker.failed, worker.cancelled):
            sig.connect(thread.quit)
        thread.finished.connect(self._thread_finished)
        self._worker, self._thread = worker, thread
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.btn_cancel.setVisible(True)
        self.status.setText(self.tr("Loading {0} …").format(Path(path).name))
        thread.start()

    def load_for_scene(self, scene: Any, bimref: Any) -> None:
        """Load a manifest ``BimRef`` into a ``BasinScene`` (its origin, exaggeration, CRS)."""
        self.load(
            scene.basin.path(bimref.file),
            origin=scene.origin,
            exaggeration=scene.exaggeration,
            crs=scene.basin.basin.crs,
            placement=Placement.from_bimref(bimref),
        )

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel_event.set()

    @property
    def is_loading(self) -> bool:
        return self._thread is not None

    @Slot(float, str)
    def _on_progress(self, fraction: float, stage: str) -> None:
        self.progress.setValue(round(100 * fraction))

    @Slot(object)
    def _on_loaded(self, model: IfcModel) -> None:
        try:
            self.set_model(model, **self._placement_args)
        except HydroTwinError as exc:
            self._on_failed(str(exc))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(self.tr("Could not load the model: {0}").format(message))
        self.failed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self.status.setText(self.tr("Loading cancelled"))
        self.cancelled.emit()

    @Slot()
    def _thread_finished(self) -> None:
        self.progress.setVisible(False)
        self.btn_cancel.setVisible(False)
        if self._thread is not None:
            self._thread.deleteLater()
        self._thread = None
        self._worker = None

    def set_model(
        self,
        model: IfcModel,
        *,
        origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
        exaggeration: float = 1.0,
        crs: str | None = None,
        placement: Placement | None = None,
    ) -> BimLayer:
        """Show an already loaded model (GUI thread): scene layer, tree, tools."""
        if self.layer is not None:
            self.set_section_enabled(False)
            self.layer.remove()
        self.layer = BimLayer(
            model,
            self.plotter,
            origin=origin,
            exaggeration=exaggeration,
            crs=crs,
            placement=placement,
        )
        self._fill_tree(model)
        self._set_tools_enabled(True)
        if model.skipped:
            text = self.tr("{0}: {1} elements, {2} triangles; {3} products skipped").format(
                model.path.name, len(model.elements), len(model.triangles), len(model.skipped)
            )
        else:
            text = self.tr("{0}: {1} elements, {2} triangles").format(
                model.path.name, len(model.elements), len(model.triangles)
            )
        self.status.setText(text)
        self._render()
        self.loaded.emit(self.layer)
        return self.layer

    def _fill_tree(self, model: IfcModel) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items.clear()

        def add(node: SpatialNode, parent: QTreeWidgetItem | None) -> None:
            label = node.name or node.ifc_class or self.tr("(unnamed)")
            if not node.ifc_class:
                label = self.tr("Not in the spatial structure")
            item = QTreeWidgetItem([label, node.ifc_class])
            if node.element >= 0:
                item.setData(0, GID_ROLE, node.global_id)
                self._items[node.global_id] = item
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            for c in node.children:
                add(c, item)

        if model.spatial_root is not None:
            add(model.spatial_root, None)
        else:
            for e in model.elements:
                root = SpatialNode(e.global_id, e.ifc_class, e.name, e.index)
                add(root, None)
        if model.skipped:
            self._add_skipped(model)
        self.tree.expandToDepth(3)
        self.tree.blockSignals(False)

    def _add_skipped(self, model: IfcModel) -> None:
        """A top-level group listing the products the loader skipped (no geometry to pick;
        the tooltip says why and gives the GlobalId)."""
        group = QTreeWidgetItem([self.tr("Skipped (not loaded)"), ""])
        self.tree.addTopLevelItem(group)
        for sp in model.skipped:
            item = QTreeWidgetItem([sp.name or sp.ifc_class, sp.ifc_class])
            if sp.kind == "timeout":
                tip = self.tr(
                    "Not loaded: the geometry kernel took longer than {0} s on it (GlobalId {1})"
                ).format(f"{sp.budget_s:g}", sp.global_id)
            elif sp.kind == "no-surface":
                tip = self.tr(
                    "Not loaded: its body holds curves or points only (GlobalId {0})"
                ).format(sp.global_id)
            elif sp.kind == "kernel":
                tip = self.tr("Not loaded: the geometry kernel failed on it: {0} (GlobalId {1})")
                tip = tip.format(
                    sp.reason.removeprefix("the geometry kernel failed on "), sp.global_id
                )
            else:
                tip = self.tr("Not loaded: the geometry kernel failed on it (GlobalId {0})").format(
                    sp.global_id
                )
            item.setToolTip(0, tip)
            group.addChild(item)

    # -- selection -----------------------------------------------------------------------------
    @property
    def selected(self) -> str:
        return self._selected

    def select(self, global_id: str) -> None:
        """Select an element everywhere: 3D highlight, tree item, properties table."""
        if self.layer is None:
            return
        self._selected = global_id
        self.layer.highlight([global_id] if global_id else [])
        item = self._items.get(global_id)
        self.tree.blockSignals(True)
        self.tree.clearSelection()
        if item is not None:
            item.setSelected(True)
            self.tree.scrollToItem(item)
        self.tree.blockSignals(False)
        self._fill_table(global_id)
        self._render()
        self.selection_changed.emit(global_id)

    def _tree_selection_changed(self) -> None:
        items = self.tree.selectedItems()
        gid = items[0].data(0, GID_ROLE) if items else None
        if gid:
            self.select(str(gid))

    def _fill_table(self, global_id: str) -> None:
        self.table.setRowCount(0)
        if not global_id or self.layer is None:
            return
        model = self.layer.model
        rows: list[tuple[str, str, str]] = []
        el = model.element(global_id)
        rows.append((self.tr("Element"), "GlobalId", el.global_id))
        rows.append((self.tr("Element"), self.tr("Class"), el.ifc_class))
        rows.append((self.tr("Element"), self.tr("Name"), el.name))
        try:
            for k, v in model.attributes(global_id).items():
                if k not in ("GlobalId", "Name", "type"):
                    rows.append((self.tr("Attributes"), k, str(v)))
            for pset, props in model.properties(global_id).items():
                rows.extend((pset, k, str(v)) for k, v in props.items())
            for qset, qs in model.quantities(global_id).items():
                rows.extend((qset, k, str(v)) for k, v in qs.items())
        except HydroTwinError as exc:
            rows.append((self.tr("Error"), "", str(exc)))
        self.table.setRowCount(len(rows))
        for r, (a, b, c) in enumerate(rows):
            for col, text in enumerate((a, b, c)):
                self.table.setItem(r, col, QTableWidgetItem(text))

    def table_rows(self) -> list[tuple[str, str, str]]:
        return [
            tuple(self.table.item(r, c).text() for c in range(3))  # type: ignore[misc]
            for r in range(self.table.rowCount())
        ]

    # -- actions ---------------------------------------------------------------------------------
    def isolate_selected(self) -> None:
        if self.layer is not None and self._selected:
            self.layer.isolate([self._selected])
            self._render()

    def hide_selected(self) -> None:
        if self.layer is not None and self._selected:
            self.layer.hide([self._selected])
            self._render()

    def show_all(self) -> None:
        if self.layer is not None:
            self.layer.show_all()
            self._render()

    def zoom_to_selected(self) -> None:
        if self.layer is not None and self._selected:
            self.plotter.reset_camera(bounds=self.layer.element_bounds(self._selected))
            self._render()

    def filter(self, text: str) -> int:
        """Show only tree items matching name, class or GlobalId (and their parents)."""
        if self.layer is None:
            return 0
        hits = {e.global_id for e in self.layer.model.find(text)}
        it = self.tree.invisibleRootItem()

        def visit(item: QTreeWidgetItem) -> bool:
            any_child = False
            for i in range(item.childCount()):
                any_child |= visit(item.child(i))
            gid = item.data(0, GID_ROLE)
            match = bool(gid) and gid in hits
            show = match or any_child or not text.strip()
            if item is not it:
                item.setHidden(not show)
            return match or any_child

        visit(it)
        return len(hits)

    # -- section plane ---------------------------------------------------------------------------
    def set_section_enabled(self, on: bool) -> None:
        """A draggable plane widget; the model is clipped where the plane is."""
        if self.btn_section.isChecked() != on:
            self.btn_section.blockSignals(True)
            self.btn_section.setChecked(on)
            self.btn_section.blockSignals(False)
        if self.layer is None:
            return
        if on:
            b = self.layer.bounds
            centre = ((b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2)
            self.layer.set_section(centre, (1.0, 0.0, 0.0))
            self.plotter.add_plane_widget(
                self._plane_moved,
                normal=(1.0, 0.0, 0.0),
                origin=centre,
                bounds=b,
                implicit=True,
                pass_widget=False,
            )
        else:
            self.plotter.clear_plane_widgets()
            self.layer.clear_section()
        self._render()

    def _plane_moved(self, normal, origin) -> None:
        if self.layer is not None:
            self.layer.set_section(origin, normal)

    # -- 3D clicks and measuring -------------------------------------------------------------
    def _install_click_observer(self) -> None:
        iren = getattr(self.plotter, "iren", None)
        if iren is None or getattr(iren, "interactor", None) is None:
            return
        self._observer = iren.interactor.AddObserver("LeftButtonPressEvent", self._on_click, 1.0)

    def _on_click(self, obj, _event) -> None:
        x, y = obj.GetEventPosition()
        self.pick_at(x, y)

    def pick_at(self, x_px: float, y_px: float) -> str | None:
        """What a click at display pixel (x, y) does: select, or add a measuring point."""
        if self.layer is None:
            return None
        hit = self.layer.pick_cell(x_px, y_px)
        if self.btn_measure.isChecked():
            if hit is not None:
                self._add_measure_point(hit[1])
            return None if hit is None else self.layer.global_id(hit[0])
        gid = "" if hit is None else self.layer.global_id(hit[0])
        self.select(gid)
        return gid or None

    def set_measuring(self, on: bool) -> None:
        if self.btn_measure.isChecked() != on:
            self.btn_measure.setChecked(on)
            return
        self._measure_points.clear()
        if not on and self._measure_actor is not None:
            self.plotter.remove_actor(self._measure_actor, render=False)
            self._measure_actor = None
        if on:
            self.status.setText(self.tr("Measure: click two points"))

    def _add_measure_point(self, p: np.ndarray) -> None:
        self._measure_points.append(np.asarray(p, dtype=float))
        if len(self._measure_points) < 2:
            self.status.setText(self.tr("Measure: click the second point"))
            return
        a, b = self._measure_points[-2:]
        self._measure_points.clear()
        d = self.layer.distance_m(a, b) if self.layer is not None else float("nan")
        import pyvista as pv

        if self._measure_actor is not None:
            self.plotter.remove_actor(self._measure_actor, render=False)
        self._measure_actor = self.plotter.add_mesh(
            pv.Line(a, b), color="red", line_width=3, name="bim-measure", reset_camera=False
        )
        self.status.setText(self.tr("Distance: {0:.3f} m").format(d))
        self.distance_measured.emit(d)
        self._render()

    def _render(self) -> None:
        try:
            self.plotter.render()
        except (RuntimeError, AttributeError) as exc:  # no window yet (hidden dock)
            log.debug("render skipped: %s", exc)

    def closeEvent(self, event) -> None:
        self.cancel()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        super().closeEvent(event)
