"""Keeping a SQLite store healthy: online backups, checks, restore, and the periodic monitor.

* :func:`backup` copies a store with SQLite's online backup API (a consistent snapshot while
  the receiver keeps ingesting), checks the copy and keeps the newest ``keep`` backups;
* :func:`check_store` reports what is wrong with a store (and what waits in its spool);
* :func:`restore` builds a new store from a backup, adds whatever rows of the damaged store
  can still be read, replays the spool (idempotent by key), checks the result and only then
  moves the damaged files aside and the new store into place;
* :class:`WriterLease` marks the running writer, so a crash followed by a lost ``-wal`` is
  seen (the schedule that checks, checkpoints and backs up is :mod:`hydrotwin.live.monitor`).

PostgreSQL stores are backed up with ``pg_dump``/PITR (README); ``check_store`` runs the checks
that apply there (reachable, schema present, tables readable).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hydrotwin.errors import StoreDamagedError, StoreError
from hydrotwin.files import atomic_path, atomic_write_text
from hydrotwin.live.observation import Observation
from hydrotwin.live.spool import read_spool, spool_path_for
from hydrotwin.live.store import ObservationStore, _parse_ts, open_store

log = logging.getLogger(__name__)

_PG = ("postgresql://", "postgres://")


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _existing_store(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise StoreError(f"{p}: no such store file")
    if p.stat().st_size == 0:
        raise StoreDamagedError(f"{p}: the store file is empty (0 bytes); expected a SQLite store")
    return p


def connection_problems(conn: sqlite3.Connection, full: bool = False) -> list[str]:
    """``quick_check`` (``integrity_check`` when ``full``) on a connection: problems, [] if ok."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        found = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}").fetchall()]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if found == ["ok"] else found


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- backup ------------------------------------------------------------------------------------
def backup(
    store: str | Path, to_dir: str | Path, keep: int | None = None, now: datetime | None = None
) -> Path:
    """Copy ``store`` into ``to_dir`` as ``<stem>-<UTC stamp>.db`` (online backup API, checked
    with ``quick_check`` before it takes its name); then keep the newest ``keep`` backups."""
    if str(store).startswith(_PG):
        raise StoreError(f"{store}: back up PostgreSQL with pg_dump or PITR (see the README)")
    src_path = _existing_store(store)
    out_dir = Path(to_dir)
    target = out_dir / f"{src_path.stem}-{_stamp(now)}{src_path.suffix or '.db'}"
    n = 1
    while target.exists():
        target = target.with_name(f"{src_path.stem}-{_stamp(now)}-{n}{src_path.suffix or '.db'}")
        n += 1
    try:
        src = sqlite3.connect(str(src_path), timeout=30.0)
    except sqlite3.Error as exc:
        raise StoreError(f"{src_path}: cannot open for backup: {exc}") from exc
    try:
        with atomic_path(target) as tmp:
            _copy_checked(src, src_path, tmp)
    finally:
        src.close()
    if keep is not None:
        rotate(out_dir, src_path, keep)
    log.info("backed up %s to %s", src_path, target)
    return target


def _copy_checked(src: sqlite3.Connection, src_path: Path, tmp: Path) -> None:
    dst = sqlite3.connect(str(tmp))
    try:
        try:
            src.backup(dst)  # one step: a consistent snapshot; WAL writers are not blocked
        except sqlite3.DatabaseError as exc:
            raise StoreDamagedError(
                f"{src_path}: backup failed, the store is damaged: {exc}"
            ) from exc
        dst.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
        problems = connection_problems(dst)
    finally:
        dst.close()
    if problems:
        raise StoreDamagedError(
            f"{src_path}: the copy fails quick_check ({'; '.join(problems[:3])}): the store is "
            "damaged; no backup written, older backups kept"
        )
    _fsync(tmp)


