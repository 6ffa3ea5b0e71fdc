"""The live service's store upkeep on a schedule: ``quick_check``, WAL checkpoint, backup.

A thread with its own SQLite connection, so that none of it runs on the ingest path; damage it
finds goes to ``on_damage`` (the pipeline's ``mark_damaged``), which takes the store out of
service and sends later frames to the spool.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hydrotwin.errors import StoreDamagedError, StoreError
from hydrotwin.live.maintenance import WriterLease, backup, connection_problems
from hydrotwin.live.store import is_damage

log = logging.getLogger(__name__)


@dataclass
class MonitorConfig:
    """Schedule of the live service's store upkeep (seconds; 0 = off)."""

    check_every_s: float = 3600.0
    checkpoint_every_s: float = 60.0
    backup_dir: Path | None = None
    backup_every_s: float = 3600.0
    backup_keep: int = 24


class StoreMonitor:
    """A thread that checks, checkpoints and backs up a SQLite store on its own connection and
    hands a damaged store to ``on_damage`` (the pipeline's ``mark_damaged``)."""

    def __init__(
        self,
        path: str | Path,
        on_damage: Callable[[str], None],
        config: MonitorConfig | None = None,
    ) -> None:
        self.path = Path(path)
        self.on_damage = on_damage
        self.config = config or MonitorConfig()
        self.damaged = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._due: dict[str, float] = {}
        self.runs: dict[str, int] = defaultdict(int)
        self.lease: WriterLease | None = None  # released by the owner after the store's close

    def start(self) -> None:
        now = time.monotonic()
        for task, every in self._schedule().items():
            self._due[task] = now + every
        self._thread = threading.Thread(target=self._run, name="store-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30.0)
            self._thread = None

    def _schedule(self) -> dict[str, float]:
        c = self.config
        s = {"check": c.check_every_s, "checkpoint": c.checkpoint_every_s}
        if c.backup_dir is not None:
            s["backup"] = c.backup_every_s
        return {k: v for k, v in s.items() if v > 0}

    def _run(self) -> None:
        every = self._schedule()
        while not self._stop.is_set() and every:
            wait = max(min(self._due.values()) - time.monotonic(), 0.0)
            if self._stop.wait(wait):
                return
            now = time.monotonic()
            for task in [t for t, due in self._due.items() if due <= now]:
                self._due[task] = now + every[task]
                if not self.damaged:
                    self.run_task(task)

    def run_task(self, task: str) -> None:
        """Run one task now ("check", "checkpoint" or "backup"); damage goes to on_damage."""
        self.runs[task] += 1
        try:
            problem = self._task(task)
        except StoreDamagedError as exc:
            problem = str(exc)
        except (StoreError, sqlite3.Error, OSError) as exc:
            if isinstance(exc, sqlite3.Error) and is_damage(exc):
                problem = f"{self.path}: {task}: {exc}"
            else:
                log.error("store %s: %s failed: %s", self.path, task, exc)
                return
        if problem:
            self.damaged = True
            self.on_damage(problem)

    def _task(self, task: str) -> str:
        if task == "backup":
            assert self.config.backup_dir is not None
            backup(self.path, self.config.backup_dir, self.config.backup_keep)
            return ""
        conn = sqlite3.connect(str(self.path), timeout=30.0)
        try:
            if task == "checkpoint":
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                return ""
            problems = connection_problems(conn)
        finally:
            conn.close()
        return f"{self.path}: quick_check failed: {'; '.join(problems[:3])}" if problems else ""
