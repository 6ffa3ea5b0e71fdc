"""LiveBridge: runs a live source off the GUI thread and re-emits its data as Qt signals.

One bridge per window. It owns a :class:`~hydrotwin.fourpre.warning.WarningEngine` for the
basin and one source at a time:

* ``start_receiver(store, host, port)`` — the SL 651 TCP centre in a worker thread (asyncio);
* ``start_mqtt(store, host, port, topics)`` — the MQTT subscriber (paho's network thread);
* ``start_replay(store, observations, speed)`` — a recorded event in a worker thread;
* ``poll_store(store, interval_ms)`` — another process (``hydrotwin live …``) feeds the store;
  the bridge polls it on a timer (cheap indexed query) and evaluates warnings here.

Signals (emitted on the GUI thread — Qt queues them across threads):

* ``observation(list)`` — a committed batch of :class:`~hydrotwin.live.observation.Observation`;
* ``alarm(object)`` — an :class:`~hydrotwin.fourpre.warning.AlarmEvent` (state change);
* ``warning_level(str, int, str)`` — station id, grade 0–4 (``Level``), colour ``#RRGGBB``:
  what the station glyph should show now;
* ``status(dict)`` — source events for the connection panel;
* ``error(str)`` — a source failed (shown, never fatal).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal

from hydrotwin.errors import HydroTwinError
from hydrotwin.fourpre.warning import COLOURS, AlarmEvent, Level, WarningEngine
from hydrotwin.live.observation import Observation
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.store import ObservationStore, open_store

log = logging.getLogger(__name__)


class _Worker(QThread):
    """A QThread running one Python callable (Qt-managed, unlike a bare threading.Thread, so
    the signals it emits cross threads the way Qt expects)."""

    def __init__(self, fn: Callable[[], None], name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self.setObjectName(name)

    def run(self) -> None:
        self._fn()


class LiveBridge(QObject):
    """Qt face of the live layer (see module docstring for the signals)."""

    observation = Signal(object)
    alarm = Signal(object)
    warning_level = Signal(str, int, str)
    status = Signal(object)
    error = Signal(str)

    def __init__(self, basin: Any | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.basin = basin
        self.engine: WarningEngine | None = None
        self._levels: dict[str, Level] = {}
        self._thread: _Worker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main_task: asyncio.Task[None] | None = None
        self._stop = threading.Event()
        self._mqtt: Any = None
        self._poll_timer: QTimer | None = None
        self._poll_store: ObservationStore | None = None
        self._poll_since = datetime.now(UTC)
        self._owned_store: ObservationStore | None = None
        self.address: tuple[str, int] | None = None

    # -- shared plumbing -----------------------------------------------------------------------
    def _make_engine(self, store: ObservationStore | None) -> WarningEngine | None:
        if self.basin is None:
            return None
        engine = WarningEngine.from_basin(self.basin, store=store)
        engine.add_listener(self._on_alarm)
        return engine

    def _on_alarm(self, ev: AlarmEvent) -> None:
        self.alarm.emit(ev)
        if self.engine is not None:
            lv = self.engine.station_level(ev.station)
            if self._levels.get(ev.station) != lv:
                self._levels[ev.station] = lv
                self.warning_level.emit(ev.station, int(lv), COLOURS[lv])

    def _on_observations(self, obs: Sequence[Observation]) -> None:
        self.observation.emit(list(obs))

    def _on_status(self, event: dict[str, Any]) -> None:
        self.status.emit(dict(event))

    def _pipeline(self, store: ObservationStore | str) -> Pipeline:
        if isinstance(store, str):
            store = self._owned_store = open_store(store)
        if self.basin is not None:
            store.sync_basin(self.basin)
        self.engine = self._make_engine(store)
        listeners: list[Any] = [self._on_observations]
        if self.engine is not None:
            listeners.insert(0, self.engine)
        return Pipeline(store, listeners)

    def station_level(self, station: str) -> Level:
        return self._levels.get(station, Level.NONE)

    # -- SL 651 receiver -----------------------------------------------------------------------
    def start_receiver(
        self,
        store: ObservationStore | str,
        host: str = "127.0.0.1",
        port: int = 5005,
        timeout_s: float = 10.0,
    ) -> tuple[str, int]:
        """Start the TCP centre in a worker thread; returns the bound (host, port)."""
        from hydrotwin.live.receiver import Receiver, ReceiverConfig, StationRegistry

        self.stop()
        pipeline = self._pipeline(store)
        registry = StationRegistry.from_basin(self.basin) if self.basin is not None else None
        tz = None
        if self.basin is not None:
            from zoneinfo import ZoneInfo

            tz = ZoneInfo(self.basin.basin.timezone)
        cfg = ReceiverConfig(host=host, port=port, **({"tz": tz} if tz else {}))
        ready = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            rx = Receiver(pipeline, registry, cfg, [self._on_status])
            try:
                self.address = await rx.start()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                raise
            ready.set()
            try:
                await rx.serve_forever()
            finally:
                await rx.stop()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._main_task = loop.create_task(main())
                loop.run_until_complete(self._main_task)
            except asyncio.CancelledError:
                log.info("SL 651 receiver stopped")
            except Exception as exc:
                log.exception("SL 651 receiver failed")
                self.error.emit(str(exc))
            finally:
                loop.close()

        self._thread = _Worker(run, "sl651-receiver", self)
        self._thread.start()
        if not ready.wait(timeout_s) or failure:
            raise HydroTwinError(f"SL 651 receiver did not start on {host}:{port}: {failure[:1]}")
        assert self.address is not None
        return self.address

    # -- MQTT ----------------------------------------------------------------------------------
    def start_mqtt(
        self,
        store: ObservationStore | str,
        host: str = "127.0.0.1",
        port: int = 1883,
        topics: Sequence[str] | None = None,
        client_id: str = "hydrotwin-app",
    ) -> None:
        from hydrotwin.live.mqtt import MqttSubscriber

        self.stop()
        self._mqtt = MqttSubscriber(
            self._pipeline(store), host, port, topics, client_id, status=self._on_status
        )
        self._mqtt.start()

    # -- replay --------------------------------------------------------------------------------
    def start_replay(
        self,
        store: ObservationStore | str,
        observations: Sequence[Observation],
        speed: float = 60.0,
    ) -> None:
        from hydrotwin.live.replay import replay

        self.stop()
        pipeline = self._pipeline(store)
        self._stop.clear()

        def run() -> None:
            self._on_status({"source": "replay", "kind": "replaying", "time": datetime.now(UTC)})
            try:
                replay(observations, pipeline, speed=speed, stop=self._stop)
            except HydroTwinError as exc:
                self.error.emit(str(exc))
            self._on_status({"source": "replay", "kind": "finished", "time": datetime.now(UTC)})

        self._thread = _Worker(run, "replay", self)
        self._thread.start()

    # -- polling another process's store -------------------------------------------------------
    def poll_store(
        self,
        store: ObservationStore | str,
        interval_ms: int = 500,
        lookback: timedelta = timedelta(hours=6),
    ) -> None:
        """Follow a store written by another process (``hydrotwin live …``)."""
        self.stop()
        if isinstance(store, str):
            store = self._owned_store = open_store(store)
        self._poll_store = store
        self.engine = self._make_engine(None)  # that process stores alarms; here we only grade
        self._poll_since = datetime.now(UTC) - lookback
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(interval_ms)
        self._poll_timer.timeout.connect(self.poll_once)
        self._poll_timer.start()
        self._on_status(
            {"source": "store", "kind": "polling", "peer": store.where, "time": datetime.now(UTC)}
        )
        self.poll_once()

    def poll_once(self) -> int:
        if self._poll_store is None:
            return 0
        try:
            obs = self._poll_store.observations_since(self._poll_since)
        except HydroTwinError as exc:
            self.error.emit(str(exc))
            return 0
        if obs:
            last = self._poll_store.last_reports()
            self._poll_since = max(last.values()) if last else datetime.now(UTC)
            if self.engine is not None:
                self.engine.observe(obs)
            self._on_observations(obs)
        return len(obs)

    # -- stopping ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop whatever source runs (idempotent)."""
        self._stop.set()
        if self._loop is not None and self._main_task is not None:
            loop, task = self._loop, self._main_task
            if not loop.is_closed():
                loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            if not self._thread.wait(10_000):
                log.error("live worker thread did not stop within 10 s")
            self._thread = None
        self._loop = self._main_task = None
        if self._mqtt is not None:
            self._mqtt.stop()
            self._mqtt = None
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self._poll_store = None
        if self._owned_store is not None:
            self._owned_store.close()
            self._owned_store = None
        # deliver what the worker queued before it stopped (status "stopped", last batch):
        # undelivered cross-thread signal events otherwise outlive the interpreter
        QCoreApplication.sendPostedEvents()
