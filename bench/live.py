"""Live-monitoring benchmark: SL 651 decoding, committed observations, end-to-end latency.

1. ``decode_frames_per_s`` — the 43 CRC-good real frames of ``../shared/data/sl651`` decoded
   over and over (median of 5 runs). Target ≥ 50,000 frames/s.
2. ``commit_obs_per_s`` — observations committed into SQLite (WAL, synchronous=FULL) through
   the receiver's batched writer, with every submitter waiting for its commit as an ACK does
   (200 concurrent "frames" of 10 observations, median of 3 runs), with the store's guards in
   place: the spool attached and the monitor running quick_check every 0.5 s and a WAL
   checkpoint every 0.2 s on its own connection. Target ≥ 20,000 obs/s.
   Also reported: the same through real TCP (station fleet -> receiver -> store -> ACK);
   ``spool_obs_per_s``, the same load acknowledged from the spool while the store is damaged;
   and the online backup and quick_check of the 20,000-observation store.
3. ``latency_ms_p95`` — frame sent by a simulated station -> receiver -> committed ->
   warning computed (WarningEngine listener), 95th percentile. Target < 200 ms.

Run ``.venv/bin/python bench/live.py``; the last line is one JSON object. Timings never fail.
"""

from __future__ import annotations

import asyncio
import csv
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data" / "sl651" / "hex_frames.tsv"


