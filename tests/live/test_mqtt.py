"""MQTT subscriber against a real mosquitto broker on a free loopback port, restarted
mid-stream: with QoS 1 and persistent sessions nothing is lost, nothing is stored twice."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hydrotwin.errors import InputDataError
from hydrotwin.live.mqtt import MqttSubscriber, parse_payload
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.store import open_store

from .helpers import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
T0 = datetime(2026, 7, 1, tzinfo=UTC)


class Broker:
    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.conf = base / "mosquitto.conf"
        (base / "data").mkdir()
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {base / 'data'}/\nautosave_interval 1\n"
            "max_queued_messages 100000\nuser root\n"
        )
        self.log = base / "mosquitto.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start: {self.log.read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # mosquitto saves its persistence db
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def broker(tmp_path):
    if not Path(MOSQUITTO).exists():  # make test installs it (Makefile SYSPKGS)
        pytest.fail(
            f"mosquitto not found at {MOSQUITTO} (install the Debian package 'mosquitto': "
            "make sysdeps)",
            pytrace=False,
        )
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()


def _payload(i: int, station: str = "60000001") -> bytes:
    return json.dumps(
        {
            "station": station,
            "time": (T0 + timedelta(minutes=i)).isoformat(),
            "element": "Z",
            "value": 5.0 + i / 1000,
            "unit": "m",
        }
    ).encode()


def _wait(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_parse_payload_contract():
    obs = parse_payload(_payload(3))
    assert obs[0].station == "60000001" and obs[0].value == pytest.approx(5.003)
    assert obs[0].time == T0 + timedelta(minutes=3)
    two = parse_payload(
        b'[{"station":"A","time":"2026-07-01T08:00:00+08:00","element":"PJ","value":1.5}]'
    )
    assert two[0].time == T0 and two[0].unit == "mm"
    for bad, why in [
        (b"{", "not UTF-8 JSON"),
        (b'{"station":"A"}', "lacks"),
        (b'{"station":"A","time":"x","element":"Z","value":1}', "ISO 8601"),
        (
            b'{"station":"A","time":"2026-07-01T00:00:00Z","element":"Z","value":1,"unit":"cm"}',
            "expected 'm'",
        ),
    ]:
        with pytest.raises(InputDataError, match=why):
            parse_payload(bad)


def test_broker_restart_mid_stream_nothing_lost(broker, tmp_path):
    store = open_store(tmp_path / "obs.db")
    sub = MqttSubscriber(
        Pipeline(store),
        "127.0.0.1",
        broker.port,
        topics=["hydrotwin/+/obs"],
        client_id="ht-test-sub",
        min_backoff_s=1,
        max_backoff_s=2,
    )
    sub.start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ht-test-pub", clean_session=False)
    pub.reconnect_delay_set(1, 2)
    pub.connect_async("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        assert _wait(sub.connected.is_set, 10) and _wait(pub.is_connected, 10)
        n = 300
        for i in range(n):
            if i == 150:
                broker.stop()  # mid-stream: broker goes away …
            if i == 200:
                broker.start()  # … and comes back on the same port
            pub.publish("hydrotwin/tiny/obs", _payload(i), qos=1)
            if i % 50 == 0:
                pub.publish("hydrotwin/tiny/obs", b"not json", qos=1)
            time.sleep(0.002)
        assert _wait(lambda: store.count("HT_OBS_R") >= n, 30), store.count("HT_OBS_R")
        time.sleep(0.3)
        assert store.count("HT_OBS_R") == n  # all stored, none twice
        assert len(store.quarantine()) >= 1 and sub.rejected >= 1
        z = store.series("60000001", "Z")
        assert z[-1][1] == pytest.approx(5.0 + (n - 1) / 1000)
    finally:
        pub.loop_stop()
        sub.stop()
        store.close()


def test_cli_live_mqtt(broker, tmp_path):
    """`hydrotwin live mqtt` as a user runs it: a subprocess subscribing and storing."""
    import sys

    db = tmp_path / "cli.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hydrotwin.app.cli",
            "live",
            "mqtt",
            "--broker",
            f"127.0.0.1:{broker.port}",
            "--store",
            str(db),
            "--client-id",
            "ht-cli-test",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ht-cli-pub")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        assert "connecting to" in proc.stdout.readline()
        # the CLI subscribes with a persistent session; publish until it has seen something
        store = open_store(db)
        deadline = time.monotonic() + 20
        i = 0
        while store.count("HT_OBS_R") < 5 and time.monotonic() < deadline:
            pub.publish("hydrotwin/demo/obs", _payload(i), qos=1)
            i += 1
            time.sleep(0.1)
        assert store.count("HT_OBS_R") >= 5
        store.close()
    finally:
        pub.loop_stop()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
