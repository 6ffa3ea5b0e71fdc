"""Asyncio TCP centre for SL 651 stations: frame, check, commit, then acknowledge.

Each connection is read by its own task, so a slow, silent or garbage-spewing peer only ever
costs its own connection. Per connection the receiver

* cuts the byte stream into frames (HEX ``7E7E`` or ASCII ``SOH``; the length field gives
  the size, bounded by ``max_frame_bytes``) and skips garbage up to the next start marker;
* decodes the frame (:mod:`hydrotwin.live.sl651`), checks the station address and password
  against the basin's stations, reassembles multi-packet messages;
* commits the observations through the :class:`~hydrotwin.live.pipeline.Pipeline` and only
  then sends the confirmation (EOT by default; SL 651-2014 §6.3 M2/M3) — an observation the
  device saw acknowledged is in the store;
* keeps every rejected frame, with the reason, in the store's quarantine table (rate-limited
  per connection so a flood cannot fill the disk) and sends no ACK for it.

Bounds: ``max_connections`` open connections, ``idle_timeout_s`` of silence, ``max_garbage_bytes``
of undecodable input per connection before it is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from hydrotwin.errors import FrameError, HydroTwinError
from hydrotwin.live import sl651
from hydrotwin.live.pipeline import Pipeline

log = logging.getLogger(__name__)

StatusListener = Callable[[dict[str, Any]], None]


class StationRegistry:
    """SL 651 address -> (STCD, password) for the stations a centre accepts.

    Built from a basin (``Station.sl651_address``/``sl651_password``); an *open* registry
    (no basin) accepts any address and derives the STCD from it (``sl651.station_code``).
    """

    def __init__(self, stations: dict[str, tuple[str, str | None]] | None = None) -> None:
        self._by_address = {
            a.upper(): (s, p.upper() if p else None) for a, (s, p) in (stations or {}).items()
        }
        self.open = stations is None

    @classmethod
    def from_basin(cls, basin: Any) -> StationRegistry:
        table = {
            s.sl651_address: (s.id, s.sl651_password)
            for s in basin.stations
            if s.sl651_address is not None
        }
        return cls(table)

    def check(self, fr: sl651.Frame) -> str:
        """The STCD of a frame's station, or FrameError saying why it is not accepted."""
        entry = self._by_address.get(fr.station)
        if entry is None:
            if self.open:
                return sl651.station_code(fr.station)
            raise FrameError(f"unknown station address {fr.station} (not in the basin's stations)")
        stcd, password = entry
        if password is not None and fr.password != password:
            raise FrameError(f"wrong password {fr.password} for station {fr.station} ({stcd})")
        return stcd


@dataclass
class ReceiverConfig:
    """Limits and behaviour of the TCP centre."""

    host: str = "127.0.0.1"
    port: int = 5005
    max_frame_bytes: int = 4124  # ASCII: 24 + 4095 + 5; HEX: 17 + 4095
    max_connections: int = 256
    max_connections_per_host: int = 64  # one address cannot take every slot
    idle_timeout_s: float = 300.0  # keep-alive is every 1–255 s, 40 s recommended (§6.3)
    max_garbage_bytes: int = 64 * 1024
    quarantine_per_connection: int = 50
    reply_end: int = sl651.EOT
    write_timeout_s: float = 10.0
    tz: tzinfo = field(default_factory=lambda: sl651.DEFAULT_TZ)


@dataclass
class ReceiverStats:
    connections: int = 0
    frames: int = 0
    rejected: int = 0
    acked: int = 0
    observations: int = 0
    garbage_bytes: int = 0
    refused_connections: int = 0


