"""``hydrotwin duty`` (值守: the rolling forecast service) and ``hydrotwin hindcast`` (its skill
over lead time on a historical record). The work is :mod:`hydrotwin.fourpre.duty` and
:mod:`hydrotwin.fourpre.hindcast`.

* ``hydrotwin duty --basin B --store obs.db [--every 1h] [--horizon 72h] [--rain-forecast
  FILE|none] [--state DIR] [--clock wall|data] [--plans FILE] [--once]`` — runs a cycle at every
  ``--every`` step of the clock (``data``: the newest observation in the store, so a replay
  drives it) until Ctrl-C/SIGTERM; state, cycle log and push log in ``--state`` (default
  ``STORE.duty`` beside a SQLite store). Killed and restarted, it resumes from ``state.json``.
* ``hydrotwin hindcast --basin B --record FILE --from T0 --to T1 [--every 6h] [--horizon 48h]``
  — prints NSE, peak and peak-time errors per lead time, with and without correction.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from hydrotwin.errors import HydroTwinError
from hydrotwin.timeutil import parse_iso


def hours(text: str) -> float:
    """``1h``, ``90m``, ``2d`` or a number of hours → hours."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hmd]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a duration such as 1h, 30m or 2d")
    return float(m.group(1)) * {"": 1.0, "h": 1.0, "m": 1 / 60, "d": 24.0}[m.group(2)]


def utc_time(text: str) -> datetime:
    """ISO 8601; a time without an offset is UTC."""
    try:
        return parse_iso(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _leads(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected hours such as 1,3,6") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: lead times must be ≥ 1 h")
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("duty", help="duty mode: rolling corrected forecasts, pushed warnings")
    d.add_argument("--basin", required=True, help="basin id or basin folder / basin.toml")
    d.add_argument("--store", required=True, help="observation store: SQLite file or postgresql://")
    d.add_argument("--every", type=hours, default=1.0, help="cycle interval (default 1h)")
    d.add_argument("--horizon", type=hours, default=72.0, help="forecast length (default 72h)")
    d.add_argument("--rain-forecast", default="none", help="rain CSV (per gauge/sub-basin) or none")
    d.add_argument("--state", help="state folder (default STORE.duty beside a SQLite store)")
    d.add_argument("--clock", choices=["wall", "data"], default="wall",
                   help="wall: real time; data: the newest observation (replays)")  # fmt: skip
    d.add_argument("--plans", help="plan TOML file (default: the basin's plan templates)")
    d.add_argument("--spinup", type=hours, default=720.0,
                   help="cold start: observed period run first (default 720h)")  # fmt: skip
    d.add_argument("--poll", type=float, default=5.0, help="seconds between clock checks")
    d.add_argument("--once", action="store_true", help="run the due cycle (if any) and exit")
    d.set_defaults(func=run_duty)

    h = sub.add_parser("hindcast", help="forecast skill over lead time on a historical record")
    h.add_argument("--basin", required=True, help="basin id or basin folder / basin.toml")
    h.add_argument("--record", required=True, help="hourly CSV: time, prcp, pet, flow")
    h.add_argument("--from", dest="start", type=utc_time, required=True, help="first issue (UTC)")
    h.add_argument("--to", dest="end", type=utc_time, required=True, help="last issue (UTC)")
    h.add_argument("--every", type=hours, default=6.0, help="issue interval (default 6h)")
    h.add_argument("--horizon", type=hours, default=48.0, help="forecast length (default 48h)")
    h.add_argument("--rain-forecast", choices=["observed", "none"], default="observed",
                   help="observed: the recorded rain as a perfect forecast")  # fmt: skip
    h.add_argument("--leads", type=_leads, default=(1, 3, 6, 12, 24, 48),
                   help="lead times, h (default 1,3,6,12,24,48)")  # fmt: skip
    h.add_argument("--workdir", default="hindcast", help="store and state (default ./hindcast)")
    h.add_argument("--json", action="store_true", help="print the scores as JSON")
    h.set_defaults(func=run_hindcast)


def _state_dir(args: argparse.Namespace) -> Path:
    if args.state:
        return Path(args.state)
    if "://" in args.store and not args.store.startswith("sqlite://"):
        raise HydroTwinError(f"--store {args.store}: give --state DIR for a server store")
    return Path(str(args.store).removeprefix("sqlite:///") + ".duty")


def _service(args: argparse.Namespace) -> Any:
    from hydrotwin.app.commands.live import load_basin_stations
    from hydrotwin.fourpre.duty import DutyConfig, DutyService
    from hydrotwin.fourpre.plan import load_plans

    basin = load_basin_stations(args.basin)
    if "://" not in args.store and not Path(args.store).is_file():
        raise HydroTwinError(f"--store {args.store}: not found (duty mode reads an existing store)")
    plans = load_plans(args.plans, basin) if args.plans else None
    rain = None if args.rain_forecast == "none" else args.rain_forecast
    cfg = DutyConfig(
        every_h=args.every, horizon_h=args.horizon, rain_forecast=rain, spinup_h=args.spinup
    )
    svc = DutyService(basin, args.store, _state_dir(args), cfg, plans=plans)
    if args.clock == "data":
        svc.now = svc.data_clock
    return svc


def _print_cycle(res: Any) -> None:
    n_w, n_p = len(res.warnings), len(res.pushes)
    text = f"cycle {res.issue.isoformat()} ok in {res.duration_s:.1f} s: "
    print(text + f"{n_w} forecast warning(s), {n_p} push(es)", flush=True)


def run_duty(args: argparse.Namespace) -> int:
    from hydrotwin.app.commands.live import _stop_on_sigterm

    svc = _service(args)
    svc.events.cycle.connect(_print_cycle)
    svc.events.cycle_failed.connect(
        lambda t, why: print(f"cycle {t} failed: {why}", file=sys.stderr, flush=True)
    )
    try:
        if args.once:
            svc.step()
            return 1 if svc.last_error else 0
        _stop_on_sigterm()
        print(f"duty mode on {svc.basin.id}: every {args.every:g} h, state {svc.dir}", flush=True)
        svc.start(args.poll)
        while svc.running:
            svc.wait(0.5)
    finally:
        svc.stop()
    return 0


def run_hindcast(args: argparse.Namespace) -> int:
    from hydrotwin.app.commands.live import load_basin_stations
    from hydrotwin.fourpre.hindcast import hindcast

    basin = load_basin_stations(args.basin)
    skills = hindcast(
        basin, args.record, args.start, args.end, args.workdir, every_h=args.every,
        horizon_h=args.horizon, rain_forecast=args.rain_forecast, leads_h=args.leads,
    )  # fmt: skip
    if args.json:
        print(json.dumps([{"station": s.station, "leads": s.rows, "peaks": s.peaks}
                          for s in skills]))  # fmt: skip
        return 0
    for s in skills:
        print(f"station {s.station}\n{s.table()}\n")
    return 0
