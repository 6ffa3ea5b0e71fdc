"""An example live source offered through the ``hydrotwin_data_sources`` hook.

The demo basin has no real telemetry, so it offers its rain gauges "reporting" a design
storm: each simulated hour, every rain gauge reports that hour's storm depth (``PJ``, mm) into
the session's store through the same pipeline as SL 651 or MQTT. A trainer gets live rain on
the map and in the alarm list without a station fleet; a plugin author sees the source shape.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from hydrotwin.basin.hooks import hookimpl
from hydrotwin.live.observation import Observation
from hydrotwin.live.source import ThreadSource
from hydrotwin.timeutil import now_hour

BASIN_ID = "demo"


class StormGaugeSource(ThreadSource):
    """The basin's rain gauges report a design storm, ``speed`` simulated s per wall s."""

    name = "demo-storm-gauges"
    names = ("演示暴雨雨量站", "demo storm gauges")

    def __init__(
        self,
        basin: Any,
        storm_id: str = "design_100yr",
        speed: float = 3600.0,
        start: datetime | None = None,
    ) -> None:
        super().__init__()
        self.basin, self.storm_id, self.speed, self.start_time = basin, storm_id, speed, start
        self.reports = 0

    def _run(self, sink: Any, status: Any, stop: threading.Event) -> None:
        storm = self.basin.design_storm(self.storm_id)
        gauges = [s.id for s in self.basin.stations if s.kind == "rain"]
        t0 = self.start_time or now_hour()
        wait_s = 3600.0 / self.speed if self.speed > 0 else 0.0
        for h, mm in enumerate(storm.rain_mm_per_h):
            if stop.wait(wait_s):
                return
            t = t0 + timedelta(hours=h + 1)  # the depth of hour h, reported at its end
            sink.commit([Observation(g, t, "PJ", float(mm), "mm", self.name) for g in gauges])
            self.reports += 1


@hookimpl
def hydrotwin_data_sources(basin: Any) -> list[Any] | None:
    """The demo's example source; None for any other basin."""
    if getattr(basin, "id", None) != BASIN_ID:
        return None
    return [StormGaugeSource(basin)]
