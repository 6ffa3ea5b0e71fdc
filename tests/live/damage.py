"""Real damage to real SQLite store files, as the issue measured it (test helpers)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hydrotwin.live.observation import Observation
from hydrotwin.live.store import open_store

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def observations(n: int, stations: int = 20, t0: datetime = T0, value0: float = 10.0):
    """``n`` river-stage observations spread over ``stations`` stations, 5 minutes apart."""
    return [
        Observation(f"{60000000 + i % stations:08d}", t0 + timedelta(minutes=5 * (i // stations)),
                    "Z", value0 + (i % 997) / 1000, "m")
        for i in range(n)
    ]  # fmt: skip


def make_store(path: Path, n: int = 20_000, batch: int = 500) -> list[Observation]:
    """A closed store holding ``n`` observations (committed in batches, as the receiver does)."""
    obs = observations(n)
    with open_store(path) as s:
        for i in range(0, n, batch):
            s.add(obs[i : i + batch])
    return obs


def leaf_pages(path: Path, table: str = "HT_OBS_R") -> list[int]:
    """Page numbers of a table's b-tree leaves (dbstat), in file order."""
    with sqlite3.connect(path) as c:
        rows = c.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
            (table,),
        ).fetchall()
    c.close()
    return [r[0] for r in rows]


def garble_page(path: Path, pageno: int, page_size: int = 4096) -> None:
    """Overwrite one page with a fixed non-SQLite pattern (what a bad sector returns)."""
    with open(path, "r+b") as fh:
        fh.seek((pageno - 1) * page_size)
        fh.write(bytes([0xA5]) * page_size)


def stored_keys(path: Path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(path) as c:
        rows = set(c.execute("SELECT STCD, TM, ELEM FROM HT_OBS_R").fetchall())
    c.close()
    return rows


def key(o: Observation) -> tuple[str, str, str]:
    return (o.station, o.time.strftime("%Y-%m-%d %H:%M:%S"), o.element)
