"""Damaged store files (issue 22): each case ends in a clear refusal or a spool-and-report,
never in acknowledged data that cannot be read back. Real SQLite files, real damage."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from datetime import timedelta

import pytest

from hydrotwin.errors import StoreDamagedError, StoreError
from hydrotwin.live.maintenance import backup, check_store, restore, salvage_rows
from hydrotwin.live.monitor import MonitorConfig, StoreMonitor
from hydrotwin.live.observation import Observation
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.spool import Spool, read_spool, spool_path_for
from hydrotwin.live.store import is_damage, open_store

from .damage import T0, garble_page, key, leaf_pages, make_store, observations, stored_keys
from .test_store import pg_url  # noqa: F401  (a real PostgreSQL server)


@pytest.fixture(scope="module")
def store20k(tmp_path_factory):
    """A closed store of 20,000 observations, as in the issue's measurements (copied per test)."""
    p = tmp_path_factory.mktemp("s20k") / "obs.db"
    return p, make_store(p, 20_000)


def _copy(store20k, tmp_path):
    src, obs = store20k
    dst = tmp_path / "obs.db"
    shutil.copy(src, dst)
    return dst, obs


def test_zero_byte_store_is_refused_not_emptied(tmp_path):
    db = tmp_path / "obs.db"
    db.write_bytes(b"")
    with pytest.raises(StoreDamagedError) as e:
        open_store(db)
    msg = str(e.value)
    assert str(db) in msg and "0 bytes" in msg and "store restore" in msg and "--new-store" in msg
    assert db.stat().st_size == 0  # nothing was created over it
    with open_store(db, new_store=True) as s:  # the explicit choice starts an empty store
        assert s.count() == 0


def test_missing_file_is_a_new_store(tmp_path):
    with open_store(tmp_path / "sub" / "obs.db") as s:
        assert s.count() == 0 and s.check() == []


