"""kill -9 of the receiver process mid-stream, then restart: every acknowledged observation is
in the store, none twice (the fleet resends what was not confirmed, as M2 stations do)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess

from hydrotwin.live.store import open_store

from .helpers import free_port, start_open_receiver
from .test_receiver import fleet


def test_kill9_mid_stream_then_restart(tmp_path):
    port, db = free_port(), tmp_path / "obs.db"
    procs = [start_open_receiver(port, db)]
    stations = fleet.make_fleet(6)
    kills = []

    async def killer(res):
        for target in (60, 200):
            while res.acked_frames < target:
                await asyncio.sleep(0.005)
            procs[-1].send_signal(signal.SIGKILL)
            procs[-1].wait(10)
            kills.append(res.acked_frames)
            procs.append(await asyncio.to_thread(start_open_receiver, port, db))

    async def main():
        res = fleet.FleetResult()
        t0 = fleet.datetime(2026, 7, 1, 8, 0)
        tasks = [
            fleet.run_station(
                "127.0.0.1", port, s, 60, res, t0=t0, deadline_s=60, ack_timeout_s=2.0
            )
            for s in stations
        ]
        k = asyncio.create_task(killer(res))
        await asyncio.gather(*tasks)
        await k
        return res

    try:
        res = asyncio.run(asyncio.wait_for(main(), 90))
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.kill(p.pid, signal.SIGKILL)
    assert len(kills) == 2 and res.acked_frames == 6 * 60
    assert res.resent > 0  # the kills really interrupted the stream
    store = open_store(db)
    stored = set(store._query("SELECT STCD, TM, ELEM FROM HT_OBS_R"))
    n_rows = store.count("HT_OBS_R")
    acked = {(s, t.strftime("%Y-%m-%d %H:%M:%S"), e) for s, t, e in res.acked}
    store.close()
    assert acked <= stored  # every acknowledged observation is there
    assert n_rows == len(stored) == len(acked)  # once each, nothing else
