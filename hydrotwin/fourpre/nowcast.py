"""Radar nowcasting (短临预报) with pysteps: optical flow, extrapolation and STEPS ensembles.

The motion field comes from the last two radar frames by the Proesmans et al. (1994) optical
flow as pysteps implements it (a compiled extension of pysteps: no OpenCV, which its
Lucas–Kanade method needs). The deterministic nowcast is pysteps' semi-Lagrangian
extrapolation of the last frame; the ensemble is STEPS (Bowler, Pierce & Seed 2006; pysteps'
``steps``) on dB-transformed rain rates from the last three frames, with a ``member`` dim.

Input: a :class:`RainGrid` (an ensemble enters as its member mean); the frames used must be
complete (a missing frame among them raises); nodata cells in them enter as dry, and so does
rain advected in from beyond the grid's edge (pysteps ``outval = 0``): an extrapolation nowcast
cannot know it, so its skill fades once the field has crossed the radar domain.
Output: a :class:`RainGrid` of depth per step on the same grid, period ends after the last
observed frame, written by :func:`hydrotwin.basin.raingrid.write_rain_netcdf` as
``precipitation_amount`` (mm per step) with dims ``(time, y, x)`` or ``(member, time, y, x)``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re

import numpy as np

from hydrotwin.basin.raingrid import RainGrid
from hydrotwin.errors import InputDataError, SolverError

log = logging.getLogger(__name__)

RAIN_THRESHOLD_MM_H = 0.1  # below this a cell is dry for STEPS (the pysteps examples' value)
DB_ZERO = -15.0  # dB value given to dry cells


def parse_lead(text: str) -> float:
    """``3h`` / ``90min`` / ``1800s`` → seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(h|min|s)\s*", text)
    if not m:
        raise InputDataError(f"lead {text!r}: expected a number with h, min or s (e.g. 3h)")
    return float(m.group(1)) * {"h": 3600.0, "min": 60.0, "s": 1.0}[m.group(2)]


def _pysteps():
    """Import pysteps without its configuration banner on stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        import pysteps
    return pysteps


def pyramid_levels(shape: tuple[int, ...], most: int = 6) -> int:
    """Proesmans pyramid levels whose coarsest level is still at least 3 × 3 cells.

    pysteps halves the grid per level and runs its compiled kernel with bounds checks off: on a
    1 × 1 level (a 50 × 50 radar grid at its default 6 levels) the edge fill reads outside the
    array, and whatever the heap holds (NaN, once in 13 runs in ``test_nowcast``) spreads into
    the whole motion field.
    """
    side = min(shape[-2:])
    return max(1, min(most, int(np.floor(np.log2(side / 3.0))) + 1)) if side >= 3 else 1


def motion_field(rate_mm_h: np.ndarray) -> np.ndarray:
    """Advection field ``[2, y, x]`` (cells per step, x east then y down) from two frames."""
    ps = _pysteps()
    r = np.where(np.isfinite(rate_mm_h), rate_mm_h, 0.0)
    v = ps.motion.get_method("proesmans")(r[-2:], num_levels=pyramid_levels(r.shape))
    if not np.isfinite(v).all():
        raise SolverError(f"optical flow on a {r.shape[-2]} × {r.shape[-1]} grid gave no motion")
    return v


def nowcast(grid: RainGrid, lead_s: float, members: int = 0, seed: int = 24) -> RainGrid:
    """Deterministic extrapolation (``members == 0``) or a STEPS ensemble of ``members``."""
    steps = round(lead_s / grid.dt_s)
    if steps < 1 or abs(steps * grid.dt_s - lead_s) > 1e-6:
        raise InputDataError(
            f"nowcast of {grid.source}: lead {lead_s:g} s is not a whole number ≥ 1 of its "
            f"{grid.dt_s:g} s step"
        )
    need = 3 if members else 2
    rate = grid.rate_mm_h().mean(axis=0)
    if rate.shape[0] < need:
        raise InputDataError(
            f"nowcast of {grid.source}: {rate.shape[0]} frame(s); expected at least {need}"
        )
    last = rate[-need:]
    gone = [str(t) for t, f in zip(grid.times[-need:], last, strict=True) if np.isnan(f).all()]
    if gone:
        raise InputDataError(f"nowcast of {grid.source}: the last frames {gone} are missing")
    v = motion_field(last)
    out = (
        _steps_ensemble(last, v, steps, members, seed, grid) if members else _extrap(last, v, steps)
    )
    times = grid.times[-1] + np.arange(1, steps + 1) * np.timedelta64(int(grid.dt_s), "s")
    depth = np.clip(out, 0.0, None) * grid.dt_s / 3600.0
    kind = f"STEPS {members} members" if members else "extrapolation"
    return RainGrid(depth, times, grid.x, grid.y, grid.crs, grid.dt_s,
                    f"nowcast ({kind}) of {grid.source}")  # fmt: skip


@contextlib.contextmanager
def _named(grid: RainGrid):
    """A numerical failure inside pysteps, reported with the file it came from."""
    try:
        yield
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise SolverError(f"STEPS nowcast of {grid.source} failed: {exc}") from exc


def _extrap(rate: np.ndarray, v: np.ndarray, steps: int) -> np.ndarray:
    ps = _pysteps()
    r = np.where(np.isfinite(rate[-1]), rate[-1], 0.0)
    fc = ps.nowcasts.get_method("extrapolation")(r, v, steps, extrap_kwargs={"outval": 0.0})
    return fc[None]


def _steps_ensemble(
    rate: np.ndarray, v: np.ndarray, steps: int, members: int, seed: int, grid: RainGrid
) -> np.ndarray:
    ps = _pysteps()
    from pysteps.utils.transformation import dB_transform

    r = np.where(np.isfinite(rate), rate, 0.0)
    db, meta = dB_transform(r, {"unit": "mm/h", "transform": None, "zerovalue": 0.0,
                                "threshold": RAIN_THRESHOLD_MM_H},
                            threshold=RAIN_THRESHOLD_MM_H, zerovalue=DB_ZERO)  # fmt: skip
    levels = max(1, min(6, int(np.log2(min(grid.shape))) - 2))
    with contextlib.redirect_stdout(io.StringIO()), _named(grid):
        fc = ps.nowcasts.get_method("steps")(
            db, v, steps, n_ens_members=members, n_cascade_levels=levels,
            precip_thr=meta["threshold"], kmperpixel=grid.res[0] / 1000.0,
            timestep=grid.dt_s / 60.0, seed=seed, mask_method="incremental",
            probmatching_method="cdf", vel_pert_method="bps", num_workers=1,
        )  # fmt: skip
    back, _ = dB_transform(fc, meta, threshold=meta["threshold"], inverse=True)
    return np.where(np.isfinite(back), back, 0.0)


def up_to(grid: RainGrid, at: str | None) -> RainGrid:
    """The frames of ``grid`` ending at or before ``at`` (UTC ISO 8601; None: all of them)."""
    if at is None:
        return grid
    try:
        t = np.datetime64(at.rstrip("Z").replace("+00:00", ""), "s")
    except ValueError:
        raise InputDataError(f"--at {at!r}: expected an ISO 8601 UTC time") from None
    keep = grid.times <= t
    if not keep.any():
        raise InputDataError(f"{grid.source}: no frame ends at or before {at}")
    return RainGrid(grid.depth_mm[:, keep], grid.times[keep], grid.x, grid.y, grid.crs,
                    grid.dt_s, grid.source, [m for m in grid.missing if m <= t])  # fmt: skip
