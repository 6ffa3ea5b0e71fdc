"""``hydrotwin forecast``: run a forecast for a basin and write it as CF-1.8 NetCDF."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "forecast",
        help="forecast flows and levels for a basin (Xinanjiang + routing) to NetCDF",
        description="Rain (a design storm of the basin, or a CSV of hourly rain per gauge or "
        "per sub-basin) → Xinanjiang runoff → Muskingum routing with reservoirs and sluice "
        "gates → a CF-1.8 NetCDF file of discharge, levels and gate openings.",
    )
    add_storm_args(p)
    p.add_argument("--out", default="forecast.nc", help="output NetCDF file (forecast.nc)")
    p.add_argument(
        "--warm-start",
        metavar="NC",
        help="continue from the end of a previous forecast/hindcast file written by this "
        "command (sub-basin states, river flows, reservoir levels); --start should be its end",
    )
    p.set_defaults(func=run)


def add_storm_args(p: argparse.ArgumentParser) -> None:
    """The basin, storm and time arguments a forecast takes (``forecast``, ``plan compare``)."""
    p.add_argument("--basin", required=True, help="basin id or path to basin.toml / its folder")
    p.add_argument(
        "--rain",
        default="design:100yr",
        help="'design:<return period>yr' or 'design:<storm id>', or a CSV file "
        "(time, then one column per gauge or per sub-basin; default design:100yr)",
    )
    p.add_argument("--hours", type=float, default=72.0, help="forecast length, hours (72)")
    p.add_argument("--dt-h", type=float, default=1.0, help="time step, hours (1)")
    p.add_argument(
        "--start",
        help="start time, ISO 8601 with offset or Z (naive = UTC); default now, rounded down "
        "to the hour",
    )


def parse_start(text: str | None):
    """``--start`` as an aware UTC datetime (naive = UTC); the whole hour now when absent."""
    from zoneinfo import ZoneInfo

    from hydrotwin.fourpre.forecast import default_start
    from hydrotwin.fourpre.rain import parse_time

    if text is None:
        return default_start()
    return parse_time(text, ZoneInfo("UTC"), "--start")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from hydrotwin.basin import find_basin
    from hydrotwin.fourpre.forecast import run_forecast, write_netcdf

    basin = find_basin(args.basin)
    warm: dict = {}
    if args.warm_start:
        import xarray as xr

        from hydrotwin.errors import InputDataError
        from hydrotwin.fourpre.forecast import end_states

        try:
            with xr.open_dataset(args.warm_start) as prev:
                warm = end_states(prev)
        except (OSError, ValueError) as exc:
            raise InputDataError(
                f"--warm-start {args.warm_start}: cannot read it ({exc})"
            ) from None
    ds = run_forecast(
        basin,
        rain=args.rain,
        hours=args.hours,
        start=parse_start(args.start),
        dt_h=args.dt_h,
        **warm,
    )
    out = write_netcdf(ds, args.out)
    print(f"forecast {basin.id}: {ds.attrs['rain_source']}, {args.hours:g} h from "
          f"{ds.attrs['forecast_start_utc']} → {out}")  # fmt: skip
    outlets = [r.id for r in basin.rivers.reaches if r.downstream is None]
    for rid in outlets:
        q = ds.reach_discharge.sel(reach=rid).values
        k = int(np.nanargmax(q))
        print(f"  outlet reach {rid}: peak {q[k]:.1f} m³/s at {str(ds.time.values[k])[:16]} UTC")
    for rid in ds.reservoir.values:
        z = ds.reservoir_level.sel(reservoir=rid).values
        q = ds.reservoir_outflow.sel(reservoir=rid).values
        print(f"  reservoir {rid}: level {z[0]:.2f} → max {np.nanmax(z):.2f} m, "
              f"max outflow {np.nanmax(q):.1f} m³/s")  # fmt: skip
    return 0
