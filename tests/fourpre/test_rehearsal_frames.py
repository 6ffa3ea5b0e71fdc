"""Frames while the 2D computes (issue 13 item 1, 预演): the rehearsal worker process hands
each frame to the session as it is computed, before the job ends, and every frame that
arrives is the one the finished NetCDF holds for its time. Demo basin at 60 m cells, a 12 h
forecast of a 6 h burst, 2 h of 2D in 10 min frames."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import netCDF4
import numpy as np
import pytest

from hydrotwin.fourpre.session import ForecastRequest, TwinSession
from tests.fourpre.rainfiles import burst_csv

START = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def session(demo_basin, tmp_path):
    b = demo_basin.model_copy(deep=True)
    b.rehearsal.cell_m = 60.0
    csv = burst_csv(tmp_path / "burst.csv", b, START)
    s = TwinSession(b)
    s.run_forecast(ForecastRequest(str(csv), 12.0, START))
    yield s
    s.close()


def test_frames_arrive_before_the_job_ends_and_match_the_result(session, tmp_path):
    frames, states = [], []
    ended = threading.Event()
    session.events.rehearsal_frame.connect(lambda f: frames.append((ended.is_set(), f)))
    session.events.job.connect(lambda n, st: n == "rehearsal" and st != "started" and (
        states.append(st), ended.set()))  # fmt: skip
    session.start_rehearsal(2.0, out_dir=str(tmp_path))
    session.wait_jobs(300)
    assert states == ["finished"]
    early = [f for done, f in frames if not done]
    assert len(early) >= 3, f"{len(frames)} frames, {len(early)} before the end"
    assert early[0].time == START and early[-1].time <= START + timedelta(hours=2)
    times = [f.time for _d, f in frames]
    assert times == sorted(times) and len(set(times)) == len(times)
    with netCDF4.Dataset(tmp_path / "rehearsal.nc") as nc:
        t_file = list(nc["time"][:])
        assert np.allclose(nc["x"][:], early[0].xs) and np.allclose(nc["y"][:], early[0].ys)
        for f in early:
            k = t_file.index((f.time - START).total_seconds())
            ref = np.ma.filled(nc["depth"][k], np.nan)
            np.testing.assert_array_equal(f.depth, ref)
    assert np.nanmax(early[-1].depth) > 0.5  # a real flood, not empty frames
