"""MQTT subscriber: JSON observations from an IoT platform into the same pipeline.

Payload (UTF-8 JSON), one observation or an array of them::

    {"station": "60000001", "time": "2026-07-01T08:00:00+08:00",
     "element": "Z", "value": 10.25, "unit": "m"}

``station`` is the SL 323 station code, ``time`` ISO 8601 with an offset (``Z`` for UTC),
``element`` an SL 651 identifier (``Z``, ``ZU``, ``PJ``, ``Q`` … see
``hydrotwin.live.observation.ELEMENT_UNITS``), ``unit`` optional but checked when given.
Default topic filter ``hydrotwin/+/obs`` (``hydrotwin/<basin>/obs``); no national MQTT topic
standard exists (standards.md §6).

Trust (DESIGN.md "Trust at the edges"): a payload is bounded before it is parsed (bytes,
nesting depth, digits in a number, items), every field is checked (station code, known
element and unit, time within :class:`PayloadLimits` of now) and, with a station list, only
those stations are stored. In an array the valid observations are stored and each invalid one
is quarantined with its reason. Whatever one message raises, it is quarantined and
acknowledged, and the subscriber goes on: a poison message redelivered on every restart would
otherwise stop the feed for good.

Delivery: QoS 1 with a persistent session (fixed client id, clean session off), so a broker
*with persistence* keeps messages while the subscriber is away; each message is acknowledged
(PUBACK) only after its observations are committed (paho manual ack). Lost connections are
retried with exponential backoff. A reconnect that finds no session (CONNACK session-present
0: the broker restarted without persistence, or expired the session) is logged as a warning
naming the gap. ``packaging/mosquitto.conf`` is a broker configuration that keeps the promise.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hydrotwin.errors import HydroTwinError, InputDataError
from hydrotwin.live.guards import HourlyQuota, LogLimiter
from hydrotwin.live.observation import Observation
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.timeutil import now_utc

log = logging.getLogger(__name__)

DEFAULT_TOPICS = ("hydrotwin/+/obs",)

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


@dataclass(frozen=True)
class PayloadLimits:
    """Bounds on one MQTT message, checked before and while it is parsed."""

    max_bytes: int = 256 * 1024
    max_depth: int = 3  # an array of flat objects is 2
    max_number_chars: int = 32  # a float64 needs at most 24
    max_items: int = 10_000
    past: timedelta = timedelta(days=366)  # backfill of up to a year is accepted
    future: timedelta = timedelta(hours=1)  # a station clock slightly fast


Rejected = tuple[object, str]  # (the item or payload, why it is not stored)


def _check_shape(text: str, limits: PayloadLimits) -> None:
    """Refuse nesting and number lengths that would crash or stall ``json.loads``."""
    bare = _STRING.sub('""', text)
    depth = 0
    for m in _BRACKET.finditer(bare):
        depth += 1 if m.group() in "[{" else -1
        if depth > limits.max_depth:
            raise InputDataError(
                f"MQTT payload nests deeper than {limits.max_depth} levels at character "
                f"{m.start()}; expected an observation object or an array of them"
            )
    longest = max((len(t) for t in re.findall(r"[-+0-9.eE]+", bare)), default=0)
    if longest > limits.max_number_chars:
        raise InputDataError(
            f"MQTT payload holds a number of {longest} characters; at most "
            f"{limits.max_number_chars} are accepted"
        )


def _load(payload: bytes, limits: PayloadLimits) -> Any:
    if len(payload) > limits.max_bytes:
        raise InputDataError(
            f"MQTT payload is {len(payload)} bytes; at most {limits.max_bytes} are accepted"
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputDataError(
            f"MQTT payload is not UTF-8 ({exc}); starts {payload[:40]!r}"
        ) from None
    _check_shape(text, limits)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise InputDataError(
            f"MQTT payload is not UTF-8 JSON ({exc}); starts {payload[:40]!r}"
        ) from None


def parse_message(
    payload: bytes,
    limits: PayloadLimits | None = None,
    stations: Collection[str] | None = None,
    now: datetime | None = None,
) -> tuple[list[Observation], list[Rejected]]:
    """The valid observations in one payload and each invalid item with its reason.

    InputDataError when the payload as a whole is unusable (too big, too deep, not JSON).
    ``stations`` is the allow-list (None: any station code).
    """
    limits = limits or PayloadLimits()
    data = _load(payload, limits)
    items = data if isinstance(data, list) else [data]
    if len(items) > limits.max_items:
        raise InputDataError(
            f"MQTT payload holds {len(items)} observations; at most {limits.max_items} per message"
        )
    now = now or now_utc()
    lo, hi = now - limits.past, now + limits.future
    good: list[Observation] = []
    bad: list[Rejected] = []
    for item in items:
        try:
            obs = Observation.from_json(item, source="mqtt")
            if stations is not None and obs.station not in stations:
                raise InputDataError(f"station {obs.station} is not in the basin's stations")
            if not lo <= obs.time <= hi:
                raise InputDataError(
                    f"observation {obs.station}/{obs.element}: time {obs.time.isoformat()} is "
                    f"outside {lo:%Y-%m-%dT%H:%M:%SZ} … {hi:%Y-%m-%dT%H:%M:%SZ}"
                )
        except InputDataError as exc:
            bad.append((item, str(exc)))
        else:
            good.append(obs)
    return good, bad


def parse_payload(payload: bytes, limits: PayloadLimits | None = None) -> list[Observation]:
    """Observations in one MQTT payload; InputDataError says what is wrong (all or nothing)."""
    good, bad = parse_message(payload, limits)
    if bad:
        raise InputDataError(bad[0][1])
    return good


class MqttSubscriber:
    """paho-mqtt client that commits observations, then acknowledges them.

    ``stations`` is the allow-list of station codes (a basin's station ids); None accepts any
    code and is warned about at start. ``limits`` bounds every message.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        host: str = "127.0.0.1",
        port: int = 1883,
        topics: Sequence[str] | None = None,
        client_id: str = "hydrotwin-live",
        username: str | None = None,
        password: str | None = None,
        keepalive_s: int = 30,
        min_backoff_s: int = 1,
        max_backoff_s: int = 30,
        status: Callable[[dict[str, Any]], None] | None = None,
        *,
        stations: Collection[str] | None = None,
        limits: PayloadLimits | None = None,
        quarantine_per_topic_per_hour: int = 1000,
    ) -> None:
        self.pipeline = pipeline
        self.host, self.port = host, port
        self.topics = list(topics or DEFAULT_TOPICS)
        self.client_id = client_id
        self.keepalive_s = keepalive_s
        self.stations = frozenset(stations) if stations is not None else None
        self.limits = limits or PayloadLimits()
        self._quota = HourlyQuota(quarantine_per_topic_per_hour)
        self._log_limit = LogLimiter()
        self._status = status
        self.connected = threading.Event()
        self.received = 0
        self.rejected = 0
        self.session_lost = 0
        self._last_contact: datetime | None = None  # connected or last message, for the gap
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,  # persistent session: the broker queues QoS 1 while we are away
            protocol=mqtt.MQTTv311,
            manual_ack=True,  # PUBACK only after the commit
        )
        if username:
            c.username_pw_set(username, password)
        c.reconnect_delay_set(min_delay=min_backoff_s, max_delay=max_backoff_s)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self.client = c

    def _emit(self, **event: Any) -> None:
        if self._status is not None:
            try:
                self._status({"source": "mqtt", **event})
            except Exception:
                log.exception("MQTT status listener failed")

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            log.warning("MQTT connect to %s:%d refused: %s", self.host, self.port, reason)
            return
        client.subscribe([(t, 1) for t in self.topics])
        self.connected.set()
        now = now_utc()
        if not flags.session_present and self._last_contact is not None:
            self.session_lost += 1
            log.warning(
                "MQTT broker %s:%d kept no session for client id %r: messages published "
                "between %s and %s (%.0f s) may be lost; the broker needs persistence on and "
                "must not expire the session (packaging/mosquitto.conf)",
                self.host,
                self.port,
                self.client_id,
                self._last_contact.isoformat(timespec="seconds"),
                now.isoformat(timespec="seconds"),
                (now - self._last_contact).total_seconds(),
            )
        else:
            log.info(
                "MQTT connected to %s:%d (session present: %s)",
                self.host,
                self.port,
                flags.session_present,
            )
        self._last_contact = now
        self._emit(kind="connected", peer=f"{self.host}:{self.port}")

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.connected.clear()
        self._last_contact = now_utc()
        log.warning(
            "MQTT disconnected from %s:%d (%s); reconnecting with backoff",
            self.host,
            self.port,
            reason,
        )
        self._emit(kind="disconnected", peer=f"{self.host}:{self.port}")

    # -- one message: every exception stays here -------------------------------------------------
    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._handle(client, msg)
        except Exception as exc:  # paho would re-raise it and stop the loop for good
            log.exception(
                "MQTT message %d on %s failed; quarantined and acknowledged", msg.mid, msg.topic
            )
            try:
                self._quarantine(msg, [(bytes(msg.payload), f"{type(exc).__name__}: {exc}")])
            finally:
                client.ack(msg.mid, msg.qos)

    def _handle(self, client: mqtt.Client, msg: mqtt.MQTTMessage) -> None:
        payload = bytes(msg.payload)
        self._last_contact = now_utc()
        try:
            obs, bad = parse_message(payload, self.limits, self.stations)
        except InputDataError as exc:
            obs, bad = [], [(payload, str(exc))]
        if obs and not self._commit(obs, msg):
            return  # not acknowledged: the broker offers it again once the store is back
        if bad and not self._quarantine(msg, bad):
            return
        client.ack(msg.mid, msg.qos)
        if obs:
            self.received += len(obs)
            self._emit(
                kind="frame", stations=sorted({o.station for o in obs}), observations=len(obs)
            )

    def _commit(self, obs: list[Observation], msg: mqtt.MQTTMessage) -> bool:
        try:
            self.pipeline.commit(obs)
        except HydroTwinError as exc:
            log.error("MQTT message %d not acknowledged: commit failed: %s", msg.mid, exc)
            return False
        return True

    def _quarantine(self, msg: mqtt.MQTTMessage, bad: list[Rejected]) -> bool:
        """Keep each rejected item with its reason; False if the store refused."""
        self.rejected += len(bad)
        if self._log_limit.allow(msg.topic, time.monotonic()):
            log.warning(
                "MQTT message on %s: %d item(s) rejected, first: %s", msg.topic, len(bad), bad[0][1]
            )
        for item, reason in bad:
            if not self._quota.take(msg.topic, time.monotonic()):
                break
            raw = item if isinstance(item, bytes) else _dump(item)
            try:
                self.pipeline.store.add_quarantine(raw, f"mqtt {msg.topic}: {reason}", "mqtt")
            except HydroTwinError as qexc:
                log.error("cannot quarantine an MQTT payload: %s", qexc)
                return False
        return True

    # -- running -------------------------------------------------------------------------------
    def _warn_open(self) -> None:
        if self.stations is None:
            log.warning(
                "MQTT subscriber accepts observations for ANY station code (no station list): "
                "run with a basin to accept only its stations"
            )

    def start(self) -> None:
        """Connect in the background (paho's network thread); reconnects by itself."""
        self._warn_open()
        self.client.connect_async(self.host, self.port, self.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self, ready: Callable[[], None] | None = None) -> None:
        """Blocking loop for the CLI (Ctrl-C ends it)."""
        self._warn_open()
        self.client.connect_async(self.host, self.port, self.keepalive_s)
        if ready is not None:
            ready()
        self.client.loop_forever(retry_first_connection=True)


def _dump(item: object) -> bytes:
    """A rejected item as JSON bytes for the quarantine (the store keeps at most 8 KiB)."""
    try:
        return json.dumps(item, ensure_ascii=False)[: 64 * 1024].encode()
    except (TypeError, ValueError, RecursionError):
        return repr(item)[: 64 * 1024].encode()
