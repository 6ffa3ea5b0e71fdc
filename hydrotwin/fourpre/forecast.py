"""The forecast (预报): a :class:`~hydrotwin.basin.Basin` and rain → flows and levels everywhere.

Rain per sub-basin (:mod:`hydrotwin.fourpre.rain`) → Xinanjiang runoff per sub-basin → lateral
inflow of each sub-basin's outlet reach (+ the reach's base flow) → Muskingum routing over the
network in topological order, with each reservoir (level-pool, its operating rule) and sluice
gate (run-of-river, its gate rule) at its reach's outlet → discharge and level at every station
(rating curve where the basin gives one; reservoir levels from the routing).

The result is a CF-1.8 :class:`xarray.Dataset`: dims ``time`` (UTC; the first time is the
forecast start with the initial state, then one value per step end), ``reach``, ``reservoir``,
``station``, ``gate`` (``"<structure id>/<gate group id>"``). :func:`write_netcdf` writes it
atomically (temporary file, then rename).

    from hydrotwin.fourpre.forecast import run_forecast
    ds = run_forecast(basin, rain="design:100yr", hours=72, start=datetime(2026, 7, 1, tzinfo=UTC))
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import xarray as xr

from hydrotwin.basin.manifest import Basin, GateGroup, OperatingRule, XinanjiangState
from hydrotwin.errors import InputDataError, ParameterError
from hydrotwin.files import atomic_path
from hydrotwin.fourpre.rain import Rain
from hydrotwin.solver.network import OutletStructure, ReachState, route_network
from hydrotwin.solver.reservoir import GateArrays, ReservoirSpec, route_reservoir, sluice_levels
from hydrotwin.solver.xinanjiang import (
    PARAM_NAMES,
    XajState,
    check_params,
    params_for_step,
    run_xinanjiang,
)
from hydrotwin.timeutil import as_utc, now_hour, to_datetime64

log = logging.getLogger(__name__)

# Antecedent wetness when the manifest gives no initial state: 80 % of the tension-water
# capacity, the wet antecedent customary for design floods in humid south China
# [UNCONFIRMED practice; override with subbasins[].initial_state or ``states=``].
DEFAULT_WETNESS = 0.8


default_start = now_hour
"""Now (UTC) rounded down to the hour: the default forecast start (:func:`timeutil.now_hour`)."""


def _as_utc(start: datetime | None) -> datetime:
    if start is None:
        return default_start()
    if start.tzinfo is None:
        raise InputDataError(
            f"forecast start {start.isoformat()} has no time zone; give an aware datetime (UTC)"
        )
    return as_utc(start)


def _params_daily(basin: Basin) -> np.ndarray:
    return np.array([[float(getattr(sb.xaj, n)) for n in PARAM_NAMES] for sb in basin.subbasins])


def _initial_state(
    basin: Basin,
    par_step: np.ndarray,
    dt_s: float,
    states: dict[str, XinanjiangState] | None,
    lag_m3s: dict[str, list[float]] | None = None,
) -> XajState:
    n = len(basin.subbasins)
    st = XajState.initial(
        par_step, wu_frac=DEFAULT_WETNESS, wl_frac=DEFAULT_WETNESS, wd_frac=DEFAULT_WETNESS,
        s_frac=0.2, fr=0.1,
    )  # fmt: skip
    for i, sb in enumerate(basin.subbasins):
        given = None
        if states is not None:
            if sb.id not in states:
                raise InputDataError(
                    f"warm-start states name {sorted(states)} but not sub-basin {sb.id!r}; "
                    "every sub-basin needs its state"
                )
            given = states[sb.id]
        elif sb.initial_state is not None:
            given = sb.initial_state
        if given is None:
            continue
        to_mm = dt_s / (sb.area_km2 * 1e3)  # m³/s over one step → mm over the sub-basin
        caps = {
            "WU": par_step[i, 1],
            "WL": par_step[i, 2],
            "WD": par_step[i, 3],
            "S": par_step[i, 7],
        }
        for name, cap in caps.items():
            v = getattr(given, name)
            if v > cap + 1e-9:
                raise InputDataError(
                    f"initial state {name} of sub-basin {sb.id!r} is {v} mm; expected ≤ its "
                    f"capacity {cap} mm"
                )
        st.values[i] = [
            given.WU, given.WL, given.WD, given.S, given.FR,
            given.QI * to_mm, given.QG * to_mm, given.QS * to_mm,
        ]  # fmt: skip
        st.lag_buffer[i, :] = given.QS * to_mm
        if lag_m3s is not None and sb.id in lag_m3s:
            buf = np.asarray(lag_m3s[sb.id], float)[: st.lag_buffer.shape[1]]
            st.lag_buffer[i, : buf.size] = buf * to_mm
    if n and states is not None and set(states) - {sb.id for sb in basin.subbasins}:
        extra = sorted(set(states) - {sb.id for sb in basin.subbasins})
        raise InputDataError(f"warm-start states name unknown sub-basin(s) {extra}")
    return st


def _gate_arrays(groups: list[GateGroup]) -> GateArrays:
    return GateArrays(
        sill_m=np.array([g.sill_m for g in groups], float),
        width_m=np.array([g.bays * g.bay_width_m for g in groups], float),
        weir_m=np.array([g.weir_m for g in groups], float),
        mu=np.array([g.orifice_mu or 0.0 for g in groups], float),
        max_opening_m=np.array([g.max_opening_m for g in groups], float),
    )


def _schedule(rule: OperatingRule, steps: int, dt_h: float) -> np.ndarray:
    """Step-function opening: the value of the last schedule time ≤ the step's start hour."""
    hours = np.asarray(rule.schedule_h or [0.0], float)
    opening = np.asarray(rule.schedule_opening_m or [0.0], float)
    if (np.diff(hours) <= 0).any():
        raise InputDataError("gate schedule_h must be strictly increasing hours since the start")
    t = np.arange(steps) * dt_h
    idx = np.searchsorted(hours, t, side="right") - 1
    return np.where(idx >= 0, opening[np.maximum(idx, 0)], 0.0)


