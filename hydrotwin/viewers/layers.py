"""The layer tree: one checkable row per scene layer, grouped, names in the UI language."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget


class LayerTree(QTreeWidget):
    """Lists ``(key, name)`` layers with visibility check boxes; emits ``visibility_changed``."""

    visibility_changed = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels([self.tr("Layer")])
        self.setRootIsDecorated(False)
        self.itemChanged.connect(self._on_item_changed)
        self._updating = False

    def set_layers(self, layers: list[tuple[str, str, bool]]) -> None:
        """``layers`` is a list of ``(key, display name, visible)``."""
        self._updating = True
        self.clear()
        for key, name, visible in layers:
            item = QTreeWidgetItem([name])
            item.setData(0, Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)
            self.addTopLevelItem(item)
        self._updating = False

    def rows(self) -> list[tuple[str, str, bool]]:
        """``(key, name, visible)`` of every row, as :meth:`set_layers` takes them."""
        out = []
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            visible = item.checkState(0) == Qt.CheckState.Checked
            out.append((item.data(0, Qt.ItemDataRole.UserRole), item.text(0), visible))
        return out

    def keys(self) -> list[str]:
        return [
            self.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
            for i in range(self.topLevelItemCount())
        ]

    def names(self) -> list[str]:
        return [self.topLevelItem(i).text(0) for i in range(self.topLevelItemCount())]

    def _on_item_changed(self, item: QTreeWidgetItem, _col: int) -> None:
        if self._updating:
            return
        key = item.data(0, Qt.ItemDataRole.UserRole)
        self.visibility_changed.emit(key, item.checkState(0) == Qt.CheckState.Checked)
