"""Batch rain-holding capacity on the demo plugin's generated reservoir set: skipped rows with
reasons, levels from a real SQLite store, forecast margins and risk, the CLI end to end."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hydrotwin_demo_basin import reservoirs as gen

from hydrotwin.app.cli import main
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre import capacity as cap

DUR = [1.0, 3.0, 6.0, 12.0, 24.0]


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("capset")
    rows = gen.reservoir_rows(n=120, seed=5)
    df = pd.DataFrame(rows)
    df.to_csv(out / "res.csv", index=False)
    fc = pd.DataFrame(gen.forecast_rows(rows), columns=["id", "lead_h", "rain_mm"])
    fc.to_csv(out / "fc.csv", index=False)
    return out, rows


def test_generator_is_deterministic_and_holds_the_demo_reservoir():
    a, b = gen.reservoir_rows(n=50), gen.reservoir_rows(n=50)
    assert pd.DataFrame(a).equals(pd.DataFrame(b))
    assert a[-1]["id"] == "qingxi_res" and a[-1]["name"] == "青溪水库"
    assert {r.get("broken") for r in gen.reservoir_rows(n=1000)} >= set(gen.BROKEN)


def test_broken_rows_are_skipped_with_reasons(small_set):
    out, rows = small_set
    prep = cap.prepare(cap.read_reservoirs(out / "res.csv"))
    broken = {r["id"]: r["broken"] for r in rows if isinstance(r.get("broken"), str)}
    assert {e["id"] for e in prep.errors} == set(broken)
    assert len(prep.table) == len(rows) - len(broken)
    words = {
        "area_zero": "area_km2 = 0",
        "curve_not_increasing": "must increase",
        "crest_above_check": "above check_flood_m",
        "missing_slope": "slope is missing",
    }
    for e in prep.errors:
        assert words[broken[e["id"]]] in e["reason"], e
        assert rows[e["row"] - 2]["id"] == e["id"]


def test_batch_equals_one_reservoir_call(small_set):
    out, rows = small_set
    fc = cap.read_rain_forecast(out / "fc.csv")
    batch = cap.compute(cap.prepare(cap.read_reservoirs(out / "res.csv")), DUR, fc)
    good = [r for r in rows if not isinstance(r.get("broken"), str)]
    cols = [f"cap_{t}_mm" for t in cap.TARGETS]
    for r in [good[0], good[17], good[42], good[-1]]:
        one = cap.capacity_one(r, DUR)
        mine = batch[batch["id"] == r["id"]]
        np.testing.assert_allclose(mine[cols].to_numpy(), one[cols].to_numpy(), rtol=1e-12)
        assert mine["status_design"].tolist() == one["status_design"].tolist()


def test_margin_and_risk_follow_the_forecast(small_set):
    out, _ = small_set
    fc = cap.read_rain_forecast(out / "fc.csv")
    res = cap.compute(cap.prepare(cap.read_reservoirs(out / "res.csv")), DUR, fc)
    has = res["forecast_mm"].notna()
    assert has.sum() > 50
    r = res[has & (res["status_flood_limit"] == "ok")]
    np.testing.assert_allclose(
        r["margin_flood_limit_mm"], r["cap_flood_limit_mm"] - r["forecast_mm"]
    )
    assert ((r["risk"] >= 1) == (r["forecast_mm"] >= r["cap_flood_limit_mm"])).all()
    above = res[res["status_flood_limit"] == "above"]
    assert len(above) > 0 and (above["risk"] >= 1).all()
    assert (res.loc[~has, "risk"] == (res.loc[~has, "status_flood_limit"] == "above")).all()
    first = fc.get(res["id"].iloc[0])
    if first is not None:
        assert res["forecast_mm"].iloc[0] == pytest.approx(first[:1].sum())


def test_levels_come_from_the_store(small_set, tmp_path):
    from hydrotwin.live.observation import Observation
    from hydrotwin.live.store import open_store

    out, rows = small_set
    r0, r1 = rows[0], rows[1]
    with open_store(tmp_path / "obs.db") as store:
        t = datetime(2026, 7, 1, 8, tzinfo=UTC)
        store.add([
            Observation(r0["stcd"], t, "ZU", r0["flood_limit_m"] - 3.0, "m"),
            Observation(r0["stcd"], t.replace(hour=9), "ZU", r0["flood_limit_m"] + 0.1, "m"),
            Observation(r1["stcd"], t, "ZU", r1["level_m"] - 0.5, "m"),
        ])  # fmt: skip
    levels = cap.store_levels(tmp_path / "obs.db")
    assert levels[r0["stcd"]][1] == pytest.approx(r0["flood_limit_m"] + 0.1)
    prep = cap.prepare(cap.read_reservoirs(out / "res.csv"), levels)
    res = cap.compute(prep, [6.0])
    a = res[res["id"] == r0["id"]].iloc[0]
    assert a["level_source"] == "store" and a["status_flood_limit"] == "above"
    assert res[res["id"] == r1["id"]]["level_m"].iloc[0] == pytest.approx(r1["level_m"] - 0.5)
    assert (res["level_source"] == "store").sum() == 2


def test_bad_forecast_names_the_row(tmp_path):
    p = tmp_path / "fc.csv"
    p.write_text("id,lead_h,rain_mm\nR00001,1,3.5\nR00001,2,-1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"row 3: lead_h = 2, rain_mm = -1"):
        cap.read_rain_forecast(p)


def test_cli_writes_table_and_errors(small_set, tmp_path, capsys):
    out, rows = small_set
    res_path = tmp_path / "result.gpkg"
    code = main(["capacity", "--reservoirs", str(out / "res.csv"), "--rain-forecast",
                 str(out / "fc.csv"), "--durations", "1,6,24", "--out", str(res_path),
                 "--crs", gen.CRS])  # fmt: skip
    assert code == 0
    import geopandas as gpd

    g = gpd.read_file(res_path)
    assert g.crs.to_epsg() == 4547
    n_bad = sum(isinstance(r.get("broken"), str) for r in rows)
    assert len(g) == (len(rows) - n_bad) * 3
    errs = pd.read_csv(tmp_path / "result_errors.csv")
    assert len(errs) == n_bad and set(errs.columns) == {"row", "id", "reason"}
    assert "rows skipped" in capsys.readouterr().out


def test_cli_errors_and_usage(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,area_km2\nA,3\n", encoding="utf-8")
    assert main(["capacity", "--reservoirs", str(bad), "--out", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert "missing column(s)" in err and "slope" in err and str(bad) in err
    assert not (tmp_path / "o.csv").exists()
    with pytest.raises(SystemExit) as exc:
        main(["capacity", "--reservoirs", str(bad), "--durations", "0,x", "--out", "o.csv"])
    assert exc.value.code == 2


def test_antecedent_index():
    """Constant rain p: Pa → K·p/(1 − K) (geometric series), capped at WM."""
    assert cap.antecedent_index(np.full(200, 5.0), wm_mm=500.0) == pytest.approx(0.85 * 5 / 0.15)
    assert cap.antecedent_index(np.full(30, 80.0), wm_mm=120.0) == 120.0
    assert cap.antecedent_index([100.0] + [0.0] * 3, wm_mm=120.0) == pytest.approx(85 * 0.85**3)


def test_cli_refuses_a_crs_other_than_the_files(tmp_path, capsys):
    import geopandas as gpd

    df = pd.DataFrame(gen.reservoir_rows(n=10, seed=2))
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=gen.CRS)
    g.to_file(tmp_path / "res.gpkg", driver="GPKG")
    args = ["capacity", "--reservoirs", str(tmp_path / "res.gpkg"), "--out",
            str(tmp_path / "o.gpkg"), "--crs", "EPSG:4326"]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "EPSG:4547" in err and "EPSG:4326" in err
    assert main(args[:-2]) == 0
    assert gpd.read_file(tmp_path / "o.gpkg").crs.to_epsg() == 4547
