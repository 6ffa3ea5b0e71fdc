"""What a scenario run leaves behind: the comparison as JSON and HTML, the 预案 PDF, a video.

Callable without the CLI (the app's scenario controller uses it too). The video writer lives
in :mod:`hydrotwin.app.video` (another piece of work); :func:`write_video` is the one place
that calls it, imported lazily so this build runs without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hydrotwin.fourpre.plan import Comparison
    from hydrotwin.fourpre.scenario import Scenario


def export_scenario(
    scenario: Scenario,
    comp: Comparison,
    out_dir: str | Path,
    *,
    report: str | Path | None = None,
    video: str | Path | None = None,
    lang: str = "zh_CN",
) -> list[Path]:
    """Write ``comparison.json`` and ``comparison.html`` in ``out_dir``, then the PDF and the
    video if asked; returns the paths written."""
    from hydrotwin.app.report import write_html, write_json
    from hydrotwin.fourpre.scenario import chosen_plan

    out = Path(out_dir)
    chosen = chosen_plan(scenario, comp)
    paths = [write_json(comp, out / "comparison.json", chosen),
             write_html(comp, out / "comparison.html", chosen, lang=lang)]  # fmt: skip
    if report is not None:
        from hydrotwin.app.plan_pdf import DocInfo, write_plan_pdf

        info = DocInfo(scenario.report.prepared_by, scenario.report.organisation, scenario.title)
        paths.append(write_plan_pdf(comp, report, chosen, lang, info))
    if video is not None:
        paths.append(write_video(scenario, comp, chosen, video))
    return paths


def camera_keys(scenario: Scenario) -> list:
    """The scenario's camera path as the movie's key frames (hours → seconds after start)."""
    from hydrotwin.scenes.movie import CameraKey

    return [CameraKey(k.time_h * 3600.0, k.position, k.focal_point, k.view_up)
            for k in scenario.camera]  # fmt: skip


def write_video(scenario: Scenario, comp: Comparison, chosen: str, path: str | Path) -> Path:
    """The chosen plan's rehearsal as MP4 following ``scenario.camera`` (map coordinates,
    hours → seconds after the rehearsal's start, which is the scenario's start), through the
    one video writer (``app/video.py``), with the scenario's annotations burned in."""
    from hydrotwin.app import video
    from hydrotwin.scenes.annotations import notes_from_scenario

    keys = camera_keys(scenario)
    res = video.write_video(comp.basin, comp.result(chosen).rehearsal_nc, path,
                            title=scenario.title, lang=scenario.report.lang,
                            camera_path=keys or None,
                            annotations=notes_from_scenario(scenario))  # fmt: skip
    return Path(res.path)