def _fleet():
    spec = importlib.util.spec_from_file_location(
        "station_fleet", REPO / "bench" / "station_fleet.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules["station_fleet"] = mod
    spec.loader.exec_module(mod)
    return mod


def bench_decode(repeats: int = 5, passes: int = 300) -> float:
    from hydrotwin.live import sl651

    with open(DATA, encoding="utf-8") as fh:
        frames = [
            bytes.fromhex(r["hex"])
            for r in csv.DictReader(fh, delimiter="\t")
            if r["crc_ok"] == "true"
        ]
    sl651.decode(frames[0])  # build the CRC table outside the timing
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(passes):
            for f in frames:
                sl651.decode(f)
        rates.append(passes * len(frames) / (time.perf_counter() - t))
    print(
        f"decode: {len(frames)} real frames x {passes} passes, runs: "
        + ", ".join(f"{r:,.0f}" for r in rates)
        + " frames/s"
    )
    return statistics.median(rates)


def bench_commit(
    tmp: Path, repeats: int = 3, frames: int = 2000, per_frame: int = 10, damaged: bool = False
) -> float:
    from hydrotwin.live.monitor import MonitorConfig, StoreMonitor
    from hydrotwin.live.observation import Observation
    from hydrotwin.live.pipeline import Pipeline
    from hydrotwin.live.spool import Spool, spool_path_for
    from hydrotwin.live.store import open_store

    t0 = datetime(2026, 7, 1, tzinfo=UTC)
    # the "frames" are built before the clock starts: this times the store path only
    payload = [
        [
            Observation(
                f"{60000000 + f % 200:08d}",
                t0 + timedelta(minutes=5 * (f // 200 * per_frame + k)),
                "Z",
                10.0 + k / 100,
                "m",
            )
            for k in range(per_frame)
        ]
        for f in range(frames)
    ]

    async def run(pipe: Pipeline) -> float:
        await pipe.start()
        start = time.perf_counter()
        # every "frame" waits for the commit of the batch holding it, as its ACK does
        await asyncio.gather(*(pipe.commit_async(obs) for obs in payload))
        dt = time.perf_counter() - start
        await pipe.stop()
        return frames * per_frame / dt

    rates = []
    what = "spool" if damaged else "commit"
    for rep in range(repeats):
        db = tmp / f"{what}{rep}.db"
        store = open_store(db)
        pipe = Pipeline(store, spool=Spool(spool_path_for(db)))
        cfg = MonitorConfig(check_every_s=0.5, checkpoint_every_s=0.2)
        monitor = StoreMonitor(db, pipe.mark_damaged, cfg)
        if damaged:
            pipe.mark_damaged("benchmark: store taken out of service")
        else:
            monitor.start()
        rates.append(asyncio.run(run(pipe)))
        monitor.stop()
        where = (
            "appended to the spool, fsync each"
            if damaged
            else f"in {pipe.batches} transactions, WAL, synchronous=FULL, "
            f"{monitor.runs['check']} quick_checks and {monitor.runs['checkpoint']} checkpoints"
        )
        print(f"{what} run {rep + 1}: {rates[-1]:,.0f} obs/s ({frames * per_frame} obs {where})")
        store.close()
    return statistics.median(rates)


def bench_backup_check(tmp: Path) -> tuple[float, float]:
    """Online backup and quick_check of the 20,000-observation store, ms (median of 3)."""
    import sqlite3

    from hydrotwin.live.maintenance import backup

    db = tmp / "commit0.db"
    b_ms, c_ms = [], []
    for _ in range(3):
        t = time.perf_counter()
        backup(db, tmp / "bk", keep=1)
        b_ms.append((time.perf_counter() - t) * 1000.0)
        conn = sqlite3.connect(db)
        t = time.perf_counter()
        conn.execute("PRAGMA quick_check").fetchall()
        c_ms.append((time.perf_counter() - t) * 1000.0)
        conn.close()
    size_mb = db.stat().st_size / 1e6
    print(
        f"store of {size_mb:.1f} MB: online backup {statistics.median(b_ms):.0f} ms, "
        f"quick_check {statistics.median(c_ms):.0f} ms (medians of 3)"
    )
    return statistics.median(b_ms), statistics.median(c_ms)


def bench_tcp_and_latency(
    tmp: Path, stations: int = 20, reports: int = 30
) -> tuple[float, float, float]:
    from hydrotwin.fourpre.warning import StationThresholds, WarningEngine
    from hydrotwin.live.pipeline import Pipeline
    from hydrotwin.live.receiver import Receiver, ReceiverConfig, StationRegistry
    from hydrotwin.live.store import open_store

    fleet = _fleet()
    store = open_store(tmp / "tcp.db")
    computed: dict[tuple[str, datetime], float] = {}
    th = [
        StationThresholds(f"{60000000 + i:08d}", 9.5, 10.0, 12.0, 13.0)
        for i in range(1, stations + 1)
    ]
    engine = WarningEngine(th)

    def on_obs(obs):
        engine.observe(obs)  # the warning is computed here ...
        now = time.perf_counter()
        for o in obs:
            if o.element == "Z":
                computed[(o.station, o.time)] = now  # ... and timed right after

    pipe = Pipeline(store, [on_obs])
    sims = fleet.make_fleet(stations)

    async def run():
        rx = Receiver(pipe, StationRegistry.any_station(), ReceiverConfig(port=0))
        host, port = await rx.start()
        t = time.perf_counter()
        res = await fleet.run_fleet(host, port, sims, reports, deadline_s=120)
        dt = time.perf_counter() - t
        await rx.stop()
        return res, dt

    res, dt = asyncio.run(run())
    tz = fleet.TZ
    lat = []
    for (stcd, local_t), sent in res.send_times.items():
        key = (stcd, local_t.replace(tzinfo=tz).astimezone(UTC))
        if key in computed:
            lat.append((computed[key] - sent) * 1000.0)
    lat.sort()
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    p50 = statistics.median(lat) if lat else float("nan")
    obs_s = len(res.acked) / dt
    print(
        f"tcp: {stations} stations x {reports} reports, {res.acked_frames} confirmed in {dt:.2f} s "
        f"= {obs_s:,.0f} obs/s (3 obs per frame, one frame in flight per station)"
    )
    print(
        f"latency frame sent -> warning computed: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
        f"({len(lat)} frames)"
    )
    store.close()
    return obs_s, p50, p95


def main() -> None:
    load = os.getloadavg()
    print(
        f"cpu_count {os.cpu_count()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(shared machine: figures are medians, expect noise)"
    )
    decode = bench_decode()
    with tempfile.TemporaryDirectory(prefix="hydrotwin-bench-") as d:
        tmp = Path(d)
        commit = bench_commit(tmp)
        spool = bench_commit(tmp, damaged=True)
        backup_ms, check_ms = bench_backup_check(tmp)
        tcp_obs, p50, p95 = bench_tcp_and_latency(tmp)
    print(
        f"decode {decode:,.0f} frames/s (target >= 50,000); commit {commit:,.0f} obs/s "
        f"(target >= 20,000, checks and spool in place); spool {spool:,.0f} obs/s; "
        f"latency p95 {p95:.1f} ms (target < 200)"
    )
    print(
        json.dumps(
            {
                "decode_frames_per_s": round(decode),
                "commit_obs_per_s": round(commit),
                "spool_obs_per_s": round(spool),
                "backup_20k_ms": round(backup_ms, 1),
                "quick_check_20k_ms": round(check_ms, 1),
                "tcp_obs_per_s": round(tcp_obs),
                "latency_ms_p50": round(p50, 2),
                "latency_ms_p95": round(p95, 2),
                "cpu_count": os.cpu_count(),
                "load_avg_1m": round(load[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
