"""``hydrotwin basins [--json]``: list installed and user basins, broken ones with their error."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("basins", help="list the basins HydroTwin can open (broken ones too)")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.add_argument("paths", nargs="*", help="extra basin.toml files or folders to check")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hydrotwin.basin.discovery import discover

    entries = discover(args.paths)
    if args.json:
        rows = [
            {
                "id": e.name,
                "ok": e.ok,
                "source": e.source,
                "manifest": str(e.manifest) if e.manifest else None,
                "name_zh": e.basin.basin.names.zh if e.basin else None,
                "name_en": e.basin.basin.names.en if e.basin else None,
                "crs": e.basin.basin.crs if e.basin else None,
                "error": e.error,
            }
            for e in entries
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        if not entries:
            print("no basins found")
        for e in entries:
            if e.basin is not None:
                n = e.basin.basin.names
                print(f"{e.name:16s} ok      {n.zh} / {n.en}  [{e.source}]")
            else:
                print(f"{e.name:16s} BROKEN  {e.error}  [{e.source}]")
    return 1 if any(not e.ok for e in entries) and args.paths else 0