@dataclass
class _ResOut:
    inflow: np.ndarray
    level: np.ndarray
    storage: np.ndarray
    outflow: np.ndarray
    opening: np.ndarray


def run_forecast(
    basin: Basin,
    rain: str | Rain = "design:100yr",
    hours: float = 72.0,
    start: datetime | None = None,
    *,
    dt_h: float = 1.0,
    states: dict[str, XinanjiangState] | None = None,
    reservoir_levels_m: dict[str, float] | None = None,
    routing_states: dict[str, dict] | None = None,
    lag_buffers_m3s: dict[str, list[float]] | None = None,
) -> xr.Dataset:
    """Run the forecast and return the CF-1.8 Dataset (see the module docstring).

    ``states`` (every sub-basin; ``lag_buffers_m3s`` its channel inflow still in the lag),
    ``reservoir_levels_m`` and ``routing_states`` (every reach) warm-start the run, typically
    from :func:`end_states` of a run over the observed period; otherwise the manifest's initial
    states and levels (or the defaults) and steady flow in the river network are used.
    """
    from hydrotwin.fourpre.rain import get_rain

    t0 = _as_utc(start)
    if not hours > 0 or not dt_h > 0:
        raise InputDataError(f"hours = {hours!r}, dt_h = {dt_h!r}; expected both > 0")
    steps = round(hours / dt_h)
    if abs(steps * dt_h - hours) > 1e-9:
        raise InputDataError(f"{hours} h is not a whole number of {dt_h} h steps")
    dt_s = dt_h * 3600.0
    sbs = basin.subbasins
    names = [sb.id for sb in sbs]
    par_daily = _params_daily(basin)
    try:
        check_params(par_daily, names=names)
    except ParameterError as exc:
        raise ParameterError(f"basin {basin.id!r}: {exc}") from None
    par = params_for_step(par_daily, dt_h)
    state0 = _initial_state(basin, par, dt_s, states, lag_buffers_m3s)
    r = get_rain(basin, rain, t0, steps, dt_h)
    pet = np.array([[sb.pet_mm_per_day * dt_h / 24.0 for sb in sbs]]).repeat(steps, axis=0)
    xaj = run_xinanjiang(r.rain_mm, pet, par, state0)

    # sub-basin outflow → lateral inflow per reach
    reaches = basin.rivers.reaches
    rids = [rc.id for rc in reaches]
    ridx = {rid: i for i, rid in enumerate(rids)}
    area = np.array([sb.area_km2 for sb in sbs])
    q_sb = xaj.outflow_mm * area * 1e3 / dt_s
    q_sb0 = state0.values[:, 7] * area * 1e3 / dt_s
    lateral = np.tile([rc.base_flow_m3s for rc in reaches], (steps, 1)).astype(float)
    lateral0 = np.array([rc.base_flow_m3s for rc in reaches], float)
    for i, sb in enumerate(sbs):
        lateral[:, ridx[sb.outlet_reach]] += q_sb[:, i]
        lateral0[ridx[sb.outlet_reach]] += q_sb0[i]
    downstream = [ridx[rc.downstream] if rc.downstream else -1 for rc in reaches]

    # structures at reach outlets
    res_out: dict[str, _ResOut] = {}
    sluice_out: dict[str, _ResOut] = {}
    structures: dict[int, OutletStructure] = {}
    init_struct: dict[int, float] = {}
    for res in basin.reservoirs:
        i = ridx[res.reach]
        rule = res.rule
        target = {"target_level": rule.target_level_m, "flood_limit": res.levels.flood_limit_m}
        spec = ReservoirSpec(
            name=res.id,
            level_m=np.asarray(res.curve.level_m, float),
            storage_m3=np.asarray(res.curve.storage_m3, float),
            gates=_gate_arrays(res.gates),
            spill_crest_m=res.spillway.crest_m if res.spillway else np.inf,
            spill_width_m=res.spillway.width_m if res.spillway else 0.0,
            spill_m=res.spillway.coefficient_m if res.spillway else 0.42,
            rule=rule.kind,
            release_m3s=rule.release_m3s or 0.0,
            target_level_m=float(target.get(rule.kind) or np.nan),
            schedule_opening_m=_schedule(rule, steps, dt_h)
            if rule.kind == "gate_schedule"
            else None,
            safe_q_m3s=res.safe_downstream_m3s or np.inf,
            design_flood_m=res.levels.design_flood_m,
        )
        z0 = _start_level(res, reservoir_levels_m)

        def _route(q: np.ndarray, spec=spec, z0=z0, rid=res.id, i=i) -> np.ndarray:
            q_in0 = _initial_inflow[i]
            q_out0 = None if warm is None else warm[i].outflow_m3s
            out = route_reservoir(
                q, spec, initial_level_m=z0, initial_inflow_m3s=q_in0, dt_s=dt_s,
                initial_outflow_m3s=q_out0,
            )  # fmt: skip
            if out.above_curve:
                log.warning("reservoir %s rose above the top of its level–storage curve", rid)
            res_out[rid] = _ResOut(q, out.level_m, out.storage_m3, out.outflow_m3s, out.opening_m)
            return out.outflow_m3s

        structures[i] = _route
    for sg in basin.sluice_gates:
        i = ridx[sg.reach]
        g = _gate_arrays(sg.gates)
        if sg.rule.kind == "gate_schedule":
            sched = _schedule(sg.rule, steps, dt_h)
            opening = np.minimum(sched[:, None], g.max_opening_m[None, :])
        else:
            if sg.rule.kind != "free":
                log.warning(
                    "sluice %s: rule %r needs storage a run-of-river sluice does not have; "
                    "its gates are fully open", sg.id, sg.rule.kind,
                )  # fmt: skip
            opening = np.tile(g.max_opening_m, (steps, 1))

        def _sluice(q: np.ndarray, g=g, opening=opening, sid=sg.id) -> np.ndarray:
            z = sluice_levels(q, g, opening, name=f"sluice gate {sid!r}")
            sluice_out[sid] = _ResOut(q, z, np.full_like(q, np.nan), q.copy(), opening)
            return q

        structures[i] = _sluice

    # initial inflow of every reach (what routing starts from) — needed by reservoirs
    warm = None
    if routing_states is not None:
        missing = [rid for rid in rids if rid not in routing_states]
        if missing:
            raise InputDataError(f"warm-start routing states lack reach(es) {missing}")
        warm = [
            ReachState(
                float(routing_states[rid]["inflow_m3s"]), float(routing_states[rid]["outflow_m3s"]),
                np.asarray(routing_states[rid]["muskingum"], float),
            )
            for rid in rids
        ]  # fmt: skip
        # the structure sees the routed flow; its last value is the sub-reach end outflow
        _initial_inflow = np.array([w.muskingum[1, -1] for w in warm])
    else:
        _initial_inflow = _steady_inflow(lateral0, downstream, rids)
    for res in basin.reservoirs:
        init_struct[ridx[res.reach]] = float(_initial_inflow[ridx[res.reach]])
    net = route_network(
        lateral, downstream, [rc.k_h * 3600.0 for rc in reaches], [rc.x for rc in reaches], dt_s,
        initial_lateral_m3s=lateral0, structures=structures,
        initial_structure_outflow_m3s=init_struct, names=rids, warm=warm,
    )  # fmt: skip
    ds = _dataset(
        basin, t0, dt_h, steps, r, net, _initial_inflow, res_out, sluice_out, xaj,
        reservoir_levels_m,
    )  # fmt: skip
    ends = _xaj_end_states(basin, xaj.state, dt_s)
    routing = {
        rid: {
            "inflow_m3s": e.inflow_m3s, "outflow_m3s": e.outflow_m3s,
            "muskingum": e.muskingum.tolist(),
        }
        for rid, e in zip(rids, net.end_states, strict=True)
    }  # fmt: skip
    # kept in the file too (JSON attribute), so a later forecast can warm-start from it
    lags = {
        sb.id: (xaj.state.lag_buffer[i] * sb.area_km2 * 1e3 / dt_s).tolist()
        for i, sb in enumerate(sbs)
    }
    ds.attrs["end_states_json"] = json.dumps(
        {"subbasins": {k: v.model_dump() for k, v in ends.items()}, "lags": lags,
         "reaches": routing}
    )  # fmt: skip
    return ds


