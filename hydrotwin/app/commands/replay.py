"""``hydrotwin replay``: relive a past flood — a recorded event replayed through the live path
at ×N on the one clock while duty cycles roll the forecast forward in simulated time.

* ``hydrotwin replay --basin B --capture flood.sl651 --store class.db --speed 600``
* ``hydrotwin replay --basin B --from-store archive.db --from T0 --to T1 --store class.db``
* ``hydrotwin replay --scenario drill.toml --store class.db`` — the scenario's basin and its
  ``[replay]`` table (source, speed, forecast settings; docs/scenarios.md)

``--forecast`` runs a duty cycle every ``--every`` of simulated time (state, cycle and push
logs in ``--state``, default ``STORE.duty``). The work is
:class:`hydrotwin.fourpre.historical.HistoricalReplay`; ``hydrotwin live replay`` is the plain
wall-clock replay of an event CSV/NetCDF.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hydrotwin.app.commands.duty import hours, utc_time


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("replay", help="historical replay at ×N with rolling forecasts (training)")
    r.add_argument("--basin", help="basin id or basin folder / basin.toml")
    src = r.add_mutually_exclusive_group(required=True)
    src.add_argument("--scenario", help="scenario TOML with a [replay] table (and its basin)")
    src.add_argument("--capture", help="SL 651 capture file ('<time> <hex>' lines)")
    src.add_argument("--from-store", help="observation store holding the recorded event")
    r.add_argument("--from", dest="start", type=utc_time, help="window start (with --from-store)")
    r.add_argument("--to", dest="end", type=utc_time, help="window end (with --from-store)")
    r.add_argument("--store", required=True, help="store to replay into (SQLite, created)")
    r.add_argument("--speed", type=float, default=600.0, help="×N real time (default 600)")
    r.add_argument("--forecast", action="store_true", help="duty cycles in simulated time")
    r.add_argument("--every", type=hours, default=1.0, help="cycle interval (default 1h)")
    r.add_argument("--horizon", type=hours, default=24.0, help="forecast length (default 24h)")
    r.add_argument("--spinup", type=hours, default=24.0, help="cold-start spin-up (default 24h)")
    r.add_argument("--state", help="duty state folder (default STORE.duty)")
    r.set_defaults(func=run_replay)


def _source(args: argparse.Namespace, session: Any) -> Any:
    from hydrotwin.fourpre.historical import capture_source, store_window_source

    if args.capture:
        return capture_source(session, args.capture)
    if args.start is None or args.end is None:
        raise argparse.ArgumentTypeError("--from-store needs --from and --to")
    return store_window_source(session, args.from_store, args.start, args.end)


def run_replay(args: argparse.Namespace) -> int:
    from hydrotwin.app.commands.live import load_basin_stations
    from hydrotwin.fourpre.duty import DutyConfig
    from hydrotwin.fourpre.historical import HistoricalReplay
    from hydrotwin.fourpre.session import TwinSession

    if not args.speed > 0:
        print(f"hydrotwin replay: error: --speed {args.speed}: expected > 0", file=sys.stderr)
        return 2
    if not args.scenario and not args.basin:
        print("hydrotwin replay: error: --basin is required (or --scenario)", file=sys.stderr)
        return 2
    state = Path(args.state or f"{args.store}.duty")
    if args.scenario:
        return _run(*_scenario_replay(args, state))
    session = TwinSession(load_basin_stations(args.basin))
    try:
        try:
            source = _source(args, session)
        except argparse.ArgumentTypeError as exc:
            session.close()
            print(f"hydrotwin replay: error: {exc}", file=sys.stderr)
            return 2
        session.open_store(args.store)
        cfg = None
        if args.forecast:
            cfg = DutyConfig(every_h=args.every, horizon_h=args.horizon, spinup_h=args.spinup)
        rep = HistoricalReplay(session, source, speed=args.speed, duty=cfg, state_dir=state)
    except BaseException:
        session.close()
        raise
    return _run(session, rep)


def _scenario_replay(args: argparse.Namespace, state: Path) -> tuple[Any, Any]:
    from hydrotwin.fourpre.historical import replay_from_scenario
    from hydrotwin.fourpre.scenario import load_scenario, scenario_basin
    from hydrotwin.fourpre.session import TwinSession

    sc = load_scenario(args.scenario)
    session = TwinSession(scenario_basin(sc, args.scenario))
    try:
        session.open_store(args.store)
        return session, replay_from_scenario(session, sc, args.scenario, state)
    except BaseException:
        session.close()
        raise


def _run(session: Any, rep: Any) -> int:
    from hydrotwin.app.commands.live import _stop_on_sigterm

    try:
        _stop_on_sigterm()
        t0, t1 = rep.start_t, rep.end_t
        print(f"replaying {t0.isoformat()} … {t1.isoformat()} at ×{rep.speed:g}", flush=True)
        report = rep.run()
    finally:
        session.close()
    print(f"delivered {report.delivered} item(s) in {report.wall_s:.1f} s; "
          f"{len(report.cycles)} forecast cycle(s), {len(report.skipped)} skipped")  # fmt: skip
    return 0
