"""A recorded event played again through the live path, at the pace of a clock.

Historical replay (trainer mode): an SL 651 *capture* — the frames a centre received, with
their receive times — or a window of an observation store is delivered to the
:class:`~hydrotwin.live.pipeline.Pipeline` when ``now()`` (the session's one clock, which may
run ×N, pause and resume) reaches each item's time. A capture's frames go over TCP on
127.0.0.1 to a real SL 651 receiver, one connection per moment as a station that hangs up
after its report (EOT), so they are decoded, authenticated against the basin's stations,
reassembled, stored, acknowledged and graded exactly as live frames are; a frame the basin
does not accept is quarantined, as it would be live.

Capture file (``.sl651``, UTF-8 text): one frame per line, ``<receive time> <frame hex>``,
the time ISO 8601 with its offset (``2012-08-03T08:00:05+08:00``); blank lines and lines
starting with ``#`` are ignored. :func:`write_capture` writes one.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from hydrotwin.errors import FrameError, InputDataError
from hydrotwin.files import atomic_write_text
from hydrotwin.live import sl651
from hydrotwin.live.observation import Observation
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.source import StatusListener, ThreadSource, _emit
from hydrotwin.timeutil import as_utc, parse_iso

log = logging.getLogger(__name__)

Now = Callable[[], datetime]

__all__ = [
    "CaptureReplaySource",
    "CapturedFrame",
    "StoreWindowSource",
    "capture_observations",
    "check_window",
    "read_capture",
    "write_capture",
]


@dataclass(frozen=True)
class CapturedFrame:
    """One frame of a capture: when the centre received it (aware, UTC) and its bytes."""

    time: datetime
    raw: bytes
    line: int = 0


def read_capture(path: str | Path) -> list[CapturedFrame]:
    """The frames of a capture file in receive-time order; errors name the file and line."""
    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"capture file {p}: not found (expected an SL 651 capture)")
    frames: list[CapturedFrame] = []
    for n, text in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        line = text.strip()
        if not line or line.startswith("#"):
            continue
        stamp, _, hexpart = line.partition(" ")
        try:
            t = parse_iso(stamp, naive_tz=None)
        except ValueError as exc:
            raise InputDataError(f"capture file {p}:{n}: time {exc}") from None
        try:
            raw = bytes.fromhex(hexpart.replace(" ", ""))
        except ValueError:
            raise InputDataError(
                f"capture file {p}:{n}: frame {hexpart[:40]!r}…; expected hexadecimal"
            ) from None
        if not raw:
            raise InputDataError(f"capture file {p}:{n}: no frame after the time")
        frames.append(CapturedFrame(as_utc(t), raw, n))
    if not frames:
        raise InputDataError(f"capture file {p}: holds no frames (expected '<time> <hex>' lines)")
    return sorted(frames, key=lambda f: f.time)


def write_capture(path: str | Path, frames: Iterable[tuple[datetime, bytes]]) -> Path:
    """Write a capture file (atomically): one ``<time> <hex>`` line per frame."""
    lines = ["# SL 651 capture: receive time, frame (hex)"]
    lines += [f"{as_utc(t).isoformat()} {raw.hex().upper()}" for t, raw in frames]
    return atomic_write_text(path, "\n".join(lines) + "\n")


def capture_observations(
    frames: Sequence[CapturedFrame], registry: Any, tz: tzinfo = sl651.DEFAULT_TZ
) -> list[Observation]:
    """What a capture holds for the stations ``registry`` accepts, decoded offline (what a
    replay should store; frames that do not decode or authenticate are left out)."""
    reasm = sl651.Reassembler()
    out: list[Observation] = []
    for f in frames:
        try:
            fr = sl651.decode(f.raw)
            stcd = registry.check(fr)
            msg = fr if fr.complete else reasm.feed(fr)
        except FrameError:
            continue
        if msg is not None and fr.direction == "up":
            out += sl651.frame_observations(msg, stcd, tz)
    return out


class _ClockedSource(ThreadSource):
    """Delivers time-stamped items when ``now()`` reaches them. ``through``: every item at or
    before it has been delivered (a duty cycle may then read the store up to it)."""

    def __init__(self, items: Sequence[tuple[datetime, Any]], now: Now, poll_s: float) -> None:
        super().__init__()
        self.items = sorted(items, key=lambda it: it[0])
        self.now, self.poll_s = now, poll_s
        self.through: datetime | None = None
        self.delivered = 0
        self.finished = False

    @property
    def window(self) -> tuple[datetime, datetime]:
        return self.items[0][0], self.items[-1][0]

    def _loop(self, sink: Pipeline, status: StatusListener | None, stop: threading.Event) -> None:
        i, n = 0, len(self.items)
        _emit(status, source=self.name, kind="replaying", count=n)
        while i < n and not stop.is_set():
            t_now = self.now()
            j = i
            while j < n and self.items[j][0] <= t_now:
                j += 1
            if j > i:
                self._deliver(sink, [it[1] for it in self.items[i:j]])
                self.delivered, i = j, j
            self.through = t_now
            if i < n:
                stop.wait(self.poll_s)
        self.finished = i == n
        _emit(status, source=self.name, kind="finished", count=self.delivered)

    def _deliver(self, sink: Pipeline, payload: list[Any]) -> None:
        raise NotImplementedError


class StoreWindowSource(_ClockedSource):
    """Observations of a store window (``ObservationStore.observations_between``) committed
    into the pipeline when the clock reaches their time, marked ``source="replay"``."""

    name = "replay"

    def __init__(self, observations: Sequence[Observation], now: Now, poll_s: float = 0.02):
        if not observations:
            raise InputDataError("store window replay: no observations to replay")
        obs = [replace(o, source="replay") for o in observations]
        super().__init__([(o.time, o) for o in obs], now, poll_s)
        self.new = 0

    def _run(self, sink: Pipeline, status: StatusListener | None, stop: threading.Event) -> None:
        self._loop(sink, status, stop)

    def _deliver(self, sink: Pipeline, payload: list[Any]) -> None:
        self.new += sink.commit(payload)


class CaptureReplaySource(_ClockedSource):
    """An SL 651 capture sent to a real receiver on 127.0.0.1 (its own, on the same sink)
    when the clock reaches each frame's receive time."""

    name = "sl651-replay"

    def __init__(
        self, frames: Sequence[CapturedFrame], registry: Any, config: Any, now: Now,
        poll_s: float = 0.02,
    ) -> None:  # fmt: skip
        if not frames:
            raise InputDataError("capture replay: no frames to replay")
        super().__init__([(f.time, f.raw) for f in frames], now, poll_s)
        self.registry, self.config = registry, replace(config, host="127.0.0.1", port=0)
        self.acked_bytes = 0
        self._address: tuple[str, int] | None = None

    def _run(self, sink: Pipeline, status: StatusListener | None, stop: threading.Event) -> None:
        from hydrotwin.live.source import Sl651Source

        rx = Sl651Source(self.registry, self.config)
        rx.start(sink, status)
        self._address = rx.address
        try:
            self._loop(sink, status, stop)
        finally:
            rx.stop()

    def _deliver(self, sink: Pipeline, payload: list[Any]) -> None:
        """One connection: send the frames, hang up, read the confirmations until the
        receiver closes (it has then committed everything it accepted)."""
        assert self._address is not None
        with socket.create_connection(self._address, timeout=30.0) as s:
            s.sendall(b"".join(payload))
            s.shutdown(socket.SHUT_WR)
            while chunk := s.recv(65536):
                self.acked_bytes += len(chunk)


def check_window(start: datetime, end: datetime, what: str) -> None:
    """A replay window must be aware and forward."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InputDataError(f"{what}: window {start} … {end} needs offsets (e.g. +08:00)")
    if not end > start:
        raise InputDataError(
            f"{what}: window end {end.isoformat()} is not after its start {start.isoformat()}"
        )