def test_garbled_middle_page_is_refused_on_open(store20k, tmp_path):
    db, _ = _copy(store20k, tmp_path)
    pages = leaf_pages(db)
    garble_page(db, pages[len(pages) // 2])
    before = db.read_bytes()
    with pytest.raises(StoreDamagedError) as e:
        open_store(db)
    assert str(db) in str(e.value) and "malformed" in str(e.value)
    assert "store restore --from BACKUP" in str(e.value)
    assert db.read_bytes() == before  # refused without touching the file
    rep = check_store(db)
    assert not rep.ok and rep.observations is None


@pytest.mark.parametrize("damage", ["truncate", "header"])
def test_truncation_and_header_damage_are_refused(store20k, tmp_path, damage):
    db, _ = _copy(store20k, tmp_path)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\0" * 100 + data[100:])
    with pytest.raises(StoreDamagedError, match=str(db)):
        open_store(db)


def test_integrity_check_on_request(store20k, tmp_path):
    db, _ = _copy(store20k, tmp_path)
    with open_store(db, check="full") as s:
        assert s.check(full=True) == [] and s.count() == 20_000


def _damaged_while_open(db):
    """A store that was healthy when opened and is damaged now (its last page garbled)."""
    store = open_store(db)
    store.checkpoint("TRUNCATE")
    store.close()
    garble_page(db, db.stat().st_size // 4096)
    return open_store(db, check=None)  # the handle the running service already had


def test_garbled_last_page_spools_acks_and_reports_once(store20k, tmp_path, caplog):
    db, _ = _copy(store20k, tmp_path)
    store = _damaged_while_open(db)
    events = []
    pipe = Pipeline(store, spool=Spool(spool_path_for(db)))
    pipe.add_status_listener(events.append)
    new = observations(1200, t0=T0 + timedelta(days=400))
    with caplog.at_level(logging.ERROR, logger="hydrotwin.live.pipeline"):
        for i in range(0, 1200, 10):  # 120 frames, as in the issue
            assert pipe.commit(new[i : i + 10]) == 10  # returns = durable = may be acked
    assert [e["kind"] for e in events] == ["ok", "damaged"]
    assert events[1]["peer"] == str(db) and "malformed" in events[1]["reason"]
    assert len([r for r in caplog.records if "out of service" in r.message]) == 1
    spooled = read_spool(spool_path_for(db))
    assert spooled.observations == 1200 and not spooled.bad_lines
    assert {o.key for _, b in spooled.batches for o in b} == {o.key for o in new}
    assert pipe.status()["spooled"] == 1200
    store.close()


def test_damaged_store_without_spool_is_never_acked(store20k, tmp_path):
    db, _ = _copy(store20k, tmp_path)
    store = _damaged_while_open(db)
    pipe = Pipeline(store)  # no spool: nothing durable to acknowledge into
    with pytest.raises(StoreError, match="no spool"):
        pipe.commit(observations(10, t0=T0 + timedelta(days=400)))
    store.close()


def test_spool_torn_and_flipped_lines_are_skipped_and_named(tmp_path):
    sp = Spool(tmp_path / "obs.db.spool")
    a, b = observations(5), observations(5, t0=T0 + timedelta(days=1))
    sp.append(a, T0)
    sp.append(b, T0)
    raw = sp.path.read_bytes()
    first_end = raw.index(b"\n") + 1
    flipped = raw[:20] + bytes([raw[20] ^ 0x01]) + raw[21:]  # a bit flip in line 1
    sp.path.write_bytes(flipped + raw[:first_end][:-7])  # and a torn third line
    got = read_spool(sp.path)
    assert [n for n, _ in got.bad_lines] == [1, 3]
    assert "CRC" in got.bad_lines[0][1] and "incomplete" in got.bad_lines[1][1]
    assert [o.key for o in got.batches[0][1]] == [o.key for o in b]


def test_backup_while_ingesting_is_consistent_and_rotated(tmp_path):
    db = tmp_path / "obs.db"
    store = open_store(db)
    stop = threading.Event()
    written = []

    def ingest():
        i = 0
        while not stop.is_set():
            batch = observations(200, t0=T0 + timedelta(days=i))
            store.add(batch)
            written.append(len(batch))
            i += 1

    t = threading.Thread(target=ingest)
    t.start()
    try:
        paths = []
        while len(paths) < 4:
            if written:
                paths.append(backup(db, tmp_path / "bk", keep=3))
    finally:
        stop.set()
        t.join()
    kept = sorted((tmp_path / "bk").glob("obs-*.db"), key=lambda p: p.stat().st_mtime_ns)
    assert kept == paths[1:]  # the oldest of four rotated away
    counts = []
    for p in kept:
        with open_store(p, check="full") as b:
            counts.append(b.count())
            assert b.count("ST_RIVER_R") == b.count()  # both tables from one transaction
    assert all(c % 200 == 0 and c > 0 for c in counts) and counts == sorted(counts)
    assert not list((tmp_path / "bk").glob("*-wal"))  # a backup is one file
    store.close()


def test_backup_of_damaged_store_is_refused_and_keeps_older(store20k, tmp_path):
    db, _ = _copy(store20k, tmp_path)
    good = backup(db, tmp_path / "bk", keep=1)
    garble_page(db, leaf_pages(db)[5])
    with pytest.raises(StoreDamagedError, match="no backup written, older backups kept"):
        backup(db, tmp_path / "bk", keep=1)
    assert list((tmp_path / "bk").iterdir()) == [good]


def test_monitor_detects_damage_off_the_ingest_path(store20k, tmp_path):
    db, _ = _copy(store20k, tmp_path)
    store = open_store(db)
    pipe = Pipeline(store, spool=Spool(spool_path_for(db)))
    mon = StoreMonitor(db, pipe.mark_damaged, MonitorConfig(check_every_s=0.2))
    mon.start()
    try:
        store.checkpoint("TRUNCATE")
        garble_page(db, leaf_pages(db)[10])
        for _ in range(100):
            if pipe.damaged:
                break
            threading.Event().wait(0.05)
    finally:
        mon.stop()
    assert pipe.damaged and "quick_check failed" in pipe.damaged and mon.runs["check"] >= 1
    pipe.commit(observations(10, t0=T0 + timedelta(days=500)))  # goes to the spool now
    assert read_spool(spool_path_for(db)).observations == 10
    store.close()


def test_restore_from_backup_and_spool_recovers_every_acked_observation(store20k, tmp_path):
    db, first = _copy(store20k, tmp_path)
    bk = backup(db, tmp_path / "bk")
    store = open_store(db)
    pipe = Pipeline(store, spool=Spool(spool_path_for(db)))
    after_backup = observations(2000, t0=T0 + timedelta(days=300))
    for i in range(0, 2000, 100):
        pipe.commit(after_backup[i : i + 100])  # acknowledged, in the store only
    store.checkpoint("TRUNCATE")
    garble_page(db, leaf_pages(db)[len(leaf_pages(db)) // 3])  # a page of the first 20k
    mon = StoreMonitor(db, pipe.mark_damaged)
    mon.run_task("check")
    assert pipe.damaged
    spooled = observations(1200, t0=T0 + timedelta(days=600))
    for i in range(0, 1200, 10):
        pipe.commit(spooled[i : i + 10])  # acknowledged from the spool
    store.close()
    acked = {key(o) for o in first + after_backup + spooled}
    assert len(salvage_rows(db)) < 22_000  # some rows are really unreadable now
    rep = restore(db, bk)
    assert rep.from_backup == 20_000 and rep.spooled == 1200 and rep.salvaged == 2000
    assert acked <= stored_keys(db) and rep.observations == len(acked)
    with open_store(db, check="full") as s:
        assert s.count("ST_RIVER_R") == len(acked)  # SL 323 rows rebuilt for every one
    assert (tmp_path / rep.moved_aside).exists() and rep.spool_archived
    assert not spool_path_for(db).exists()  # replayed: the next outage starts a fresh spool
    rep2 = restore(db, bk, salvage=False)  # nothing left to replay: idempotent, backup only
    assert rep2.spooled == 0


def test_postgres_gets_the_checks_that_apply(pg_url, tmp_path):  # noqa: F811
    rep = check_store(pg_url)
    assert rep.ok and rep.observations is not None and rep.spool == "" and rep.wal_bytes == 0
    with pytest.raises(StoreError, match="pg_dump"):
        backup(pg_url, tmp_path / "bk")
    psycopg = pytest.importorskip("psycopg")
    assert is_damage(psycopg.errors.DataCorrupted("page 7")) and is_damage(
        psycopg.errors.DiskFull("no space")
    )
    assert not is_damage(psycopg.errors.UniqueViolation("dup"))


def test_alarms_still_raised_when_the_store_is_damaged(store20k, tmp_path):
    from hydrotwin.fourpre.warning import Level, StationThresholds, WarningEngine

    db, _ = _copy(store20k, tmp_path)
    store = _damaged_while_open(db)
    with sqlite3.connect(db) as c:
        sql = "SELECT rootpage FROM sqlite_master WHERE name = 'HT_ALARM_R'"
        (root,) = c.execute(sql).fetchone()
    c.close()
    garble_page(db, root)  # the alarm table is damaged too
    raised = []
    eng = WarningEngine([StationThresholds("60000001", 9.5, 10.0, 12.0, 13.0)], store=store,
                        listeners=[raised.append])  # fmt: skip
    pipe = Pipeline(store, [eng], spool=Spool(spool_path_for(db)))
    pipe.commit([Observation("60000001", T0 + timedelta(days=400), "Z", 12.4, "m")])
    assert pipe.damaged and [e.level for e in raised] == [Level.ORANGE]
    store.close()


def test_monitor_backs_up_on_schedule_with_rotation(store20k, tmp_path):
    db, _ = _copy(store20k, tmp_path)
    store = open_store(db)
    pipe = Pipeline(store, spool=Spool(spool_path_for(db)))
    cfg = MonitorConfig(check_every_s=0, checkpoint_every_s=0, backup_dir=tmp_path / "bk",
                        backup_every_s=0.3, backup_keep=2)  # fmt: skip
    mon = StoreMonitor(db, pipe.mark_damaged, cfg)
    mon.start()
    try:
        for i in range(40):
            pipe.commit(observations(50, t0=T0 + timedelta(days=100 + i)))
            threading.Event().wait(0.05)
            if mon.runs["backup"] >= 3:
                break
    finally:
        mon.stop()
    kept = sorted((tmp_path / "bk").glob("obs-*.db"))
    assert mon.runs["backup"] >= 3 and len(kept) == 2 and not pipe.damaged
    for p in kept:
        with open_store(p, check="full") as b:
            assert b.count() >= 20_000
    store.close()
