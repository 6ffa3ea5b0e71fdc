"""WAL handling that survives operators: a clean stop leaves the main file complete, a lost
-wal after a crash is refused (not silently accepted), one writer per store. Real processes."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import time

from .helpers import free_port
from .test_store_service import _cli, _send, _start, fleet


def _rows(path):
    with sqlite3.connect(path) as c:
        n = c.execute("SELECT COUNT(*) FROM HT_OBS_R").fetchone()[0]
    c.close()
    return n


def test_clean_stop_leaves_the_main_file_complete(tmp_path):
    port, db = free_port(), tmp_path / "obs.db"
    res = fleet.FleetResult()
    proc = _start(port, db, tmp_path / "rx.log", "--checkpoint-every", "0")
    try:
        assert _send(port, fleet.make_fleet(3), 0, 100, res) == [100, 100, 100]
        second = _cli(
            "live",
            "sl651",
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--store",
            str(db),
            "--allow-any-station",
        )
        assert second.returncode == 1 and "written by another service" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert not (tmp_path / "obs.db-wal").exists() and not (tmp_path / "obs.db.writer").exists()
    shutil.copy(db, tmp_path / "copy.db")  # the operator's `cp obs.db`: now harmless
    assert _rows(tmp_path / "copy.db") == len(res.acked) == 900


def test_lost_wal_after_a_crash_is_refused(tmp_path):
    port, db = free_port(), tmp_path / "obs.db"
    res = fleet.FleetResult()
    proc = _start(port, db, tmp_path / "rx.log", "--checkpoint-every", "0")
    try:
        assert _send(port, fleet.make_fleet(3), 0, 100, res) == [100, 100, 100]
    finally:
        proc.kill()  # kill -9: the WAL holds acknowledged rows not yet in obs.db
        proc.wait(20)
    wal = tmp_path / "obs.db-wal"
    assert wal.stat().st_size > 0
    wal.unlink()  # what an operator copying only obs.db (or cleaning up "temp files") does
    again = _cli(
        "live", "sl651", "--listen", f"127.0.0.1:{port}", "--store", str(db), "--allow-any-station"
    )
    assert again.returncode == 1
    assert "obs.db-wal is missing" in again.stderr and "store restore" in again.stderr
    assert not wal.exists()  # refused before SQLite could start a fresh WAL


def test_scheduled_checkpoint_keeps_the_main_file_current(tmp_path):
    port, db = free_port(), tmp_path / "obs.db"
    res = fleet.FleetResult()
    proc = _start(port, db, tmp_path / "rx.log")  # checkpoint every 0.2 s
    try:
        assert _send(port, fleet.make_fleet(3), 0, 100, res) == [100, 100, 100]
        time.sleep(1.0)
        shutil.copy(db, tmp_path / "copy.db")  # `cp obs.db` while the service runs
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert _rows(tmp_path / "copy.db") == len(res.acked) == 900  # nothing left only in the WAL
