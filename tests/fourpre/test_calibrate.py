"""Calibration: recovery of known parameters, and the real Biliu record (calibrate on one
period, validate on a later one)."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.fourpre.calibrate import CAL_BOUNDS, Series, calibrate, read_series, simulate
from hydrotwin.solver.xinanjiang import PARAM_NAMES

AREA = 2055.56  # km², Biliu (basin_attributes.csv)


@pytest.fixture(scope="module")
def biliu_daily(shared_data):
    return read_series(shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550_daily.csv")


def test_reads_biliu_files(biliu_daily, shared_data):
    s = biliu_daily
    assert s.dt_h == 24.0 and s.flow_m3s.size == 3735
    assert str(s.time[0])[:10] == "2012-06-10"
    h = read_series(shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550.csv")
    assert h.dt_h == 1.0  # day-first dates (10/6/2012 0:00) read as 10 June
    assert str(h.time[0])[:16] == "2012-06-10T00:00" and str(h.time[24])[:10] == "2012-06-11"


@pytest.mark.slow
def test_recovers_a_known_model(biliu_daily):
    """Flow made by the model itself on real forcing is fitted to NSE > 0.98."""
    s = biliu_daily
    n = 800
    truth = np.array([[0.5, 12, 70, 80, 0.15, 0.3, 0.03, 30, 1.3, 0.4, 0.25, 0.6, 1, 0.7, 0.99]])
    q = simulate(truth, Series(s.time[:n], s.prcp_mm[:n], s.pet_mm[:n], s.flow_m3s[:n], 24.0), AREA)
    syn = Series(s.time[:n], s.prcp_mm[:n], s.pet_mm[:n], q[:, 0], 24.0)
    c = calibrate(syn, AREA, warmup=200, cal=slice(0, n), maxiter=25, seed=3)
    assert c.nse_calibration > 0.98
    for name, v in c.params.items():
        lo, hi = CAL_BOUNDS[name]
        assert lo <= v <= hi, name
    assert set(c.params) == set(PARAM_NAMES)


def test_biliu_calibration_and_validation(biliu_daily):
    """Calibrated 2012-06 → 2016 (first 365 days warm-up), validated 2017 → 2022-08 (daily).

    Measured here: calibration NSE ≈ 0.53, validation NSE ≈ 0.30 (KGE ≈ 0.38): grade below 丙.
    The record is hard for a lumped model: pan PET ≈ 3,000 mm/a against 650 mm/a rain, a
    runoff ratio near 0.5–0.9 in some years and flow in rainless winters (the flow is the
    reservoir's back-calculated inflow). The floors below guard against regressions only.
    """
    s = biliu_daily
    split = int(np.searchsorted(s.time, np.datetime64("2017-01-01")))
    c = calibrate(s, AREA, warmup=365, cal=slice(0, split), val=slice(split, None), maxiter=30)
    assert c.calibration.nse >= 0.45
    assert c.validation is not None and c.validation.nse >= 0.20
    assert c.validation.kge >= 0.25


# -- units from the headers (issue 21, item 5) ------------------------------------------------
def _nine_hour_file(shared_data, path, header="time,prcp(mm/h),pet(mm/h),flow(m^3/s)"):
    """The hourly Biliu record averaged over 9-hour blocks, rain and PET as mm/h rates."""
    import pandas as pd

    src = shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550.csv"
    df = pd.read_csv(src, encoding="utf-8-sig")
    n = len(df) // 9 * 9
    g = np.arange(n) // 9
    t = pd.to_datetime(df["time"][:n], dayfirst=True).groupby(g).first()
    cols = [df[c][:n].groupby(g).mean() for c in df.columns[1:]]
    out = pd.DataFrame({"time": t.dt.strftime("%Y-%m-%d %H:%M"), "a": cols[0], "b": cols[1],
                        "c": cols[2]})  # fmt: skip
    out.columns = header.split(",")
    out.to_csv(path, index=False)
    return df, n


def test_units_in_the_headers_are_converted(shared_data, tmp_path):
    """mm/h at a 9-hour step is nine times the rate per step: the rain totals of the hourly
    and the 9-hour files agree to 1e-9 (read as mm per step, they were 9× apart)."""
    hourly, n = _nine_hour_file(shared_data, tmp_path / "p9.csv")
    s = read_series(tmp_path / "p9.csv")
    assert s.dt_h == 9.0 and s.flow_m3s.size == n // 9
    assert s.prcp_mm.sum() == pytest.approx(hourly["prcp(mm/hour)"][:n].sum(), rel=1e-9)
    assert s.pet_mm.sum() == pytest.approx(hourly["pet(mm/hour)"][:n].sum(), rel=1e-9)
    assert "mm/h, × 9 → mm per 9 h step" in s.units["prcp(mm/h)"]
    # the daily file says mm/day: one day per step, factor 1; the hourly file says mm/hour
    d = read_series(shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550_daily.csv")
    assert "mm/d, × 1 →" in d.units["prcp(mm/day)"] and d.flow_missing == 0


@pytest.mark.parametrize(
    ("header", "factor"),
    [("flow(L/s)", 1e-3), ("flow [m³/s]", 1.0), ("Q(m3/h)", 1 / 3600), ("flow(cfs)", 0.3048**3)],
)
def test_flow_units(tmp_path, header, factor):
    p = tmp_path / "f.csv"
    p.write_text(f"time,rain(mm/d),pet(mm/day),{header}\n2020-01-01,1,2,1000\n2020-01-02,0,2,\n")
    s = read_series(p)
    assert s.flow_m3s[0] == pytest.approx(1000 * factor, rel=1e-6)
    assert s.flow_missing == 1 and np.isnan(s.flow_m3s[1])


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ("time,prcp(inch/h),pet(mm/h),flow(m3/s)", r"column 'prcp\(inch/h\)' has unit 'inch/h'"),
        ("time,prcp(mm/h),pet(mm/h),flow(mm/d)", r"'flow\(mm/d\)' has unit 'mm/d'; expected a"),
        ("time,prcp(mm/month),pet(mm),flow(m3/s)", r"unit 'mm/month'; expected one of mm, "),
    ],
)
def test_unknown_units_are_refused(tmp_path, header, match):
    from hydrotwin.errors import InputDataError

    p = tmp_path / "u.csv"
    p.write_text(f"{header}\n2020-01-01,1,2,3\n2020-01-02,1,2,3\n")
    with pytest.raises(InputDataError, match=match):
        read_series(p)


def test_text_in_a_number_column_names_row_and_value(tmp_path):
    from hydrotwin.errors import InputDataError

    p = tmp_path / "t.csv"
    p.write_text("time,prcp,pet,flow\n2020-01-01,1,2,3\n2020-01-02,1,2,M\n")
    with pytest.raises(InputDataError, match=r"row 3, column 'flow' .* is 'M'; expected a number"):
        read_series(p)


def test_nine_hour_record_calibrates_only_when_its_units_are_read(shared_data, tmp_path):
    """Calibrated 2012-06 → 2016 at 9 h. Measured: NSE 0.52 with the units read; the same
    numbers taken as mm per step (the old reading) give NSE 0.12 and observed runoff 4.3 times
    the rain, which the water-balance check reports."""
    _nine_hour_file(shared_data, tmp_path / "p9.csv")
    _nine_hour_file(shared_data, tmp_path / "raw.csv", header="time,prcp,pet,flow")
    results = {}
    for name in ("p9", "raw"):
        s = read_series(tmp_path / f"{name}.csv")
        split = int(np.searchsorted(s.time, np.datetime64("2017-01-01")))
        results[name] = calibrate(s, AREA, warmup=round(365 * 24 / 9), cal=slice(0, split))
    good, raw = results["p9"], results["raw"]
    assert good.nse_calibration >= 0.45 and good.warnings == []
    assert raw.nse_calibration < 0.30
    assert len(raw.warnings) == 1 and "exceeds the rain" in raw.warnings[0]
    assert "runoff ratio 4." in raw.warnings[0]


def test_parameters_on_a_bound_are_named():
    from hydrotwin.fourpre.calibrate import bounds_hit

    p = {n: 0.5 * (lo + hi) for n, (lo, hi) in CAL_BOUNDS.items()}
    assert bounds_hit(p) == []
    p["K"], p["CG"] = 0.1, 0.998
    assert bounds_hit(p) == ["K=0.1 (lower bound 0.1)", "CG=0.998 (upper bound 0.998)"]


def test_ranges_are_as_wide_as_published_and_within_the_solver():
    """Zhao & Liu (1995) as tabulated by the R package XAJ, and standards.md §5.1."""
    from hydrotwin.solver.xinanjiang import PARAM_RANGES

    published = {"K": (0.2, 1.5), "WUM": (10, 50), "WLM": (60, 90), "B": (0.1, 0.6),
                 "EX": (1.0, 2.0), "CG": (0.95, 0.998), "CI": (0.5, 0.9), "SM": (10, 60),
                 "KI": (0.01, 0.7), "KG": (0.01, 0.7), "C": (0.05, 0.2), "L": (1, 10)}  # fmt: skip
    for name, (lo, hi) in published.items():
        assert CAL_BOUNDS[name][0] <= lo and CAL_BOUNDS[name][1] >= hi, name
    for name, (lo, hi) in CAL_BOUNDS.items():
        assert PARAM_RANGES[name][0] <= lo and hi <= PARAM_RANGES[name][1], name
