"""Historical replay on the one clock: a real SL 651 capture (frames of the 2012-08-04 Biliu
flood made with the project's encoder, plus a real public frame from a station the basin does
not know) and a real store window, replayed ×N through the live path while duty cycles roll
the forecast forward in simulated time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hydrotwin.basin import load_manifest
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.duty import DutyConfig
from hydrotwin.fourpre.hindcast import OUTLET_ID, RAIN_ID, record_observations, write_biliu_basin
from hydrotwin.fourpre.historical import (
    HistoricalReplay,
    capture_source,
    expected_cycles,
    store_window_source,
)
from hydrotwin.fourpre.session import TwinSession
from hydrotwin.live import sl651
from hydrotwin.live.capture import capture_observations, read_capture, write_capture
from hydrotwin.live.receiver import StationRegistry
from hydrotwin.live.source import ReplaySource
from hydrotwin.live.store import open_store

H = timedelta(hours=1)
T0 = datetime(2012, 8, 3, 12, tzinfo=UTC)  # 20:00 Beijing time, the evening before the peak
HOURS = 12
CST = ZoneInfo("Asia/Shanghai")
ADDR = {RAIN_ID: ("0012000001", "1234"), OUTLET_ID: ("0012000002", "4321")}


@pytest.fixture(scope="module")
def record(shared_data):
    return shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550.csv"


@pytest.fixture(scope="module")
def biliu(tmp_path_factory):
    """The Biliu basin with SL 651 addresses and passwords for its two stations."""
    basin = load_manifest(write_biliu_basin(tmp_path_factory.mktemp("biliu"), 10.0))
    stations = [
        s.model_copy(update={"sl651_address": ADDR[s.id][0], "sl651_password": ADDR[s.id][1]})
        for s in basin.stations
    ]
    return basin.model_copy(update={"stations": stations})


def _frame(basin, obs, serial):
    """One 32H timed report of one station at one hour, as its RTU would send it."""
    st = basin.station(obs[0].station)
    addr, pw = ADDR[st.id]
    local = obs[0].time.astimezone(CST).replace(tzinfo=None)
    els = []
    for o in obs:
        els.append((o.element, round(o.value, 1 if o.element == "P1" else 3)))
        if o.element == "Q":  # the level the gauge reads, through the station's rating
            rc = st.rating_curve
            els.append(("Z", round(float(np.interp(o.value, rc.discharge_m3s, rc.level_m)), 3)))
    return sl651.encode_report(station=addr, password=pw, serial=serial, send_time=local,
                               obs_time=local, elements=els,
                               station_class="P" if st.id == RAIN_ID else "H")  # fmt: skip


@pytest.fixture(scope="module")
def capture(tmp_path_factory, record, biliu, shared_data):
    """A capture file: both stations every hour for HOURS h, received 5 s after the hour,
    and one real frame (m21f_32, station 0010100001) that the basin does not accept."""
    obs = record_observations(record, T0, T0 + HOURS * H)
    frames = []
    for k, t in enumerate(sorted({o.time for o in obs})):
        for sid in (RAIN_ID, OUTLET_ID):
            group = [o for o in obs if o.time == t and o.station == sid]
            frames.append((t + timedelta(seconds=5), _frame(biliu, group, k + 1)))
    rows = (shared_data / "sl651" / "hex_frames.tsv").read_text().splitlines()
    foreign = next(r.split("\t")[-1] for r in rows if r.startswith("m21f_32\t"))
    frames.append((T0 + 3 * H + timedelta(seconds=30), bytes.fromhex(foreign)))
    return write_capture(tmp_path_factory.mktemp("cap") / "flood.sl651", frames)


def _session(basin, db):
    s = TwinSession(basin)
    s.open_store(str(db))
    return s


def test_capture_replay_stores_what_the_capture_holds_paced_with_cycles_each_hour(
    tmp_path, biliu, capture
):
    frames = read_capture(capture)
    expected = capture_observations(frames, StationRegistry.from_basin(biliu), CST)
    assert len(expected) == (HOURS + 1) * 3  # P1, Q, Z per hour; the foreign frame none
    session = _session(biliu, tmp_path / "replay.db")
    colours = []
    session.events.station_level.connect(lambda sid, lv: colours.append((sid, int(lv))))
    src = capture_source(session, capture)
    speed = HOURS * 3600.0 / 4.0  # 12 simulated hours in 4 s
    cfg = DutyConfig(every_h=1.0, horizon_h=12.0, spinup_h=24.0, retry_wait_s=0.05)
    rep = HistoricalReplay(session, src, speed=speed, duty=cfg, state_dir=tmp_path / "duty",
                           poll_s=0.05)  # fmt: skip
    report = rep.run(timeout_s=120.0)
    store = session.store
    got = store.observations_between(T0 - H, T0 + (HOURS + 1) * H)
    key = lambda o: (o.station, o.time, o.element)  # noqa: E731
    assert sorted((key(o), o.value) for o in got) == sorted(
        (key(o), pytest.approx(o.value)) for o in expected
    )
    assert all(o.source == "sl651" for o in got)  # the live receiver stored them
    quarantined = store.quarantine()
    assert len(quarantined) == 1 and "0010100001" in quarantined[0]["reason"]
    # ×N: the event's span (first hour to last frame) over N, not instant, not real time
    span_s = (src.window[1] - T0).total_seconds() / speed
    assert span_s * 0.9 <= report.wall_s <= span_s * 1.6 + 2.0, (report.wall_s, span_s)
    # forecast cycles at the simulated hours: every hour of the event ran or was skipped
    want = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in expected_cycles(T0, src.window[1])]
    assert sorted(report.cycles + report.skipped) == want
    assert len(report.cycles) >= HOURS // 2, report
    # the flood was graded as it rose: the outlet's colour reached yellow or above
    assert max(lv for sid, lv in colours if sid == OUTLET_ID) >= 2
    session.close()


def test_pause_holds_the_replay_and_resume_follows_the_clock(tmp_path, biliu, capture):
    session = _session(biliu, tmp_path / "replay.db")
    src = capture_source(session, capture)
    rep = HistoricalReplay(session, src, speed=3600.0 * 4)  # 4 simulated hours per second
    rep.start()
    try:
        time.sleep(0.3)
        session.clock.tick(0.5)  # two hours in
        deadline = time.monotonic() + 10
        while src.delivered < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        session.clock.pause()
        n = src.delivered
        assert n == 4 + 0  # hours 0 and 1, two stations each
        session.clock.tick(5.0)  # paused: ticks do not move the clock ...
        time.sleep(0.5)
        assert src.delivered == n  # ... nor the replay
        assert session.store.count() == 2 * 3
        session.clock.play()
        session.clock.tick(10.0)  # resumed past the end
        assert src.wait(20.0) and src.finished
        assert src.delivered == len(src.items)
    finally:
        rep.stop()
        session.close()


def test_store_window_replay_copies_exactly_the_window(tmp_path, biliu, record):
    source_db = tmp_path / "archive.db"
    archive = _session(biliu, source_db)
    obs = record_observations(record, T0 - 6 * H, T0 + 30 * H)
    src0 = archive.start_source(ReplaySource(obs, speed=0.0))
    assert src0.wait(60.0)
    archive.close()
    session = _session(biliu, tmp_path / "class.db")
    src = store_window_source(session, source_db, T0, T0 + 6 * H)
    report = HistoricalReplay(session, src, speed=6 * 3600.0 / 1.0).run(timeout_s=60.0)
    got = session.store.observations_between(T0 - 24 * H, T0 + 48 * H)
    want = [o for o in obs if T0 <= o.time <= T0 + 6 * H]
    assert sorted((o.station, o.time, o.element, o.value) for o in got) == sorted(
        (o.station, o.time, o.element, o.value) for o in want
    )
    assert {o.source for o in got} == {"replay"} and report.delivered == len(want)
    session.close()


def test_bad_replay_inputs_say_what_and_where(tmp_path, biliu):
    session = _session(biliu, tmp_path / "class.db")
    with pytest.raises(InputDataError, match="not found"):
        store_window_source(session, tmp_path / "nope.db", T0, T0 + H)
    empty = tmp_path / "empty.db"
    open_store(empty).close()
    with pytest.raises(InputDataError, match="no observations between"):
        store_window_source(session, empty, T0, T0 + H)
    with pytest.raises(InputDataError, match="not after its start"):
        store_window_source(session, empty, T0, T0)
    bad = tmp_path / "bad.sl651"
    bad.write_text("# header\n2012-08-03T12:00:00 7E7E\n")
    with pytest.raises(InputDataError, match=r"bad.sl651:2: time .* has no offset"):
        read_capture(bad)
    bad.write_text("2012-08-03T12:00:00Z 7E7EZZ\n")
    with pytest.raises(InputDataError, match=r"bad.sl651:1: frame .* expected hexadecimal"):
        read_capture(bad)
    bad.write_text("# nothing\n")
    with pytest.raises(InputDataError, match="holds no frames"):
        read_capture(bad)
    session.close()