def _start_level(res, levels: dict[str, float] | None) -> float:
    if levels is not None and res.id in levels:
        z = float(levels[res.id])
        lo, hi = res.curve.level_m[0], res.curve.level_m[-1]
        if not lo <= z <= hi:
            raise InputDataError(
                f"start level of reservoir {res.id!r} is {z} m; expected within its curve {lo}–{hi}"
            )
        return z
    return res.initial_level_m if res.initial_level_m is not None else res.levels.flood_limit_m


def _xaj_end_states(basin: Basin, st: XajState, dt_s: float) -> dict[str, XinanjiangState]:
    out = {}
    for i, sb in enumerate(basin.subbasins):
        v = st.values[i]
        to_m3s = sb.area_km2 * 1e3 / dt_s
        out[sb.id] = XinanjiangState(
            WU=max(v[0], 0.0), WL=max(v[1], 0.0), WD=max(v[2], 0.0), S=max(v[3], 0.0),
            FR=min(max(v[4], 0.0), 1.0), QI=max(v[5], 0.0) * to_m3s,
            QG=max(v[6], 0.0) * to_m3s, QS=max(v[7], 0.0) * to_m3s,
        )  # fmt: skip
    return out


def end_states(ds: xr.Dataset) -> dict:
    """Sub-basin states and reservoir levels at the end of a run of :func:`run_forecast` (the
    Dataset, or its NetCDF file opened again), as keyword arguments for the next
    :func:`run_forecast`: ``states``, ``lag_buffers_m3s``, ``reservoir_levels_m``,
    ``routing_states``; the next run then continues this one."""
    text = ds.attrs.get("end_states_json")
    if not text:
        raise InputDataError(
            "the Dataset has no end_states_json attribute (not a HydroTwin forecast)"
        )
    data = json.loads(text)
    states = {k: XinanjiangState(**v) for k, v in data["subbasins"].items()}
    levels = {
        str(r): float(ds.reservoir_level.sel(reservoir=r).values[-1]) for r in ds.reservoir.values
    }
    return {
        "states": states,
        "lag_buffers_m3s": data["lags"],
        "reservoir_levels_m": levels,
        "routing_states": data["reaches"],
    }


