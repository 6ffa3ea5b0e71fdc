"""Quantities derived from the shaped terrain that both the data files and ``basin.toml`` use.

Everything here is a pure function of :mod:`layout` and the :class:`~terrain.Terrain`, so the
manifest written by :mod:`make_manifest` and the files written by :mod:`generate` agree by
construction (a test regenerates both and compares).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from hydrotwin.errors import BasinDataError
from hydrotwin_demo_basin import layout as L  # noqa: N812 - short module aliases read like the design notes
from hydrotwin_demo_basin import terrain as T  # noqa: N812 - short module aliases read like the design notes

COORD_DECIMALS = 2  # cm: the precision of every coordinate written to GeoJSON and the manifest


def rc(x: float) -> float:
    """A coordinate rounded as it is written everywhere (GeoJSON and manifest)."""
    return round(float(x), COORD_DECIMALS)


def cell_of_xy(x: float, y: float) -> tuple[int, int]:
    """DEM (row, col) of a map point (EPSG:4547)."""
    return int(np.floor((L.Y1 - y) / L.CELL_M)), int(np.floor((x - L.X0) / L.CELL_M))


def reach_design(rid: str) -> L.ReachDesign:
    return next(r for r in L.REACHES if r.id == rid)


def point_on_reach(terr: T.Terrain, rid: str, frac: float) -> tuple[float, float, float]:
    """Map point (x, y) at a fraction of reach ``rid``'s length (a river vertex) and its s (m)."""
    xy, s = terr.river[rid], terr.river_s[rid]
    k = int(np.argmin(np.abs(s - frac * s[-1])))
    return rc(xy[k, 0]), rc(xy[k, 1]), float(s[k])


def reservoir_seed(dem: np.ndarray) -> tuple[int, int]:
    """A river cell three rows upstream (north) of the dam axis: inside the reservoir."""
    row = T.dam_axis_row()
    col = int(np.floor(L.DAM_UV[0] / L.CELL_M))
    return row - 3, col


def reservoir_curve(dem: np.ndarray) -> tuple[list[float], list[float], list[float]]:
    """Level–storage–area curve of the reservoir, computed from the DEM behind the dam.

    At each level h (from the bed at the dam to the crest, every CURVE_STEP_M) the pool is the
    4-connected set of cells below h that holds the seed cell upstream of the dam; storage is
    Σ (h − z)·cell area over it (the level-pool "bathtub" volume, as reservoir surveys compute
    from a DEM). Raises if the pool leaks past the dam (the crest must close the valley).
    """
    seed = reservoir_seed(dem)
    below_dam = (T.dam_axis_row() + L.DAM_BODY_ROWS + 2, seed[1])
    valid = dem != np.float32(L.NODATA)
    z = dem.astype(np.float64)
    cell_area = L.CELL_M * L.CELL_M
    levels = np.arange(L.DAM_BED_M, L.DAM_CREST_M + 1e-9, L.CURVE_STEP_M)
    storage, area = [], []
    for h in levels:
        wet = valid & (z < h)
        lab, _ = ndimage.label(wet)
        k = lab[seed]
        if k == 0:
            storage.append(0.0)
            area.append(0.0)
            continue
        pool = lab == k
        if pool[below_dam]:
            raise BasinDataError(
                f"demo DEM: the reservoir pool at {h} m reaches cell {below_dam} below the dam "
                f"axis (row {T.dam_axis_row()}); expected the dam crest ({L.DAM_CREST_M} m) "
                "to close the valley"
            )
        storage.append(float(np.sum(h - z[pool]) * cell_area))
        area.append(float(np.count_nonzero(pool) * cell_area))
    return [float(v) for v in levels], storage, area


def subbasin_areas_km2(label: np.ndarray) -> list[float]:
    """Area of each sub-basin (km²) from the label raster (cell count × cell area)."""
    return [
        float(np.count_nonzero(label == i)) * L.CELL_M**2 / 1e6 for i in range(len(L.SUBBASINS))
    ]


def bank_top_m(rid: str, s: float) -> tuple[float, float]:
    """Bed and bank-top level (m) at arc length s along reach ``rid``."""
    r = reach_design(rid)
    dense = L.polyline_densify(r.points, 5.0)
    length = L.arc_length(dense)[-1]
    bed = float(L.bed_profile(r, np.array([s]), length)[0])
    bank = float(L.valley_param(r, "bank_m", np.array([s / length]))[0])
    return bed, bed + bank


