"""``hydrotwin rehearse``: play a forecast flood on the basin DEM (2D) and write the results.

The forecast runs first (``--rain``, ``--hours``); its reservoir outflows and river flows
enter the grid at the points the manifest names. ``--inflow-csv`` (time_h, one column per
reservoir or rehearsal-inflow id) or ``--constant-outflow`` replace the forecast. Results:
``rehearsal.nc`` (CF-1.8 frames + maxima, the DEM's CRS), ``max_depth.tif`` and
``arrival_time.tif`` in ``--out``; with ``--video FILE.mp4`` also the rehearsal as a video (the
same as ``hydrotwin video`` afterwards, station colours from the forecast's levels when there
is one).

With a scenario file (``hydrotwin rehearse scenario.toml --out DIR``) everything comes from the
file (docs/scenarios.md): each plan forecast and rehearsed, ``comparison.json`` and
``comparison.html`` in DIR, ``--report plan.pdf`` the 预案 document, ``--video out.mp4`` the
chosen plan's rehearsal as video (the video module, when this build has it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rehearse",
        help="2D flood rehearsal of a forecast on the basin DEM (NetCDF + GeoTIFF)",
        description="Forecast (or given inflows) → 2D inundation on the DEM with the "
        "local-inertial or Godunov scheme → CF-1.8 NetCDF frames and maxima, max depth and "
        "arrival time GeoTIFFs.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        help="scenario TOML file (then --basin and the storm options come from it)",
    )
    p.add_argument("--basin", help="basin id or path to basin.toml / its folder")
    p.add_argument("--report", metavar="PDF", help="with a scenario: write the 预案 PDF")
    p.add_argument("--hours", type=float, default=12.0, help="rehearsal length, hours (12)")
    p.add_argument(
        "--rain", default="design:100yr", help="forecast rain, as for 'hydrotwin forecast'"
    )
    p.add_argument("--start", help="forecast start, ISO 8601 (default now, whole hour, UTC)")
    p.add_argument("--breach", help="id of a breach in the manifest's rehearsal.breaches")
    p.add_argument(
        "--breach-at",
        type=float,
        metavar="H",
        help="open the breach H hours after the start (default: the manifest's time_h)",
    )
    p.add_argument(
        "--scheme",
        choices=["inertial", "godunov"],
        help="2D scheme (default: the manifest's; a breach defaults to godunov)",
    )
    p.add_argument("--every", type=float, default=600.0, help="seconds between frames (600)")
    p.add_argument(
        "--rain-2d",
        metavar="GRID",
        help="also rain this radar/nowcast grid (.nc or GeoTIFF folder) directly on the 2D grid "
        "(regridded conservatively; opt-in: the forecast's runoff already carries basin rain)",
    )
    p.add_argument("--out", help="output folder (./rehearsal)")
    p.add_argument("--threads", type=int, help="solver threads (default: all cores)")
    p.add_argument(
        "--inflow-csv",
        help="CSV of discharges instead of the forecast: time_h, then one column (m³/s) per "
        "reservoir id or rehearsal inflow id",
    )
    p.add_argument(
        "--constant-outflow",
        type=float,
        metavar="Q",
        help="instead of the forecast: every reservoir releases Q m³/s and every rehearsal "
        "inflow brings Q m³/s",
    )
    p.add_argument(
        "--video",
        metavar="FILE.mp4",
        help="also write the rehearsal (with a scenario: the chosen plan's) as an MP4 video",
    )
    from hydrotwin.app.commands.video import add_video_options

    add_video_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.scenario:
        return run_scenario_file(args)
    if not args.basin:
        print("hydrotwin rehearse: error: give a scenario file or --basin", file=sys.stderr)
        return 2
    import numpy as np

    from hydrotwin.app.commands.forecast import parse_start
    from hydrotwin.basin import find_basin
    from hydrotwin.errors import InputDataError
    from hydrotwin.fourpre.rehearsal import read_inflow_csv, rehearse

    if not args.hours > 0:
        raise InputDataError(f"--hours {args.hours}: expected > 0")
    if args.inflow_csv and args.constant_outflow is not None:
        raise InputDataError("give --inflow-csv or --constant-outflow, not both")
    if args.video:  # refuse a bad video path before the solver runs, not after
        from pathlib import Path

        from hydrotwin.app.video import check_video_args

        check_video_args(Path(args.video), args.fps, args.speedup, args.size)
    basin = find_basin(args.basin)
    start = parse_start(args.start)
    forecast = None
    inflows = None
    if args.inflow_csv:
        inflows = read_inflow_csv(args.inflow_csv)
    elif args.constant_outflow is not None:
        q = float(args.constant_outflow)
        if not q >= 0:
            raise InputDataError(f"--constant-outflow {q}: expected ≥ 0")
        t = np.array([0.0, args.hours * 3600.0])
        inflows = {
            f"reservoir:{r.id}": (t, np.array([q, q]))
            for r in basin.reservoirs
            if r.outflow_x is not None
        }
        inflows.update({f"inflow:{f.id}": (t, np.array([q, q])) for f in basin.rehearsal.inflows})
    else:
        from hydrotwin.fourpre.forecast import run_forecast

        print(f"forecast {basin.id}: {args.rain}, {args.hours:g} h …")
        forecast = run_forecast(basin, rain=args.rain, hours=args.hours, start=start)

    last = [-1.0]

    def progress(t_s: float, until_s: float) -> None:
        pct = 100.0 * t_s / until_s
        if pct - last[0] >= 10.0 or t_s >= until_s:
            last[0] = pct
            print(f"  t = {t_s / 3600.0:6.2f} h ({pct:3.0f} %)", flush=True)

    res = rehearse(
        basin,
        forecast,
        hours=args.hours,
        inflows=inflows,
        start_utc=start,
        breach=args.breach,
        breach_time_h=args.breach_at,
        scheme=args.scheme,
        every_s=args.every,
        out_dir=args.out or "rehearsal",
        threads=args.threads,
        progress=progress,
        rain_grid=args.rain_2d,
    )
    print(
        f"rehearsal {basin.id} ({res.scheme}): {res.hours:g} h in {res.steps} steps, "
        f"solver {res.solver_s:.1f} s; max depth {res.max_depth_m:.2f} m, flooded "
        f"{res.flooded_km2:.3f} km² (> 0.1 m); volume error {res.volume_error_rel:.1e}"
    )
    for path in (res.netcdf, res.max_depth_tif, res.arrival_tif):
        print(f"  → {path}")
    if args.video:
        from hydrotwin.app.commands.video import make_video
        from hydrotwin.scenes.movie import forecast_station_levels

        has_levels = forecast is not None and "station_level" in forecast
        levels = forecast_station_levels(forecast) if has_levels else None
        make_video(basin, res.netcdf, args.video, args, levels=levels)
    return 0


def run_scenario_file(args: argparse.Namespace) -> int:
    """``hydrotwin rehearse scenario.toml --out DIR [--report PDF] [--video MP4]``."""
    from hydrotwin.app.commands.plan import progress_printer
    from hydrotwin.app.plan_pdf import check_pdf_path
    from hydrotwin.app.scenario_export import export_scenario
    from hydrotwin.app.video import check_video_args
    from hydrotwin.fourpre.scenario import check_scenario, load_scenario, run_scenario

    sc = load_scenario(args.scenario)
    check_scenario(sc, args.scenario)  # every input error before hours of solver work
    if args.report:
        check_pdf_path(args.report)
    if args.video:
        check_video_args(Path(args.video), args.fps, args.speedup, args.size)
    out = args.out or "rehearsal"
    print(f"scenario {sc.title}: {len(sc.plans) + len(sc.plan)} plan(s), {sc.horizon_h:g} h …")
    comp = run_scenario(sc, args.scenario, out, progress=progress_printer())
    for r in comp.results:
        m = ", ".join(f"{x.reservoir} peak {x.peak_level_m:.2f} m" for x in r.reservoirs)
        fl = r.flood
        flood = (
            "" if fl is None else f"; flooded {fl.flooded_km2:.3f} km², max {fl.max_depth_m:.2f} m"
        )
        print(f"  {r.plan.id}: {m}{flood}")
    lang = args.video_lang or sc.report.lang  # one --lang for every document of the run
    for path in export_scenario(sc, comp, out, report=args.report, video=args.video, lang=lang):
        print(f"  → {path}")
    return 0
