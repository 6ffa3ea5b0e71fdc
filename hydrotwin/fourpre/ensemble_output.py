"""The ensemble result as a CF-1.8 Dataset (what ``hydrotwin ensemble --out`` writes and the
app opens): percentiles, probabilities of warning grades by lead time, reservoir
exceedances, and with a rehearsal the inundation probability map and people at risk."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr

from hydrotwin.fourpre.ensemble_reduce import (
    DEPTH_BINS_M,
    GRADE_KEYS,
    PERCENTILES,
    UM,
    percentile_from_hist,
    station_thresholds,
)
from hydrotwin.fourpre.flood import DEEP_M, FLOODED_M

Z_STD = "water_surface_height_above_reference_datum"
Q_STD = "water_volume_transport_in_river_channel"


def _fraction(count: np.ndarray, n_ok: np.ndarray) -> np.ndarray:
    """count / completed members along the leading (plan) axis; NaN where none completed."""
    shape = (-1,) + (1,) * (count.ndim - 1)
    n = n_ok.reshape(shape).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, count / np.maximum(n, 1), np.nan)


def build_dataset(r: Any) -> xr.Dataset:
    """The Dataset of an :class:`~hydrotwin.fourpre.ensemble_reduce.EnsembleReducer`."""
    b = r.basin
    n_ok = r.ok.sum(axis=1)
    ds = xr.Dataset(
        coords={
            "plan": np.array(r.plans, dtype=object),
            "member": np.arange(r.members, dtype=np.int32),
            "station": np.array([s.id for s in b.stations], dtype=object),
            "time": r.times,
            "percentile": np.array(PERCENTILES),
            "grade": np.array(GRADE_KEYS, dtype=object),
            "reservoir": np.array([x.id for x in b.reservoirs], dtype=object),
            "reservoir_level_kind": np.array(
                ["flood_limit", "design_flood", "check_flood"], dtype=object
            ),
        }
    )
    ds["time"].attrs.update(standard_name="time", long_name="time (UTC)", axis="T")
    ds["percentile"].attrs.update(units="%", long_name="percentile over completed members")
    _members(ds, r, n_ok)
    _stations(ds, r, n_ok)
    _reservoirs(ds, r, n_ok)
    if r.grid is not None:
        _maps(ds, r, n_ok)
        _impacts(ds, r, n_ok)
    _attrs(ds, r)
    return ds


def _members(ds: xr.Dataset, r: Any, n_ok: np.ndarray) -> None:
    ds["member_ok"] = (("plan", "member"), r.ok.astype(np.int8))
    ds["member_ok"].attrs.update(long_name="1: the member completed; 0: it failed",
                                 flag_values=np.array([0, 1], np.int8),
                                 flag_meanings="failed completed")  # fmt: skip
    err = np.full(r.ok.shape, "", dtype=object)
    for (p, m), text in r.errors.items():
        err[p, m] = text
    ds["member_error"] = (("plan", "member"), err)
    ds["member_error"].attrs.update(long_name="why the member failed (empty: it completed)")
    ds["members_completed"] = (("plan",), n_ok.astype(np.int32))


def _stations(ds: xr.Dataset, r: Any, n_ok: np.ndarray) -> None:
    q = np.array(PERCENTILES)
    for name, arr, attrs in (
        ("station_level", r.level, dict(units="m", standard_name=Z_STD)),
        ("station_discharge", r.discharge, dict(units="m3 s-1", standard_name=Q_STD)),
    ):
        pct = _nanpercentile(arr, q)  # [pct, plan, station, time]
        ds[f"{name}_percentile"] = (("plan", "percentile", "station", "time"),
                                    pct.transpose(1, 0, 2, 3))  # fmt: skip
        ds[f"{name}_percentile"].attrs.update(
            long_name=f"{name.replace('_', ' ')}: percentile over the completed members",
            cell_methods="member: percentile", **attrs,
        )  # fmt: skip
        ds[f"{name}_mean"] = (("plan", "station", "time"), _nanmean(arr))
        ds[f"{name}_mean"].attrs.update(cell_methods="member: mean", **attrs)
    ds["p_station_grade"] = (("plan", "station", "grade", "time"),
                             _fraction(r.grade_count, n_ok))  # fmt: skip
    ds["p_station_grade"].attrs.update(
        units="1",
        long_name="probability that the station reaches at least this warning grade at or "
        "before this time (hydrotwin.fourpre.warning grades; plan station_grades)",
    )
    ds["station_threshold"] = (("station", "grade"), station_thresholds(r.basin))
    ds["station_threshold"].attrs.update(units="m", long_name="level at which the grade starts")
    ds["station_name_zh"] = ("station", np.array([s.names.zh for s in r.basin.stations], object))
    ds["station_name_en"] = ("station", np.array([s.names.en for s in r.basin.stations], object))
    ds["station_kind"] = ("station", np.array([s.kind for s in r.basin.stations], object))


def _nanpercentile(arr: np.ndarray, q: np.ndarray) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: rain gauges have no level
        return np.nanpercentile(arr, q, axis=1)


def _nanmean(arr: np.ndarray) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(arr, axis=1)


def _reservoirs(ds: xr.Dataset, r: Any, n_ok: np.ndarray) -> None:
    ds["p_reservoir_exceed"] = (("plan", "reservoir", "reservoir_level_kind", "time"),
                                _fraction(r.res_count, n_ok))  # fmt: skip
    ds["p_reservoir_exceed"].attrs.update(
        units="1", long_name="probability that the reservoir level reaches the characteristic "
        "level (flood limit 汛限, design 设计, check 校核) at or before this time",
    )  # fmt: skip
    levels = [
        [getattr(x.levels, f"{k}_m") for k in ("flood_limit", "design_flood", "check_flood")]
        for x in r.basin.reservoirs
    ]
    ds["reservoir_threshold"] = (("reservoir", "reservoir_level_kind"),
                                 np.array(levels, float).reshape(-1, 3))  # fmt: skip
    ds["reservoir_threshold"].attrs.update(units="m", standard_name=Z_STD)


def _maps(ds: xr.Dataset, r: Any, n_ok: np.ndarray) -> None:
    x, y, wall = r.grid
    n_map = np.array([np.isfinite(r.people[p]).sum() for p in range(len(r.plans))])
    ds.coords["x"] = ("x", np.asarray(x, float))
    ds.coords["y"] = ("y", np.asarray(y, float))
    ds["x"].attrs.update(standard_name="projection_x_coordinate", units="m", axis="X")
    ds["y"].attrs.update(standard_name="projection_y_coordinate", units="m", axis="Y")
    dims = ("plan", "y", "x")
    p_map = _fraction(r.flooded, n_map)
    mean = _fraction(r.depth_um.astype(float) / UM, n_map)
    p90 = np.stack([percentile_from_hist(r.hist[p], 90.0) for p in range(len(r.plans))])
    for name, arr, attrs in (
        ("p_inundation", p_map, dict(units="1", long_name=f"probability that the maximum "
                                     f"depth is ≥ {FLOODED_M} m")),
        ("max_depth_mean", mean, dict(units="m", long_name="mean over members of the maximum "
                                      "depth", cell_methods="member: mean")),
        ("max_depth_p90", p90, dict(units="m", long_name="90th percentile over members of the "
                                    "maximum depth (binned: see depth_bins)")),
    ):  # fmt: skip
        ds[name] = (dims, np.where(wall[None], np.nan, arr).astype(np.float32))
        ds[name].attrs.update(grid_mapping="crs", **attrs)
    ds["depth_bins"] = (("depth_bin_edge",), DEPTH_BINS_M)
    ds["depth_bins"].attrs.update(units="m", long_name="bin edges of the max-depth histogram")


def _impacts(ds: xr.Dataset, r: Any, n_ok: np.ndarray) -> None:
    import warnings

    ds["people_at_risk"] = (("plan", "member"), r.people)
    ds["people_at_risk"].attrs.update(
        units="1", long_name=f"people in buildings whose cell's maximum depth is > {DEEP_M} m"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ds["people_at_risk_mean"] = (("plan",), np.nanmean(r.people, axis=1))
        ds["people_at_risk_p90"] = (("plan",), np.nanpercentile(r.people, 90.0, axis=1))
    flooded = np.zeros((len(r.plans), len(r.places)))
    counted = np.zeros(len(r.plans))
    for (p, _m), depths in r.place_depth.items():
        counted[p] += 1
        for k, name in enumerate(r.places):
            flooded[p, k] += depths.get(name, 0.0) >= FLOODED_M
    ds.coords["place"] = np.array(r.places, dtype=object)
    ds["p_place_flooded"] = (("plan", "place"), _fraction(flooded, counted))
    ds["p_place_flooded"].attrs.update(
        units="1", long_name=f"probability that the place's deepest building is ≥ {FLOODED_M} m"
    )


def _attrs(ds: xr.Dataset, r: Any) -> None:
    from hydrotwin.fourpre.forecast import _crs_attrs

    t = r.tasks[0]
    p = t.perturbation
    ds["crs"] = ((), np.int32(0))
    ds["crs"].attrs.update(_crs_attrs(r.basin.basin.crs))
    ds.attrs.update(
        Conventions="CF-1.8",
        title=f"HydroTwin ensemble forecast for basin {r.basin.id}",
        source="hydrotwin ensemble",
        basin_id=r.basin.id,
        members=int(r.members),
        plans=json.dumps(r.plans),
        seed=int(t.seed),
        rain=t.rain,
        perturbation=json.dumps(
            {"depth_sigma": p.depth_sigma, "shift_h": p.shift_h, "spread_sigma": p.spread_sigma}
        ),
        forecast_start_utc=t.start.isoformat().replace("+00:00", "Z"),
        time_step_s=t.dt_h * 3600.0,
        rehearsed=int(bool(t.rehearse)),
        inundation_threshold_m=FLOODED_M,
        members_failed=len(r.errors),
    )
