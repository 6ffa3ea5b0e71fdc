"""The plan comparison dialog: the forecasts run in a worker thread, the table shows the
comparison's numbers (the same as :func:`compare_plans` gives headless), the recommended plan is
preselected and highlighted, and "export" hands the chosen plan to the app's exporter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hydrotwin.fourpre.plan import compare_plans, plan_templates

START = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def dialog(qtbot, demo_basin):
    from hydrotwin.viewers.plan_compare import PlanCompareDialog

    calls = []
    dlg = PlanCompareDialog(
        demo_basin, plan_templates(demo_basin), lambda c, pid, path: calls.append((c, pid, path)),
        zh=True, start=START,
    )  # fmt: skip
    dlg.export_calls = calls
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


@pytest.mark.gui
def test_dialog_compares_in_a_thread_and_exports_the_chosen_plan(dialog, qtbot, demo_basin,
                                                                   tmp_path):  # fmt: skip
    assert not dialog.export_button.isEnabled()
    assert dialog.storm.currentData() == "design:design_100yr"
    with qtbot.waitSignal(dialog.compared, timeout=60_000) as sig:
        dialog.run_button.click()
    comp = sig.args[0]
    ref = compare_plans(demo_basin, dialog.plans, rain="design:design_100yr", hours=72,
                        start=START)  # fmt: skip
    assert dialog.chosen.currentData() == ref.recommendation.plan_id == "pre_release"
    labels = [dialog.table.verticalHeaderItem(i).text() for i in range(dialog.table.rowCount())]
    peak_row = labels.index("青溪水库: peak level (m)")
    for j, r in enumerate(ref.results):
        assert dialog.table.item(peak_row, j).text() == f"{r.reservoirs[0].peak_level_m:.2f}"
    town_grade = labels.index("青溪镇: highest warning grade")
    assert dialog.table.item(town_grade, 0).text() == "orange"  # English: no translator here
    # the chosen column is highlighted
    assert dialog.table.item(peak_row, 1).background().color().name() == "#fff4c2"
    from PySide6.QtCore import Qt

    assert dialog.table.item(peak_row, 0).background().style() == Qt.BrushStyle.NoBrush
    dialog.grab().save(str(tmp_path / "plan_compare.png"))

    dialog.chosen.setCurrentIndex(dialog.chosen.findData("safe_release"))
    assert dialog.table.item(peak_row, 2).background().color().name() == "#fff4c2"
    dialog.export_report(tmp_path / "r.html")
    assert dialog.export_calls == [(comp, "safe_release", str(tmp_path / "r.html"))]
