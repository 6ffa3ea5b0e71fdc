"""Historical replay in the app: a capture of the demo basin's Shaping gauge rising through its
warning levels, replayed ×N through the live path into a fresh store while the timeline plays;
the station's colour in the 3D view follows; pausing the timeline holds the replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hydrotwin.live import sl651
from hydrotwin.live.capture import write_capture

pytestmark = pytest.mark.gui
T0 = datetime(2026, 7, 1, 0, tzinfo=UTC)
LEVELS = [81.0, 82.0, 83.2, 84.0, 85.0, 85.6]  # warning 83.0, guaranteed 84.8, record 85.4


@pytest.fixture
def win(qtbot, qapp):
    from hydrotwin.app.window import MainWindow

    w = MainWindow(lang="en")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.basin_opened, timeout=180_000):
        w.open_basin("demo")
    yield w
    w.close()


def _capture(tmp_path):
    frames = []
    for k, z in enumerate(LEVELS):
        t = T0 + timedelta(hours=k)
        local = t.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
        raw = sl651.encode_report(station="0061612300", password="6A37", serial=k + 1,
                                  send_time=local, obs_time=local, elements=[("Z", z)])  # fmt: skip
        frames.append((t + timedelta(seconds=5), raw))
    return write_capture(tmp_path / "shaping.sl651", frames)


def test_replay_plays_on_the_timeline_colours_the_station_and_pauses(win, qtbot, tmp_path):
    ctl, session = win.scenarios.trainer, win.session
    levels = []
    session.events.station_level.connect(lambda sid, lv: levels.append((sid, int(lv))))
    assert ctl.replay_capture(_capture(tmp_path), speed=3600.0) is True
    tl = win.fourpre.timeline
    qtbot.waitUntil(lambda: tl.play_button.isChecked(), timeout=120_000)  # primed, playing
    assert session.clock.speed == 3600.0 and tl.speed.currentData() == 3600.0
    qtbot.waitUntil(lambda: ctl.replay.source.delivered >= 2, timeout=30_000)
    tl.play_button.setChecked(False)  # pause: the replay holds
    held = ctl.replay.source.delivered
    qtbot.wait(1500)
    assert ctl.replay.source.delivered == held < len(LEVELS)
    tl.play_button.setChecked(True)
    qtbot.waitUntil(lambda: ctl.replay.source.finished, timeout=30_000)
    assert session.store.count() == len(LEVELS)
    assert [v for _, v in session.store.series("61612300", "Z")] == LEVELS
    # red (above the record 85.4 m) once the last alarm reached the GUI thread
    qtbot.waitUntil(lambda: max(lv for sid, lv in levels if sid == "61612300") == 4, timeout=5000)
    qtbot.waitUntil(lambda: win.scene.stations.status.get("61612300") == "red", timeout=5_000)


def test_a_bad_capture_is_an_error_box_and_the_app_runs_on(win, tmp_path):
    bad = tmp_path / "bad.sl651"
    bad.write_text("2026-07-01T00:00:00 7E7E\n", encoding="utf-8")
    assert win.scenarios.trainer.replay_capture(bad) is False
    assert win.isVisible() and "bad.sl651:1: time" in win._last_error.text()
    assert win.scenarios.trainer.replay is None