def _steady_inflow(lateral0: np.ndarray, downstream: list[int], names: list[str]) -> np.ndarray:
    from hydrotwin.solver.network import topological_order

    q = lateral0.copy()
    for i in topological_order(downstream, names):
        d = downstream[i]
        if d >= 0:
            q[d] += q[i]
    return q


def _with_initial(first: float | np.ndarray, series: np.ndarray) -> np.ndarray:
    """Prepend the value at the forecast start (time index 0) to a per-step series."""
    head = np.broadcast_to(np.asarray(first, float), series.shape[1:])[None, ...]
    return np.concatenate([head, series], axis=0)


def _dataset(
    basin, t0, dt_h, steps, rain, net, q_init, res_out, sluice_out, xaj, levels
) -> xr.Dataset:
    times = np.array([to_datetime64(t0 + timedelta(hours=k * dt_h)) for k in range(steps + 1)])
    reaches = basin.rivers.reaches
    rids = [rc.id for rc in reaches]
    ridx = {r: i for i, r in enumerate(rids)}
    q_reach = _with_initial(q_init, net.outflow_m3s)  # [time, reach]
    ds = xr.Dataset(coords={"time": times, "reach": np.array(rids, dtype=object)})
    ds["time"].attrs.update(standard_name="time", long_name="time (UTC)", axis="T")
    ds["reach"].attrs.update(long_name="reach id", cf_role="timeseries_id")
    ds["reach_discharge"] = (("reach", "time"), q_reach.T)
    ds["reach_discharge"].attrs.update(
        standard_name="water_volume_transport_in_river_channel", units="m3 s-1",
        long_name="discharge leaving the reach downstream (after any structure at its outlet)",
    )  # fmt: skip
    ds["reach_lateral_inflow"] = (("reach", "time"), _with_initial(np.nan, net.inflow_m3s).T)
    ds["reach_lateral_inflow"].attrs.update(
        units="m3 s-1", long_name="total inflow at the reach's upstream end (upstream + lateral)"
    )
    # sub-basin runoff and rain
    sids = [sb.id for sb in basin.subbasins]
    area = np.array([sb.area_km2 for sb in basin.subbasins])
    ds = ds.assign_coords(subbasin=np.array(sids, dtype=object))
    ds["subbasin_rain"] = (("subbasin", "time"), _with_initial(np.nan, rain.rain_mm).T)
    ds["subbasin_rain"].attrs.update(
        standard_name="lwe_thickness_of_precipitation_amount", units="mm",
        long_name="rain in the step ending at this time", cell_methods="time: sum",
    )  # fmt: skip
    q_sb = xaj.outflow_mm * area * 1e3 / (dt_h * 3600.0)
    ds["subbasin_runoff"] = (("subbasin", "time"), _with_initial(np.nan, q_sb).T)
    ds["subbasin_runoff"].attrs.update(
        units="m3 s-1", long_name="Xinanjiang outflow of the sub-basin"
    )

    # reservoirs
    rs_ids = [r.id for r in basin.reservoirs]
    ds = ds.assign_coords(reservoir=np.array(rs_ids, dtype=object))
    n_t = steps + 1
    arr = {k: np.full((len(rs_ids), n_t), np.nan) for k in ("in", "out", "z", "v")}
    gate_ids: list[str] = []
    gate_rows: list[np.ndarray] = []
    for j, res in enumerate(basin.reservoirs):
        o = res_out[res.id]
        z0 = _start_level(res, levels)
        v0 = float(np.interp(z0, res.curve.level_m, res.curve.storage_m3))
        q0 = q_reach[0, ridx[res.reach]]
        arr["in"][j] = _with_initial(q_init[ridx[res.reach]], o.inflow)
        arr["out"][j] = _with_initial(q0, o.outflow)
        arr["z"][j] = _with_initial(z0, o.level)
        arr["v"][j] = _with_initial(v0, o.storage)
        for gi, gg in enumerate(res.gates):
            gate_ids.append(f"{res.id}/{gg.id}")
            gate_rows.append(_with_initial(o.opening[0, gi], o.opening[:, gi]))
    q_std = "water_volume_transport_in_river_channel"
    z_std = "water_surface_height_above_reference_datum"
    for name, key, attrs in (
        ("reservoir_inflow", "in", dict(units="m3 s-1", long_name="reservoir inflow")),
        ("reservoir_outflow", "out",
         dict(units="m3 s-1", long_name="reservoir outflow: spillway+gates", standard_name=q_std)),
        ("reservoir_level", "z",
         dict(units="m", long_name="reservoir water level (basin datum)", standard_name=z_std)),
        ("reservoir_storage", "v", dict(units="m3", long_name="reservoir storage")),
    ):  # fmt: skip
        ds[name] = (("reservoir", "time"), arr[key])
        ds[name].attrs.update(attrs)
    sl_level: dict[str, np.ndarray] = {}
    for sg in basin.sluice_gates:
        o = sluice_out[sg.id]
        sl_level[sg.id] = o.level
        q0 = q_reach[0, ridx[sg.reach]]
        sl_level[sg.id + "/0"] = sluice_levels(
            np.array([q0]), _gate_arrays(sg.gates), o.opening[:1], name=f"sluice gate {sg.id!r}"
        )
        for gi, gg in enumerate(sg.gates):
            gate_ids.append(f"{sg.id}/{gg.id}")
            gate_rows.append(_with_initial(o.opening[0, gi], o.opening[:, gi]))
    ds = ds.assign_coords(gate=np.array(gate_ids, dtype=object))
    ds["gate_opening"] = (
        ("gate", "time"),
        np.array(gate_rows) if gate_rows else np.zeros((0, n_t)),
    )
    ds["gate_opening"].attrs.update(units="m", long_name="gate opening height of the gate group")

    # stations
    st = basin.stations
    ds = ds.assign_coords(station=np.array([s.id for s in st], dtype=object))
    z_st = np.full((len(st), n_t), np.nan)
    q_st = np.full((len(st), n_t), np.nan)
    for k, s in enumerate(st):
        if s.reservoir is not None:
            j = rs_ids.index(s.reservoir)
            z_st[k], q_st[k] = arr["z"][j], arr["out"][j]
        elif s.sluice_gate is not None:
            sg = basin.sluice_gate(s.sluice_gate)
            q = q_reach[:, ridx[sg.reach]]
            q_st[k] = q
            z_st[k] = _with_initial(sl_level[sg.id + "/0"][0], sl_level[sg.id])
        elif s.reach is not None:
            q_st[k] = q_reach[:, ridx[s.reach]]
            if s.rating_curve is not None:
                rc = s.rating_curve
                z_st[k] = np.interp(q_st[k], rc.discharge_m3s, rc.level_m)
                if (q_st[k] > rc.discharge_m3s[-1]).any():
                    log.warning(
                        "station %s: discharge above its rating curve (max %g m³/s); level held "
                        "at the curve's top", s.id, rc.discharge_m3s[-1],
                    )  # fmt: skip
    ds["station_discharge"] = (("station", "time"), q_st)
    ds["station_discharge"].attrs.update(
        standard_name="water_volume_transport_in_river_channel", units="m3 s-1",
        long_name="discharge at the station", grid_mapping="crs", coordinates="x y",
    )  # fmt: skip
    ds["station_level"] = (("station", "time"), z_st)
    ds["station_level"].attrs.update(
        standard_name="water_surface_height_above_reference_datum", units="m",
        long_name="water level at the station (basin datum; rating curve or routing)",
        grid_mapping="crs", coordinates="x y",
    )  # fmt: skip
    ds["x"] = ("station", np.array([s.x for s in st], float))
    ds["x"].attrs.update(standard_name="projection_x_coordinate", units="m", long_name="easting")
    ds["y"] = ("station", np.array([s.y for s in st], float))
    ds["y"].attrs.update(standard_name="projection_y_coordinate", units="m", long_name="northing")
    ds["station_name_zh"] = ("station", np.array([s.names.zh for s in st], dtype=object))
    ds["station_name_en"] = ("station", np.array([s.names.en for s in st], dtype=object))
    ds["station_kind"] = ("station", np.array([s.kind for s in st], dtype=object))
    ds["station"].attrs.update(long_name="station code STCD (SL 323)", cf_role="timeseries_id")
    ds["crs"] = ((), np.int32(0))
    ds["crs"].attrs.update(_crs_attrs(basin.basin.crs))
    ds.attrs.update(
        Conventions="CF-1.8",
        title=f"HydroTwin forecast for basin {basin.id}",
        featureType="timeSeries",
        basin_id=basin.id,
        basin_name_zh=basin.basin.names.zh,
        basin_name_en=basin.basin.names.en,
        rain_source=rain.source,
        rain_description=rain.description,
        **({"rain_observed_until_utc": rain.observed_until} if rain.observed_until else {}),
        **({"rain_grid_files": json.dumps(list(rain.grid_files))} if rain.grid_files else {}),
        forecast_start_utc=times[0].astype("datetime64[s]").item().isoformat() + "Z",
        time_step_s=dt_h * 3600.0,
        scheme="three-source Xinanjiang (hydrotwin.solver.xinanjiang) + Muskingum network "
        "routing + level-pool reservoirs (SL 265 gate hydraulics)",
        vertical_datum=basin.basin.vertical_datum,
        source="hydrotwin forecast",
    )
    ds["time"].encoding.update(
        units=f"hours since {times[0].astype('datetime64[s]').item().isoformat(sep=' ')}",
        calendar="standard",
    )
    return ds


def _crs_attrs(epsg: str) -> dict:
    from pyproj import CRS

    crs = CRS.from_user_input(epsg)
    attrs = {k: v for k, v in crs.to_cf().items() if isinstance(v, str | int | float)}
    attrs["spatial_ref"] = crs.to_wkt()
    attrs["epsg_code"] = epsg
    return attrs


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` atomically (:func:`hydrotwin.files.atomic_path`): a failed
    write leaves no half-written file, a finished one has the user's normal file mode."""
    enc = {v: {"zlib": True, "complevel": 4} for v in ds.data_vars if ds[v].dtype.kind == "f"}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=enc)
    return Path(path)
