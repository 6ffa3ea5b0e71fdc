"""``hydrotwin plan compare``: forecast candidate operation plans side by side, export a report."""

from __future__ import annotations

import argparse

from hydrotwin.app.commands.forecast import add_storm_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan",
        help="the plan step (预案): compare operation plans, export the chosen one",
        description="Candidate operation plans (reservoir start levels and rules, sluice gate "
        "schedules) forecast under one storm and compared side by side.",
    )
    psub = p.add_subparsers(dest="plan_command", metavar="SUBCOMMAND", required=True)
    c = psub.add_parser(
        "compare",
        help="forecast each plan, print the comparison, write an HTML report and/or JSON",
        description="Forecast each plan (the basin plugin's plan templates, or --plans FILE) "
        "under one storm; print peak reservoir level and release, and per control station "
        "the peak level and highest warning grade; recommend one by a stated rule; write the "
        "chosen plan's report. With --rehearse each plan is also played in 2D and compared on "
        "flooded area, buildings and people in deep water, and depth, arrival and duration at "
        "each named place.",
    )
    add_storm_args(c)
    c.add_argument(
        "--plans",
        metavar="FILE",
        help="TOML file of [[plan]] tables (default: the basin plugin's plan templates)",
    )
    c.add_argument("--choose", metavar="ID", help="the chosen plan (default: the recommended one)")
    c.add_argument("--report", metavar="HTML", help="write the report as one HTML file")
    c.add_argument("--json", metavar="JSON", help="write the numbers as JSON")
    c.add_argument(
        "--rehearse",
        action="store_true",
        help="also play each plan in 2D (worker processes) and compare the floods",
    )
    c.add_argument(
        "--rehearse-hours",
        type=float,
        metavar="H",
        help="length of the 2D rehearsals, hours (default: the forecast's --hours)",
    )
    c.add_argument(
        "--out", default="plans", help="folder for each plan's NetCDF files (./plans/<plan id>)"
    )
    c.add_argument("--workers", type=int, help="parallel rehearsals (default and at most 2)")
    # dest differs from the top-level --lang (the app's), which a subparser default would reset
    c.add_argument(
        "--lang",
        dest="report_lang",
        choices=["zh_CN", "en"],
        default="zh_CN",
        help="report language (zh_CN)",
    )
    c.set_defaults(func=run)


def _grade(level) -> str:
    return level.name.lower()


def progress_printer():
    """``progress(plan_id, t_s, total_s)`` that prints each plan at every quarter."""
    last: dict[str, float] = {}

    def progress(plan_id: str, t_s: float, total_s: float) -> None:
        pct = 100.0 * t_s / total_s if total_s else 100.0
        if pct - last.get(plan_id, -100.0) >= 25.0 or t_s >= total_s:
            last[plan_id] = pct
            print(f"  {plan_id}: t = {t_s / 3600.0:6.2f} h ({pct:3.0f} %)", flush=True)

    return progress


def _print_floods(comp) -> None:
    """The flood rows, one line each, the best value(s) starred."""
    print(f"flood in the 2D rehearsal ({comp.rehearsal_hours:g} h):")
    ids = [r.plan.id for r in comp.results]
    print(f"{'indicator':<44}" + "".join(f" {i:>16}" for i in ids))
    for row in comp.rows():
        if not row.group.startswith(("flood", "place:")):
            continue
        label = f"{row.group.partition(':')[2] + ' ' if ':' in row.group else ''}{row.label}"
        cells = ""
        for i in ids:
            v = row.values.get(i)
            text = "never" if v is None else f"{v:.{row.digits}f}"
            cells += f" {text + ('*' if i in row.best else ''):>16}"
        print(f"{label[:44]:<44}{cells}")
    for r in comp.results:
        print(f"  {r.plan.id}: {r.rehearsal_nc}")


def run(args: argparse.Namespace) -> int:
    from hydrotwin.app.commands.forecast import parse_start
    from hydrotwin.basin import find_basin
    from hydrotwin.errors import InputDataError
    from hydrotwin.fourpre.plan import compare_plans, load_plans, plan_templates

    basin = find_basin(args.basin)
    if args.plans:
        plans = load_plans(args.plans, basin)
    else:
        plans = plan_templates(basin)
        if not plans:
            raise InputDataError(
                f"basin {basin.id!r} offers no plan templates (hydrotwin_plan_templates hook); "
                "give --plans FILE"
            )
    comp = compare_plans(
        basin,
        plans,
        rain=args.rain,
        hours=args.hours,
        start=parse_start(args.start),
        dt_h=args.dt_h,
        rehearse=args.rehearse,
        rehearsal_hours=args.rehearse_hours,
        out_dir=args.out,
        workers=args.workers,
        progress=progress_printer() if args.rehearse else None,
    )
    chosen = args.choose or comp.recommendation.plan_id or comp.results[0].plan.id
    comp.result(chosen)  # an unknown --choose is an error before anything is written

    print(f"plans for {basin.id}: {comp.rain} ({comp.rain_description}), {comp.hours:g} h from "
          f"{comp.start:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    stations = [s for s in comp.results[0].stations if s.downstream]
    head = f"{'plan':<18}"
    for m in comp.results[0].reservoirs:
        head += f" {m.reservoir + ' peak m':>18} {'release m3/s':>12}"
    for s in stations:
        head += f" {s.station + ' peak m':>16} {'grade':>7} {'h>warn':>6}"
    print(head)
    for r in comp.results:
        line = f"{r.plan.id:<18}"
        for m in r.reservoirs:
            line += f" {m.peak_level_m:>18.2f} {m.peak_outflow_m3s:>12.1f}"
        for s in (s for s in r.stations if s.downstream):
            z = float("nan") if s.peak_level_m is None else s.peak_level_m
            line += f" {z:>16.2f} {_grade(s.grade):>7} {s.hours_above_warning:>6g}"
        mark = " *" if r.plan.id == chosen else ""
        print(line + mark)
    for r in comp.results:
        for g in r.gate_effects:
            print(f"{r.plan.id}: {g.note}")
    if comp.rehearsal_hours is not None:
        _print_floods(comp)
    rec = comp.recommendation
    print(f"recommended: {rec.plan_id or 'none (every plan exceeds a check flood level)'}; "
          f"chosen: {chosen}")  # fmt: skip
    print(f"rule: {rec.rule}")
    if args.report:
        from hydrotwin.app.report import write_html

        print(f"report → {write_html(comp, args.report, chosen, lang=args.report_lang)}")
    if args.json:
        from hydrotwin.app.report import write_json

        print(f"json → {write_json(comp, args.json, chosen)}")
    return 0