def rotate(out_dir: Path, src_path: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``src_path`` in ``out_dir``."""
    if keep < 1:
        raise StoreError(f"backup rotation keep={keep}; expected at least 1")
    suffix = src_path.suffix or ".db"
    found = sorted(
        out_dir.glob(f"{src_path.stem}-*{suffix}"), key=lambda p: (p.stat().st_mtime_ns, p.name)
    )
    gone = found[:-keep]
    for p in gone:
        p.unlink()
    return gone


# -- check ---------------------------------------------------------------------------------------
@dataclass
class CheckReport:
    """What ``hydrotwin store check`` prints: problems (empty = healthy) and counts."""

    store: str
    problems: list[str] = field(default_factory=list)
    observations: int | None = None
    wal_bytes: int = 0
    spool: str = ""
    spooled_observations: int = 0
    spool_bad_lines: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.spool_bad_lines


def check_store(
    store: str | Path, full: bool = False, spool: str | Path | None = None
) -> CheckReport:
    """Check a store without changing it (a missing file is a problem, not a new store)."""
    rep = CheckReport(str(store))
    is_pg = str(store).startswith(_PG)
    if not is_pg:
        p = Path(store)
        if not p.is_file():
            rep.problems.append(f"{p}: no such store file")
            return rep
        wal = p.with_name(p.name + "-wal")
        rep.wal_bytes = wal.stat().st_size if wal.exists() else 0
        spool = spool or spool_path_for(p)
    try:
        s = open_store(store, check="full" if full else "quick")
    except StoreError as exc:
        rep.problems.append(str(exc))
    else:
        try:
            rep.problems += s.check(full)
            rep.observations = s.count("HT_OBS_R")
        except StoreError as exc:
            rep.problems.append(str(exc))
        finally:
            s.close()
    if spool:
        content = read_spool(spool)
        rep.spool = str(spool)
        rep.spooled_observations = content.observations
        rep.spool_bad_lines = len(content.bad_lines)
    return rep


# -- restore -------------------------------------------------------------------------------------
@dataclass
class RestoreReport:
    store: str
    backup: str
    from_backup: int = 0
    salvaged: int = 0
    spooled: int = 0
    observations: int = 0
    moved_aside: str = ""
    spool_archived: str = ""


def restore(
    store: str | Path,
    from_backup: str | Path,
    spool: str | Path | None = None,
    salvage: bool = True,
) -> RestoreReport:
    """Rebuild ``store`` from a backup + readable rows of the damaged store + the spool.

    Stop the live service first. The damaged files are kept as ``<store>.damaged-<stamp>``
    (with their -wal/-shm); the replayed spool as ``<spool>.replayed-<stamp>``.
    """
    store_p, backup_p = Path(store), _existing_store(from_backup)
    lease = WriterLease(store_p)
    if (who := lease.holder()) is not None:
        raise StoreError(
            f"{store_p}: a live service (pid {who['pid']}) still writes it; stop it first"
        )
    spool_p = Path(spool) if spool else spool_path_for(store_p)
    rep = RestoreReport(str(store_p), str(backup_p))
    stamp = _stamp()
    with atomic_path(store_p) as tmp:
        _copy_from_backup(backup_p, tmp)
        new = open_store(tmp, synchronous="OFF", check=None)
        try:
            rep.from_backup = new.count("HT_OBS_R")
            if salvage and store_p.is_file() and store_p.stat().st_size:
                rep.salvaged = _add_grouped(new, salvage_rows(store_p))
            rep.spooled = _replay(new, spool_p)
            problems = new.check(full=True)
            if problems:
                raise StoreDamagedError(f"{tmp}: restored store fails integrity_check: {problems}")
            rep.observations = new.count("HT_OBS_R")
        finally:
            new.close()
        _fsync(tmp)
        rep.moved_aside = _move_aside(store_p, stamp)
    lease.release()  # the restored store was closed cleanly
    rep.spool_archived = _archive_spool(spool_p, stamp)
    return rep


def replay_spool(store: ObservationStore, spool: str | Path) -> int:
    """Put a spool left by an earlier outage (a full disk, since freed) into a healthy store,
    then archive it; returns the observations replayed (idempotent by key)."""
    spool_p = Path(spool)
    if not spool_p.exists():
        return 0
    n = _replay(store, spool_p)
    archived = _archive_spool(spool_p, _stamp())
    log.warning(
        "replayed %d spooled observations into %s (spool kept as %s)", n, store.where, archived
    )
    return n


def _replay(store: ObservationStore, spool_p: Path) -> int:
    batches = read_spool(spool_p).batches
    for rcv, obs in batches:
        store.add(obs, received=rcv)
    return sum(len(obs) for _, obs in batches)


def _archive_spool(spool_p: Path, stamp: str) -> str:
    if not spool_p.exists():
        return ""
    archived = spool_p.with_name(f"{spool_p.name}.replayed-{stamp}")
    spool_p.rename(archived)
    return str(archived)


def _copy_from_backup(backup_p: Path, tmp: Path) -> None:
    src = sqlite3.connect(_ro_uri(backup_p), uri=True)
    try:
        problems = connection_problems(src)
        if problems:
            raise StoreDamagedError(f"{backup_p}: the backup fails quick_check: {problems[:3]}")
        dst = sqlite3.connect(str(tmp))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _move_aside(store_p: Path, stamp: str) -> str:
    """Rename the damaged store and its -wal/-shm together (a stale -wal must never meet the
    restored file: SQLite would apply it)."""
    if not store_p.exists():
        return ""
    aside = store_p.with_name(f"{store_p.name}.damaged-{stamp}")
    for ext in ("-wal", "-shm"):
        side = store_p.with_name(store_p.name + ext)
        if side.exists():
            side.rename(aside.with_name(aside.name + ext))
    store_p.rename(aside)
    return str(aside)


def _add_grouped(new: ObservationStore, rows: list[tuple[Any, ...]]) -> int:
    by_rcv: dict[Any, list[Observation]] = defaultdict(list)
    for stcd, tm, elem, val, unit, src, rcv in rows:
        try:
            by_rcv[rcv].append(
                Observation(stcd, _parse_ts(tm), elem, float(val), unit or "", src or "")
            )
        except (ValueError, TypeError) as exc:  # a garbled but readable row: report, go on
            log.warning("salvage: skipped row %s/%s/%s: %s", stcd, tm, elem, exc)
    n = 0
    for rcv, obs in by_rcv.items():
        n += new.add(obs, received=_parse_ts(rcv) if rcv else None)
    return n


def salvage_rows(path: Path, budget: int = 100_000) -> list[tuple[Any, ...]]:
    """Every HT_OBS_R row of a damaged store that can still be read: rowid ranges that hit a
    bad page are halved until the bad rows are isolated (read-only; the file is not changed).
    ``budget`` bounds the queries so that a store damaged beyond reading ends the search."""
    conn = sqlite3.connect(_ro_uri(path), uri=True)
    try:
        conn.execute("SELECT name FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as exc:
        conn.close()
        log.error("salvage of %s impossible: %s", path, exc)
        return []
    try:
        hi = int(conn.execute("SELECT max(rowid) FROM HT_OBS_R").fetchone()[0] or 0)
    except sqlite3.DatabaseError as exc:
        log.warning("salvage of %s: %s; searching rowids blindly", path, exc)
        hi = 1 << 40
    rows: list[tuple[Any, ...]] = []
    stack, lost = [(1, hi)], 0
    sql = "SELECT STCD, TM, ELEM, VAL, UNIT, SRC, RCVTM FROM HT_OBS_R WHERE rowid BETWEEN ? AND ?"
    while stack and budget > 0:
        a, b = stack.pop()
        budget -= 1
        try:
            rows += conn.execute(sql, (a, b)).fetchall()
        except sqlite3.DatabaseError:
            if a == b:
                lost += 1
            else:
                m = (a + b) // 2
                stack += [(m + 1, b), (a, m)]
    conn.close()
    if stack:
        log.error("salvage of %s stopped at its query budget; some rows not searched", path)
    log.info("salvage of %s: %d rows read, %d rowids unreadable", path, len(rows), lost)
    return rows


def _ro_uri(path: Path) -> str:
    return f"file:{quote(str(Path(path).resolve()))}?mode=ro"


# -- the writer lease ---------------------------------------------------------------------------
def lease_path_for(store_path: str | Path) -> Path:
    p = Path(store_path)
    return p.with_name(p.name + ".writer")


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":
        return False  # no portable check: a stale lease is assumed (the WAL test still runs)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WriterLease:
    """``obs.db.writer``: written while a live service writes the store, removed after its
    clean close. Found at start with its writer gone, it means a crash; if ``obs.db-wal`` is
    missing too, the committed rows not yet checkpointed were lost with it (an operator
    deleting or not copying the WAL), which is refused rather than silently accepted."""

    def __init__(self, store_path: str | Path) -> None:
        self.store = Path(store_path)
        self.path = lease_path_for(store_path)

    def holder(self) -> dict[str, Any] | None:
        """The lease's content when its writer is still running on this host, else None."""
        info = self._read()
        if info and info.get("host") == socket.gethostname() and _pid_alive(int(info["pid"])):
            return info
        return None

    def acquire(self) -> None:
        info = self._read()
        if info is not None:
            if self.holder() is not None and int(info["pid"]) != os.getpid():
                raise StoreError(
                    f"{self.store}: written by another service (pid {info['pid']}, since "
                    f"{info.get('since')}); one writer per store"
                )
            wal = self.store.with_name(self.store.name + "-wal")
            if self.store.exists() and not wal.exists():
                raise StoreDamagedError(
                    f"{self.store}: its last writer (pid {info.get('pid')}, since "
                    f"{info.get('since')}) did not close it cleanly and its write-ahead log "
                    f"{wal.name} is missing: observations committed since the last checkpoint "
                    f"are lost. Restore with `hydrotwin store restore --from BACKUP --store "
                    f"{self.store}`, or delete {self.path.name} to accept the loss"
                )
        body = {"pid": os.getpid(), "host": socket.gethostname(), "since": _stamp()}
        atomic_write_text(self.path, json.dumps(body))

    def release(self) -> None:
        self.path.unlink(missing_ok=True)

    def _read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning(
                "%s: unreadable writer lease (%s); treated as a crashed writer", self.path, exc
            )
            return {"pid": -1}
        return data if isinstance(data, dict) and "pid" in data else {"pid": -1}
