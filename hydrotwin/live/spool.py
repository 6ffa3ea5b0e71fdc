"""The durable spool: where acknowledged observations wait while the store is down.

When the store reports damage (a corrupt page, an I/O error, a full disk) the pipeline stops
writing to it and appends each batch here instead, fsynced before the device is acknowledged,
so that "an ACK means durable" holds while the store is down. ``hydrotwin store restore``
replays the spool into the restored store; replay is idempotent by the observation key.

Format: one line per batch, ``CRC32-hex TAB JSON``, the JSON being ``{"rcv": ISO time,
"obs": [[station, ISO time, element, value, unit, source], …]}``. The file is append-only
(an ``atomic_path`` rename per batch would rewrite the whole file each time); a line torn by a
crash, or damaged later, fails its CRC and is reported and skipped, never half-read.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hydrotwin.errors import StoreError
from hydrotwin.files import normal_mode
from hydrotwin.live.observation import Observation

log = logging.getLogger(__name__)


def spool_path_for(store_path: str | Path) -> Path:
    """The spool beside a SQLite store: ``obs.db`` -> ``obs.db.spool``."""
    p = Path(store_path)
    return p.with_name(p.name + ".spool")


@dataclass
class SpoolContents:
    """What a spool file holds: batches of (received time, observations), and damaged lines."""

    batches: list[tuple[datetime, list[Observation]]] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def observations(self) -> int:
        return sum(len(obs) for _, obs in self.batches)


class Spool:
    """Append-only, fsynced journal of observation batches (thread-safe)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.appended = 0

    def append(self, obs: Sequence[Observation], received: datetime) -> None:
        """Append one batch and fsync it; raise StoreError if that is not possible."""
        body = json.dumps(
            {
                "rcv": received.isoformat(),
                "obs": [
                    [o.station, o.time.isoformat(), o.element, o.value, o.unit, o.source]
                    for o in obs
                ],
            },
            separators=(",", ":"),
        ).encode()
        line = b"%08x\t%s\n" % (zlib.crc32(body), body)
        with self._lock:
            try:
                new = not self.path.exists()
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, normal_mode())
                try:
                    os.write(fd, line)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                if new:  # the new file's name must survive a power cut too
                    _fsync_dir(self.path.parent)
            except OSError as exc:
                raise StoreError(
                    f"{self.path}: cannot append {len(obs)} observations to the spool: {exc}"
                ) from exc
            self.appended += len(obs)

    def read(self) -> SpoolContents:
        """Every intact batch, oldest first; damaged lines are listed, not raised."""
        return read_spool(self.path)

    def __iter__(self) -> Iterator[tuple[datetime, list[Observation]]]:
        return iter(self.read().batches)


def read_spool(path: str | Path) -> SpoolContents:
    """Parse a spool file (missing file = empty spool)."""
    out = SpoolContents()
    p = Path(path)
    if not p.exists():
        return out
    with open(p, "rb") as fh:
        for n, line in enumerate(fh, 1):
            try:
                out.batches.append(_parse_line(line))
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                log.error("%s line %d: skipped: %s", p, n, exc)
                out.bad_lines.append((n, str(exc)))
    return out


def _parse_line(line: bytes) -> tuple[datetime, list[Observation]]:
    crc, sep, body = line.rstrip(b"\n").partition(b"\t")
    if not sep or not line.endswith(b"\n"):
        raise ValueError("incomplete line (torn by a crash?)")
    if int(crc, 16) != zlib.crc32(body):
        raise ValueError(f"CRC {crc.decode(errors='replace')} does not match the line's content")
    data = json.loads(body)
    obs = [
        Observation(s, datetime.fromisoformat(t), e, float(v), u, src)
        for s, t, e, v, u, src in data["obs"]
    ]
    return datetime.fromisoformat(data["rcv"]), obs


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform (Windows); the data itself is fsynced
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
