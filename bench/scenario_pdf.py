"""Seconds to run the demo scenario headless and to write its 预案 PDF (Chinese and English).

Runs ``qingxi_100yr.toml`` once (forecasts + 2D rehearsals in worker processes), then writes
the PDF a few times per language and prints the medians and the page count.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

RUNS = 5


def main() -> int:
    import hydrotwin_demo_basin

    from hydrotwin.app.plan_pdf import DocInfo, write_plan_pdf
    from hydrotwin.fourpre.scenario import chosen_plan, load_scenario, run_scenario

    path = Path(hydrotwin_demo_basin.__file__).parent / "scenarios" / "qingxi_100yr.toml"
    sc = load_scenario(path)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        comp = run_scenario(sc, path, Path(tmp) / "run")
        run_s = time.perf_counter() - t0
        chosen = chosen_plan(sc, comp)
        info = DocInfo(sc.report.prepared_by, sc.report.organisation, sc.title)
        figures: dict[str, float] = {"scenario_run_s": round(run_s, 2)}
        for lang in ("zh_CN", "en"):
            times = []
            for _ in range(RUNS):
                t = time.perf_counter()
                pdf = write_plan_pdf(comp, Path(tmp) / f"plan_{lang}.pdf", chosen, lang, info)
                times.append(time.perf_counter() - t)
            figures[f"pdf_{lang}_s"] = round(statistics.median(times), 3)
            figures[f"pdf_{lang}_kb"] = round(pdf.stat().st_size / 1024, 1)
        pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        figures["pages"] = int(next(ln.split()[-1] for ln in pages.splitlines()
                                    if ln.startswith("Pages")))  # fmt: skip
    cores = os.cpu_count()
    print(f"demo scenario run (2 plans, 12 h forecast, 3 h 2D): {figures['scenario_run_s']} s "
          f"on {cores} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    for lang in ("zh_CN", "en"):
        print(f"预案 PDF {lang}: median {figures[f'pdf_{lang}_s']} s over {RUNS} writes, "
              f"{figures[f'pdf_{lang}_kb']} KiB, {figures['pages']} pages")  # fmt: skip
    print(json.dumps({**figures, "cores": cores}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
