"""One path for every live source: commit observations to the store, then tell listeners.

The SL 651 receiver, the MQTT subscriber and the replay all hand their observations to a
:class:`Pipeline`. It commits them (batched when several arrive together) and only after the
commit returns does it resolve the caller's wait — so a device is acknowledged only for data
that is durable — and call the listeners (warnings, GUI bridge) with the committed batch.
Listener errors are logged and never stop the data path.

When the store reports damage (:class:`~hydrotwin.errors.StoreDamagedError`, or
:meth:`Pipeline.mark_damaged` from the periodic check) the pipeline stops writing to it, logs
once, emits a ``store``/``damaged`` status event and appends every later batch to the durable
:class:`~hydrotwin.live.spool.Spool` instead; a batch is acknowledged (its wait resolves)
only once it is in the store or the spool. Without a spool, a damaged store is never acked.
The store stays out of service until the service restarts: a restart replays the spool into
a store that is healthy again (a freed disk), ``hydrotwin store restore`` into a rebuilt one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from hydrotwin.errors import StoreDamagedError, StoreError
from hydrotwin.live.observation import Observation
from hydrotwin.live.spool import Spool
from hydrotwin.live.store import ObservationStore

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[Observation]], None]
StatusListener = Callable[[dict[str, Any]], None]


class Pipeline:
    """Commit-then-notify for observations from any source (thread-safe and asyncio-aware)."""

    def __init__(
        self,
        store: ObservationStore,
        listeners: Sequence[Listener] = (),
        batch_max: int = 5000,
        spool: Spool | None = None,
    ) -> None:
        self.store = store
        self.spool = spool
        self._listeners: list[Listener] = list(listeners)
        self._status_listeners: list[StatusListener] = []
        self.damaged: str | None = None  # why the store was taken out of service
        self.damaged_since: datetime | None = None
        self.monitor: Any = None  # a maintenance.StoreMonitor, set and stopped by its owner
        self.batch_max = batch_max
        self._queue: asyncio.Queue[tuple[list[Observation], asyncio.Future[int]]] | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._lock = threading.RLock()  # mark_damaged runs inside a commit
        self.committed = 0
        self.batches = 0

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def add_status_listener(self, fn: StatusListener) -> None:
        """``fn(event)`` on store state changes (connections panel); called at once with now."""
        self._status_listeners.append(fn)
        fn(self.status())

    def status(self) -> dict[str, Any]:
        """The store's state as a status event: ``kind`` ``ok`` or ``damaged``, ``reason``,
        ``spool`` path and observations ``spooled`` so far."""
        return {
            "source": "store",
            "kind": "damaged" if self.damaged else "ok",
            "peer": self.store.where,
            "reason": self.damaged or "",
            "spool": str(self.spool.path) if self.spool else "",
            "spooled": self.spool.appended if self.spool else 0,
            "time": self.damaged_since or datetime.now(UTC),
        }

    def mark_damaged(self, reason: str) -> None:
        """Take the store out of service (once): later batches go to the spool."""
        with self._lock:
            if self.damaged:
                return
            self.damaged, self.damaged_since = reason, datetime.now(UTC)
        where = f"spooling to {self.spool.path}" if self.spool else "NOT acknowledging (no spool)"
        log.error("store %s taken out of service, %s: %s", self.store.where, where, reason)
        event = self.status()
        for fn in list(self._status_listeners):
            try:
                fn(event)
            except Exception:
                log.exception("store status listener %r failed", fn)

    def _store_or_spool(self, obs: list[Observation]) -> int:
        """Commit to the store, or to the spool once the store is damaged (lock held)."""
        if not self.damaged:
            try:
                return self.store.add(obs)
            except StoreDamagedError as exc:
                self.mark_damaged(str(exc))
        if self.spool is None:
            raise StoreError(f"{self.store.where}: store damaged and no spool: {self.damaged}")
        self.spool.append(obs, datetime.now(UTC))
        return len(obs)

    def notify(self, obs: Sequence[Observation]) -> None:
        """Tell the listeners of observations that are durable already (a followed store)."""
        for fn in list(self._listeners):
            try:
                fn(obs)
            except Exception:  # a broken listener must not stop the data path; say so loudly
                log.exception("observation listener %r failed", fn)

    # -- synchronous (MQTT thread, replay) -----------------------------------------------------
    def commit(self, obs: Sequence[Observation]) -> int:
        """Commit now (blocking) and notify; return the number of new observations."""
        with self._lock:
            n = self._store_or_spool(list(obs)) if obs else 0
            self.committed += n
            self.batches += 1
        if obs:
            self.notify(obs)
        return n

    # -- asyncio (receiver) --------------------------------------------------------------------
    async def start(self) -> None:
        if self._writer_task is None:
            self._queue = asyncio.Queue()
            self._writer_task = asyncio.create_task(self._writer(), name="store-writer")

    async def stop(self) -> None:
        if self._writer_task is not None:
            self._writer_task.cancel()
            try:
                await self._writer_task
            except asyncio.CancelledError:
                log.debug("store writer stopped")
            self._writer_task = None
        self._executor.shutdown(wait=True)

    async def commit_async(self, obs: Sequence[Observation]) -> int:
        """Queue for the batched writer; returns once the batch holding ``obs`` is committed.
        Raises the store's error if that commit failed (the caller then must not ACK)."""
        if self._queue is None:
            raise RuntimeError("Pipeline.start() was not awaited before commit_async")
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._queue.put((list(obs), fut))
        return await fut

    async def run_in_writer(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run another store call (quarantine, alarms) on the writer thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _writer(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            items = [await self._queue.get()]
            size = len(items[0][0])
            while size < self.batch_max and not self._queue.empty():
                item = self._queue.get_nowait()
                items.append(item)
                size += len(item[0])
            batch = [o for obs, _ in items for o in obs]
            try:
                n = await loop.run_in_executor(self._executor, self._commit_locked, batch)
            except Exception as exc:  # StoreError or a driver error: every waiter learns of it
                log.error("commit of %d observations failed: %s", len(batch), exc)
                for _, fut in items:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for obs, fut in items:
                if not fut.done():
                    fut.set_result(len(obs))
            if batch:
                self.notify(batch)
            log.debug("committed batch of %d observations (%d new)", len(batch), n)

    def _commit_locked(self, batch: list[Observation]) -> int:
        if not batch:
            return 0
        with self._lock:
            n = self._store_or_spool(batch)
            self.committed += n
            self.batches += 1
            return n
