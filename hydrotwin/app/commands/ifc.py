"""``hydrotwin ifc info FILE [--json]``: schema, element counts, georeference, map bbox.

For engineers checking a delivery (and for tests): opens the file with the same loader the
app uses (so the tessellation cache is shared), reports what was found, including products
skipped because the geometry kernel spent longer than the per-product budget on them, and
exits 1 with a message naming the file when it cannot be read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

#: Skipped products listed in the text output (all of them in --json).
SKIPPED_SHOWN = 20


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ifc",
        help="inspect IFC (BIM) files",
        description="Inspect IFC (BIM) files with the loader the app uses.",
    )
    isub = p.add_subparsers(dest="ifc_command", metavar="ACTION", required=True)
    info = isub.add_parser(
        "info",
        help="schema, element counts by class, georeference and bounding box of an IFC file",
        description="Print the schema, the counts of elements with geometry by IFC class, the "
        "georeference found (IfcMapConversion + IfcProjectedCRS) and the bounding box in map "
        "coordinates.",
    )
    info.add_argument("file", metavar="FILE", help="an .ifc file")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.add_argument(
        "--crs",
        default=None,
        help="give the bounding box in this CRS (e.g. EPSG:4547); default: the file's own",
    )
    info.add_argument("--no-cache", action="store_true", help="ignore the tessellation cache")
    info.add_argument(
        "--product-budget",
        type=_positive_seconds,
        default=None,
        metavar="S",
        help="skip a product the geometry kernel works on for longer than S seconds "
        "(default: $HYDROTWIN_IFC_PRODUCT_BUDGET_S or 30); skipped products are listed",
    )
    info.set_defaults(func=run_info)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """The geometry kernel prints debug text on C-level stdout: keep it out of our output."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def info_dict(
    path: str,
    crs: str | None = None,
    use_cache: bool = True,
    product_budget: float | None = None,
) -> dict[str, Any]:
    """What ``ifc info`` reports, as a JSON-ready dictionary."""
    from hydrotwin.basin.ifc import (
        IfcLoadCancelledError,
        load_ifc,
        open_ifc,
        read_map_conversion,
        read_site_latlon,
    )
    from hydrotwin.errors import IfcLoadError

    out: dict[str, Any] = {"file": os.path.abspath(path)}
    try:
        with _stdout_to_stderr():
            model = load_ifc(path, use_cache=use_cache, product_budget=product_budget)
    except IfcLoadCancelledError:
        raise
    except IfcLoadError as exc:
        # A readable file without drawable bodies (e.g. alignments only) still has a schema
        # and a georeference to report; anything unreadable re-raises here.
        from pathlib import Path

        f, schema, header = open_ifc(path)
        mc = read_map_conversion(f, Path(path))
        ll = read_site_latlon(f)
        out.update(
            schema=schema,
            header_schema=header,
            products=len(f.by_type("IfcProduct")),
            body_products=0,
            elements=0,
            triangles=0,
            counts_by_class={},
            georeference=_georef(mc),
            site_latlon=list(ll) if ll else None,
            bbox=None,
            geometry_error=str(exc),
            skipped=[],
        )
        return out
    from hydrotwin.basin.ifc import crs_unit_m

    mc = model.map_conversion
    target = crs or (mc.crs if mc else None)
    xy_unit_m = (crs_unit_m(target) or 1.0) if mc and target else 1.0
    lo = model.bounds_map(crs if mc else None)
    out.update(
        schema=model.schema,
        header_schema=model.header_schema,
        products=model.product_count,
        body_products=model.body_count,
        dangling_refs={"count": model.dangling_count, "first": model.dangling_refs},
        elements=len(model.elements),
        triangles=len(model.triangles),
        counts_by_class=model.counts_by_class(),
        georeference=_georef(mc),
        site_latlon=list(model.site_latlon) if model.site_latlon else None,
        bbox={
            "crs": target,
            "frame": "map" if mc else "local (no IfcMapConversion)",
            "xy_unit_m": xy_unit_m,
            "z_unit_m": 1.0,
            "xmin": lo[0],
            "xmax": lo[1],
            "ymin": lo[2],
            "ymax": lo[3],
            "zmin": lo[4],
            "zmax": lo[5],
        },
        geometry_error=None,
        from_cache=model.from_cache,
        skipped=[
            {
                "global_id": sp.global_id,
                "ifc_class": sp.ifc_class,
                "name": sp.name,
                "step_id": sp.step_id,
                "kind": sp.kind,
                "reason": sp.reason,
            }
            for sp in model.skipped
        ],
    )
    return out


