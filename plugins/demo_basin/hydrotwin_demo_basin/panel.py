"""An example panel offered through the ``hydrotwin_panels`` hook: the reservoir at a glance.

It shows what a plugin panel should be — a widget that follows the twin session (the clock and
the forecast) and holds no rule of its own: the level comes from ``session.reservoir_levels``,
the margin is the manifest's flood-limit level minus it. Qt is imported only when the app
builds the panel, so importing the plugin stays headless.
"""

from __future__ import annotations

from typing import Any

from hydrotwin.basin.hooks import hookimpl

BASIN_ID = "demo"


def reservoir_panel(parent: Any, session: Any) -> Any:
    """The panel widget: one line per reservoir, refreshed on every clock change."""
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

    from hydrotwin.viewers.qt_session import ui_lang

    zh = ui_lang().startswith("zh")
    w = QWidget(parent)
    lay = QVBoxLayout(w)
    labels = {r.id: QLabel(w) for r in session.basin.reservoirs}
    for lab in labels.values():
        lay.addWidget(lab)
    lay.addStretch(1)

    def refresh(_now: Any = None) -> None:
        levels = session.reservoir_levels()
        for r in session.basin.reservoirs:
            name = r.names.zh if zh else r.names.en
            z = levels.get(r.id)
            if z is None:
                text = f"{name}：无预报" if zh else f"{name}: no forecast"
            else:
                margin = r.levels.flood_limit_m - z
                text = (
                    f"{name}：水位 {z:.2f} m，距汛限 {margin:+.2f} m"
                    if zh
                    else f"{name}: level {z:.2f} m, {margin:+.2f} m to the flood limit"
                )
            labels[r.id].setText(text)

    remove = session.clock.add_listener(refresh)
    w.destroyed.connect(lambda *_: remove())
    w.refresh = refresh  # tests read the text after a clock move
    refresh()
    return w


@hookimpl
def hydrotwin_panels(basin: Any) -> list[tuple[str, Any]] | None:
    """The demo's example panel; None for any other basin."""
    if getattr(basin, "id", None) != BASIN_ID:
        return None
    return [(("水库概况", "Reservoirs"), reservoir_panel)]
