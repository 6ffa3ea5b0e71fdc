"""``hydrotwin calibrate``: fit Xinanjiang parameters to an observed flow series."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit Xinanjiang parameters to observed flow (differential evolution)",
        description="Fit the 15 Xinanjiang parameters of one basin to observed outlet flow "
        "within their published ranges, then report NSE, KGE, peak, peak-time and volume "
        "errors and the GB/T 22482 grade of the series and of each flood event.",
    )
    p.add_argument(
        "--data",
        required=True,
        help="CSV: time, rain, PET, flow; units from the headers, e.g. prcp(mm/h), pet(mm/d), "
        "flow(m^3/s) or flow(L/s); without a unit: mm per step and m³/s",
    )
    p.add_argument("--area-km2", type=float, required=True, help="basin area, km²")
    p.add_argument(
        "--cal", required=True, help="calibration period START:END (dates, END excluded)"
    )
    p.add_argument("--val", help="validation period START:END (dates; END may be empty)")
    p.add_argument("--warmup-days", type=float, default=365.0, help="warm-up at the start of --cal")
    p.add_argument("--maxiter", type=int, default=60, help="differential-evolution generations")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="write the parameters and scores as JSON to this file")
    p.set_defaults(func=run)


def _period(text: str, time, what: str) -> slice:
    import numpy as np

    from hydrotwin.errors import InputDataError

    if ":" not in text:
        raise InputDataError(
            f"{what} {text!r}: expected START:END dates, e.g. 2012-06-10:2017-01-01"
        )
    a, b = text.split(":", 1)
    try:
        i0 = int(np.searchsorted(time, np.datetime64(a.strip()))) if a.strip() else 0
        i1 = int(np.searchsorted(time, np.datetime64(b.strip()))) if b.strip() else time.size
    except ValueError:
        raise InputDataError(f"{what} {text!r}: dates must be YYYY-MM-DD") from None
    if i1 - i0 < 2:
        raise InputDataError(f"{what} {text!r} holds {i1 - i0} time steps of the data")
    return slice(i0, i1)


def _print_report(name: str, rep, time, start: int) -> None:
    from hydrotwin.fourpre.metrics import grade_label, grade_reason

    print(f"{name}: NSE {rep.nse:.3f}  KGE {rep.kge:.3f}  volume {rep.volume_error:+.1%}  "
          f"events {len(rep.events)} (QR {rep.qualification_rate:.0f} %)  "
          f"grade {grade_label(rep.grade)}: {grade_reason(rep)}")  # fmt: skip
    for e in rep.events:
        t0 = str(time[start + e.start])[:16].replace("T", " ")
        print(f"  event from {t0}: peak {e.obs_peak_m3s:.0f} m³/s, error {e.peak_error:+.1%}, "
              f"peak time {e.peak_time_error_h:+.0f} h, depth error {e.depth_error_mm:+.1f} mm, "
              f"{'qualified' if e.qualified else 'not qualified'}")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from hydrotwin.files import atomic_write_text
    from hydrotwin.fourpre.calibrate import calibrate, read_series

    s = read_series(args.data)
    for how in s.units.values():
        print(f"units: {how}")
    print(f"flow: {s.flow_missing} of {s.flow_m3s.size} values missing, masked out of the scores")
    cal = _period(args.cal, s.time, "--cal")
    val = _period(args.val, s.time, "--val") if args.val else None
    warm = round(args.warmup_days * 24.0 / s.dt_h)
    c = calibrate(
        s, args.area_km2, warmup=warm, cal=cal, val=val, maxiter=args.maxiter, seed=args.seed
    )
    for w in c.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"calibrated on {c.evaluations} model runs ({s.dt_h:g} h steps)")
    print("parameters: " + ", ".join(f"{k}={v:.4g}" for k, v in c.params.items()))
    if c.at_bounds:
        print(f"on a bound of the range ({len(c.at_bounds)}): " + ", ".join(c.at_bounds))
    _print_report("calibration", c.calibration, s.time, c.cal_start)
    if c.validation is not None:
        _print_report("validation", c.validation, s.time, c.val_start)
    if args.out:
        out = {
            "params": c.params,
            "at_bounds": c.at_bounds,
            "warnings": c.warnings,
            "units": s.units,
            "flow_missing": s.flow_missing,
            "calibration": c.calibration.as_dict(),
            "validation": c.validation.as_dict() if c.validation else None,
        }
        atomic_write_text(args.out, json.dumps(out, indent=2, ensure_ascii=False))
        print(f"written {args.out}")
    return 0
