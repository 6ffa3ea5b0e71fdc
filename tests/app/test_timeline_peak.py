"""Jump to peak from the timeline (issue 13 item 4): the station peak button puts the one clock
on the shown station's forecast peak; the flood peak button without a rehearsal says why."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.timeutil import datetimes_from_datetime64

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_station_and_flood_peak_buttons(qtbot):
    from hydrotwin.app.window import MainWindow

    win = MainWindow(lang="en")
    qtbot.addWidget(win)
    win.show()
    try:
        with qtbot.waitSignal(win.basin_opened, timeout=120_000):
            win.open_basin("demo")
        fp, clock = win.fourpre, win.session.clock
        tl = fp.timeline
        tl.peak_buttons["station"].click()
        assert "Select a station first" in win.statusBar().currentMessage()
        with qtbot.waitSignal(fp.forecast_ready, timeout=120_000) as sig:
            fp.run_forecast("design:design_100yr", hours=72)
        ds = sig.args[0]
        win.live.show_hydrograph("61612500")  # 青溪镇: what an alarm-list click does
        tl.peak_buttons["station"].click()
        level = ds["station_level"].sel(station="61612500").values
        peak = datetimes_from_datetime64(ds["time"].values)[int(np.nanargmax(level))]
        assert clock.now == peak and clock.start < peak < clock.end
        assert tl.label.text() == clock.format_local("%m-%d %H:%M")  # the timeline follows
        tl.peak_buttons["flood"].click()
        assert "no rehearsal result is open" in win.statusBar().currentMessage()
        assert clock.now == peak
    finally:
        win.close()
