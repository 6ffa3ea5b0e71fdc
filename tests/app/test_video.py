"""MP4 video of a rehearsal (issue 14 item 2): frame count = duration × fps, frames not blank,
the clock region changes, the file opens with imageio; bad paths, a full disk and a cancel
leave no file under the final name. Results are laid out as hydrotwin.fourpre.rehearsal writes
them (depth and wse (time, y, x) over the demo basin's rehearsal area)."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from hydrotwin.errors import InputDataError

SIZE = (320, 180)
SHAPING = "61612300"  # river station at Shaping: warning 83.0 m, guaranteed and record above


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory, demo_basin):
    """Three hours, a frame every 30 min: a flood front moving east, water rising at Shaping."""
    import xarray as xr

    xmin, ymin, xmax, ymax = demo_basin.rehearsal.bbox
    nx, ny = 102, 63
    xs = xmin + (np.arange(nx) + 0.5) * (xmax - xmin) / nx
    ys = ymax - (np.arange(ny) + 0.5) * (ymax - ymin) / ny
    nt = 7
    depth = np.zeros((nt, ny, nx), np.float32)
    for k in range(nt):
        depth[k, 15:50, : 15 * k + 1] = 0.5 + 0.6 * k
    wse = np.where(depth > 0, 80.0 + 1.5 * np.arange(nt)[:, None, None], np.nan).astype("f4")
    depth[:, 25:35, :] = np.maximum(depth[:, 25:35, :], 1.0)  # the channel is always wet
    wse[:, 25:35, :] = (80.0 + 1.5 * np.arange(nt))[:, None, None]
    sj = np.argmin(np.abs(xs - demo_basin.station(SHAPING).x))
    si = np.argmin(np.abs(ys - demo_basin.station(SHAPING).y))
    wse[:, si, sj] = 80.0 + 1.5 * np.arange(nt)  # 80 → 89 m: none, blue, yellow, … red
    times = np.datetime64("2024-07-01T00:00") + np.arange(nt) * np.timedelta64(30, "m")
    ds = xr.Dataset(
        {"depth": (("time", "y", "x"), depth), "wse": (("time", "y", "x"), wse)},
        coords={"x": xs, "y": ys, "time": times.astype("datetime64[ns]")},
    )
    out = tmp_path_factory.mktemp("rehearsal")
    ds.to_netcdf(out / "rehearsal.nc")
    return out


def _read(path):
    import imageio.v2 as imageio

    reader = imageio.get_reader(path, "ffmpeg")
    try:
        meta = reader.get_meta_data()
        frames = [np.asarray(f) for f in reader]
    finally:
        reader.close()
    return meta, frames


def test_video_has_duration_times_fps_frames_and_a_running_clock(result_dir, demo_basin, tmp_path):
    from hydrotwin.app.video import write_video

    calls = []
    out = tmp_path / "rehearsal.mp4"
    # 3 h at 3600 simulated s per video s = 3 s of video; at 4 fps: 12 frames.
    res = write_video(
        demo_basin,
        result_dir,
        out,
        fps=4,
        speedup=3600,
        size=SIZE,
        title="演示 洪水预演",
        progress=lambda d, n: calls.append((d, n)),
    )
    assert res.frames == 12 and res.seconds == pytest.approx(3.0)
    assert calls[0] == (1, 12) and calls[-1] == (12, 12) and len(calls) == 12
    meta, frames = _read(out)
    assert len(frames) == 12
    assert meta["fps"] == pytest.approx(4.0) and meta["size"] == SIZE
    assert meta["codec"] == "h264"
    first, last = frames[0].astype(int), frames[-1].astype(int)
    for f in (first, last):  # not blank: terrain, sky, labels
        assert len(np.unique(f.reshape(-1, 3) // 8, axis=0)) > 150
        assert f.std() > 20
    h, w = first.shape[:2]
    clock = (slice(0, h // 8), slice(w // 2, w))
    changed = (np.abs(first[clock] - last[clock]).max(axis=-1) > 60).sum()
    assert changed > 30, changed  # 08:00 → 10:45 local time: digits redrawn
    title = (slice(0, h // 8), slice(0, w // 4))
    assert (np.abs(first[title] - last[title]).max(axis=-1) > 60).sum() < 5  # the title stays
    # The flood spread east between the first and the last frame: more blue pixels.
    blue = [((f[..., 2] > f[..., 0] + 60) & (f[..., 2] > f[..., 1])).mean() for f in (first, last)]
    assert blue[1] > blue[0] + 0.003


def test_station_warning_colours_follow_the_result(result_dir, demo_basin):
    from hydrotwin.scenes.movie import RehearsalMovie
    from hydrotwin.scenes.stations import STATUS_RGB

    with RehearsalMovie(demo_basin, result_dir / "rehearsal.nc", size=SIZE) as movie:
        seen = []
        for k in range(7):
            movie.render_at(movie.start + k * (movie.end - movie.start) / 6)
            seen.append(movie.scene.stations.status[SHAPING])
        st = movie.scene.stations
        rgb = st.mesh.cell_data["rgb"][st._station_of_cell == st.ids.index(SHAPING)]
        assert (rgb == STATUS_RGB["red"]).all()
    # 80, 81.5, 83, 84.5, 86, 87.5, 89 m against 82.5 (blue), 83 (yellow), guaranteed, record
    assert seen[0] == "none" and seen[2] == "yellow" and seen[-1] == "red"
    assert seen == sorted(seen, key=["none", "blue", "yellow", "orange", "red"].index)


def test_camera_path_is_interpolated_between_keys():
    from hydrotwin.scenes.movie import CameraKey, camera_at

    path = [CameraKey(100.0, (10.0, 0.0, 500.0), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
            CameraKey(0.0, (0.0, 0.0, 1000.0), (0.0, 0.0, 0.0), (0.0, 0.0, 1.0))]  # fmt: skip
    pos, focal, up = camera_at(path, 50.0)
    np.testing.assert_allclose(focal, 0.0)
    np.testing.assert_allclose(pos, (5.0, 0.0, 750.0))
    np.testing.assert_allclose(up, np.array([0.0, 0.5, 0.5]) / np.sqrt(0.5))
    np.testing.assert_allclose(camera_at(path, -10.0)[0], (0.0, 0.0, 1000.0))
    np.testing.assert_allclose(camera_at(path, 1e6)[0], (10.0, 0.0, 500.0))
    with pytest.raises(ValueError, match="empty"):
        camera_at([], 0.0)


def test_camera_path_moves_the_view(result_dir, demo_basin):
    from hydrotwin.scenes.movie import CameraKey, RehearsalMovie

    x0, y0, x1, y1 = demo_basin.rehearsal.bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    path = [CameraKey(0.0, (cx, cy - 20_000, 9_000), (cx, cy, 100.0)),
            CameraKey(10_800.0, (cx + 20_000, cy, 9_000), (cx, cy, 100.0))]  # fmt: skip
    with RehearsalMovie(demo_basin, result_dir, size=SIZE, camera_path=path) as movie:
        a = movie.render_at(movie.start).astype(int)
        mid = movie.render_at(movie.start + (movie.end - movie.start) / 2)
        pos = np.array(movie.scene.local_to_map(*movie.plotter.camera.position))
        b = movie.render_at(movie.end).astype(int)
    np.testing.assert_allclose(pos, (cx + 10_000, cy - 10_000, 9_000), atol=1.0)
    assert mid.shape == a.shape and np.abs(a - b).mean() > 15


def test_video_into_a_missing_folder_is_refused(result_dir, demo_basin, tmp_path, capsys):
    from hydrotwin.app.cli import main
    from hydrotwin.app.video import write_video

    out = tmp_path / "no such folder" / "v.mp4"
    with pytest.raises(InputDataError, match=r"no such folder.*does not exist"):
        write_video(demo_basin, result_dir, out, size=SIZE)
    rc = main(["video", "--basin", "demo", "--result", str(result_dir), "--out", str(out)])
    assert rc == 1 and "does not exist" in capsys.readouterr().err
    assert not out.parent.exists()
    with pytest.raises(InputDataError, match=r"expected '.mp4'"):
        write_video(demo_basin, result_dir, tmp_path / "v.avi", size=SIZE)
    with pytest.raises(InputDataError, match=r"rehearsal\.nc"):
        write_video(demo_basin, tmp_path, tmp_path / "v.mp4", size=SIZE)
    with pytest.raises(InputDataError, match="even sides"):
        write_video(demo_basin, result_dir, tmp_path / "v.mp4", size=(321, 180))


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_full_disk_leaves_no_file(result_dir, demo_basin, tmp_path, monkeypatch):
    import hydrotwin.app.video as video

    real = video.open_writer

    def full_disk_writer(path, size, fps):
        w = real(path, size, fps)

        def gen():
            for _ in range(3):
                frame = yield
                w.send(frame)
            yield
            w.close()
            raise OSError(errno.ENOSPC, "No space left on device", str(path))

        g = gen()
        g.send(None)
        return g

    monkeypatch.setattr(video, "open_writer", full_disk_writer)
    out = tmp_path / "full.mp4"
    with pytest.raises(video.VideoWriteError, match=r"after 3 of 12 frames.*No space left"):
        video.write_video(demo_basin, result_dir, out, fps=4, speedup=3600, size=SIZE)
    assert _leftovers(tmp_path) == []


def test_cancel_leaves_no_file(result_dir, demo_basin, tmp_path):
    from hydrotwin.app.video import VideoCancelledError, write_video

    done = []
    out = tmp_path / "cancelled.mp4"
    with pytest.raises(VideoCancelledError, match="after 2 of 12 frames"):
        write_video(
            demo_basin,
            result_dir,
            out,
            fps=4,
            speedup=3600,
            size=SIZE,
            progress=lambda d, n: done.append(d),
            cancelled=lambda: len(done) >= 2,
        )
    assert _leftovers(tmp_path) == []


def test_cli_writes_the_video(result_dir, tmp_path, capsys):
    from hydrotwin.app.cli import main

    out = tmp_path / "cli.mp4"
    rc = main(["video", "--basin", "demo", "--result", str(result_dir / "rehearsal.nc"),
               "--out", str(out), "--fps", "2", "--speedup", "5400", "--size", "160x90",
               "--title", "试播", "--lang", "en"])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    assert "4 frames" in capsys.readouterr().out
    meta, frames = _read(out)
    assert len(frames) == 4 and meta["size"] == (160, 90)
    assert main(["video", "--basin", "demo", "--result", str(result_dir), "--out", str(out),
                 "--fps", "500"]) == 1  # fmt: skip


def test_rehearse_video_writes_the_same_video(tmp_path, capsys):
    """``rehearse --video`` runs the rehearsal (a real, short solver run on the demo basin), then
    the same writer; a video path in a missing folder is refused before the solver starts."""
    from hydrotwin.app.cli import main

    bad = tmp_path / "missing" / "v.mp4"
    o = str(tmp_path / "o")
    args = ["rehearse", "--basin", "demo", "--hours", "0.1", "--every", "120",
            "--constant-outflow", "50", "--scheme", "inertial", "--out", o]  # fmt: skip
    assert main([*args, "--video", str(bad)]) == 1
    err = capsys.readouterr()
    assert "does not exist" in err.err and "forecast" not in err.out
    out = tmp_path / "r.mp4"
    rc = main([*args, "--video", str(out), "--fps", "4", "--speedup", "180", "--size", "160x90"])
    assert rc == 0, capsys.readouterr().err
    assert "video" in capsys.readouterr().out
    meta, frames = _read(out)  # 360 s / 180 × 4 fps = 8 frames
    assert len(frames) == 8 and meta["size"] == (160, 90)
