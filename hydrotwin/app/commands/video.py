"""``hydrotwin video``: a rehearsal result as an MP4 (H.264), rendered off-screen.

``--result`` is what ``hydrotwin rehearse --out DIR`` wrote (the folder or its rehearsal.nc).
The work is :func:`hydrotwin.app.video.write_video`; this module parses and prints.
"""

from __future__ import annotations

import argparse

from hydrotwin.app.commands.render import _positive, _size


def add_video_options(p: argparse.ArgumentParser) -> None:
    """Options shared with ``hydrotwin rehearse --video``."""
    p.add_argument("--fps", type=_positive, default=25.0, help="video frames per second (25)")
    p.add_argument("--speedup", type=_positive, default=600.0,
                   help="simulated seconds per video second (600: 10 min a second)")  # fmt: skip
    p.add_argument("--size", type=_size, default=(1920, 1080), help="WIDTHxHEIGHT (1920x1080)")
    p.add_argument("--title", help="title burned into the video (default: the basin's name)")
    # dest differs from the top-level --lang (the app's UI language), as in ``render``.
    p.add_argument("--lang", dest="video_lang", choices=["zh_CN", "en"],
                   help="language of the burned-in text and of a report (default zh_CN; "
                        "a scenario's own)")  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "video",
        help="a rehearsal result as an MP4 video (H.264, off-screen)",
        description="Render a rehearsal result (hydrotwin rehearse --out DIR) on the basin "
        "scene, with the basin-local clock, the depth legend and station warning colours, "
        "into an MP4 file.",
    )
    p.add_argument("--basin", dest="video_basin", metavar="BASIN", required=True,
                   help="basin id or path to a basin.toml / basin folder")  # fmt: skip
    p.add_argument("--result", required=True, help="rehearsal folder or its rehearsal.nc")
    p.add_argument("--out", required=True, help="MP4 file to write (its folder must exist)")
    add_video_options(p)
    p.set_defaults(func=run)


def make_video(basin, result, out, args: argparse.Namespace, levels=None) -> None:
    """Write the video with progress lines every 10 %; used by ``video`` and ``rehearse``."""
    from hydrotwin.app.video import write_video

    last = [-10]

    def progress(done: int, total: int) -> None:
        pct = 100 * done // total
        if pct - last[0] >= 10 or done == total:
            last[0] = pct
            print(f"  frame {done}/{total} ({pct} %)", flush=True)

    res = write_video(basin, result, out, fps=args.fps, speedup=args.speedup, size=args.size,
                      title=args.title, lang=args.video_lang or "zh_CN", levels=levels,
                      progress=progress)  # fmt: skip
    print(f"video {res.path}: {res.frames} frames, {res.seconds:.1f} s at {res.fps:g} fps "
          f"({args.size[0]}x{args.size[1]}), written in {res.wall_s:.1f} s")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from hydrotwin.basin import find_basin

    make_video(find_basin(args.video_basin), args.result, args.out, args)
    return 0
