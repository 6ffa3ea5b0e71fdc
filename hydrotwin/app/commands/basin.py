"""``hydrotwin basin new``: build a basin plugin folder from a DEM and an outlet."""

from __future__ import annotations

import argparse
from pathlib import Path


def _xy(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected X,Y (two numbers)") from None
    return x, y


def _epsg(text: str) -> str:
    code = text.upper().removeprefix("EPSG:")
    if not code.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected an EPSG code such as 4547")
    return f"EPSG:{code}"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("basin", help="build basins (basin new)")
    bsub = p.add_subparsers(dest="basin_command", metavar="ACTION", required=True)
    n = bsub.add_parser(
        "new",
        help="build a basin plugin folder (basin.toml + data) from a DEM and an outlet",
        description="DEM → conditioned D8 flow directions (pyflwdir) → river network, "
        "sub-basins, Muskingum and default Xinanjiang parameters, stations and reservoirs → "
        "a basin plugin folder that `hydrotwin basins`, forecast and rehearse accept.",
    )
    n.add_argument("id", help="basin id (letters, digits, _ . -)")
    n.add_argument("--dem", required=True, type=Path, help="DEM raster (any GDAL format)")
    n.add_argument(
        "--outlet",
        required=True,
        type=_xy,
        metavar="X,Y",
        help="outlet point (write --outlet=X,Y when X is negative)",
    )
    n.add_argument("--outlet-crs", type=_epsg, help="CRS of --outlet and station CSVs (DEM's)")
    n.add_argument(
        "--crs",
        type=_epsg,
        help="metric CRS of the basin (default: the DEM's, or "
        "the CGCS2000 Gauss–Krüger / UTM zone of the outlet for a geographic DEM)",
    )
    n.add_argument(
        "--stream-km2",
        type=float,
        help="upstream area where a river starts, km² (default: basin area / 300, at least 1)",
    )
    n.add_argument("--snap-m", type=float, default=500.0, help="outlet snap radius, m (500)")
    n.add_argument(
        "--d8",
        type=Path,
        help="D8 flow-direction raster (ESRI codes) to use instead of the DEM's own",
    )
    n.add_argument("--stations", type=Path, help="stations CSV/GeoPackage (see docs)")
    n.add_argument("--reservoirs", type=Path, help="reservoirs CSV (see docs)")
    n.add_argument("--ifc", type=Path, action="append", default=[], help="IFC model (repeat)")
    n.add_argument("--exposure", type=Path, help="buildings/towns vector file (name, population)")
    n.add_argument("--name-zh", help="Chinese name")
    n.add_argument("--name-en", help="English name")
    n.add_argument("--timezone", default="Asia/Shanghai", help="IANA time zone (Asia/Shanghai)")
    n.add_argument("--vertical-datum", default="1985国家高程基准", help="the DEM's height datum")
    n.add_argument("--out", required=True, type=Path, help="new folder to write")
    n.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hydrotwin.basin.builder import BuildSpec, build_basin

    for name in ("stream_km2", "snap_m"):
        v = getattr(args, name)
        if v is not None and not v > 0:
            from hydrotwin.errors import InputDataError

            raise InputDataError(f"--{name.replace('_', '-')} {v}: expected > 0")
    spec = BuildSpec(
        basin_id=args.id, dem=args.dem, outlet=args.outlet, out=args.out,
        outlet_crs=args.outlet_crs, crs=args.crs, stream_km2=args.stream_km2,
        snap_m=args.snap_m, d8=args.d8, stations=args.stations, reservoirs=args.reservoirs,
        ifc=list(args.ifc), exposure=args.exposure, name_zh=args.name_zh, name_en=args.name_en,
        timezone=args.timezone, vertical_datum=args.vertical_datum,
    )  # fmt: skip
    res = build_basin(spec)
    rep = res.report
    print(f"basin {args.id}: {rep['area_km2']:.2f} km², {rep['reaches']} reaches "
          f"(Strahler ≤ {rep['max_strahler']}, rivers from {rep['stream_km2']} km²)")  # fmt: skip
    print(f"outlet snapped {rep['outlet']['snap_m']:.1f} m (radius {args.snap_m:.0f} m)")
    for note in rep["notes"]:
        print(f"terrain: {note}")
    for s in rep["stations"]:
        print(f"station {s['id']}: snapped {s['snap_m']:.1f} m, sees {s['upstream_km2']:.2f} km²")
    print("Xinanjiang parameters: regional defaults, NOT calibrated (hydrotwin calibrate)")
    print(f"wrote {args.out}")
    return 0
