"""The SL 651 TCP receiver with a simulated station fleet on a loopback port."""

from __future__ import annotations

import asyncio
import importlib.util
import random
import sys
from pathlib import Path

import pytest

from hydrotwin.live import sl651
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.receiver import Receiver, ReceiverConfig, StationRegistry
from hydrotwin.live.store import open_store

from .helpers import small_basin

REPO = Path(__file__).resolve().parents[2]


def load_fleet():
    """bench/station_fleet.py (not a package): loaded by path."""
    if "station_fleet" in sys.modules:
        return sys.modules["station_fleet"]
    spec = importlib.util.spec_from_file_location(
        "station_fleet", REPO / "bench" / "station_fleet.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules["station_fleet"] = mod
    spec.loader.exec_module(mod)
    return mod


fleet = load_fleet()


def _run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def _with_receiver(tmp_path, body, registry=None, **cfg):
    store = open_store(tmp_path / "obs.db")
    rx = Receiver(Pipeline(store), registry, ReceiverConfig(port=0, **cfg))
    host, port = await rx.start()
    try:
        return await body(host, port, store, rx)
    finally:
        await rx.stop()
        store.close()


def test_fleet_all_acked_stored_once(tmp_path):
    basin = small_basin(tmp_path, n_river=3)
    stations = [fleet.SimStation(f"006000000{i}", "1234", f"6000000{i}") for i in (1, 2, 3)]

    async def body(host, port, store, rx):
        res = await fleet.run_fleet(host, port, stations, 20, deadline_s=30)
        return res, store.count("HT_OBS_R"), store.count("ST_RIVER_R"), rx.stats

    res, n_obs, n_river, stats = _run(
        _with_receiver(tmp_path, body, StationRegistry.from_basin(basin))
    )
    assert res.acked_frames == 60 and res.resent == 0
    assert n_obs == len(res.acked) == 60 * 3  # PJ, Z, VT per report
    assert n_river == 60
    assert stats.acked == 60 and stats.rejected == 0


def test_unknown_station_and_wrong_password_rejected(tmp_path):
    basin = small_basin(tmp_path, n_river=1)

    async def body(host, port, store, rx):
        bad = [fleet.SimStation("0099999999", "1234"), fleet.SimStation("0060000001", "FFFF")]
        res = await fleet.run_fleet(host, port, bad, 1, deadline_s=1.5, ack_timeout_s=0.5)
        return res, store.count("HT_OBS_R"), store.quarantine()

    res, n, q = _run(_with_receiver(tmp_path, body, StationRegistry.from_basin(basin)))
    assert res.acked_frames == 0 and n == 0
    reasons = {r["reason"].split(" ")[0] + " " + r["reason"].split(" ")[1] for r in q}
    assert {"unknown station", "wrong password"} <= reasons


async def _garbage_client(host, port, seed, n_chunks=200):
    rnd = random.Random(seed)
    try:
        _, w = await asyncio.open_connection(host, port)
        for k in range(n_chunks):
            chunk = bytearray(rnd.randbytes(rnd.randint(1, 600)))
            if k % 3 == 0:  # fake frame headers with big lengths, broken CRCs
                chunk[0:2] = b"\x7e\x7e"
            w.write(bytes(chunk))
            await w.drain()
            await asyncio.sleep(0)
        w.close()
    except (ConnectionError, OSError):
        return  # the receiver closed us: that is the point


def test_garbage_flood_does_not_stop_good_stations(tmp_path):
    stations = fleet.make_fleet(4)

    async def body(host, port, store, rx):
        flood = [asyncio.create_task(_garbage_client(host, port, s)) for s in range(4)]
        res = await fleet.run_fleet(host, port, stations, 25, deadline_s=40)
        await asyncio.gather(*flood)
        return res, store.count("HT_OBS_R"), store.count("HT_QUARANTINE"), rx.stats

    res, n_obs, n_q, stats = _run(_with_receiver(tmp_path, body, max_garbage_bytes=20_000))
    assert res.acked_frames == 100
    assert n_obs == len(res.acked) == 300
    assert n_q > 0 and stats.garbage_bytes > 10_000
    assert n_q <= 4 * 50 + 10  # rate-limited quarantine per connection


def test_idle_connection_closed(tmp_path):
    async def body(host, port, store, rx):
        r, w = await asyncio.open_connection(host, port)
        data = await asyncio.wait_for(r.read(10), 5)  # EOF when the centre hangs up
        w.close()
        return data

    assert _run(_with_receiver(tmp_path, body, idle_timeout_s=0.3)) == b""


def test_per_host_connection_limit(tmp_path):
    async def body(host, port, store, rx):
        conns = [await asyncio.open_connection(host, port) for _ in range(2)]
        await asyncio.sleep(0.2)
        extra_r, extra_w = await asyncio.open_connection(host, port)
        data = await asyncio.wait_for(extra_r.read(10), 5)
        for _, w in conns:
            w.close()
        extra_w.close()
        await asyncio.sleep(0.2)
        res = await fleet.run_fleet(
            host, port, fleet.make_fleet(2), 2, deadline_s=10
        )  # slots free again
        return data, rx.stats.refused_connections, res.acked_frames

    data, refused, acked = _run(_with_receiver(tmp_path, body, max_connections_per_host=2))
    assert data == b"" and refused == 1 and acked == 4


def _keepalive(address: str = "0012345678", password: str = "1234") -> bytes:
    from datetime import datetime

    t = datetime(2026, 7, 1, 8, 0)
    return sl651.encode_keepalive(station=address, password=password, serial=1, send_time=t)


def test_connection_limit(tmp_path):
    """A full table of authenticated stations refuses the next connection."""

    async def body(host, port, store, rx):
        conns = [await asyncio.open_connection(host, port) for _ in range(3)]
        for k, (_, w) in enumerate(conns):
            w.write(_keepalive(f"00123456{k:02d}"))
            await w.drain()
        await asyncio.sleep(0.2)
        extra_r, extra_w = await asyncio.open_connection(host, port)
        data = await asyncio.wait_for(extra_r.read(10), 5)
        for _, w in conns:
            w.close()
        extra_w.close()
        return data, rx.stats.refused_connections, rx.stats.evicted_connections

    data, refused, evicted = _run(
        _with_receiver(tmp_path, body, StationRegistry.any_station(), max_connections=3)
    )
    assert data == b"" and refused == 1 and evicted == 0


def test_full_table_evicts_longest_idle_unauthenticated(tmp_path):
    """Idle sockets that never sent a valid frame cannot lock a new station out."""

    async def body(host, port, store, rx):
        idle = []
        for _ in range(4):
            idle.append(await asyncio.open_connection(host, port))
            await asyncio.sleep(0.05)  # the first is the longest idle
        res = await fleet.run_fleet(host, port, fleet.make_fleet(1), 3, deadline_s=10)
        first = await asyncio.wait_for(idle[0][0].read(10), 5)  # EOF: it was evicted
        for _, w in idle:
            w.close()
        return res.acked_frames, first, rx.stats

    acked, first, stats = _run(
        _with_receiver(tmp_path, body, StationRegistry.any_station(), max_connections=4)
    )
    assert acked == 3 and first == b""
    assert stats.evicted_connections == 1 and stats.refused_connections == 0


def test_multipacket_and_keepalive_over_tcp(tmp_path):
    from datetime import datetime

    async def body(host, port, store, rx):
        r, w = await asyncio.open_connection(host, port)
        t = datetime(2026, 7, 1, 8, 0)
        w.write(
            sl651.encode_keepalive(station="0012345678", password="1234", serial=1, send_time=t)
        )
        hdr = bytes.fromhex("0002") + bytes.fromhex(t.strftime("%y%m%d%H%M%S"))
        hdr += (
            b"\xf1\xf1"
            + bytes.fromhex("0012345678")
            + b"H"
            + b"\xf0\xf0"
            + bytes.fromhex("2607010800")
        )
        body_ = hdr + b"\x39\x23" + bytes.fromhex("00012345") + b"\xf3\xf3" + bytes(range(256)) * 3
        for p in sl651.split_message(
            station="0012345678", password="1234", function=0x36, body=body_, max_body=200
        ):
            w.write(p)
        await w.drain()
        head = await asyncio.wait_for(r.readexactly(13), 5)
        reply = sl651.decode(head + await r.readexactly(sl651.hex_frame_length(head) - 13))
        w.close()
        return reply, store.series("12345678", "Z")

    reply, z = _run(_with_receiver(tmp_path, body))
    assert reply.serial == 2 and reply.end == sl651.EOT  # one confirmation for the message
    assert len(z) == 1 and z[0][1] == pytest.approx(12.345)


def test_ascii_frames_over_tcp(tmp_path):
    from datetime import datetime

    async def body(host, port, store, rx):
        r, w = await asyncio.open_connection(host, port)
        t = datetime(2026, 7, 1, 8, 0)
        frames = [
            sl651.encode_report(
                station="0012345678",
                password="1234",
                serial=k + 1,
                send_time=t,
                obs_time=t.replace(minute=5 * k),
                elements=[("Z", 3.5 + k)],
                encoding="ascii",
            )
            for k in range(3)
        ]
        w.write(b"".join(frames))  # back to back in one TCP segment
        await w.drain()
        replies = []
        for _ in range(3):
            head = await asyncio.wait_for(r.readexactly(24), 5)
            rest = await r.readexactly(sl651.ascii_frame_length(head) - 24)
            replies.append(sl651.decode(head + rest))
        w.close()
        return replies, store.series("12345678", "Z")

    replies, z = _run(_with_receiver(tmp_path, body))
    assert [x.serial for x in replies] == [1, 2, 3] and all(x.encoding == "ascii" for x in replies)
    assert [v for _, v in z] == [3.5, 4.5, 5.5]


def test_frames_split_at_every_byte(tmp_path):
    """A station whose frames arrive one byte per TCP segment (slow links do this)."""
    from datetime import datetime

    async def body(host, port, store, rx):
        r, w = await asyncio.open_connection(host, port)
        t = datetime(2026, 7, 1, 8, 0)
        frame = sl651.encode_report(
            station="0012345678",
            password="1234",
            serial=9,
            send_time=t,
            obs_time=t,
            elements=[("Z", 7.25)],
        )
        for b in frame:
            w.write(bytes([b]))
            await w.drain()
            await asyncio.sleep(0)
        head = await asyncio.wait_for(r.readexactly(13), 5)
        reply = sl651.decode(head + await r.readexactly(sl651.hex_frame_length(head) - 13))
        w.close()
        return reply, store.series("12345678", "Z"), store.count("HT_QUARANTINE")

    reply, z, n_q = _run(_with_receiver(tmp_path, body))
    assert reply.serial == 9 and [v for _, v in z] == [7.25] and n_q == 0
