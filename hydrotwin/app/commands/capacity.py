"""``hydrotwin capacity``: rain-holding capacity (纳雨能力) of many reservoirs in one batch."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _durations(text: str) -> list[float]:
    try:
        d = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected hours like 1,3,6,12,24") from None
    if not d or min(d) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected positive hours")
    return d


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "capacity",
        help="rain-holding capacity (纳雨能力) of reservoirs: the rain that brings each to its "
        "flood-limit, design and check flood levels and dam crest",
        description="For every reservoir in FILE and every duration: the areal rain (mm) that "
        "from the current level brings the reservoir to each characteristic level; margins "
        "against a rain forecast and a risk class. Rows that fail the checks are skipped and "
        "listed in the errors file. See docs/rain-capacity.md.",
    )
    p.add_argument("--reservoirs", required=True, metavar="FILE", help="CSV or GeoPackage")
    p.add_argument("--levels-from", metavar="STORE", help="live store: latest ST_RSVR_R level")
    p.add_argument("--rain-forecast", metavar="FILE", help="CSV id,lead_h,rain_mm (hourly)")
    p.add_argument("--durations", type=_durations, default=[1, 3, 6, 12, 24], metavar="H,H,…",
                   help="durations in hours (1,3,6,12,24)")  # fmt: skip
    p.add_argument("--out", required=True, metavar="FILE", help="result .csv or .gpkg")
    p.add_argument("--errors", metavar="FILE", help="skipped rows (default: OUT_errors.csv)")
    p.add_argument("--crs", metavar="CRS", help="CRS of a CSV's x, y (e.g. EPSG:4547) for .gpkg")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hydrotwin.errors import InputDataError
    from hydrotwin.fourpre import capacity as cap

    t0 = time.perf_counter()
    if Path(args.out).suffix.lower() not in (".csv", ".gpkg"):
        raise InputDataError(f"output {args.out}: expected a .csv or .gpkg file name")
    df = cap.read_reservoirs(args.reservoirs)
    levels = cap.store_levels(args.levels_from) if args.levels_from else None
    forecast = cap.read_rain_forecast(args.rain_forecast) if args.rain_forecast else None
    prep = cap.prepare(df, levels)
    result = cap.compute(prep, args.durations, forecast)
    out = Path(args.out)
    cap.write_table(result, out, cap.output_crs(df, args.crs))
    errors = Path(args.errors) if args.errors else out.with_name(out.stem + "_errors.csv")
    cap.write_errors(prep.errors, errors)
    n_store = prep.level_source.count("store")
    print(f"{len(prep.table)} reservoirs × {len(args.durations)} durations → {out} "
          f"({time.perf_counter() - t0:.1f} s); levels from the store: {n_store}")  # fmt: skip
    print(f"{len(prep.errors)} rows skipped → {errors}")
    counts = result.groupby("duration_h")["risk_name"].value_counts().unstack(fill_value=0)
    if forecast is not None:
        print("reservoirs per risk class (forecast rain ≥ capacity):")
        print(counts.to_string(), file=sys.stdout)
    return 0
