"""MQTT subscriber against a real mosquitto broker (the shipped packaging/mosquitto.conf) on a
free loopback port, restarted mid-stream: with QoS 1 and persistent sessions nothing is lost,
nothing is stored twice; poison messages are quarantined, acknowledged and never stop it."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hydrotwin.errors import InputDataError
from hydrotwin.live.mqtt import MqttSubscriber, parse_message, parse_payload
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.store import open_store

from .helpers import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
SHIPPED_CONF = Path(__file__).resolve().parents[2] / "packaging" / "mosquitto.conf"
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)


class Broker:
    """mosquitto with the shipped configuration; only port, folder and user are the test's."""

    def __init__(self, base: Path, persistence: bool = True) -> None:
        self.port = free_port()
        self.conf = base / "mosquitto.conf"
        (base / "data").mkdir(exist_ok=True)
        text = SHIPPED_CONF.read_text()
        text = text.replace("listener 1883 127.0.0.1", f"listener {self.port} 127.0.0.1")
        text = text.replace(
            "persistence_location .mosquitto/", f"persistence_location {base}/data/"
        )
        if not persistence:  # mosquitto's default: what the README warns about
            text = text.replace("persistence true", "persistence false")
        self.conf.write_text(text + ("user root\n" if os.geteuid() == 0 else ""))
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


def _need_mosquitto() -> None:
    if not Path(MOSQUITTO).exists():  # make test installs it (Makefile SYSPKGS)
        pytest.fail(
            f"mosquitto not found at {MOSQUITTO} (install the Debian package 'mosquitto': "
            "make sysdeps)",
            pytrace=False,
        )