class Receiver:
    """The SL 651 TCP server. ``await start()``, then ``serve_forever()`` or ``stop()``."""

    def __init__(
        self,
        pipeline: Pipeline,
        registry: StationRegistry | None = None,
        config: ReceiverConfig | None = None,
        status_listeners: list[StatusListener] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.registry = registry or StationRegistry(None)
        self.config = config or ReceiverConfig()
        self.stats = ReceiverStats()
        self._status = list(status_listeners or [])
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._per_host: dict[str, int] = {}
        self.address: tuple[str, int] | None = None

    def add_status_listener(self, fn: StatusListener) -> None:
        self._status.append(fn)

    def _emit(self, **event: Any) -> None:
        event.setdefault("time", datetime.now(UTC))
        for fn in list(self._status):
            try:
                fn(event)
            except Exception:
                log.exception("status listener %r failed", fn)

    async def start(self) -> tuple[str, int]:
        cfg = self.config
        try:
            if not ipaddress.ip_address(cfg.host).is_loopback:
                log.warning(
                    "SL 651 receiver listens on %s (not loopback): reachable from the network",
                    cfg.host,
                )
        except ValueError:
            log.warning("SL 651 receiver listens on host name %r", cfg.host)
        await self.pipeline.start()
        try:
            self._server = await asyncio.start_server(
                self._handle, cfg.host, cfg.port, limit=cfg.max_frame_bytes * 4
            )
        except OSError as exc:
            raise HydroTwinError(f"cannot listen on {cfg.host}:{cfg.port}: {exc}") from exc
        sock = self._server.sockets[0].getsockname()
        self.address = (sock[0], sock[1])
        log.info("SL 651 receiver listening on %s:%d", *self.address)
        self._emit(kind="listening", source="sl651", peer=f"{sock[0]}:{sock[1]}")
        return self.address

    async def serve_forever(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for w in list(self._writers):  # connections see EOF and end by themselves ...
            w.close()
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=2.0)
            for t in pending:  # ... and stragglers are cancelled
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self.pipeline.stop()
        self._emit(kind="stopped", source="sl651")

    # -- one connection ------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else "?"
        host = str(peername[0]) if peername else "?"
        if len(self._tasks) >= self.config.max_connections:
            self.stats.refused_connections += 1
            log.warning("refusing %s: %d connections open (limit)", peer, len(self._tasks))
            writer.close()
            return
        if self._per_host.get(host, 0) >= self.config.max_connections_per_host:
            self.stats.refused_connections += 1
            log.warning(
                "refusing %s: %d connections from %s (per-host limit)",
                peer,
                self._per_host[host],
                host,
            )
            writer.close()
            return
        self._per_host[host] = self._per_host.get(host, 0) + 1
        self._tasks.add(task)
        self._writers.add(writer)
        self.stats.connections += 1
        conn = _Connection(self, writer, peer)
        self._emit(kind="connected", source="sl651", peer=peer)
        try:
            await conn.run(reader)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("connection %s lost: %s", peer, exc)
        except asyncio.CancelledError:
            log.debug("connection %s cancelled (receiver stopping)", peer)
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            self._per_host[host] -= 1
            if not self._per_host[host]:
                del self._per_host[host]
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                await writer.wait_closed()
            self._emit(kind="disconnected", source="sl651", peer=peer, station=conn.stcd)


class _Connection:
    def __init__(self, rx: Receiver, writer: asyncio.StreamWriter, peer: str) -> None:
        self.rx = rx
        self.cfg = rx.config
        self.writer = writer
        self.peer = peer
        self.buf = bytearray()
        self.garbage = 0
        self.quarantined = 0
        self.last_quarantine = 0.0
        self.reasm = sl651.Reassembler(max_pending=8)
        self.stcd: str | None = None

    async def run(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), self.cfg.idle_timeout_s)
            except TimeoutError:
                log.info("closing %s: idle for %.0f s", self.peer, self.cfg.idle_timeout_s)
                return
            if not chunk:
                return
            self.buf += chunk
            if not await self._drain_frames():
                return

    async def _drain_frames(self) -> bool:
        """Cut complete frames off the buffer; False when the connection must be closed."""
        buf = self.buf
        while buf:
            i7 = buf.find(b"\x7e\x7e")
            i1 = buf.find(b"\x01")
            starts = [i for i in (i7, i1) if i >= 0]
            if not starts:
                keep = 1 if buf[-1] == 0x7E else 0  # half a start marker: the rest may follow
                if len(buf) > keep:
                    await self._garbage(
                        bytes(buf[: len(buf) - keep]), "no frame start (7E7E or SOH) in the data"
                    )
                    del buf[: len(buf) - keep]
                break
            s = min(starts)
            if s:
                await self._garbage(bytes(buf[:s]), "bytes before a frame start")
                del buf[:s]
            if buf[0] == 0x7E:
                if len(buf) < 13:
                    break
                total = sl651.hex_frame_length(bytes(buf[:13]))
            else:
                if len(buf) < 24:
                    break
                try:
                    total = sl651.ascii_frame_length(bytes(buf[:24]))
                except FrameError as exc:
                    await self._garbage(bytes(buf[:1]), str(exc))
                    del buf[:1]
                    continue
            if total > self.cfg.max_frame_bytes:
                await self._garbage(
                    bytes(buf[:24]),
                    f"frame length {total} exceeds the limit {self.cfg.max_frame_bytes}",
                )
                del buf[:1]
                continue
            if len(buf) < total:
                break
            raw = bytes(buf[:total])
            try:
                fr = sl651.decode(raw)
            except FrameError as exc:
                # resynchronise one byte on: a real frame may start inside this candidate
                await self._reject(raw, str(exc))
                self.garbage += 1
                del buf[:1]
                continue
            del buf[:total]
            await self._frame(fr, raw)
        if self.garbage > self.cfg.max_garbage_bytes:
            log.warning("closing %s: %d bytes of undecodable input", self.peer, self.garbage)
            await self._quarantine(
                b"", f"connection closed after {self.garbage} bytes of undecodable input"
            )
            return False
        return True

    async def _garbage(self, data: bytes, reason: str) -> None:
        self.garbage += len(data)
        self.rx.stats.garbage_bytes += len(data)
        await self._quarantine(data, reason)

    async def _reject(self, raw: bytes, reason: str) -> None:
        self.rx.stats.rejected += 1
        log.info("rejected frame from %s: %s", self.peer, reason)
        self.rx._emit(
            kind="rejected", source="sl651", peer=self.peer, reason=reason, station=self.stcd
        )
        await self._quarantine(raw, reason)

    async def _quarantine(self, raw: bytes, reason: str) -> None:
        now = time.monotonic()
        # at most quarantine_per_connection rows, and after the first 10 one per second
        if self.quarantined >= self.cfg.quarantine_per_connection:
            return
        if self.quarantined >= 10 and now - self.last_quarantine < 1.0:
            return
        self.quarantined += 1
        self.last_quarantine = now
        try:
            await self.rx.pipeline.run_in_writer(
                self.rx.pipeline.store.add_quarantine, raw, reason, self.peer
            )
        except HydroTwinError as exc:
            log.error("cannot quarantine a frame from %s (%s): %s", self.peer, reason, exc)

    async def _frame(self, fr: sl651.Frame, raw: bytes) -> None:
        rx = self.rx
        rx.stats.frames += 1
        if fr.direction != "up":
            await self._reject(raw, "down-link frame received on the centre's port")
            return
        try:
            stcd = rx.registry.check(fr)
        except FrameError as exc:
            await self._reject(raw, str(exc))
            return
        self.stcd = stcd
        for w in fr.warnings:
            log.warning("frame from %s (%s): %s", self.peer, stcd, w)
        if fr.function == 0x2F:  # keep-alive: never answered (§6.3)
            rx._emit(kind="keepalive", source="sl651", peer=self.peer, station=stcd)
            return
        try:
            msg = self.reasm.feed(fr)
        except FrameError as exc:
            await self._reject(raw, str(exc))
            return
        if msg is None:
            return
        obs = sl651.frame_observations(msg, stcd, self.cfg.tz)
        if obs:
            try:
                await rx.pipeline.commit_async(obs)
            except HydroTwinError as exc:
                log.error(
                    "not acknowledging %s serial %s: commit failed: %s", stcd, msg.serial, exc
                )
                return
        rx.stats.observations += len(obs)
        rx._emit(
            kind="frame",
            source="sl651",
            peer=self.peer,
            station=stcd,
            function=f"{msg.function:02X}",
            observations=len(obs),
        )
        if msg.function in sl651.CONFIRMED_FUNCTIONS:
            reply = sl651.encode_reply(msg, self.cfg.reply_end)
            self.writer.write(reply)
            await asyncio.wait_for(self.writer.drain(), self.cfg.write_timeout_s)
            rx.stats.acked += 1


async def serve(
    pipeline: Pipeline,
    registry: StationRegistry | None = None,
    config: ReceiverConfig | None = None,
    ready: Callable[[tuple[str, int]], None] | None = None,
) -> None:
    """Run a receiver until cancelled (used by the CLI and the GUI bridge's worker thread)."""
    rx = Receiver(pipeline, registry, config)
    addr = await rx.start()
    if ready is not None:
        ready(addr)
    try:
        await rx.serve_forever()
    finally:
        await rx.stop()
