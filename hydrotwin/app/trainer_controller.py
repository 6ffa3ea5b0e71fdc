"""Trainer mode's app actions beside the scenario's: historical replay on the timeline's
clock (视图 → 历史重演…, or a scenario's ``[replay]``), video export of the rehearsal on show
(视图 → 导出视频…, in a worker process with progress and cancel), and the 3D view following
the scenario's camera path (视图 → 跟随相机路径). The headless work is
:mod:`hydrotwin.fourpre.historical`, :mod:`hydrotwin.app.video` and
:func:`hydrotwin.scenes.movie.follow_camera`.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from hydrotwin.errors import HydroTwinError

log = logging.getLogger(__name__)


class TrainerController(QObject):
    """Owned by the window's ScenarioController (``scenarios``), whose scenario it uses."""

    def __init__(self, window: Any, scenarios: Any) -> None:
        super().__init__(window)
        self.window, self.scenarios = window, scenarios
        self.replay: Any = None  # HistoricalReplay running on the session's clock
        self.video_dialog: Any = None  # progress of a video export (job "video")
        self._unfollow: Any = None  # removes the camera-path follower from the clock
        # the session closes its store when the basin changes or the window closes: the
        # replay (its duty thread) stops with it, never outliving the window
        window.session.events.store.connect(self._on_store)

    def _on_store(self, store: Any) -> None:
        if store is None:
            self.stop_replay()

    def add_actions(self, menu: Any) -> None:
        from PySide6.QtGui import QAction, QKeySequence

        for text, keys, slot in (
            (self.tr("Historical replay…"), "Ctrl+Shift+R", self.ask_replay),
            (self.tr("Export video…"), "Ctrl+Shift+V", self.ask_video),
        ):
            act = QAction(text, self.window)
            act.setShortcut(QKeySequence(keys))
            act.triggered.connect(slot)
            menu.addAction(act)
        self.follow_action = QAction(self.tr("Follow the camera path"), self.window)
        self.follow_action.setCheckable(True)
        self.follow_action.toggled.connect(self.follow_camera)
        menu.addAction(self.follow_action)

    # -- historical replay: a past flood through the live path at ×N, forecasts rolling ---------
    def replay_scenario(self, sc: Any, path: Path) -> bool:
        from hydrotwin.fourpre.historical import replay_from_scenario

        return self._launch(lambda s, d: replay_from_scenario(s, sc, path, d))

    def ask_replay(self) -> None:
        """视图 → 历史重演…: an SL 651 capture of the open basin, ×600, hourly forecasts."""
        path, _ = QFileDialog.getOpenFileName(
            self.window, self.tr("Historical replay"), "",
            self.tr("SL 651 capture (*.sl651 *.txt);;All files (*)"),
        )  # fmt: skip
        if path:
            self.replay_capture(path)

    def replay_capture(self, path: str | Path, speed: float = 600.0) -> bool:
        from hydrotwin.fourpre.duty import DutyConfig
        from hydrotwin.fourpre.historical import HistoricalReplay, capture_source

        def make(session: Any, state: Path) -> Any:
            cfg = DutyConfig(every_h=1.0, horizon_h=24.0, spinup_h=24.0)
            src = capture_source(session, path)
            return HistoricalReplay(session, src, speed=speed, duty=cfg, state_dir=state)

        return self._launch(make)

    def _launch(self, make: Any) -> bool:
        """Replay into a fresh store beside its duty state; the cold-start cycle runs off the
        GUI thread, then the clock plays (the timeline's play button pauses and resumes)."""
        session = self.window.session
        self.stop_replay()
        if session.basin is None:
            self.window.show_error(self.tr("Historical replay"), self.tr("Open a basin first."))
            return False
        folder = Path(tempfile.mkdtemp(prefix="hydrotwin-replay-"))
        try:
            session.open_store(str(folder / "replay.db"))
            rep = make(session, folder / "duty")
        except (HydroTwinError, OSError) as exc:  # shown; the app keeps running
            self.window.show_error(self.tr("Historical replay"), str(exc))
            return False
        self.replay = rep

        def work(cancelled: Any) -> None:
            rep.prime()
            self.window.dispatch(lambda: self._play_replay(rep))

        session.start_job("replay", work, on_error=lambda m: self.window.show_error(
            self.tr("Historical replay"), m))  # fmt: skip
        return True

    def _play_replay(self, rep: Any) -> None:
        from hydrotwin.viewers.timeline import SPEEDS

        if rep is not self.replay:
            return
        rep.start()
        fourpre = self.window.fourpre
        if fourpre is not None:
            tl = fourpre.timeline
            near = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - rep.speed))
            if SPEEDS[near] == rep.speed:
                tl.speed.setCurrentIndex(near)
            tl.play_button.setChecked(True)  # the timeline ticks the clock from now on
        msg = self.tr("Replaying {start} … {end}").format(
            start=rep.start_t.isoformat(), end=rep.end_t.isoformat())  # fmt: skip
        self.window.statusBar().showMessage(msg, 10_000)

    def stop_replay(self) -> None:
        rep, self.replay = self.replay, None
        if rep is not None:
            rep.stop()

    # -- video of the rehearsal on show, with the scenario's camera path and annotations ------
    def ask_video(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.window, self.tr("Export video"), "rehearsal.mp4", self.tr("MP4 video (*.mp4)")
        )
        if path:
            self.export_video(path)

    def export_video(self, path: str | Path, *, fps: float = 25.0, speedup: float = 600.0,
                     size: tuple[int, int] = (1920, 1080)) -> bool:  # fmt: skip
        """Write the rehearsal being played as MP4 in a worker process, with a progress
        dialog whose Cancel stops it (no file is left); False (error shown) if refused."""
        from hydrotwin.app.video import check_video_args

        session, out = self.window.session, Path(path)
        if session.rehearsal is None or self.window.basin is None:
            self.window.show_error(self.tr("Export video"), self.tr("No rehearsal is shown."))
            return False
        try:
            check_video_args(out, fps, speedup, size)
        except HydroTwinError as exc:
            self.window.show_error(self.tr("Export video"), str(exc))
            return False
        kw = dict(
            basin=self.window.basin,
            result=session.rehearsal.path,
            out=out,
            fps=fps,
            speedup=speedup,
            size=size,
            lang=self.window.lang,
            **self._video_extras(),
        )
        self._start_video(kw)  # fmt: skip
        return True

    def _video_extras(self) -> dict[str, Any]:
        from hydrotwin.app.scenario_export import camera_keys
        from hydrotwin.scenes.annotations import notes_from_scenario

        sc = self.scenarios.scenario
        if sc is None:
            return {}
        return {"title": sc.title, "camera_path": camera_keys(sc) or None,
                "annotations": notes_from_scenario(sc)}  # fmt: skip

    def _start_video(self, kw: dict[str, Any]) -> None:
        from PySide6.QtWidgets import QProgressDialog

        from hydrotwin.app.video import VideoCancelledError
        from hydrotwin.app.video_job import write_video_in_process

        win, session = self.window, self.window.session
        dlg = self.video_dialog = QProgressDialog(
            self.tr("Writing the video…"), self.tr("Cancel"), 0, 1000, win
        )
        dlg.setWindowTitle(self.tr("Export video"))
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.canceled.connect(lambda: session.cancel("video"))
        dlg.show()

        def progress(done: int, total: int) -> None:
            win.dispatch(lambda: dlg.setValue(round(1000 * done / max(total, 1))))

        def work(cancelled: Any) -> None:
            try:
                frames, wall = write_video_in_process(progress, cancelled.is_set, **kw)
            except VideoCancelledError:
                win.dispatch(lambda: self._video_finished(self.tr("Video export cancelled")))
                return
            text = self.tr("Video {path}: {n} frames in {s:.0f} s").format(
                path=str(kw["out"]), n=frames, s=wall)  # fmt: skip
            win.dispatch(lambda: self._video_finished(text))

        def failed(message: str) -> None:
            self._video_finished("")
            win.show_error(self.tr("Export video"), message)

        session.start_job("video", work, on_error=failed)  # fmt: skip

    def _video_finished(self, text: str) -> None:
        self.video_dialog.hide()  # not close(): a closed progress dialog emits canceled
        if text:
            self.window.statusBar().showMessage(text, 10_000)

    # -- camera path playback: the 3D view follows the scenario's key frames on the clock -----
    def follow_camera(self, on: bool) -> None:
        """While on, every clock change puts the 3D view's camera where the scenario's camera
        path has it (off to move the view by hand and record new key frames)."""
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None
        if on:
            self._unfollow = self.window.session.clock.add_listener(self._camera_at)
            self._camera_at(self.window.session.clock.now)

    def _camera_at(self, now: Any) -> None:
        from hydrotwin.app.scenario_export import camera_keys
        from hydrotwin.scenes.movie import follow_camera

        sc, scene = self.scenarios.scenario, self.window.scene
        if sc is None or not sc.camera or scene is None:
            return
        t_s = (now - sc.start).total_seconds()
        follow_camera(self.window.viewport.plotter, scene, camera_keys(sc), t_s)
        self.window.viewport.render()