@pytest.fixture
def broker(tmp_path):
    _need_mosquitto()
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
    local = T0.astimezone(timezone(timedelta(hours=8))).isoformat()
    two = parse_payload(f'[{{"station":"A","time":"{local}","element":"PJ","value":1.5}}]'.encode())
    assert two[0].time == T0 and two[0].unit == "mm"
    for bad, why in [
        (b"{", "not UTF-8 JSON"),
        (b'{"station":"A"}', "lacks"),
        (b'{"station":"A","time":"x","element":"Z","value":1}', "ISO 8601"),
        (
            f'{{"station":"A","time":"{T0.isoformat()}","element":"Z","value":1,"unit":"cm"}}'.encode(),
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


def test_cli_live_mqtt_needs_a_station_list(tmp_path):
    import sys

    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "hydrotwin.app.cli",
            "live",
            "mqtt",
            "--store",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and "--allow-any-station" in res.stderr
    assert not (tmp_path / "x.db").exists()


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
            "--allow-any-station",
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
        for p in POISON.values():  # each of these once ended the CLI
            pub.publish("hydrotwin/demo/obs", p, qos=1)
        while store.count("HT_OBS_R") < 5 and time.monotonic() < deadline:
            pub.publish("hydrotwin/demo/obs", _payload(i), qos=1)
            i += 1
            time.sleep(0.1)
        assert store.count("HT_OBS_R") >= 5 and proc.poll() is None
        store.close()
    finally:
        pub.loop_stop()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -- messages that must not kill the subscriber (issue 21 item 3) ---------------------------------
def _obs_json(value="5.0", time_=None, station="60000001", element="Z") -> bytes:
    t = time_ or T0.isoformat()
    return (
        f'{{"station":"{station}","time":"{t}","element":"{element}","value":{value},"unit":"m"}}'
    ).encode()


POISON = {
    "400-digit value": _obs_json("9" * 400),
    "5000-digit value": _obs_json("9" * 5000),
    "year 1 with an offset": _obs_json(time_="0001-01-01T00:00:00+08:00"),
    "100,000 brackets": b"[" * 100_000,
}


@pytest.mark.parametrize("name", list(POISON))
def test_poison_payload_is_refused_with_a_reason(name):
    with pytest.raises(InputDataError) as err:
        parse_payload(POISON[name])
    assert str(err.value)  # a reason, not an OverflowError / RecursionError / ValueError


def test_fields_are_bounded_and_arrays_split():
    now = T0 + timedelta(days=2)
    items = [
        json.loads(_obs_json("5.5")),
        json.loads(_obs_json(station="HACKER01")),
        json.loads(_obs_json(element="XX")),
        json.loads(_obs_json(time_=(now + timedelta(days=3)).isoformat())),
        json.loads(_obs_json(time_="2001-01-01T00:00:00Z")),
        json.loads(_obs_json(station="6" * 100)),
    ]
    good, bad = parse_message(json.dumps(items).encode(), stations={"60000001"}, now=now)
    assert [o.value for o in good] == [5.5]
    reasons = [r for _, r in bad]
    assert len(reasons) == 5
    assert "HACKER01 is not in the basin's stations" in reasons[0]
    assert "'XX' is not a known SL 651 identifier" in reasons[1]
    assert "outside" in reasons[2] and "outside" in reasons[3]
    assert "is not a station code" in reasons[4] and "(102 characters)" in reasons[4]
    with pytest.raises(InputDataError, match="at most 262144"):
        parse_message(b'{"station":"' + b"6" * 300_000 + b'"}')


def _subscriber(store, port, client_id="ht-test-sub", **kw) -> MqttSubscriber:
    sub = MqttSubscriber(
        Pipeline(store),
        "127.0.0.1",
        port,
        topics=["hydrotwin/+/obs"],
        client_id=client_id,
        min_backoff_s=1,
        max_backoff_s=2,
        **kw,
    )
    sub.start()
    assert _wait(sub.connected.is_set, 10)
    return sub


def _publisher(port) -> mqtt.Client:
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ht-test-pub")
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    return pub


def test_poison_messages_quarantined_acked_not_redelivered(broker, tmp_path):
    """Each poison message once, between valid ones; then a restart of the subscriber."""
    store = open_store(tmp_path / "obs.db")
    sub = _subscriber(store, broker.port, stations={"60000001"})
    pub = _publisher(broker.port)
    try:
        big_station = _obs_json(station="6" * (50 * 1024 * 1024))
        poison = [*POISON.values(), _obs_json(station="HACKER01"), big_station]
        for i, p in enumerate(poison):
            pub.publish("hydrotwin/tiny/obs", _payload(i), qos=1).wait_for_publish(10)
            pub.publish("hydrotwin/tiny/obs", p, qos=1).wait_for_publish(30)
        mixed = json.dumps([json.loads(_payload(50)), {"station": "60000001", "value": 1}])
        pub.publish("hydrotwin/tiny/obs", mixed.encode(), qos=1).wait_for_publish(10)
        assert _wait(lambda: store.count("HT_OBS_R") == len(poison) + 1, 30)
        assert _wait(lambda: store.count("HT_QUARANTINE") == len(poison) + 1, 10)
        assert sub.connected.is_set() and sub.rejected == len(poison) + 1
        reasons = [q["reason"] for q in store.quarantine()]
        assert any("HACKER01 is not in the basin's stations" in r for r in reasons)
        assert any("nests deeper than 3" in r for r in reasons)
        assert any("lacks ['time', 'element']" in r for r in reasons)
        assert (tmp_path / "obs.db").stat().st_size < 5 * 1024 * 1024  # not 250 MB
        sub.stop()
        # a restart with the same session: nothing is redelivered, the feed goes on
        sub = _subscriber(store, broker.port, stations={"60000001"})
        pub.publish("hydrotwin/tiny/obs", _payload(99), qos=1).wait_for_publish(10)
        assert _wait(lambda: store.count("HT_OBS_R") == len(poison) + 2, 10)
        time.sleep(0.5)
        assert store.count("HT_QUARANTINE") == len(poison) + 1 and sub.rejected == 0
    finally:
        pub.loop_stop()
        sub.stop()
        store.close()


def test_reconnect_without_session_is_warned_with_the_gap(tmp_path, caplog):
    """mosquitto's default (persistence false) forgets the session over a restart: say so."""
    _need_mosquitto()
    b = Broker(tmp_path, persistence=False)
    b.start()
    store = open_store(tmp_path / "obs.db")
    caplog.set_level(logging.WARNING, logger="hydrotwin.live.mqtt")
    sub = _subscriber(store, b.port)
    try:
        b.stop()
        assert _wait(lambda: not sub.connected.is_set(), 10)
        b.start()
        assert _wait(sub.connected.is_set, 15)
        assert sub.session_lost == 1
        lines = [r.getMessage() for r in caplog.records if "kept no session" in r.getMessage()]
        assert len(lines) == 1 and "'ht-test-sub'" in lines[0] and " s) may be lost" in lines[0]
    finally:
        sub.stop()
        b.stop()
        store.close()
