"""A store opened the way every writer of live data opens it, in the CLI and in the app alike.

A writer takes the store's lease (one writer; a crash followed by a lost ``-wal`` is refused),
opens it with the integrity check, replays a spool an earlier outage left, and runs the
:class:`~hydrotwin.live.monitor.StoreMonitor` (``quick_check``, WAL checkpoints, backups).
Damage the monitor finds takes every pipeline writing into the store out of service, so frames
are acknowledged only once they are in the spool. ``close`` undoes it in the right order.
A PostgreSQL store has no lease, spool file default or monitor (see the README).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydrotwin.live.maintenance import WriterLease, replay_spool
from hydrotwin.live.monitor import MonitorConfig, StoreMonitor
from hydrotwin.live.spool import Spool, spool_path_for
from hydrotwin.live.store import ObservationStore, open_store

log = logging.getLogger(__name__)

__all__ = ["GuardOptions", "GuardedStore"]


@dataclass(frozen=True)
class GuardOptions:
    """How a writer keeps its store healthy (``hydrotwin live … --check-every`` etc.)."""

    new_store: bool = False
    spool: str | None = None
    check_every_s: float = 3600.0
    checkpoint_every_s: float = 60.0
    backup_dir: str | None = None
    backup_every_s: float = 3600.0
    backup_keep: int = 24


def _is_postgres(url: str) -> bool:
    return str(url).startswith(("postgresql://", "postgres://"))


class GuardedStore:
    """Store + spool + lease + monitor of one writer; ``pipelines`` it protects."""

    def __init__(self, url: str, options: GuardOptions | None = None) -> None:
        opts = options or GuardOptions()
        self.options = opts
        self.lease: WriterLease | None = None
        self.monitor: StoreMonitor | None = None
        self.pipelines: list[Any] = []
        self.damaged: str | None = None  # once damaged, out of service until a restart
        self._lock = threading.Lock()
        if _is_postgres(url):
            self.store: ObservationStore = open_store(url)
            self.spool: Spool | None = Spool(opts.spool) if opts.spool else None
        else:
            self.lease = WriterLease(url)
            self.lease.acquire()  # before opening: a lost WAL is seen before SQLite makes one
            try:
                self.store = open_store(url, new_store=opts.new_store)
                self.spool = Spool(opts.spool or spool_path_for(self.store.where))
            except BaseException:
                self.lease.release()
                raise
        if self.spool is not None:
            replay_spool(self.store, self.spool.path)  # what an earlier outage acknowledged
        if self.lease is not None:
            self.monitor = StoreMonitor(self.store.where, self.mark_damaged, self._monitor_cfg())
            self.monitor.start()

    def _monitor_cfg(self) -> MonitorConfig:
        o = self.options
        return MonitorConfig(
            check_every_s=o.check_every_s,
            checkpoint_every_s=o.checkpoint_every_s,
            backup_dir=Path(o.backup_dir) if o.backup_dir else None,
            backup_every_s=o.backup_every_s,
            backup_keep=o.backup_keep,
        )

    def protect(self, pipeline: Any) -> Any:
        """Register a pipeline writing into this store (damage reaches it, also damage found
        before it was made: a source started later spools too)."""
        with self._lock:
            self.pipelines.append(pipeline)
            damaged = self.damaged
        if damaged is not None:
            pipeline.mark_damaged(damaged)
        return pipeline

    def mark_damaged(self, reason: str) -> None:
        """Damage found (by the monitor or a write): every pipeline goes to the spool."""
        with self._lock:
            self.damaged = self.damaged or reason
            pipelines = list(self.pipelines)
        for p in pipelines:
            p.mark_damaged(reason)

    def close(self) -> None:
        """Stop the monitor, close the store (which checkpoints the WAL), drop the lease."""
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor = None
        self.store.close()
        if self.lease is not None:
            self.lease.release()
            self.lease = None
