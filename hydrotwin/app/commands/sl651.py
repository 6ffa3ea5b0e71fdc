"""``hydrotwin sl651 decode|encode|reply``: the SL 651 codec as a field engineer's tool.

``hydrotwin sl651 decode 7E7E01…`` prints the decoded frame as JSON (several frames, or ``-``
to read hex lines from standard input; the packets of a multi-packet message are also joined).
``hydrotwin sl651 encode --station 0012345678 --password 1234 -e Z=10.5 -e PJ=2.0`` builds a
report; ``hydrotwin sl651 reply HEX`` the centre's confirmation of a frame.
"""

from __future__ import annotations

import argparse
import json
import sys

_ENDS = {"eot": 0x04, "esc": 0x1B, "ack": 0x06, "nak": 0x15}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sl651", help="decode / encode SL 651-2014 telemetry frames")
    ss = p.add_subparsers(dest="sl651_command", metavar="ACTION", required=True)

    d = ss.add_parser("decode", help="decode frames given as hex and print JSON")
    d.add_argument(
        "frames", nargs="+", help="frame(s) in hex (spaces allowed if quoted); - = stdin"
    )
    d.add_argument("--compact", action="store_true", help="one line of JSON per frame")
    d.set_defaults(func=run_decode)

    e = ss.add_parser("encode", help="build an up-link report frame and print it in hex")
    e.add_argument("--station", required=True, help="station address, 10 hex digits")
    e.add_argument("--password", default="1234", help="4 hex digits (default 1234)")
    e.add_argument("--centre", type=int, default=1, help="centre address 0-255 (default 1)")
    e.add_argument("--function", default="32", help="function code in hex (default 32 timed)")
    e.add_argument("--serial", type=int, default=1)
    e.add_argument("--time", help="observation time, station local, ISO (default: now)")
    e.add_argument("--class", dest="station_class", default="H", help="station class letter")
    e.add_argument(
        "-e",
        "--element",
        action="append",
        default=[],
        metavar="ID=VALUE",
        help="element, e.g. Z=10.25 (repeatable); VALUE M = missing",
    )
    e.add_argument("--ascii", action="store_true", help="ASCII encoding instead of HEX/BCD")
    e.set_defaults(func=run_encode)

    r = ss.add_parser("reply", help="print the centre's confirmation of a frame in hex")
    r.add_argument("frame", help="the up-link frame in hex")
    r.add_argument("--end", choices=sorted(_ENDS), default="eot")
    r.set_defaults(func=run_reply)


def _inputs(frames: list[str]) -> list[str]:
    out: list[str] = []
    for f in frames:
        if f == "-":
            out += [line.strip() for line in sys.stdin if line.strip()]
        else:
            out.append(f)
    return out


def run_decode(args: argparse.Namespace) -> int:
    from hydrotwin.live import sl651

    reasm = sl651.Reassembler()
    results: list[dict[str, object]] = []
    for text in _inputs(args.frames):
        fr = sl651.decode(text)  # FrameError -> exit 1 with the reason (cli.main)
        results.append(fr.to_dict())
        if not fr.complete:
            msg = reasm.feed(fr)
            if msg is not None:
                results.append({"message": msg.to_dict()})
    indent = None if args.compact else 2
    if len(results) == 1:
        print(json.dumps(results[0], ensure_ascii=False, indent=indent))
    elif args.compact:
        for r in results:
            print(json.dumps(r, ensure_ascii=False))
    else:
        print(json.dumps(results, ensure_ascii=False, indent=indent))
    return 0


def run_encode(args: argparse.Namespace) -> int:
    from datetime import datetime

    from hydrotwin.errors import FrameError
    from hydrotwin.live import sl651

    try:
        fc = int(args.function, 16)
        t = (
            datetime.fromisoformat(args.time)
            if args.time
            else datetime.now().replace(microsecond=0)
        )
    except ValueError as exc:
        raise FrameError(
            f"bad --function {args.function!r} or --time {args.time!r}: {exc}"
        ) from None
    elements: list[tuple[str, float | None]] = []
    for item in args.element:
        ident, sep, value = item.partition("=")
        if not sep:
            raise FrameError(f"element {item!r}: expected ID=VALUE such as Z=10.25")
        try:
            elements.append((ident, None if value == "M" else float(value)))
        except ValueError:
            raise FrameError(f"element {item!r}: value {value!r} is not a number or M") from None
    raw = sl651.encode_report(
        station=args.station,
        password=args.password,
        function=fc,
        serial=args.serial,
        send_time=t,
        obs_time=t,
        elements=elements,
        station_class=args.station_class,
        centre=args.centre,
        encoding="ascii" if args.ascii else "hex",
    )
    print(raw.hex().upper())
    return 0


def run_reply(args: argparse.Namespace) -> int:
    from hydrotwin.live import sl651

    fr = sl651.decode(args.frame)
    print(sl651.encode_reply(fr, _ENDS[args.end]).hex().upper())
    return 0
