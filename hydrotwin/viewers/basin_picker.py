"""The basin picker: every discovered basin; broken ones are shown with their error."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget


class BasinPicker(QListWidget):
    """Emits ``basin_chosen(name)`` when a valid basin is activated (double click / Enter)."""

    basin_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.itemActivated.connect(self._on_activated)
        self._lang = "zh_CN"

    def set_entries(self, entries, lang: str = "zh_CN") -> None:
        """``entries``: :class:`hydrotwin.basin.discovery.BasinEntry` list."""
        self._lang = lang
        self.clear()
        for e in entries:
            if e.basin is not None:
                names = e.basin.basin.names
                label = names.zh if lang.startswith("zh") else names.en
                item = QListWidgetItem(f"{label}  ({e.name})")
                item.setToolTip(str(e.manifest))
            else:
                item = QListWidgetItem(self.tr("{name} — broken").format(name=e.name))
                item.setForeground(QBrush(QColor("#c0392b")))
                item.setToolTip(e.error or "")
                item.setData(Qt.ItemDataRole.UserRole + 1, e.error)
            item.setData(Qt.ItemDataRole.UserRole, e.name if e.ok else None)
            self.addItem(item)

    def error_of(self, row: int) -> str | None:
        return self.item(row).data(Qt.ItemDataRole.UserRole + 1)

    def _on_activated(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if name:
            self.basin_chosen.emit(name)
