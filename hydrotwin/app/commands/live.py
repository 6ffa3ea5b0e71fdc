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

Every source keeps its store healthy the same way (``hydrotwin.live.maintenance``): the store
is checked when it opens (a missing file is created, a 0-byte or damaged one refused unless
``--new-store``), ``quick_check`` runs every ``--check-every`` s, the WAL is checkpointed every
``--checkpoint-every`` s and on exit, ``--backup-dir`` adds online backups every
``--backup-every`` s (newest ``--backup-keep`` kept), and while the store is damaged frames are
acknowledged only once they are in the spool (``obs.db.spool``, or ``--spool``).
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
        q.add_argument(
            "--new-store",
            action="store_true",
            help="start an empty store over a 0-byte file (otherwise refused as damage)",
        )
        q.add_argument("--spool", help="spool file (default: STORE.spool beside a SQLite store)")
        q.add_argument("--check-every", type=float, default=3600.0, help="quick_check, s (0 off)")
        q.add_argument("--checkpoint-every", type=float, default=60.0, help="WAL checkpoint, s")
        q.add_argument("--backup-dir", help="online backups into this folder")
        q.add_argument("--backup-every", type=float, default=3600.0, help="backup interval, s")
        q.add_argument("--backup-keep", type=int, default=24, help="backups kept (default 24)")

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


def _session(args: argparse.Namespace) -> Any:
    """A twin session with the store open (and the basin's stations and warnings when given):
    the CLI starts its source through the same session the app uses."""
    from hydrotwin.errors import HydroTwinError
    from hydrotwin.fourpre.session import TwinSession
    from hydrotwin.live.guard import GuardOptions

    if args.backup_keep < 1:
        raise HydroTwinError(f"--backup-keep {args.backup_keep}: expected at least 1")
    session = TwinSession()
    name = getattr(args, "basin", None)
    if name:
        basin = load_basin_stations(name)
        session.open_basin(basin)
        log.info("basin %s: %d stations, warnings on", basin.id, len(basin.stations))
    guard = GuardOptions(
        new_store=args.new_store,
        spool=args.spool,
        check_every_s=args.check_every,
        checkpoint_every_s=args.checkpoint_every,
        backup_dir=args.backup_dir,
        backup_every_s=args.backup_every,
        backup_keep=args.backup_keep,
    )
    session.open_store(args.store, guard)
    return session


def _run(session: Any, source: Any, ready: Any = None) -> int:
    """Start ``source``, wait until it ends (a replay), Ctrl-C or SIGTERM, then stop
    everything (the store checkpointed and closed, the lease dropped)."""
    try:
        _stop_on_sigterm()
        session.start_source(source)
        if ready is not None:
            ready(source)
        while source.running:
            source.wait(0.5)
    finally:  # Ctrl-C and SIGTERM pass through here and end the CLI with exit 130
        session.close()
    if getattr(source, "error", None) is not None:
        raise source.error
    return 0


def _stop_on_sigterm() -> None:
    """SIGTERM (systemd, docker stop) ends the service like Ctrl-C: through ``finally``, so
    the store is checkpointed and closed cleanly instead of dying mid-WAL."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


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
    from zoneinfo import ZoneInfo

    from hydrotwin.live import sl651
    from hydrotwin.live.receiver import ReceiverConfig, StationRegistry
    from hydrotwin.live.source import Sl651Source

    host, port = _hostport(args.listen, "--listen")
    if _no_station_list(args):
        return 2
    session = _session(args)
    basin = session.basin
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

    def ready(src: Any) -> None:
        print(f"listening on {src.address[0]}:{src.address[1]}", flush=True)

    return _run(session, Sl651Source(registry, cfg), ready)


def run_mqtt(args: argparse.Namespace) -> int:
    from hydrotwin.live.source import MqttSource

    host, port = _hostport(args.broker, "--broker")
    if _no_station_list(args):
        return 2
    session = _session(args)
    basin = session.basin
    source = MqttSource(
        host,
        port,
        topics=args.topic or None,
        client_id=args.client_id,
        username=args.username,
        password=args.password,
        stations={s.id for s in basin.stations} if basin else None,
    )
    print(f"connecting to {host}:{port}", flush=True)
    return _run(session, source)


def run_replay(args: argparse.Namespace) -> int:
    from hydrotwin.live.replay import load_event
    from hydrotwin.live.source import ReplaySource

    obs = load_event(args.file)
    session = _session(args)
    source = ReplaySource(obs, speed=args.speed, shift_to_now=args.shift_to_now)
    _run(session, source)
    print(f"replayed {len(obs)} observations ({source.new} new) from {args.file}", file=sys.stderr)
    return 0
