"""MQTT subscriber: JSON observations from an IoT platform into the same pipeline.

Payload (UTF-8 JSON), one observation or an array of them::

    {"station": "60000001", "time": "2026-07-01T08:00:00+08:00",
     "element": "Z", "value": 10.25, "unit": "m"}

``station`` is the SL 323 station code, ``time`` ISO 8601 with an offset (``Z`` for UTC),
``element`` an SL 651 identifier (``Z``, ``ZU``, ``PJ``, ``Q`` … see
``hydrotwin.live.observation.ELEMENT_UNITS``), ``unit`` optional but checked when given.
Default topic filter ``hydrotwin/+/obs`` (``hydrotwin/<basin>/obs``); no national MQTT topic
standard exists (standards.md §6).

Delivery: QoS 1 with a persistent session (fixed client id, clean session off), so the broker
keeps messages while the subscriber is away; each message is acknowledged (PUBACK) only after
its observations are committed (paho manual ack). Lost connections are retried with
exponential backoff. A payload that can never be valid is quarantined with the reason and
acknowledged (redelivering it would not help).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hydrotwin.errors import HydroTwinError, InputDataError
from hydrotwin.live.observation import Observation
from hydrotwin.live.pipeline import Pipeline

log = logging.getLogger(__name__)

DEFAULT_TOPICS = ("hydrotwin/+/obs",)


def parse_payload(payload: bytes) -> list[Observation]:
    """Observations in one MQTT payload; InputDataError says what is wrong."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputDataError(
            f"MQTT payload is not UTF-8 JSON ({exc}); starts {payload[:40]!r}"
        ) from None
    items = data if isinstance(data, list) else [data]
    return [Observation.from_json(d, source="mqtt") for d in items]


class MqttSubscriber:
    """paho-mqtt client that commits observations, then acknowledges them."""

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
    ) -> None:
        self.pipeline = pipeline
        self.host, self.port = host, port
        self.topics = list(topics or DEFAULT_TOPICS)
        self.keepalive_s = keepalive_s
        self._status = status
        self.connected = threading.Event()
        self.received = 0
        self.rejected = 0
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
        log.info(
            "MQTT connected to %s:%d (session present: %s)",
            self.host,
            self.port,
            flags.session_present,
        )
        self._emit(kind="connected", peer=f"{self.host}:{self.port}")

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.connected.clear()
        log.warning(
            "MQTT disconnected from %s:%d (%s); reconnecting with backoff",
            self.host,
            self.port,
            reason,
        )
        self._emit(kind="disconnected", peer=f"{self.host}:{self.port}")

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            obs = parse_payload(bytes(msg.payload))
        except InputDataError as exc:
            self.rejected += 1
            log.warning("MQTT message on %s rejected: %s", msg.topic, exc)
            try:
                self.pipeline.store.add_quarantine(
                    bytes(msg.payload), f"mqtt {msg.topic}: {exc}", "mqtt"
                )
            except HydroTwinError as qexc:
                log.error("cannot quarantine an MQTT payload: %s", qexc)
                return  # not acknowledged: the broker will offer it again
            client.ack(msg.mid, msg.qos)
            return
        try:
            self.pipeline.commit(obs)
        except HydroTwinError as exc:
            log.error("MQTT message %d not acknowledged: commit failed: %s", msg.mid, exc)
            return
        self.received += len(obs)
        client.ack(msg.mid, msg.qos)
        stations = sorted({o.station for o in obs})
        self._emit(kind="frame", stations=stations, observations=len(obs))

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background (paho's network thread); reconnects by itself."""
        self.client.connect_async(self.host, self.port, self.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self, ready: Callable[[], None] | None = None) -> None:
        """Blocking loop for the CLI (Ctrl-C ends it)."""
        self.client.connect_async(self.host, self.port, self.keepalive_s)
        if ready is not None:
            ready()
        self.client.loop_forever(retry_first_connection=True)
