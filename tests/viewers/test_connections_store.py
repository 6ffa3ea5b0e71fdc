"""The connections panel shows the store's health from a real pipeline's status events."""

from __future__ import annotations

from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.spool import Spool
from hydrotwin.live.store import open_store


def test_damaged_store_row_is_red_with_reason(qtbot, tmp_path):
    from hydrotwin.viewers.connections import ConnectionPanel

    panel = ConnectionPanel(tz="Asia/Shanghai")
    qtbot.addWidget(panel)
    store = open_store(tmp_path / "obs.db")
    pipe = Pipeline(store, spool=Spool(tmp_path / "obs.db.spool"))
    pipe.add_status_listener(panel.on_status)  # called at once with the current state
    key = f"store {tmp_path / 'obs.db'}"
    assert panel.sources_table.item(0, 0).text() == key
    assert panel.sources_table.item(0, 1).text() == "live"
    pipe.mark_damaged("quick_check failed: page 12 malformed")
    assert panel.sources_table.rowCount() == 1
    state = panel.sources_table.item(0, 1)
    assert state.text() == "damaged: spooling, see tooltip"
    assert state.toolTip() == "quick_check failed: page 12 malformed"
    assert state.background().color().name() == "#f08080"
    store.close()
