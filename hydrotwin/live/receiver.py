"""Asyncio TCP centre for SL 651 stations: frame, check, commit, then acknowledge.

Each connection is read by its own task, so a slow, silent or garbage-spewing peer only ever
costs its own connection. Per connection the receiver

* cuts the byte stream into frames (HEX ``7E7E`` or ASCII ``SOH``; the length field gives
  the size, bounded by ``max_frame_bytes``) and skips garbage up to the next start marker; a
  length field that promises more than arrives is abandoned as soon as a later start marker
  begins a frame that decodes (CRC checked), so one corrupted header holds back nothing;
* decodes the frame (:mod:`hydrotwin.live.sl651`), checks the station address and password
  against the basin's stations, reassembles multi-packet messages; only the groups of the
  address the frame was authenticated as are stored (a group for another address is
  quarantined);
* commits the observations through the :class:`~hydrotwin.live.pipeline.Pipeline` and only
  then sends the confirmation (EOT by default; SL 651-2014 §6.3 M2/M3) — an observation the
  device saw acknowledged is in the store;
* keeps every rejected frame, with the reason, in the store's quarantine table (bounded per
  connection and per peer host and hour) and sends no ACK for it.

Bounds (DESIGN.md "Trust at the edges", all in :class:`ReceiverConfig`): connections in total
and per host (when full, the longest-idle connection that never authenticated is evicted);
idle time (short until a connection authenticates); a deadline to complete a frame once its
first byte arrived (slow drip); wrong passwords per connection (closed) and per address
(exponential back-off); bytes of unfinished multi-packet messages per connection and for the
whole receiver, with a time-out; decoding work per event-loop turn; log lines per peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from hydrotwin.errors import FrameError, HydroTwinError
from hydrotwin.live import sl651
from hydrotwin.live.guards import AuthGuard, ByteBudget, HourlyQuota, LogLimiter, WorkShare
from hydrotwin.live.pipeline import Pipeline

log = logging.getLogger(__name__)

StatusListener = Callable[[dict[str, Any]], None]
MiB = 1024 * 1024


def _libc_trim() -> Callable[[], None] | None:
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (Windows, macOS, musl): the allocator keeps its own policy
    return lambda: trim(0)


#: glibc keeps freed 4 KiB packet bodies in its heap: 16 connections' unfinished messages stayed
#: in the process's RSS after they closed until malloc_trim handed the pages back.
_return_freed_memory = _libc_trim() or (lambda: None)


class StationRegistry:
    """SL 651 address -> (STCD, password) for the stations a centre accepts.

    Built from a basin (``Station.sl651_address``/``sl651_password``); an *open* registry
    (:meth:`any_station`, or ``StationRegistry(None)``) accepts any address and derives the
    STCD from it (``sl651.station_code``) — a deliberate choice the receiver warns about.
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

    @classmethod
    def any_station(cls) -> StationRegistry:
        """Accept every address (``--allow-any-station``): for tests and open test benches."""
        return cls(None)

    def knows(self, address: str) -> bool:
        return address in self._by_address

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
    unauthenticated_idle_timeout_s: float = 30.0  # until a frame of a known station arrives
    frame_deadline_s: float = 60.0  # first byte -> complete frame (slow drip)
    max_garbage_bytes: int = 64 * 1024
    auth_failures_per_connection: int = 5  # then the connection is closed
    auth_failures_per_address: int = 5  # then the address is refused for a back-off ...
    auth_backoff_s: float = 60.0  # ... doubling each episode ...
    auth_backoff_max_s: float = 3600.0  # ... up to this
    reassembly_budget_bytes: int = 64 * MiB  # unfinished M3 messages, whole receiver
    reassembly_per_connection_bytes: int = 8 * MiB
    reassembly_max_pending: int = 8  # messages per connection
    reassembly_timeout_s: float = 120.0  # since the message's last packet
    work_per_turn_s: float = 0.002  # decoding one connection's input before yielding
    unauthenticated_cpu_share: float = 0.25  # of the loop, for all not yet authenticated
    quarantine_per_connection: int = 50
    quarantine_per_host_per_hour: int = 200
    log_lines_per_host: int = 5  # per log interval; the rest are summarised
    log_interval_s: float = 60.0
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
    evicted_connections: int = 0
    auth_failures: int = 0


