"""``hydrotwin render --basin demo --out shot.png``: the basin scene rendered off-screen (EGL)."""

from __future__ import annotations

import argparse
import re


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"size {text!r}: expected WIDTHxHEIGHT, e.g. 1600x900")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"size {text!r}: each side must be 16..8192 pixels")
    return w, h


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number > 0")
    return v


def _cells(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 4:
        raise argparse.ArgumentTypeError(f"{text}: expected at least 4 cells")
    return v


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="render a basin's 3D scene to a PNG, off-screen (no display needed)",
        description="Render the basin scene (terrain, rivers, reservoir, dam, town, stations) "
        "off-screen to a PNG image.",
    )
    # dest differs from the top-level --basin/--lang so "hydrotwin --basin X render" still works.
    p.add_argument(
        "--basin",
        dest="render_basin",
        metavar="BASIN",
        help="basin id or path to a basin.toml / basin folder (default: the "
        "top-level --basin, else 'demo')",
    )
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--size", type=_size, default=(1600, 900), help="WIDTHxHEIGHT (1600x900)")
    p.add_argument(
        "--lang",
        dest="render_lang",
        choices=["zh_CN", "en"],
        default=None,
        help="label language (default zh_CN)",
    )
    p.add_argument(
        "--exaggeration",
        type=_positive,
        default=None,
        help="vertical exaggeration (default: chosen from the relief)",
    )
    p.add_argument(
        "--max-cells",
        type=_cells,
        default=500_000,
        help="most terrain cells drawn (level of detail), default 500000",
    )
    p.add_argument("--no-labels", action="store_true", help="leave out the name labels")
    p.add_argument("--no-legend", action="store_true", help="leave out the legend")
    p.add_argument(
        "--no-bim",
        action="store_true",
        help="draw dams and sluices as simple bodies, not from their IFC models",
    )
    p.add_argument(
        "--exact",
        action="store_true",
        help="keep 8 bits per colour channel (default: 6 bits, about half the file size)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging
    import time

    from hydrotwin.basin import find_basin
    from hydrotwin.scenes.render import render_basin

    t0 = time.perf_counter()
    basin = find_basin(args.render_basin or getattr(args, "basin", None) or "demo")
    lang = args.render_lang or getattr(args, "lang", None) or "zh_CN"
    out = render_basin(
        basin,
        args.out,
        size=args.size,
        lang=lang,
        labels=not args.no_labels,
        legend=not args.no_legend,
        bim=not args.no_bim,
        compact=not args.exact,
        exaggeration=args.exaggeration,
        max_terrain_cells=args.max_cells,
    )
    logging.getLogger("hydrotwin").info("wrote %s in %.1f s", out, time.perf_counter() - t0)
    print(out)
    return 0
