"""The ``hydrotwin`` command line: the app with no arguments, headless subcommands otherwise.

Each subcommand lives in its own module ``hydrotwin.app.commands.<name>`` that defines
``add_parser(subparsers)``; the module is imported when the parser is built, so it must keep
heavy imports (numba, VTK, Qt) inside its ``run`` function. Exit codes: 0 ok, 1 error with a
message on stderr, 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from hydrotwin import __version__
from hydrotwin.errors import HydroTwinError

log = logging.getLogger("hydrotwin")

# Order is the order shown by --help. A module that is not there (yet) is skipped.
COMMAND_MODULES = (
    "basins",
    "basin",
    "render",
    "forecast",
    "nowcast",  # gridded rain (issue 18)
    "calibrate",
    "rehearse",
    "video",
    "plan",
    "ensemble",
    "capacity",
    "ifc",
    "sl651",
    "live",
    "store",
    "duty",  # duty and hindcast
    "replay",  # historical replay (trainer)
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hydrotwin",
        description="HydroTwin: digital twin for river-basin flood control. "
        "With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"hydrotwin {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--basin", help="basin id or path to a basin.toml / basin folder (app)")
    parser.add_argument("--lang", choices=["zh_CN", "en"], help="UI language (app)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"hydrotwin.app.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"hydrotwin.app.commands.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command is None:
            from hydrotwin.app.window import run_app

            return run_app(basin=args.basin, lang=args.lang)
        return int(args.func(args) or 0)
    except HydroTwinError as exc:
        print(f"hydrotwin {args.command or ''}: error: {exc}".replace("  ", " "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hydrotwin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
