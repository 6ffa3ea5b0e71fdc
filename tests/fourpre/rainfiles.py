"""The short, intense sub-basin rain the plan, gate and rehearsal tests drive the demo with:
a burst of ``mm`` per hour over every sub-basin, then dry, as the forecast's rain CSV."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path


def burst_csv(path: Path, basin, start: datetime, hours: int = 12, wet_hours: int = 6,
              mm: float = 40.0) -> str:  # fmt: skip
    ids = [s.id for s in basin.subbasins]
    lines = ["time," + ",".join(ids)]
    for k in range(1, hours + 1):
        t = (start + timedelta(hours=k)).strftime("%Y-%m-%dT%H:%MZ")
        lines.append(t + "," + ",".join([f"{mm if k <= wet_hours else 0.0:g}"] * len(ids)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)