def bed_slope(rid: str, s: float) -> float:
    """Bed slope (m/m) at arc length s (central difference of the long profile over 200 m)."""
    r = reach_design(rid)
    length = L.arc_length(L.polyline_densify(r.points, 5.0))[-1]
    a, b = max(s - 100.0, 0.0), min(s + 100.0, length)
    za, zb = L.bed_profile(r, np.array([a, b]), length)
    return max(float(za - zb) / max(b - a, 1.0), 1e-4)


def rating_curve(rid: str, s: float) -> tuple[list[float], list[float]]:
    """Stage–discharge at arc length s of reach rid by Manning on the valley cross-section.

    Divided-channel method (Chow 1959 §6-4): main channel (|d| ≤ half-width) with n_channel and
    the floodplains with n_floodplain, each Q = A·R^(2/3)·S^(1/2)/n, summed.
    """
    r = reach_design(rid)
    length = L.arc_length(L.polyline_densify(r.points, 5.0))[-1]
    frac = s / length
    hw = float(L.valley_param(r, "half_width_m", np.array([frac]))[0])
    bed, bank_top = bank_top_m(rid, s)
    slope = bed_slope(rid, s)
    d = np.arange(-1500.0, 1500.0 + 1e-9, 2.0)
    ground = bed + T.section_height(r, frac, d)
    levels = [round(bed + 0.5, 2)]
    levels += [round(float(v), 2) for v in np.arange(bed + 1.0, bank_top + 5.01, 1.0)]
    q_out = []
    for h in levels:
        depth = np.clip(h - ground, 0.0, None)
        q = 0.0
        for part, n in ((np.abs(d) <= hw, L.N_CHANNEL), (np.abs(d) > hw, L.N_FLOODPLAIN)):
            a = float(np.sum(depth[part]) * 2.0)
            wet = part & (depth > 0)
            if a <= 0:
                continue
            dz = np.diff(ground)
            seg = np.hypot(2.0, dz)
            p = float(np.sum(seg[(wet[:-1] & wet[1:])]))
            rad = a / max(p, 1e-6)
            q += a * rad ** (2.0 / 3.0) * slope**0.5 / n
        q_out.append(round(q, 1))
    return levels, q_out


def first_inside(xy: np.ndarray, bbox: tuple[float, float, float, float]) -> tuple[float, float]:
    """First vertex of a polyline inside a map bbox (where a river enters the 2D grid)."""
    inside = (
        (xy[:, 0] > bbox[0]) & (xy[:, 0] < bbox[2]) & (xy[:, 1] > bbox[1]) & (xy[:, 1] < bbox[3])
    )
    k = int(np.argmax(inside))
    return rc(xy[k, 0]), rc(xy[k, 1])


def rehearsal_bbox() -> tuple[float, float, float, float]:
    u0, v0, u1, v1 = L.REHEARSAL_BBOX_UV
    return (L.X0 + u0, L.Y0 + v0, L.X0 + u1, L.Y0 + v1)


def breach_point(terr: T.Terrain) -> tuple[float, float, float]:
    """The levee breach: the levee vertex nearest u = BREACH.u, and the ground outside it."""
    u = L.X0 + L.BREACH["u"]
    k = int(np.argmin(np.abs(terr.levee[:, 0] - u)))
    x, y = terr.levee[k]
    bottom = float(terr.levee_crest_m[k]) - L.LEVEE_HEIGHT_M
    return rc(x), rc(y), round(bottom, 2)


def design_storm(p1_mm: float, p72_mm: float) -> list[float]:
    """72 hourly depths (mm) by the alternating-block method (Chow, Maidment & Mays 1988 §14.4).

    Depth–duration P(D) = P72·(D/72)^n with n fitted through the 1-h and 72-h depths; the
    hourly increments, largest first, are placed at the peak hour then alternately right and
    left of it (the side that runs out of hours yields to the other).
    """
    n = np.log(p1_mm / p72_mm) / np.log(1.0 / L.STORM_HOURS)
    dur = np.arange(1, L.STORM_HOURS + 1, dtype=np.float64)
    cum = p72_mm * (dur / L.STORM_HOURS) ** n
    inc = np.diff(np.concatenate([[0.0], cum]))
    out = np.zeros(L.STORM_HOURS)
    left, right = L.STORM_PEAK_HOUR - 1, L.STORM_PEAK_HOUR + 1
    out[L.STORM_PEAK_HOUR] = inc[0]
    go_right = True
    for v in inc[1:]:
        if (go_right and right < L.STORM_HOURS) or left < 0:
            out[right] = v
            right += 1
        else:
            out[left] = v
            left -= 1
        go_right = not go_right
    return [round(float(v), 1) for v in out]
