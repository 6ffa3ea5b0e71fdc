"""Annotations (trainer mode) drawn in the 3D scene and burned into the MP4: the note's screen
region differs with and without it while the clock is inside its window, and not outside."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from tests.app.test_video import _read, result_dir  # noqa: F401  (the shared result fixture)

SIZE = (640, 360)


def _notes(movie, demo_basin):
    """One note at Shaping station from 1 h to 2 h after the start."""
    from hydrotwin.scenes.annotations import Note

    st = demo_basin.station("61612300")
    t0 = movie.start + timedelta(hours=1)
    return [Note(t0, t0 + timedelta(hours=1), st.x, st.y, "注意：沙坪站水位上涨")]


def _anchor_px(movie, note):
    """Where the note's anchor falls on the image (row, column from the top)."""
    import vtk

    c = vtk.vtkCoordinate()
    c.SetCoordinateSystemToWorld()
    c.SetValue(*movie.scene._label_point(note.x, note.y, 0.0))
    x, y = c.GetComputedDisplayValue(movie.plotter.renderer)
    return SIZE[1] - int(y), int(x)


def _region(img, rc, half=(40, 90)):
    r, c = rc
    return img[max(r - 2 * half[0], 0) : r + half[0], max(c - half[1], 0) : c + half[1]]


def test_annotation_is_drawn_inside_its_window_only(result_dir, demo_basin):  # noqa: F811
    from hydrotwin.scenes.movie import RehearsalMovie

    with RehearsalMovie(demo_basin, result_dir, size=SIZE) as plain:
        notes = _notes(plain, demo_basin)
        t_in, t_out = plain.start + timedelta(hours=1.5), plain.start + timedelta(minutes=30)
        ref_in, ref_out = plain.render_at(t_in).astype(int), plain.render_at(t_out).astype(int)
        rc = _anchor_px(plain, notes[0])
    with RehearsalMovie(demo_basin, result_dir, size=SIZE, annotations=notes) as movie:
        img_out = movie.render_at(t_out).astype(int)
        assert movie.notes.visible() == []
        img_in = movie.render_at(t_in).astype(int)
        assert movie.notes.visible() == [notes[0].text]
    assert 0 <= rc[0] < SIZE[1] and 0 <= rc[1] < SIZE[0], rc  # the station is in view
    diff_in = np.abs(_region(img_in, rc) - _region(ref_in, rc)).max(axis=-1)
    assert (diff_in > 60).sum() > 300, (diff_in > 60).sum()  # amber panel and text drawn
    amber = (img_in[..., 0] > 200) & (img_in[..., 1] > 150) & (img_in[..., 2] < 110)
    assert (
        amber.sum()
        > ((ref_in[..., 0] > 200) & (ref_in[..., 1] > 150) & (ref_in[..., 2] < 110)).sum() + 200
    )
    assert np.abs(img_out - ref_out).max() <= 2  # outside its window: not drawn at all


def test_annotation_is_burned_into_the_video(result_dir, demo_basin, tmp_path):  # noqa: F811
    from hydrotwin.app.video import write_video
    from hydrotwin.scenes.movie import RehearsalMovie

    with RehearsalMovie(demo_basin, result_dir, size=SIZE) as m:
        notes = _notes(m, demo_basin)
        rc = _anchor_px(m, notes[0])
    kw = dict(fps=2, speedup=3600, size=SIZE)  # 3 h → 6 frames, frame k at k × 30 min
    write_video(demo_basin, result_dir, tmp_path / "plain.mp4", **kw)
    write_video(demo_basin, result_dir, tmp_path / "notes.mp4", annotations=notes, **kw)
    _, plain = _read(tmp_path / "plain.mp4")
    _, noted = _read(tmp_path / "notes.mp4")
    assert len(plain) == len(noted) == 6

    def changed(k):
        a, b = _region(noted[k].astype(int), rc), _region(plain[k].astype(int), rc)
        return int((np.abs(a - b).max(axis=-1) > 60).sum())

    inside = [changed(k) for k in (2, 3, 4)]  # 1:00, 1:30, 2:00: in the note's window
    outside = [changed(k) for k in (0, 1, 5)]
    assert min(inside) > 300, inside
    assert max(outside) < 20, outside