def _georef(mc) -> dict[str, Any] | None:
    if mc is None:
        return None
    return {
        "kind": "IfcMapConversion",
        "crs": mc.crs,
        "crs_name": mc.crs_name,
        "eastings": mc.eastings,
        "northings": mc.northings,
        "orthogonal_height": mc.orthogonal_height,
        "rotation_deg": mc.rotation_deg,
        "scale_in_file": mc.scale_in_file,
        "scale_per_m": mc.scale_per_m,
        "map_unit_m": mc.map_unit_m,
        "note": mc.note or None,
    }


def run_info(args: argparse.Namespace) -> int:
    d = info_dict(
        args.file,
        crs=args.crs,
        use_cache=not args.no_cache,
        product_budget=args.product_budget,
    )
    if args.json:
        print(json.dumps(d, ensure_ascii=False, indent=2))
        return 0
    print(f"file:         {d['file']}")
    schema = d["schema"]
    if d["header_schema"] != schema:
        schema += f" (header says {d['header_schema']}; read as {d['schema']})"
    print(f"schema:       {schema}")
    print(
        f"products:     {d['products']} in the file, {d['body_products']} with a body: "
        f"{d['elements']} loaded, {len(d['skipped'])} skipped"
    )
    print(f"elements:     {d['elements']} with geometry, {d['triangles']} triangles")
    if d.get("dangling_refs", {}).get("count"):
        from hydrotwin.basin.ifc import refs_text

        r = d["dangling_refs"]
        print(f"warning:      {r['count']} references to entities that do not exist "
              f"({refs_text(r['first'], r['count'])})")  # fmt: skip
    for cls, n in d["counts_by_class"].items():
        print(f"  {cls:<32} {n:>6}")
    if d["skipped"]:
        print(f"skipped:      {len(d['skipped'])} products not loaded")
        for sk in d["skipped"][:SKIPPED_SHOWN]:
            print(f"  {sk['ifc_class']:<24} {sk['global_id']} #{sk['step_id']}: {sk['reason']}")
        if len(d["skipped"]) > SKIPPED_SHOWN:
            print(f"  ... and {len(d['skipped']) - SKIPPED_SHOWN} more (--json lists them all)")
    g = d["georeference"]
    if g:
        print(
            f"georeference: IfcMapConversion → {g['crs'] or '(no CRS name)'}"
            f"{' (' + g['crs_name'] + ')' if g['crs_name'] else ''}"
        )
        print(
            f"              E0={g['eastings']:.3f} N0={g['northings']:.3f} "
            f"H0={g['orthogonal_height']:.3f} rotation={g['rotation_deg']:.4f}° "
            f"scale={g['scale_per_m']:g} map units per m"
        )
        if g["note"]:
            print(f"              note: {g['note']}")
    else:
        print("georeference: none (no IfcMapConversion; the basin manifest must place it)")
    if d["site_latlon"]:
        print(f"IfcSite:      lat {d['site_latlon'][0]:.6f}, lon {d['site_latlon'][1]:.6f}")
    b = d["bbox"]
    if b:
        unit = "m" if b["xy_unit_m"] == 1.0 else f"units of {b['xy_unit_m']:g} m"
        print(f"bbox ({b['crs'] or 'local'}, {b['frame']}; x, y in {unit}; z in m):")
        print(f"  x {b['xmin']:.3f} .. {b['xmax']:.3f}")
        print(f"  y {b['ymin']:.3f} .. {b['ymax']:.3f}")
        print(f"  z {b['zmin']:.3f} .. {b['zmax']:.3f}")
    else:
        print(f"bbox:         none ({d['geometry_error']})")
    return 0
