"""Live sources behind one protocol: ``start(sink, status)``, ``stop()``, ``running``.

The SL 651 receiver, the MQTT subscriber, a replay and "follow a store that another process
writes" differ in transport only. Each runs on its own thread (asyncio loop, paho's network
thread, a replay or polling thread) and hands observations to a *sink*, the
:class:`~hydrotwin.live.pipeline.Pipeline`: commit, then notify. The CLI runs one source in the
foreground; the twin session runs any number in the app; a basin plugin adds its own through
the ``hydrotwin_data_sources`` hook by returning objects of this shape.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from hydrotwin.errors import HydroTwinError
from hydrotwin.live.observation import Observation
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.store import ObservationStore, open_store
from hydrotwin.timeutil import now_utc

log = logging.getLogger(__name__)

StatusListener = Callable[[dict[str, Any]], None]

__all__ = [
    "LiveSource",
    "MqttSource",
    "ReplaySource",
    "Sl651Source",
    "StoreFollowSource",
    "ThreadSource",
]


@runtime_checkable
class LiveSource(Protocol):
    """What the session and the CLI need of a source of observations."""

    name: str

    def start(self, sink: Pipeline, status: StatusListener | None = None) -> None:
        """Begin delivering into ``sink`` on the source's own thread; return at once."""

    def stop(self) -> None:
        """Stop and join (idempotent)."""

    @property
    def running(self) -> bool:
        """True while the source's thread is alive."""


def _emit(status: StatusListener | None, **event: Any) -> None:
    if status is None:
        return
    event.setdefault("time", now_utc())
    try:
        status(event)
    except Exception:
        log.exception("status listener %r failed", status)


class ThreadSource:
    """A source whose work is one function run on a thread until ``stop`` is set."""

    name = "thread"

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: BaseException | None = None

    def start(self, sink: Pipeline, status: StatusListener | None = None) -> None:
        if self.running:
            raise HydroTwinError(f"live source {self.name} is already running")
        self._stop.clear()
        self.error = None

        def main() -> None:
            try:
                self._run(sink, status, self._stop)
            except Exception as exc:  # reported, never fatal: the app keeps running
                log.exception("live source %s failed", self.name)
                self.error = exc
                _emit(status, source=self.name, kind="failed", message=str(exc))

        self._thread = threading.Thread(target=main, name=f"live-{self.name}", daemon=True)
        self._thread.start()

    def _run(self, sink: Pipeline, status: StatusListener | None, stop: threading.Event) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        t, self._thread = self._thread, None
        if t is not None and t is not threading.current_thread():
            t.join(10.0)
            if t.is_alive():
                log.error("live source %s did not stop within 10 s", self.name)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the source ends by itself (a replay) or ``timeout_s``; True if ended."""
        t = self._thread
        if t is not None:
            t.join(timeout_s)
            return not t.is_alive()
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class Sl651Source(ThreadSource):
    """The SL 651 TCP centre on an asyncio loop of its own. ``address`` once started."""

    name = "sl651"

    def __init__(self, registry: Any = None, config: Any = None) -> None:
        super().__init__()
        self.registry, self.config = registry, config
        self.address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def start(
        self, sink: Pipeline, status: StatusListener | None = None, timeout_s: float = 10.0
    ) -> None:
        self._ready = threading.Event()
        super().start(sink, status)
        if not self._ready.wait(timeout_s) or self.address is None:
            self.stop()
            raise HydroTwinError(f"SL 651 receiver did not start: {self.error or 'time-out'}")

    def _run(self, sink: Pipeline, status: StatusListener | None, stop: threading.Event) -> None:
        from hydrotwin.live.receiver import Receiver

        async def main() -> None:
            rx = Receiver(sink, self.registry, self.config, [status] if status else None)
            try:
                self.address = await rx.start()
            finally:
                self._ready.set()
            try:
                await rx.serve_forever()
            finally:
                await rx.stop()

        loop = self._loop = asyncio.new_event_loop()
        try:
            self._task = loop.create_task(main())
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            log.info("SL 651 receiver stopped")
        finally:
            loop.close()
            self._loop = self._task = None

    def stop(self) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        super().stop()


class MqttSource:
    """The MQTT subscriber (paho runs its own network thread)."""

    name = "mqtt"

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, **options: Any) -> None:
        self.host, self.port, self.options = host, port, options
        self._sub: Any = None

    def start(self, sink: Pipeline, status: StatusListener | None = None) -> None:
        from hydrotwin.live.mqtt import MqttSubscriber

        self._sub = MqttSubscriber(sink, self.host, self.port, status=status, **self.options)
        self._sub.start()

    def stop(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            sub.stop()

    def wait(self, timeout_s: float | None = None) -> bool:
        """A subscriber never ends by itself: sleep ``timeout_s``; True once stopped."""
        threading.Event().wait(timeout_s or 0.0)
        return self._sub is None

    @property
    def running(self) -> bool:
        return self._sub is not None


class ReplaySource(ThreadSource):
    """A recorded event played ``speed``× faster than it happened (0: as fast as possible)."""

    name = "replay"

    def __init__(
        self, observations: Sequence[Observation], speed: float = 60.0, shift_to_now: bool = False
    ) -> None:
        super().__init__()
        self.observations, self.speed, self.shift_to_now = observations, speed, shift_to_now
        self.new = 0

    def _run(self, sink: Pipeline, status: StatusListener | None, stop: threading.Event) -> None:
        from hydrotwin.live.replay import replay

        _emit(status, source=self.name, kind="replaying")
        self.new = replay(
            self.observations, sink, self.speed, shift_to_now=self.shift_to_now, stop=stop
        )
        _emit(status, source=self.name, kind="finished", count=self.new)


class StoreFollowSource(ThreadSource):
    """Follow a store that another process (``hydrotwin live …``) writes: poll it and pass
    what is new to the sink's listeners (not committed again: it is stored already)."""

    name = "store"

    def __init__(
        self,
        store: ObservationStore | str,
        interval_s: float = 0.5,
        lookback: timedelta = timedelta(hours=6),
    ) -> None:
        super().__init__()
        self._arg, self.interval_s, self.lookback = store, interval_s, lookback
        self.store: ObservationStore | None = store if not isinstance(store, str) else None

    def _run(self, sink: Pipeline, status: StatusListener | None, stop: threading.Event) -> None:
        owned = isinstance(self._arg, str)
        store = open_store(self._arg) if isinstance(self._arg, str) else self._arg
        self.store = store
        since = now_utc() - self.lookback
        _emit(status, source=self.name, kind="polling", peer=store.where)
        try:
            while not stop.is_set():
                since = self._poll(store, sink, since, status)
                stop.wait(self.interval_s)
        finally:
            if owned:
                store.close()

    def _poll(
        self, store: ObservationStore, sink: Pipeline, since: datetime, status: Any
    ) -> datetime:
        try:
            obs = store.observations_since(since)
        except HydroTwinError as exc:
            _emit(status, source=self.name, kind="error", message=str(exc))
            return since
        if obs:
            sink.notify(obs)
            last = store.last_reports()  # receive times: what observations_since compares
            since = max(last.values()) if last else now_utc()
        return since
