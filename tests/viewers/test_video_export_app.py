"""Video export from the app (issue 14 item 2) and camera-path playback (item 5): the rehearsal
on show is written as MP4 in a worker process with a progress dialog whose Cancel leaves no
file; the 3D view follows the scenario's key frames as the clock moves."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import hydrotwin_demo_basin
import numpy as np
import pytest
from PySide6.QtWidgets import QPushButton

from hydrotwin.fourpre.scenario import CameraKey, load_scenario
from tests.app.test_video import _read, result_dir  # noqa: F401  (the shared result fixture)

pytestmark = pytest.mark.gui
DEMO = Path(hydrotwin_demo_basin.__file__).parent / "scenarios" / "qingxi_100yr.toml"


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


def _show(win, qtbot, result_dir):  # noqa: F811
    with qtbot.waitSignal(win.session.events.rehearsal, timeout=30_000):
        win.fourpre.play_rehearsal(str(result_dir / "rehearsal.nc"))


def test_export_writes_the_shown_rehearsal_with_progress(win, qtbot, result_dir, tmp_path):  # noqa: F811
    _show(win, qtbot, result_dir)
    out = tmp_path / "shown.mp4"
    states = []
    win.session.events.job.connect(lambda name, st: states.append((name, st)))
    assert win.scenarios.trainer.export_video(out, fps=2, speedup=3600, size=(320, 180)) is True
    qtbot.waitUntil(lambda: ("video", "finished") in states, timeout=180_000)
    meta, frames = _read(out)
    assert len(frames) == 6 and meta["size"] == (320, 180)  # 3 h at 3600 s/s and 2 fps
    assert (
        win.scenarios.trainer.video_dialog.value() == 1000
        and not win.scenarios.trainer.video_dialog.isVisible()
    )
    assert "6 frames" in win.statusBar().currentMessage()


def test_cancel_leaves_no_file_and_bad_paths_are_refused(win, qtbot, result_dir, tmp_path):  # noqa: F811
    _show(win, qtbot, result_dir)
    out = tmp_path / "long.mp4"
    states = []
    win.session.events.job.connect(lambda name, st: states.append((name, st)))
    assert win.scenarios.trainer.export_video(out, fps=25, speedup=60, size=(320, 180)) is True
    dlg = win.scenarios.trainer.video_dialog
    qtbot.waitUntil(lambda: dlg.value() > 0, timeout=180_000)  # 4500 frames: cancel midway
    dlg.findChild(QPushButton).click()  # the dialog's Cancel, as the user presses it
    qtbot.waitUntil(lambda: ("video", "cancelled") in states, timeout=60_000)
    assert not out.exists() and not list(tmp_path.glob(".*.part"))
    assert win.statusBar().currentMessage() == "Video export cancelled"
    assert win.scenarios.trainer.export_video(tmp_path / "nope" / "v.mp4") is False
    assert "does not exist" in win._last_error.text() and win.isVisible()


def test_the_view_follows_the_camera_path_on_the_clock(win, qtbot):
    ctl, clock = win.scenarios, win.session.clock
    sc = load_scenario(DEMO)
    keys = [CameraKey(time_h=0.0, position=(455000.0, 3105000.0, 9000.0),
                      focal_point=(465000.0, 3118000.0, 80.0)),
            CameraKey(time_h=2.0, position=(475000.0, 3105000.0, 5000.0),
                      focal_point=(465000.0, 3118000.0, 80.0))]  # fmt: skip
    ctl.scenario = sc.model_copy(update={"camera": keys})
    clock.set_range(sc.start, sc.start + timedelta(hours=3))
    clock.set_time(sc.start)
    ctl.trainer.follow_action.setChecked(True)
    cam = win.viewport.plotter.camera
    local = np.array(win.scene.map_to_local(*keys[0].position))
    assert np.allclose(cam.position, local, atol=1e-3)
    clock.set_time(sc.start + timedelta(hours=1))  # halfway: linear between the keys
    mid = (np.array(keys[0].position) + np.array(keys[1].position)) / 2
    assert np.allclose(cam.position, win.scene.map_to_local(*mid), atol=1e-3)
    ctl.trainer.follow_action.setChecked(False)  # by hand again: the clock no longer moves the view
    clock.set_time(sc.start + timedelta(hours=2))
    assert np.allclose(cam.position, win.scene.map_to_local(*mid), atol=1e-3)
