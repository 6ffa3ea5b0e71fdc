"""The plan comparison table gains an ensemble's probabilities (issue 19): one row per
probability, each plan's value under its column, "—" for a plan the ensemble did not run."""

from __future__ import annotations

from datetime import UTC, datetime

START = datetime(2026, 7, 1, tzinfo=UTC)


def test_plan_table_gains_the_ensemble_probabilities(qtbot, qapp, demo_basin):
    from distributed import Client

    from hydrotwin.app.i18n import install_translators
    from hydrotwin.fourpre.ensemble import make_tasks, run_ensemble
    from hydrotwin.fourpre.ensemble_members import Perturbation
    from hydrotwin.fourpre.ensemble_result import plan_rows
    from hydrotwin.fourpre.plan import compare_plans, plan_templates
    from hydrotwin.viewers.plan_compare import PlanCompareDialog

    plans = plan_templates(demo_basin)
    run = plans[:2]  # the ensemble runs two of the dialog's plans
    tasks = make_tasks(demo_basin, 6, start=START, hours=72.0, plans=run, seed=2,
                       perturbation=Perturbation(depth_sigma=0.4))  # fmt: skip
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as c:
        ds = run_ensemble(c, demo_basin, tasks)
    rows = plan_rows(ds, "61612500")
    translators = install_translators(qapp, "zh_CN")
    try:
        dlg = PlanCompareDialog(demo_basin, plans, lambda *a: None, zh=True, start=START)
        qtbot.addWidget(dlg)
        dlg.set_comparison(compare_plans(demo_basin, plans, hours=72.0, start=START))
        before = dlg.table.rowCount()
        assert dlg.add_probabilities(rows) == 2  # P(≥ yellow), P(reservoir ≥ design)
        t = dlg.table
        assert t.rowCount() == before + 2
        assert t.verticalHeaderItem(before).text() == "集合预报：P(≥ 黄色，主控站)"
        for j, p in enumerate(plans):
            text = t.item(before, j).text()
            if p in run:
                want = float(ds.p_station_grade.sel(plan=p.id, station="61612500",
                                                    grade="yellow")[-1])  # fmt: skip
                assert text == f"{want:.0%}"
            else:
                assert text == "—"
    finally:
        for tr in translators:
            qapp.removeTranslator(tr)