class Receiver:
    """The SL 651 TCP server. ``await start()``, then ``serve_forever()`` or ``stop()``.

    ``registry=None`` keeps the old meaning, an open registry, and is warned about at start;
    pass ``StationRegistry.from_basin`` (or ``any_station()`` deliberately).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        registry: StationRegistry | None = None,
        config: ReceiverConfig | None = None,
        status_listeners: list[StatusListener] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.registry = registry or StationRegistry(None)
        self.config = cfg = config or ReceiverConfig()
        self.stats = ReceiverStats()
        self._status = list(status_listeners or [])
        self._server: asyncio.Server | None = None
        self._conns: dict[asyncio.Task[None], _Connection] = {}
        self._per_host: dict[str, int] = {}
        self.address: tuple[str, int] | None = None
        self.auth = AuthGuard(
            cfg.auth_failures_per_address, cfg.auth_backoff_s, cfg.auth_backoff_max_s
        )
        self.reassembly = ByteBudget(cfg.reassembly_budget_bytes)
        self.quarantine_quota = HourlyQuota(cfg.quarantine_per_host_per_hour)
        self.log_limit = LogLimiter(cfg.log_lines_per_host, cfg.log_interval_s)
        self.unauthenticated_work = WorkShare(cfg.unauthenticated_cpu_share, 0.01, time.monotonic())

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
        if self.registry.open:
            log.warning(
                "SL 651 receiver accepts frames from ANY station address, without a password "
                "(no station list): run with a basin to accept only its stations"
            )
        sl651.crc16_modbus(b"")  # builds the CRC table now, not on the first station's frame
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
        for c in list(self._conns.values()):  # connections see EOF and end by themselves ...
            c.writer.close()
        if self._conns:
            _, pending = await asyncio.wait(list(self._conns), timeout=2.0)
            for t in pending:  # ... and stragglers are cancelled
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self.pipeline.stop()
        self._emit(kind="stopped", source="sl651")

    # -- admission -----------------------------------------------------------------------------
    def _admit(self, peer: str, host: str) -> bool:
        """Room for one more connection: evict an idle never-authenticated one if full."""
        cfg = self.config
        if self._per_host.get(host, 0) >= cfg.max_connections_per_host:
            self.stats.refused_connections += 1
            if self.log_limit.allow(host, time.monotonic()):
                log.warning(
                    "refusing %s: %d connections from %s (per-host limit)",
                    peer,
                    self._per_host[host],
                    host,
                )
            return False
        if len(self._conns) < cfg.max_connections:
            return True
        idle = [c for c in self._conns.values() if not c.authenticated and not c.closing]
        if idle:
            victim = min(idle, key=lambda c: c.last_activity)
            victim.close("evicted: connection table full and no valid frame from it")
            self.stats.evicted_connections += 1
            return True
        self.stats.refused_connections += 1
        if self.log_limit.allow("(table full)", time.monotonic()):
            log.warning("refusing %s: %d connections open (limit)", peer, len(self._conns))
        return False

    # -- one connection ------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else "?"
        host = str(peername[0]) if peername else "?"
        if not self._admit(peer, host):
            writer.close()
            return
        self._per_host[host] = self._per_host.get(host, 0) + 1
        conn = self._conns[task] = _Connection(self, writer, peer, host)
        self.stats.connections += 1
        self._emit(kind="connected", source="sl651", peer=peer)
        try:
            await conn.run(reader)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            conn.close_reason = f"lost ({exc})"
        except TimeoutError:
            conn.close_reason = f"confirmation not read within {self.config.write_timeout_s} s"
        except asyncio.CancelledError:
            conn.close_reason = "cancelled (receiver stopping)"
        finally:
            del self._conns[task]
            self._per_host[host] -= 1
            if not self._per_host[host]:
                del self._per_host[host]
            conn.release()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                await writer.wait_closed()
            self._emit(kind="disconnected", source="sl651", peer=peer, station=conn.stcd)


class _Connection:
    """One station's TCP connection: its buffer, bounds and counters."""

    def __init__(self, rx: Receiver, writer: asyncio.StreamWriter, peer: str, host: str) -> None:
        self.rx = rx
        self.cfg = cfg = rx.config
        self.writer = writer
        self.peer, self.host = peer, host
        self.buf = bytearray()
        self.garbage = 0
        self.quarantined = 0
        self.last_quarantine = 0.0
        self.reasm = sl651.Reassembler(
            cfg.reassembly_max_pending, cfg.reassembly_per_connection_bytes
        )
        self.stcd: str | None = None
        self.authenticated = False
        self.auth_failures = 0
        self.frames = self.rejected = self.acked = 0
        self.last_activity = time.monotonic()
        self.pending_since: float | None = None  # first byte of a frame not yet complete
        self.closing = False
        self.close_reason = "closed by the peer"
        self._tried: set[int] = set()  # resync candidates (absolute offsets) that failed
        self._consumed = 0  # bytes cut off the head of the buffer so far

    # -- lifetime ------------------------------------------------------------------------------
    def close(self, reason: str) -> None:
        """End the connection from outside its task (eviction) or inside it (a bound)."""
        if not self.closing:
            self.closing, self.close_reason = True, reason
            self.writer.transport.abort()

    def release(self) -> None:
        """Return the reassembly bytes to the shared budget and log one summary line."""
        held = self.reasm.bytes
        self.rx.reassembly.used -= held
        self.reasm.clear()
        if held > MiB:
            _return_freed_memory()
        unfinished = len(self.buf)
        self.buf = bytearray()
        level = logging.WARNING if (self.rejected or self.garbage or unfinished) else logging.INFO
        log.log(
            level,
            "connection %s (%s) ended, %s: %d frames, %d acknowledged, %d rejected, "
            "%d bytes undecodable, %d bytes of an unfinished frame",
            self.peer,
            self.stcd or "no station",
            self.close_reason,
            self.frames,
            self.acked,
            self.rejected,
            self.garbage,
            unfinished,
        )

    def _timeout(self, now: float) -> tuple[float, str]:
        cfg = self.cfg
        idle = cfg.idle_timeout_s
        if not self.authenticated:
            idle = min(idle, cfg.unauthenticated_idle_timeout_s)
        why = f"idle for {idle:.0f} s" + ("" if self.authenticated else " before a valid frame")
        if self.pending_since is not None:
            left = self.pending_since + cfg.frame_deadline_s - now
            if left < idle:
                return left, f"no complete frame within {cfg.frame_deadline_s:.0f} s of its start"
        return idle, why

    async def run(self, reader: asyncio.StreamReader) -> None:
        while not self.closing:
            now = time.monotonic()
            timeout, why = self._timeout(now)
            try:
                chunk = await asyncio.wait_for(reader.read(65536), max(0.0, timeout))
            except TimeoutError:
                self.close_reason = why
                return
            if not chunk:
                return
            now = self.last_activity = time.monotonic()
            if self.pending_since is None:
                self.pending_since = now
            self.buf += chunk
            if not await self._drain_frames():
                return

    # -- framing -------------------------------------------------------------------------------
    def _cut(self, n: int) -> None:
        del self.buf[:n]
        self._consumed += n
        self._tried.clear()

    def _length_at(self, j: int) -> int | None:
        """Total length claimed by the header at offset j; None while it is incomplete."""
        buf = self.buf
        if buf[j] == 0x7E:
            return sl651.hex_frame_length(bytes(buf[j : j + 13])) if len(buf) >= j + 13 else None
        if len(buf) < j + 24:
            return None
        return sl651.ascii_frame_length(bytes(buf[j : j + 24]))

    def _next_start(self, j: int) -> int:
        i7, i1 = self.buf.find(b"\x7e\x7e", j), self.buf.find(b"\x01", j)
        starts = [i for i in (i7, i1) if i >= 0]
        return min(starts) if starts else -1

    def _resync(self) -> int | None:
        """Offset of a later start marker that begins a complete frame which decodes.

        The frame at the head claims more bytes than have arrived; if a valid frame is
        already complete behind it, the head's length field was corrupted.
        """
        buf = self.buf
        j = self._next_start(1)
        while j > 0:
            key = self._consumed + j
            try:
                total = self._length_at(j)
            except FrameError:
                total = 0
            if total is None:
                return None  # headers further on are even less complete
            fits = 0 < total <= self.cfg.max_frame_bytes and j + total <= len(buf)
            if fits and key not in self._tried:
                self._tried.add(key)
                try:
                    sl651.decode(bytes(buf[j : j + total]))
                    return j
                except FrameError:
                    pass
            j = self._next_start(j + 1)
        return None

    async def _drain_frames(self) -> bool:
        """Cut complete frames off the buffer; False when the connection must be closed."""
        buf, turn = self.buf, time.monotonic()
        while buf and not self.closing:
            if time.monotonic() - turn > self.cfg.work_per_turn_s:
                await self._yield(turn)  # crafted input must not starve other stations
                turn = time.monotonic()
            s = self._next_start(0)
            if s < 0:
                keep = 1 if buf[-1] == 0x7E else 0  # half a start marker: the rest may follow
                if len(buf) > keep:
                    await self._garbage(len(buf) - keep, "no frame start (7E7E or SOH) in the data")
                break
            if s:
                await self._garbage(s, "bytes before a frame start")
            try:
                total = self._length_at(0)
            except FrameError as exc:
                await self._skip(str(exc))
                continue
            if total is None:
                break
            if total > self.cfg.max_frame_bytes:
                await self._skip(
                    f"frame length {total} exceeds the limit {self.cfg.max_frame_bytes}"
                )
                continue
            if len(buf) < total:
                j = self._resync()
                if j is None:
                    break
                await self._garbage(
                    j, f"length field says {total} bytes but a valid frame starts at offset {j}"
                )
                continue
            if buf[0] == 0x7E and buf[13] not in (sl651.STX, sl651.SYN):
                # what decode would say after a CRC over up to 4 KiB: crafted headers cost less
                await self._skip(f"HEX body start {buf[13]:02X}; expected 02 STX or 16 SYN")
                continue
            raw = bytes(buf[:total])
            try:
                fr = sl651.decode(raw)
            except FrameError as exc:
                # resynchronise on the next start: a real frame may begin inside this candidate
                await self._reject(raw, str(exc))
                await self._skip(str(exc), store=False)
                continue
            self._cut(total)
            await self._one_frame(fr, raw)
            self.pending_since = time.monotonic() if buf else None
        if self.garbage > self.cfg.max_garbage_bytes and not self.closing:
            if self._may_quarantine():
                await self._store(
                    b"", f"connection closed after {self.garbage} bytes of undecodable input"
                )
            self.close(f"{self.garbage} bytes of undecodable input")
        if not self.closing:
            await self._yield(turn)
        return not self.closing

    async def _yield(self, turn: float) -> None:
        """Let other connections run; one that has not authenticated waits for its share, so
        that the loop idles and the store's writer thread gets the GIL (with sleep(0) alone
        the commits of good stations waited ~100 ms for it under a crafted flood)."""
        if self.authenticated:
            await asyncio.sleep(0)
            return
        now = time.monotonic()
        await asyncio.sleep(self.rx.unauthenticated_work.spend(now - turn, now))

    async def _skip(self, reason: str, store: bool = True) -> None:
        """The start marker at the head begins no frame: skip to the next one."""
        j = self._next_start(1)
        if j < 0:
            j = max(1, len(self.buf) - (1 if self.buf[-1] == 0x7E else 0))
        await self._garbage(j, reason, store)

    async def _garbage(self, n: int, reason: str, store: bool = True) -> None:
        """Skip n bytes at the head of the buffer that are no frame."""
        data = bytes(self.buf[:n]) if store and self._may_quarantine() else None
        self._cut(n)
        self.garbage += n
        self.rx.stats.garbage_bytes += n
        if data is not None:
            await self._store(data, reason)

    # -- rejection and quarantine --------------------------------------------------------------
    async def _reject(self, raw: bytes, reason: str) -> None:
        self.rx.stats.rejected += 1
        self.rejected += 1
        if self.rx.log_limit.allow(self.host, time.monotonic()):
            log.info("rejected frame from %s: %s", self.peer, reason)
        self.rx._emit(
            kind="rejected", source="sl651", peer=self.peer, reason=reason, station=self.stcd
        )
        if self._may_quarantine():
            await self._store(raw, reason)

    def _may_quarantine(self) -> bool:
        """At most quarantine_per_connection rows, after the first 10 one per second, and at
        most quarantine_per_host_per_hour from one host (reconnecting does not reset it)."""
        now = time.monotonic()
        if self.quarantined >= self.cfg.quarantine_per_connection:
            return False
        if self.quarantined >= 10 and now - self.last_quarantine < 1.0:
            return False
        if not self.rx.quarantine_quota.take(self.host, now):
            return False
        self.quarantined += 1
        self.last_quarantine = now
        return True

    async def _store(self, raw: bytes, reason: str) -> None:
        try:
            await self.rx.pipeline.run_in_writer(
                self.rx.pipeline.store.add_quarantine, raw, reason, self.peer
            )
        except HydroTwinError as exc:
            log.error("cannot quarantine a frame from %s (%s): %s", self.peer, reason, exc)

    # -- one decoded frame ---------------------------------------------------------------------
    async def _authenticate(self, fr: sl651.Frame, raw: bytes) -> str | None:
        """The frame's STCD, or None after rejecting it (and counting a failure)."""
        rx, now = self.rx, time.monotonic()
        wait = rx.auth.refused_for(fr.station, now)
        if wait:
            reason = f"address {fr.station} refused for another {wait:.0f} s (wrong passwords)"
        else:
            try:
                stcd = rx.registry.check(fr)
            except FrameError as exc:
                reason = str(exc)
                if rx.registry.knows(fr.station):
                    rx.auth.failure(fr.station, now)
            else:
                self.stcd, self.authenticated = stcd, True
                return stcd
        rx.stats.auth_failures += 1
        self.auth_failures += 1
        await self._reject(raw, reason)
        if self.auth_failures >= self.cfg.auth_failures_per_connection:
            self.close(f"{self.auth_failures} frames failed authentication")
        return None

    async def _own_groups(self, msg: sl651.Frame, raw: bytes) -> sl651.Frame:
        """The message with only the groups of the address it was authenticated as."""
        foreign = sorted({e.station for e in msg.elements if e.station not in (None, msg.station)})
        if not foreign:
            return msg
        await self._reject(
            raw,
            f"observation groups for address {', '.join(foreign)} in a frame authenticated as "
            f"{msg.station} ({self.stcd}): not stored",
        )
        own = [e for e in msg.elements if e.station in (None, msg.station)]
        return replace(msg, elements=own)

    async def _reassemble(self, fr: sl651.Frame, raw: bytes) -> sl651.Frame | None:
        """The complete message once its last packet arrived, within the byte bounds."""
        if fr.complete:
            return fr
        rx, cfg, now = self.rx, self.cfg, time.monotonic()
        before = self.reasm.bytes
        for key in self.reasm.expire(now, cfg.reassembly_timeout_s):
            log.warning("%s: multi-packet message %s timed out unfinished", self.peer, key)
        n = len(fr.body)
        if self.reasm.bytes + n > cfg.reassembly_per_connection_bytes:
            reason = f"connection holds {self.reasm.bytes} bytes of unfinished messages (limit)"
        elif not rx.reassembly.fits(self.reasm.bytes - before + n):
            reason = f"receiver holds {rx.reassembly.used} bytes of unfinished messages (budget)"
        else:
            try:
                msg = self.reasm.feed(fr, now)
            except FrameError as exc:
                reason = str(exc)
            else:
                rx.reassembly.used += self.reasm.bytes - before
                return msg
        rx.reassembly.used += self.reasm.bytes - before
        await self._reject(raw, reason)
        return None

    async def _one_frame(self, fr: sl651.Frame, raw: bytes) -> None:
        """Whatever one decoded frame raises ends in its quarantine, not the connection's."""
        try:
            await self._frame(fr, raw)
        except (ConnectionError, TimeoutError):
            raise  # the peer is gone or not reading its confirmations
        except Exception as exc:
            log.exception("frame from %s (%s) failed", self.peer, self.stcd)
            await self._reject(raw, f"{type(exc).__name__}: {exc}")

    async def _frame(self, fr: sl651.Frame, raw: bytes) -> None:
        rx = self.rx
        rx.stats.frames += 1
        self.frames += 1
        if fr.direction != "up":
            await self._reject(raw, "down-link frame received on the centre's port")
            return
        stcd = await self._authenticate(fr, raw)
        if stcd is None:
            return
        for w in fr.warnings:
            if rx.log_limit.allow(self.host, time.monotonic()):
                log.warning("frame from %s (%s): %s", self.peer, stcd, w)
        if fr.function == 0x2F:  # keep-alive: never answered (§6.3)
            rx._emit(kind="keepalive", source="sl651", peer=self.peer, station=stcd)
            return
        msg = await self._reassemble(fr, raw)
        if msg is None:
            return
        msg = await self._own_groups(msg, raw)
        await self._commit_and_ack(msg, stcd)

    async def _commit_and_ack(self, msg: sl651.Frame, stcd: str) -> None:
        rx = self.rx
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
            self.acked += 1


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
