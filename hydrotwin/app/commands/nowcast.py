"""``hydrotwin nowcast``: a 0–3 h radar nowcast (pysteps) written as CF-NetCDF."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "nowcast",
        help="radar nowcast (短临预报): pysteps extrapolation or a STEPS ensemble to NetCDF",
        description="From the latest radar frames of a CF-NetCDF file or GeoTIFF folder: the "
        "motion field by optical flow, then semi-Lagrangian extrapolation (default) or a STEPS "
        "ensemble (--members N), written as precipitation_amount (mm per step).",
    )
    p.add_argument("--radar", required=True, help="radar rain grid: .nc file or GeoTIFF folder")
    p.add_argument("--lead", default="3h", help="lead time, e.g. 3h, 90min (3h)")
    p.add_argument("--members", type=int, default=0, help="STEPS ensemble members (0: none)")
    p.add_argument(
        "--at",
        help="nowcast from the frame ending at this UTC time (ISO 8601); default the last frame",
    )
    p.add_argument("--out", default="nowcast.nc", help="output NetCDF file (nowcast.nc)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hydrotwin.basin.raingrid import read_rain_grid, write_rain_netcdf
    from hydrotwin.fourpre.nowcast import nowcast, parse_lead, up_to

    lead = parse_lead(args.lead)
    grid = up_to(read_rain_grid(args.radar), args.at)
    nc = nowcast(grid, lead, members=args.members)
    out = write_rain_netcdf(nc, args.out, {"title": nc.source})
    print(f"nowcast from {grid.times[-1]}Z, {lead / 3600:g} h, "
          f"{args.members or 'deterministic'} members → {out}")  # fmt: skip
    return 0
