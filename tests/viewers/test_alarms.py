"""Alarm list (newest first, colours, click -> station_activated), connection panel and the
live bridge: a frame crossing a threshold recolours its station within 1 s."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt, QThread

from hydrotwin.fourpre.warning import COLOURS, AlarmEvent, Level
from hydrotwin.live import sl651
from tests.live.helpers import small_basin

pytestmark = pytest.mark.gui
T0 = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)


def _ev(i, station, level, source="observed", lead=0.0):
    return AlarmEvent(
        station,
        T0 + timedelta(minutes=i),
        "level",
        level,
        10.0 + i,
        10.0,
        source=source,
        lead_time_s=lead,
    )


def test_alarm_list_newest_first_and_click(qtbot):
    from hydrotwin.viewers.alarms import AlarmDock

    dock = AlarmDock(tz="Asia/Shanghai", station_names={"60000001": "河道站1"})
    qtbot.addWidget(dock)
    t = dock.table
    dock.add_event(_ev(0, "60000001", Level.YELLOW))
    dock.add_event(_ev(5, "60000002", Level.RED, "forecast", 3 * 3600))
    assert t.rowCount() == 2
    assert t.item(0, 1).text() == "60000002" and t.item(1, 1).text() == "河道站1"
    assert t.item(0, 0).text() == "2026-07-01 08:05"  # local (UTC+8)
    assert t.item(0, 6).text() == "3.0 h"  # forecast lead time
    assert t.item(0, 2).background().color().name() == COLOURS[Level.RED].lower()
    with qtbot.waitSignal(dock.station_activated, timeout=1000) as sig:
        rect = t.visualItemRect(t.item(1, 1))
        qtbot.mouseClick(t.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sig.args == ["60000001"]
    t.load(
        [
            {
                "station": "60000003",
                "time": T0,
                "kind": "rise",
                "level": 1,
                "source": "observed",
                "value": 0.8,
                "threshold": 0.5,
                "lead_time_s": 0.0,
            }
        ]
    )
    assert t.item(0, 1).text() == "60000003" and t.item(0, 4).text() == "0.80 m/h"


def test_connection_panel(qtbot):
    from hydrotwin.viewers.connections import ConnectionPanel

    p = ConnectionPanel(tz="Asia/Shanghai", station_names={"60000001": "河道站1", "60000002": "B"})
    qtbot.addWidget(p)
    p.on_status({"source": "sl651", "kind": "listening", "peer": "127.0.0.1:5005", "time": T0})
    p.on_status(
        {"source": "sl651", "kind": "frame", "station": "60000001", "time": datetime.now(UTC)}
    )
    assert p.sources_table.item(0, 0).text() == "sl651 127.0.0.1:5005"
    names = [p.stations_table.item(r, 0).text() for r in range(p.stations_table.rowCount())]
    assert names == ["河道站1", "B"]
    assert p.stations_table.item(1, 1).text() != p.stations_table.item(0, 1).text()


def test_session_colours_station_within_1s(qtbot, tmp_path):
    """An SL 651 frame through the session's receiver source reaches a view on the GUI
    thread (QtDispatcher) as the station's grade within a second."""
    from hydrotwin.fourpre.session import TwinSession
    from hydrotwin.live.receiver import ReceiverConfig, StationRegistry
    from hydrotwin.live.source import Sl651Source
    from hydrotwin.viewers.qt_session import QtDispatcher

    dispatch = QtDispatcher()
    basin = small_basin(tmp_path)
    session = TwinSession(basin, dispatch=dispatch)
    got: list[tuple[str, Level, float, bool]] = []

    def on_level(station, level) -> None:
        on_gui = QThread.currentThread() is dispatch.thread()
        got.append((station, level, time.perf_counter(), on_gui))

    session.events.station_level.connect(on_level)
    try:
        session.open_store(str(tmp_path / "obs.db"))
        cfg = ReceiverConfig(host="127.0.0.1", port=0)
        src = session.start_source(Sl651Source(StationRegistry.from_basin(basin), cfg))
        host, port = src.address
        t_local = datetime(2026, 7, 1, 8, 0)
        frame = sl651.encode_report(
            station="0060000001",
            password="1234",
            serial=1,
            send_time=t_local,
            obs_time=t_local,
            elements=[("Z", 12.3)],
        )
        with socket.create_connection((host, port), timeout=5) as s:
            sent = time.perf_counter()
            s.sendall(frame)
            reply = sl651.decode(s.recv(64))
            qtbot.waitUntil(lambda: any(g[1] == Level.ORANGE for g in got), timeout=1000)
        station, level, at, on_gui = next(g for g in got if g[1] == Level.ORANGE)
        assert station == "60000001" and on_gui, "events reach views on the GUI thread"
        assert at - sent < 1.0 and reply.serial == 1
        assert COLOURS[level] == "#FF7F00"
    finally:
        session.close()
        dispatch.close()
