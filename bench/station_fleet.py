"""A simulated fleet of SL 651 field stations speaking HEX frames over TCP.

Each station opens one TCP connection, sends timed reports (32H) with rain ``PJ``, level
``Z`` and supply voltage ``VT``, and waits for the centre's confirmation before the next
report — as a real M2 station does. A report that is not confirmed (no reply, connection
lost, centre down) is sent again with the same serial after reconnecting, so every report
is eventually confirmed or the deadline passes. ``FleetResult.acked`` holds the
observations the centre confirmed: what a kill test must find in the store.

Run: ``.venv/bin/python bench/station_fleet.py --port 5005 --stations 8 --reports 100``
(importable: ``run_fleet``, ``SimStation``, ``level_series``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hydrotwin.errors import FrameError
from hydrotwin.live import sl651

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class SimStation:
    address: str  # 10 hex digits
    password: str = "1234"
    stcd: str | None = None
    serial: int = 1
    centre: int = 1

    @property
    def code(self) -> str:
        return self.stcd or sl651.station_code(self.address)


@dataclass
class FleetResult:
    acked: set[tuple[str, datetime, str]] = field(default_factory=set)
    sent: int = 0
    acked_frames: int = 0
    resent: int = 0
    send_times: dict[tuple[str, datetime], float] = field(default_factory=dict)
    ack_latency_s: list[float] = field(default_factory=list)


def level_series(i: int, base_m: float = 8.0, amp_m: float = 5.0, n: int = 200) -> float:
    """A flood wave: rises from base to base+amp and falls again over n reports."""
    return round(base_m + amp_m * math.sin(math.pi * min(i, n) / n) ** 2, 2)


ElementsFn = Callable[[SimStation, int], Sequence[tuple[str, float | None]]]


def default_elements(st: SimStation, i: int) -> list[tuple[str, float | None]]:
    return [("PJ", round(0.5 * i, 1)), ("Z", level_series(i)), ("VT", 12.5)]


async def _read_reply(reader: asyncio.StreamReader, timeout: float) -> sl651.Frame:
    head = await asyncio.wait_for(reader.readexactly(13), timeout)
    rest = await asyncio.wait_for(reader.readexactly(sl651.hex_frame_length(head) - 13), timeout)
    return sl651.decode(head + rest)


async def run_station(
    host: str,
    port: int,
    st: SimStation,
    reports: int,
    result: FleetResult,
    *,
    t0: datetime,
    step: timedelta = timedelta(minutes=5),
    elements: ElementsFn = default_elements,
    deadline_s: float = 60.0,
    ack_timeout_s: float = 5.0,
    interval_s: float = 0.0,
    first: int = 0,
) -> int:
    """Send reports ``first … reports-1``; return how many were confirmed before the deadline."""
    end = time.monotonic() + deadline_s
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    i, done = first, 0
    while i < reports and time.monotonic() < end:
        if writer is None:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2.0)
            except (OSError, TimeoutError):
                await asyncio.sleep(0.05)
                continue
        assert reader is not None
        obs_time = t0 + i * step
        els = list(elements(st, i))
        frame = sl651.encode_report(
            station=st.address,
            password=st.password,
            serial=st.serial,
            send_time=obs_time,
            obs_time=obs_time,
            elements=els,
            centre=st.centre,
        )
        sent_at = time.perf_counter()
        result.send_times[(st.code, obs_time)] = sent_at
        try:
            writer.write(frame)
            await writer.drain()
            result.sent += 1
            reply = await _read_reply(reader, ack_timeout_s)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, FrameError):
            writer.close()
            writer = reader = None
            result.resent += 1
            continue
        if reply.direction != "down" or reply.serial != st.serial:
            continue  # not our confirmation: resend
        result.ack_latency_s.append(time.perf_counter() - sent_at)
        utc = obs_time.replace(tzinfo=TZ).astimezone(ZoneInfo("UTC"))
        for ident, v in els:
            if v is not None:
                result.acked.add((st.code, utc, ident))
        result.acked_frames += 1
        st.serial = st.serial % 65535 + 1
        i += 1
        done += 1
        if interval_s:
            await asyncio.sleep(interval_s)
    if writer is not None:
        writer.close()
    return done


async def run_fleet(
    host: str,
    port: int,
    stations: Sequence[SimStation],
    reports: int,
    *,
    t0: datetime | None = None,
    **kw: object,
) -> FleetResult:
    """Run every station concurrently; one FleetResult for the fleet."""
    result = FleetResult()
    start = t0 or datetime(2026, 7, 1, 8, 0)
    await asyncio.gather(
        *(run_station(host, port, s, reports, result, t0=start, **kw) for s in stations)  # type: ignore[arg-type]
    )
    return result


def make_fleet(n: int, prefix: str = "006000", password: str = "1234") -> list[SimStation]:
    """n hydrological stations with addresses 00600000 01… (STCD 60000001…)."""
    return [SimStation(f"{prefix}{i:04d}", password) for i in range(1, n + 1)]


def basin_fleet(basin: object, reports: int = 100) -> tuple[list[SimStation], ElementsFn]:
    """The basin's SL 651 stations, each sending a flood wave that crosses its thresholds.

    River/gate stations: level from 1 m below the warning level up to 0.3 m above the
    guaranteed level and back (gauge datum, i.e. minus ``datum_offset_m``); reservoirs: the
    same around the flood-limit and design levels (``ZU``); rain stations: ``PJ`` only.
    """
    stations: list[SimStation] = []
    waves: dict[str, tuple[str, float, float]] = {}
    for s in basin.stations:  # type: ignore[attr-defined]
        if not s.sl651_address:
            continue
        stations.append(SimStation(s.sl651_address, s.sl651_password or "1234", s.id))
        th = s.thresholds
        if s.kind == "reservoir":
            lv = basin.reservoir(s.reservoir).levels if s.reservoir else None  # type: ignore[attr-defined]
            low = th.flood_limit_m or (lv.flood_limit_m if lv else None)
            high = th.design_flood_m or (lv.design_flood_m if lv else None)
            elem = "ZU"
        else:
            low, high, elem = th.warning_m, th.guaranteed_m, "Z"
        if s.kind != "rain" and low is not None:
            top = (high if high is not None else low + 1.0) + 0.3
            base = low - 1.0
            waves[s.id] = (elem, base - s.datum_offset_m, top - base)

    def elements(st: SimStation, i: int) -> list[tuple[str, float | None]]:
        out: list[tuple[str, float | None]] = [("PJ", round(0.5 * i, 1))]
        if st.stcd in waves:
            elem, base, amp = waves[st.stcd]
            out.append((elem, level_series(i, base, amp, reports)))
        return out

    return stations, elements


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5005)
    p.add_argument("--stations", type=int, default=8)
    p.add_argument("--reports", type=int, default=100)
    p.add_argument("--interval", type=float, default=0.0, help="seconds between reports")
    p.add_argument("--prefix", default="006000", help="first 6 hex digits of the addresses")
    p.add_argument(
        "--basin", help="basin id or basin.toml: its stations send threshold-crossing waves"
    )
    a = p.parse_args()
    kw: dict[str, object] = {}
    fleet = make_fleet(a.stations, a.prefix)
    if a.basin:
        from hydrotwin.app.commands.live import load_basin_stations

        fleet, kw["elements"] = basin_fleet(load_basin_stations(a.basin), a.reports)
    t = time.perf_counter()
    res = asyncio.run(
        run_fleet(a.host, a.port, fleet, a.reports, interval_s=a.interval, deadline_s=3600.0, **kw)
    )
    dt = time.perf_counter() - t
    print(
        f"cpu_count {os.cpu_count()}; {res.acked_frames} reports confirmed of {res.sent} sent "
        f"({res.resent} resent) in {dt:.2f} s"
    )
    print(json.dumps({"confirmed": res.acked_frames, "sent": res.sent, "seconds": round(dt, 3)}))


if __name__ == "__main__":
    main()
