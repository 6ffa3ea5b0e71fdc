"""Frames while the 2D computes, in the app (issue 13 item 1): the scene's water layer shows
the running rehearsal's newest frame before the job ends, then the finished result plays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hydrotwin.fourpre.session import ForecastRequest
from tests.fourpre.rainfiles import burst_csv

pytestmark = [pytest.mark.gui, pytest.mark.slow]

START = datetime(2026, 7, 1, tzinfo=UTC)


def test_the_scene_shows_frames_while_the_rehearsal_runs(qtbot, tmp_path):
    from hydrotwin.app.window import MainWindow

    win = MainWindow(lang="en")
    qtbot.addWidget(win)
    win.show()
    try:
        with qtbot.waitSignal(win.basin_opened, timeout=120_000):
            win.open_basin("demo")
        session, fp = win.session, win.fourpre
        session.basin.rehearsal.cell_m = 60.0
        csv = burst_csv(tmp_path / "burst.csv", session.basin, START, wet_hours=12)
        with qtbot.waitSignal(session.events.forecast, timeout=120_000):
            session.start_forecast(ForecastRequest(str(csv), 12.0, START))
        seen = []
        session.events.rehearsal_frame.connect(
            lambda f: seen.append((f.time, "rehearsal" in session.busy_jobs))
        )
        fp.panel.rehearsal_hours.setValue(3.0)
        fp.panel.run_rehearsal()
        qtbot.waitUntil(lambda: fp._live is not None and fp._live.wet_fraction > 0,
                        timeout=300_000)  # fmt: skip
        assert "rehearsal" in session.busy_jobs  # shown while it computes
        assert fp.panel.progress.value() < 1000
        win.grab().save(str(tmp_path / "rehearsal_running_en.png"))
        with qtbot.waitSignal(session.events.rehearsal, timeout=300_000):
            pass
        assert sum(busy for _t, busy in seen) >= 3
        assert session.rehearsal is not None and fp.water is not None
        qtbot.waitUntil(lambda: fp._live is None, timeout=10_000)
    finally:
        win.close()
