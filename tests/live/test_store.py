"""SL 323 store on SQLite (WAL) and on a real PostgreSQL server started in tmp_path."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from hydrotwin.errors import StoreError
from hydrotwin.live.observation import Observation
from hydrotwin.live.store import open_store

from .helpers import PostgresServer, pg_bin, small_basin

T0 = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory):
    # make test installs PostgreSQL (Makefile SYSPKGS): its absence is a broken set-up
    if pg_bin() is None:
        pytest.fail(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
            "(install the Debian package 'postgresql': make sysdeps)",
            pytrace=False,
        )
    server = PostgresServer(tmp_path_factory.mktemp("pg"))
    try:
        url = server.start()
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        server.stop()
        pytest.fail(f"could not start a PostgreSQL server in tmp: {exc}", pytrace=False)
    yield url
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = open_store(tmp_path / "obs.db")
    else:
        url = request.getfixturevalue("pg_url")
        s = open_store(url)
        cur = s._conn.cursor()
        for t in ("HT_OBS_R", "ST_RIVER_R", "ST_RSVR_R", "ST_PPTN_R", "HT_ALARM_R",
                  "HT_QUARANTINE", "ST_STBPRP_B", "ST_GATE_R"):  # fmt: skip
            cur.execute(f"DELETE FROM {t}")
        s._conn.commit()
        s._kinds.clear()
    yield s
    s.close()


def _obs(i: int, element: str = "Z", station: str = "60000001", value: float | None = None):
    unit = {"Z": "m", "ZU": "m", "P1": "mm", "DRP": "mm", "Q": "m3/s"}[element]
    return Observation(station, T0 + timedelta(minutes=5 * i), element,
                       10.0 + i / 100 if value is None else value, unit)  # fmt: skip


def test_idempotent_and_out_of_order(store, tmp_path):
    store.sync_basin(small_basin(tmp_path))
    batch = [_obs(i) for i in range(10)]
    assert store.add(batch) == 10
    assert store.add(batch[3:7]) == 0  # repeated: stored once
    assert store.add(reversed([_obs(i) for i in range(10, 20)])) == 10  # out of order
    assert store.count("HT_OBS_R") == 20
    assert store.count("ST_RIVER_R") == 20
    s = store.series("60000001", "Z")
    assert [t for t, _ in s] == sorted(t for t, _ in s)
    assert s[0] == (T0, pytest.approx(10.0))
    assert s[-1][1] == pytest.approx(10.19)


def test_datum_correction_per_station(store, tmp_path):
    store.sync_basin(small_basin(tmp_path))  # station 60000002 has datum_offset_m 1.5
    store.add([_obs(0, station="60000002", value=8.0), _obs(0, station="60000001", value=8.0)])
    assert store.datum_offsets()["60000002"] == pytest.approx(1.5)
    assert store.series("60000002", "Z", basin_datum=True)[0][1] == pytest.approx(9.5)
    assert store.series("60000001", "Z", basin_datum=True)[0][1] == pytest.approx(8.0)
    assert store.series("60000002", "Z")[0][1] == pytest.approx(8.0)  # gauge reading kept
    store.set_datum_correction("60000002", 1.8)
    assert store.series("60000002", "Z", basin_datum=True)[0][1] == pytest.approx(9.8)


def test_sl323_tables(store, tmp_path):
    store.sync_basin(small_basin(tmp_path))
    store.add([_obs(0, "ZU", station="70000001", value=116.2), _obs(0, "P1", value=3.5),
               _obs(0, "DRP", value=0.5), _obs(1, "Q", value=150.0)])  # fmt: skip
    assert store._query("SELECT RZ FROM ST_RSVR_R")[0][0] == pytest.approx(116.2)
    # the hourly value wins over a 5-minute value at the same time (one ST_PPTN_R row)
    assert store._query("SELECT DRP, INTV FROM ST_PPTN_R") == [(3.5, 1.0)]
    assert store._query("SELECT Q FROM ST_RIVER_R")[0][0] == pytest.approx(150.0)
    fc = store._query("SELECT WRZ, GRZ, OBHTZ FROM ST_RVFCCH_B WHERE STCD = '60000001'")
    assert fc == [(10.0, 12.0, 13.0)]
    rs = store._query("SELECT DSFLZ, CKFLZ FROM ST_RSVRFCCH_B WHERE STCD = '70000001'")
    assert rs == [(124.0, 126.0)]
    assert store._query("SELECT FSLTDZ FROM ST_RSVRFSR_B")[0][0] == pytest.approx(115.0)


def test_quarantine_and_alarms(store):
    store.add_quarantine(b"\x7e\x7e\x00", "frame is 3 bytes", "127.0.0.1:5")
    q = store.quarantine()
    assert q[0]["reason"] == "frame is 3 bytes" and q[0]["raw"] == "7E7E00"

    class Ev:
        station, kind, level, source, value, threshold = (
            "60000001",
            "level",
            2,
            "observed",
            10.2,
            10.0,
        )
        lead_time_s, issued_at, message = 0.0, None, "above warning"

    e1, e2 = Ev(), Ev()
    e1.time, e2.time = T0, T0 + timedelta(hours=1)
    assert store.add_alarms([e1, e2, e1]) >= 2
    alarms = store.alarms()
    assert len(alarms) == 2 and alarms[0]["time"] == T0 + timedelta(hours=1)  # newest first


def test_last_reports_and_polling(store):
    before = datetime.now(UTC) - timedelta(seconds=1)
    store.add([_obs(0), _obs(1, station="60000003")])
    assert set(store.last_reports()) == {"60000001", "60000003"}
    assert len(store.observations_since(before)) == 2
    assert store.observations_since(datetime.now(UTC) + timedelta(seconds=1)) == []


def test_bad_location_raises(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(StoreError):
        open_store(tmp_path / "f" / "obs.db")
