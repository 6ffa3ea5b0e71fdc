"""Whether a plan's gate schedule can change anything: when is the gate in the water?

A gate group controls its flow only while its lip is in the water: orifice flow, opening e <
:data:`~hydrotwin.solver.hydraulics.WEIR_RATIO` × the head H over the sill (SL 265's
orifice→weir limit as ``solver.hydraulics.gate_q`` uses it). Above that (e/H ≥ 0.8) the flow is
the free weir flow of the sill, the same for any such opening: the gate is above the water and
a schedule changing its opening has no effect. An officer must be told so rather than read
identical figures as a bug (issue 13 item 8).

A run-of-river sluice has no storage in the forecast: it passes its inflow, so its opening can
change only its own upstream level, never the flows downstream (:attr:`GateEffect.passes_inflow`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from hydrotwin.basin.manifest import Basin, GateGroup
from hydrotwin.solver.hydraulics import WEIR_RATIO


@dataclass(frozen=True)
class GateEffect:
    """One gate group a plan operates; hours since the forecast start."""

    gate: str  # "<structure id>/<gate group id>", as the forecast's ``gate`` coordinate
    structure: str
    above_water_h: list[tuple[float, float]]  # spans with the gate lip above the water
    controls_h: float  # hours during which the opening controls the flow
    passes_inflow: bool  # a run-of-river sluice: downstream flows do not depend on it

    @property
    def note(self) -> str:
        """One line for tables and the CLI (English; the report composes its own)."""
        spans = ", ".join(f"from {a:g} h to {b:g} h" for a, b in self.above_water_h)
        text = f"{self.gate}: gate above water {spans}" if spans else f"{self.gate}: in the water"
        if self.controls_h == 0:
            text += " (the whole run: its opening changes nothing)"
        if self.passes_inflow:
            text += "; a sluice without storage passes its inflow: flows downstream unchanged"
        return text

    def to_dict(self) -> dict:
        return {
            "gate": self.gate, "above_water_h": [list(s) for s in self.above_water_h],
            "controls_h": self.controls_h, "passes_inflow": self.passes_inflow, "note": self.note,
        }  # fmt: skip


def above_water(opening_m: np.ndarray, level_m: np.ndarray, sill_m: float) -> np.ndarray:
    """True where an open gate does not touch the water (weir flow, or no water over the sill)."""
    head = level_m - sill_m
    with np.errstate(divide="ignore", invalid="ignore"):
        clear = (head <= 0) | (opening_m >= WEIR_RATIO * head)
    return (opening_m > 0) & clear


def _spans(mask: np.ndarray, hours: np.ndarray) -> list[tuple[float, float]]:
    """Runs of True over step-end values k ≥ 1, as (start of the first step, end of the last)."""
    out: list[tuple[float, float]] = []
    k = 1
    while k < mask.size:
        if mask[k]:
            j = k
            while j + 1 < mask.size and mask[j + 1]:
                j += 1
            out.append((round(float(hours[k - 1]), 3), round(float(hours[j]), 3)))
            k = j + 1
        else:
            k += 1
    return out


def _effects(
    ds: xr.Dataset, sid: str, groups: list[GateGroup], level: np.ndarray, sluice: bool
) -> list[GateEffect]:
    hours = (ds.time.values - ds.time.values[0]) / np.timedelta64(1, "h")
    dt_h = float(ds.attrs.get("time_step_s", 3600.0)) / 3600.0
    out = []
    for g in groups:
        gid = f"{sid}/{g.id}"
        e = ds.gate_opening.sel(gate=gid).values.astype(float)
        clear = above_water(e, level, g.sill_m)
        controls = (e > 0) & ~clear
        out.append(
            GateEffect(gid, sid, _spans(clear, hours), float(controls[1:].sum()) * dt_h, sluice)
        )
    return out


def gate_effects(basin: Basin, ds: xr.Dataset, structures: list[str]) -> list[GateEffect]:
    """The gate groups of ``structures`` (reservoir or sluice ids) in forecast ``ds``: when
    each is above the water. The sluice's upstream level is the forecast's (same hydraulics)."""
    from hydrotwin.fourpre.forecast import _gate_arrays
    from hydrotwin.solver.reservoir import sluice_levels

    out: list[GateEffect] = []
    for sid in structures:
        if sid in [r.id for r in basin.reservoirs]:
            res = basin.reservoir(sid)
            level = ds.reservoir_level.sel(reservoir=sid).values.astype(float)
            out += _effects(ds, sid, res.gates, level, sluice=False)
            continue
        sg = basin.sluice_gate(sid)
        q = ds.reach_discharge.sel(reach=sg.reach).values.astype(float)
        e = np.stack([ds.gate_opening.sel(gate=f"{sid}/{g.id}").values for g in sg.gates], 1)
        level = sluice_levels(q, _gate_arrays(sg.gates), e.astype(float), name=f"sluice {sid!r}")
        out += _effects(ds, sid, sg.gates, level, sluice=True)
    return out
