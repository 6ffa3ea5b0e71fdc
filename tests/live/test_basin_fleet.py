"""A basin's own stations, simulated by the fleet, cross their thresholds through the receiver
and the warning engine: the "stations change colour" path without the GUI. Runs on a small
test basin always, and on the demo basin once its manifest is installed."""

from __future__ import annotations

import asyncio

import pytest

from hydrotwin.errors import ManifestError
from hydrotwin.fourpre.warning import Level, WarningEngine
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.receiver import Receiver, ReceiverConfig, StationRegistry
from hydrotwin.live.store import open_store

from .helpers import small_basin
from .test_receiver import fleet


def _run_basin(basin, tmp_path, reports=40):
    store = open_store(tmp_path / "obs.db")
    store.sync_basin(basin)
    engine = WarningEngine.from_basin(basin, store=store)
    pipe = Pipeline(store, [engine])
    stations, elements = fleet.basin_fleet(basin, reports)

    async def main():
        rx = Receiver(pipe, StationRegistry.from_basin(basin), ReceiverConfig(port=0))
        host, port = await rx.start()
        try:
            return await fleet.run_fleet(
                host, port, stations, reports, elements=elements, deadline_s=60
            )
        finally:
            await rx.stop()

    res = asyncio.run(asyncio.wait_for(main(), 90))
    peaks = {s.stcd: engine.station_level(s.stcd) for s in stations}
    alarms = store.alarms(1000)
    store.close()
    return stations, res, peaks, alarms


def test_small_basin_stations_change_level(tmp_path):
    basin = small_basin(tmp_path)
    stations, res, _, alarms = _run_basin(basin, tmp_path)
    assert res.acked_frames == len(stations) * 40
    reached = {}
    for a in alarms:
        if a["kind"] == "level":
            reached[a["station"]] = max(reached.get(a["station"], 0), a["level"])
    # the wave goes 0.3 m above the guaranteed / design level: orange at every level station
    assert reached == {
        "60000001": Level.ORANGE,
        "60000002": Level.ORANGE,
        "60000003": Level.ORANGE,
        "70000001": Level.ORANGE,
    }


def test_demo_basin_stations(tmp_path):
    from hydrotwin.app.commands.live import load_basin_stations

    try:
        basin = load_basin_stations("demo")
    except ManifestError as exc:
        pytest.fail(f"the demo basin plugin is broken or not installed: {exc}", pytrace=False)
    assert any(s.sl651_address for s in basin.stations), "no demo station has an sl651_address"
    stations, res, _, alarms = _run_basin(basin, tmp_path)
    assert res.acked_frames == len(stations) * 40
    level_stations = {a["station"] for a in alarms if a["kind"] == "level" and a["level"] >= 2}
    waved = {
        s.id
        for s in basin.stations
        if s.sl651_address
        and s.kind != "rain"
        and (s.thresholds.warning_m is not None or s.kind == "reservoir")
    }
    assert waved <= level_stations
