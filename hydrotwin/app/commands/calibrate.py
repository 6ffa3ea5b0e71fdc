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
        "--data", required=True, help="CSV: time, rain (mm/step), PET (mm/step), flow (m³/s)"
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


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from hydrotwin.fourpre.calibrate import calibrate, read_series

    s = read_series(args.data)
    cal = _period(args.cal, s.time, "--cal")
    val = _period(args.val, s.time, "--val") if args.val else None
    warm = round(args.warmup_days * 24.0 / s.dt_h)
    c = calibrate(
        s, args.area_km2, warmup=warm, cal=cal, val=val, maxiter=args.maxiter, seed=args.seed
    )
    print(f"calibrated on {c.evaluations} model runs ({s.dt_h:g} h steps)")
    print("parameters: " + ", ".join(f"{k}={v:.4g}" for k, v in c.params.items()))
    for name, rep in (("calibration", c.calibration), ("validation", c.validation)):
        if rep is None:
            continue
        print(f"{name}: NSE {rep.nse:.3f}  KGE {rep.kge:.3f}  peak {rep.peak_error:+.1%}  "
              f"peak time {rep.peak_time_error_h:+.0f} h  volume {rep.volume_error:+.1%}  "
              f"events {len(rep.events)} (QR {rep.qualification_rate:.0f} %)  "
              f"grade {rep.grade}")  # fmt: skip
        for e in rep.events:
            t0 = str(s.time[(cal if name == "calibration" else val).start + e.start])[:10]
            print(f"  event from {t0}: peak {e.obs_peak_m3s:.0f} m³/s, error {e.peak_error:+.1%}, "
                  f"time {e.peak_time_error_h:+.0f} h, depth error {e.depth_error_mm:+.1f} mm, "
                  f"{'qualified' if e.qualified else 'not qualified'}")  # fmt: skip
    if args.out:
        out = {
            "params": c.params,
            "calibration": c.calibration.as_dict(),
            "validation": c.validation.as_dict() if c.validation else None,
        }
        Path(args.out).write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"written {args.out}")
    return 0
