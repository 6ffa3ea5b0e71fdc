"""The real receiver process (`hydrotwin live sl651`) with its store damaged while it runs:
frames go on being acknowledged from the spool, the damage is reported once, a restart on
the damaged file is refused, and `hydrotwin store restore` from an online backup taken while
ingesting + the spool gives back every acknowledged observation."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from hydrotwin.live.store import open_store

from .damage import garble_page, leaf_pages
from .helpers import free_port
from .test_receiver import fleet


def _cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "hydrotwin.app.cli", *args],
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def _start(port, db, log, *extra):
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hydrotwin.app.cli", "live", "sl651", "--listen",
             f"127.0.0.1:{port}", "--store", str(db), "--allow-any-station", "--check-every", "0.3",
             "--checkpoint-every", "0.2", *extra],
            stdout=subprocess.PIPE, stderr=err, text=True,
        )  # fmt: skip
    ready, _, _ = select.select([proc.stdout], [], [], 30.0)
    if not ready:
        proc.kill()
        pytest.fail("receiver did not print 'listening on' within 30 s")
    assert "listening on" in proc.stdout.readline()
    return proc


def _send(port, stations, first, last, res):
    t0 = fleet.datetime(2026, 7, 1, 8, 0)

    async def main():
        return await asyncio.gather(*(
            fleet.run_station("127.0.0.1", port, s, last, res, t0=t0, first=first,
                              deadline_s=60)
            for s in stations))  # fmt: skip

    return asyncio.run(asyncio.wait_for(main(), 90))


def _checkpoint(db):
    with sqlite3.connect(db, timeout=30) as c:
        busy, _, _ = c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    c.close()
    assert busy == 0


def _wait_for(path, text, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in path.read_text():
            return
        time.sleep(0.05)
    pytest.fail(f"{text!r} not in the receiver's log: {path.read_text()[-2000:]}")


def test_damage_while_running_then_restore(tmp_path):
    port, db, log = free_port(), tmp_path / "obs.db", tmp_path / "rx.log"
    stations = fleet.make_fleet(3)
    res = fleet.FleetResult()
    proc = _start(port, db, log)
    try:
        assert _send(port, stations, 0, 40, res) == [40, 40, 40]
        bk = _cli("store", "backup", "--store", str(db), "--to", str(tmp_path / "bk"))
        assert bk.returncode == 0, bk.stderr  # online, while the receiver holds the store
        assert _send(port, stations, 40, 80, res) == [40, 40, 40]  # after the backup
        _checkpoint(db)  # the next damage hits the main file, not a page the WAL shadows
        garble_page(db, leaf_pages(db)[0])  # rows from before the backup
        _wait_for(log, "taken out of service")
        assert _send(port, stations, 80, 120, res) == [40, 40, 40]  # acked from the spool
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
    text = log.read_text()
    assert text.count("taken out of service") == 1 and "not acknowledging" not in text
    assert res.acked_frames == 360
    restart = _cli(
        "live", "sl651", "--listen", f"127.0.0.1:{port}", "--store", str(db), "--allow-any-station"
    )
    assert restart.returncode == 1 and str(db) in restart.stderr and "restore" in restart.stderr
    check = _cli("store", "check", "--store", str(db))
    assert check.returncode == 1 and "observations waiting" in check.stdout
    backup_file = bk.stdout.strip()
    rst = _cli("store", "restore", "--from", backup_file, "--store", str(db))
    assert rst.returncode == 0, rst.stderr
    assert "360 replayed from the spool" in rst.stdout, rst.stdout  # 120 frames x 3 values
    assert _cli("store", "check", "--store", str(db), "--full").returncode == 0
    with open_store(db) as s:
        stored = set(s._query("SELECT STCD, TM, ELEM FROM HT_OBS_R"))
    acked = {(st, t.strftime("%Y-%m-%d %H:%M:%S"), e) for st, t, e in res.acked}
    assert acked <= stored and len(stored) == len(acked)  # every acked one, once each
