"""LiveBridge following a store that another process writes (polling) and a replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hydrotwin.fourpre.warning import COLOURS, Level
from hydrotwin.live.observation import Observation
from hydrotwin.live.store import open_store
from tests.live.helpers import small_basin

pytestmark = pytest.mark.gui


def test_poll_store_emits_levels(qtbot, tmp_path):
    from hydrotwin.viewers.live_bridge import LiveBridge

    db = str(tmp_path / "obs.db")
    writer = open_store(db)  # stands for `hydrotwin live sl651` in another process
    bridge = LiveBridge(small_basin(tmp_path))
    got = []
    bridge.observation.connect(lambda obs: got.extend(obs))
    try:
        bridge.poll_store(db, interval_ms=50)
        now = datetime.now(UTC).replace(microsecond=0)
        with qtbot.waitSignal(bridge.warning_level, timeout=2000) as sig:
            writer.add([Observation("60000001", now, "Z", 12.4, "m")])
        assert sig.args == ["60000001", int(Level.ORANGE), COLOURS[Level.ORANGE]]
        assert [o.value for o in got] == [12.4]
        writer.add([Observation("60000001", now + timedelta(minutes=5), "Z", 12.5, "m")])
        qtbot.waitUntil(lambda: len(got) == 2, timeout=2000)  # only the new one comes again
    finally:
        bridge.stop()
        writer.close()


def test_replay_through_bridge(qtbot, tmp_path):
    from hydrotwin.viewers.live_bridge import LiveBridge

    bridge = LiveBridge(small_basin(tmp_path))
    t0 = datetime(2026, 7, 1, tzinfo=UTC)
    obs = [
        Observation("70000001", t0 + timedelta(minutes=i), "ZU", 113.0 + 0.5 * i, "m", "replay")
        for i in range(10)
    ]
    alarms = []
    bridge.alarm.connect(alarms.append)
    try:
        with qtbot.waitSignal(
            bridge.status, timeout=5000, check_params_cb=lambda e: e.get("kind") == "finished"
        ):
            bridge.start_replay(str(tmp_path / "obs.db"), obs, speed=0)
        qtbot.waitUntil(lambda: bridge.station_level("70000001") == Level.YELLOW, timeout=2000)
        # 113 -> 117.5 m crosses blue 114.5 and yellow (flood limit) 115.0
        assert [a.level for a in alarms if a.kind == "level"] == [Level.BLUE, Level.YELLOW]
    finally:
        bridge.stop()
