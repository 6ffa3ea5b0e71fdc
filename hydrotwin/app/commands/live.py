"""``hydrotwin live sl651|mqtt|replay``: feed live data into the observation store.

* ``hydrotwin live sl651 --listen 127.0.0.1:5005 --store obs.db --basin demo`` — SL 651
  TCP centre (loopback unless told otherwise); only the basin's stations (address and
  password) are accepted and warnings are computed and stored.
* ``hydrotwin live mqtt --broker 127.0.0.1:1883 --topic 'hydrotwin/+/obs' --store obs.db
  --basin demo`` — MQTT subscriber (QoS 1, persistent session) for the JSON payload documented
  in ``hydrotwin.live.mqtt``; only the basin's station codes are stored.

Without ``--basin`` there is no station list: SL 651 and MQTT then refuse to start (exit 2)
unless ``--allow-any-station`` says that accepting every station is meant; it is logged as a
warning.
* ``hydrotwin live replay event.csv --speed 60 --store obs.db`` — a recorded event (CSV or
  NetCDF) played at N× into the same pipeline.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

log = logging.getLogger("hydrotwin.live")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="receive live monitoring data (SL 651, MQTT, replay)")
    ss = p.add_subparsers(dest="live_command", metavar="SOURCE", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--store", required=True, help="SQLite file (created) or postgresql://… URL")
        q.add_argument(
            "--basin",
            default=argparse.SUPPRESS,
            help="basin id or basin.toml: its stations, thresholds and warnings",
        )

    def stations(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--allow-any-station",
            action="store_true",
            help="without --basin: accept every station (logged as a warning); for test benches",
        )

    s = ss.add_parser("sl651", help="SL 651 TCP centre")
    s.add_argument("--listen", default="127.0.0.1:5005", help="HOST:PORT (default 127.0.0.1:5005)")
    s.add_argument("--idle-timeout", type=float, default=300.0, help="seconds (default 300)")
    s.add_argument("--max-connections", type=int, default=256)
    s.add_argument("--max-per-host", type=int, default=64, help="connections from one address")
    s.add_argument(
        "--reply",
        choices=["eot", "esc"],
        default="eot",
        help="confirmation end character: EOT (done) or ESC (stay online)",
    )
    common(s)
    stations(s)
    s.set_defaults(func=run_sl651)

    m = ss.add_parser("mqtt", help="MQTT subscriber (JSON observations)")
    m.add_argument("--broker", default="127.0.0.1:1883", help="HOST:PORT")
    m.add_argument(
        "--topic", action="append", help="topic filter (repeatable; default hydrotwin/+/obs)"
    )
    m.add_argument("--client-id", default="hydrotwin-live", help="fixed id = persistent session")
    m.add_argument("--username")
    m.add_argument("--password")
    common(m)
    stations(m)
    m.set_defaults(func=run_mqtt)

    r = ss.add_parser("replay", help="replay a recorded event (CSV or NetCDF)")
    r.add_argument("file", help="event file: .csv (station,time,element,value,unit) or .nc")
    r.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="N x real time (default 60); 0 = as fast as possible",
    )
    r.add_argument("--shift-to-now", action="store_true", help="move the event so it starts now")
    common(r)
    r.set_defaults(func=run_replay)


def _hostport(text: str, what: str) -> tuple[str, int]:
    from hydrotwin.errors import HydroTwinError

    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise HydroTwinError(f"{what} {text!r}: expected HOST:PORT such as 127.0.0.1:5005")
    return host.strip("[]") or "127.0.0.1", int(port)


def load_basin_stations(name: str) -> Any:
    """A basin's manifest (stations, thresholds) without running its data-preparation hook."""
    from pathlib import Path

    from hydrotwin.basin import discover, load_manifest
    from hydrotwin.errors import ManifestError

    p = Path(name)
    if p.suffix == ".toml" or p.is_dir() or "/" in name:
        return load_manifest(p)
    for e in discover():
        if e.name == name:
            if e.basin is None:
                raise ManifestError(str(e.manifest), "", e.error or "broken")
            return e.basin
    raise ManifestError(name, "", "no basin with this id (see `hydrotwin basins`)")


def _setup(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Store, pipeline (with warnings when a basin is given) and the basin (or None)."""
    from hydrotwin.live.pipeline import Pipeline
    from hydrotwin.live.store import open_store

    store = open_store(args.store)
    pipeline = Pipeline(store)
    basin = None
    name = getattr(args, "basin", None)
    if name:
        from hydrotwin.fourpre.warning import WarningEngine

        basin = load_basin_stations(name)
        store.sync_basin(basin)
        engine = WarningEngine.from_basin(basin, store=store)
        pipeline.add_listener(engine)
        log.info("basin %s: %d stations, warnings on", basin.id, len(basin.stations))
    return store, pipeline, basin


def _no_station_list(args: argparse.Namespace) -> bool:
    """True (after saying so on stderr) when neither a basin nor running open was chosen."""
    if getattr(args, "basin", None) or args.allow_any_station:
        return False
    print(
        f"hydrotwin live {args.live_command}: error: no station list: give --basin (the "
        "stations to accept) or --allow-any-station (accept every station, deliberately)",
        file=sys.stderr,
    )
    return True


def run_sl651(args: argparse.Namespace) -> int:
    import asyncio
    from zoneinfo import ZoneInfo

    from hydrotwin.live import sl651
    from hydrotwin.live.receiver import ReceiverConfig, StationRegistry, serve

    host, port = _hostport(args.listen, "--listen")
    if _no_station_list(args):
        return 2
    store, pipeline, basin = _setup(args)
    registry = StationRegistry.from_basin(basin) if basin else StationRegistry(None)
    cfg = ReceiverConfig(
        host=host,
        port=port,
        idle_timeout_s=args.idle_timeout,
        max_connections=args.max_connections,
        max_connections_per_host=args.max_per_host,
        reply_end=sl651.EOT if args.reply == "eot" else sl651.ESC,
        tz=ZoneInfo(basin.basin.timezone) if basin else sl651.DEFAULT_TZ,
    )

    def ready(addr: tuple[str, int]) -> None:
        print(f"listening on {addr[0]}:{addr[1]}", flush=True)

    try:
        asyncio.run(serve(pipeline, registry, cfg, ready))
    finally:
        store.close()
    return 0


def run_mqtt(args: argparse.Namespace) -> int:
    from hydrotwin.live.mqtt import MqttSubscriber

    host, port = _hostport(args.broker, "--broker")
    if _no_station_list(args):
        return 2
    store, pipeline, basin = _setup(args)
    sub = MqttSubscriber(
        pipeline,
        host,
        port,
        topics=args.topic or None,
        client_id=args.client_id,
        username=args.username,
        password=args.password,
        stations={s.id for s in basin.stations} if basin else None,
    )
    try:
        sub.run_forever(ready=lambda: print(f"connecting to {host}:{port}", flush=True))
    finally:
        store.close()
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from hydrotwin.live.replay import load_event, replay

    store, pipeline, _ = _setup(args)
    try:
        obs = load_event(args.file)
        n = replay(obs, pipeline, speed=args.speed, shift_to_now=args.shift_to_now)
    finally:
        store.close()
    print(f"replayed {len(obs)} observations ({n} new) from {args.file}", file=sys.stderr)
    return 0
