"""Shaping the demo DEM around its river network, so rivers lie in valley bottoms by construction.

Each reach (and each neighbouring "phantom" valley) defines a valley surface: the bed elevation
of the nearest point of the reach plus a cross-section height h(d) that grows with the distance d
from the channel (channel, floodplain, then an exponential hillslope). The terrain is the lower
envelope of all valley surfaces — where two surfaces meet lies a ridge, i.e. the water divide,
and the valley that wins a cell is the one the cell drains to. Fractal noise scaled by the
hillslope height roughens the hills and leaves channels and floodplains smooth. Finally the dam
body and the town levee are burnt in.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numba
import numpy as np
from scipy import ndimage

from hydrotwin_demo_basin import layout as L  # noqa: N812 - short module aliases read like the design notes

FP_CROSS_SLOPE = 0.002  # floodplain rises this gently towards the valley sides
# Beyond the hillslope's relief the surface keeps rising at this gradient. Without it every
# valley surface is bounded (bed + bank + relief) and the lowest river's surface undercuts the
# whole map, so one valley would "win" nearly every cell (F's first version did exactly that).
FAR_SLOPE = 0.08
FILL_EPS_M = 0.01  # rise per cell across filled hollows (Barnes et al. 2014 "+ε" variant)


@dataclass
class Terrain:
    """The shaped DEM and what the vectors need from it (all arrays (NY, NX), row 0 north)."""

    dem: np.ndarray  # float32, NODATA where invalid
    label: np.ndarray  # int16: index into layout.SUBBASINS, -1 outside the catchment or nodata
    reach_label: np.ndarray  # int16: index into layout.REACHES of the winning valley, -1 phantom
    river: dict[str, np.ndarray]  # reach id -> densified centreline (n, 2) in map coordinates
    river_s: dict[str, np.ndarray]  # reach id -> arc length of those vertices (m)
    dam_cells: np.ndarray  # (k, 2) row, col of the dam body
    levee: np.ndarray  # (n, 2) map coordinates of the levee crest line
    levee_cells: np.ndarray  # (k, 2) row, col of the levee cells
    levee_crest_m: np.ndarray  # crest elevation along ``levee``


def valley_height(
    d: np.ndarray,
    hw: np.ndarray,
    bank: np.ndarray,
    fp: np.ndarray,
    relief: np.ndarray,
    decay: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Cross-section height above the bed at distance d (m) from the centreline, and its hill part.

    Parabolic channel of half-width hw and depth bank; floodplain of half-width fp rising at
    FP_CROSS_SLOPE; then a hillslope R·(1 − exp(−x/λ)) + FAR_SLOPE·x (a concave hill profile
    that keeps rising towards the divide).
    """
    x_fp = np.clip(d - hw, 0.0, None)
    x_hill = np.clip(x_fp - fp, 0.0, None)
    hill = relief * (1.0 - np.exp(-x_hill / decay)) + FAR_SLOPE * x_hill
    h = np.where(
        d <= hw,
        bank * (d / np.maximum(hw, 1e-6)) ** 2,
        bank + FP_CROSS_SLOPE * np.minimum(x_fp, fp) + hill,
    )
    return h, hill


def section_height(r: L.ReachDesign, frac: float, d: np.ndarray) -> np.ndarray:
    """Height above the bed across reach r at a fraction of its length (for rating curves)."""
    args = [
        np.full_like(d, L.valley_param(r, n, np.array([frac]))[0])
        for n in ("half_width_m", "bank_m", "floodplain_m", "relief_m", "decay_m")
    ]
    return valley_height(np.abs(d), *args)[0]


def _cell_of(u: np.ndarray, v: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray]:
    col = np.floor(u / L.CELL_M).astype(np.int64) + pad
    row = np.floor((L.NY * L.CELL_M - v) / L.CELL_M).astype(np.int64) + pad
    return row, col


def line_cells_4(xy_local: np.ndarray, pad: int = 0) -> np.ndarray:
    """Cells (row, col) a polyline crosses, as a 4-connected path (no diagonal gaps).

    A 4-connected barrier keeps water that moves between edge-sharing cells (as 2D flood
    schemes do) from slipping through a diagonal step.
    """
    dense = L.polyline_densify(tuple(map(tuple, xy_local)), 2.0) if len(xy_local) > 1 else xy_local
    rows, cols = _cell_of(dense[:, 0], dense[:, 1], pad)
    out: list[tuple[int, int]] = []
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        if out and out[-1] == (r, c):
            continue
        if out and abs(out[-1][0] - r) == 1 and abs(out[-1][1] - c) == 1:
            out.append((out[-1][0], c))  # fill the diagonal step
        out.append((r, c))
    seen: dict[tuple[int, int], None] = dict.fromkeys(out)
    return np.array(list(seen), dtype=np.int64)


def _fractal_noise(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Sum of Gaussian-filtered white noise octaves (roughly 1/f), normalised to unit std."""
    total = np.zeros(shape, dtype=np.float64)
    for sigma, amp in ((48.0, 1.0), (24.0, 0.6), (12.0, 0.36), (6.0, 0.2), (3.0, 0.1)):
        g = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="reflect")
        total += amp * g / g.std()
    return total / total.std()


def build_terrain() -> Terrain:
    """Shape the DEM, its catchment labels and the river centrelines (deterministic)."""
    pad = L.PAD
    ny, nx = L.NY + 2 * pad, L.NX + 2 * pad
    rng = np.random.default_rng(L.SEED)

    z_env = np.full((ny, nx), np.inf)
    hill_env = np.zeros((ny, nx))
    d_env = np.zeros((ny, nx))
    win = np.full((ny, nx), -1, dtype=np.int16)

    river: dict[str, np.ndarray] = {}
    river_s: dict[str, np.ndarray] = {}
    designs = list(L.REACHES) + list(L.PHANTOMS)
    river_masks: dict[str, np.ndarray] = {}
    for k, r in enumerate(designs):
        dense = L.polyline_densify(r.points, 5.0)
        s = L.arc_length(dense)
        length = s[-1]
        if not r.phantom:
            # every 12th vertex of the 5 m line (≈ 60 m): vertices sit exactly in channel cells
            keep = np.unique(np.concatenate([np.arange(0, len(dense), 12), [len(dense) - 1]]))
            coarse = dense[keep]
            river[r.id] = coarse + np.array([L.X0, L.Y0])
            river_s[r.id] = L.arc_length(coarse)
        bed = L.bed_profile(r, s, length)
        frac = s / length
        rows, cols = _cell_of(dense[:, 0], dense[:, 1], pad)
        ok = (rows >= 0) & (rows < ny) & (cols >= 0) & (cols < nx)
        rows, cols, bed, frac = rows[ok], cols[ok], bed[ok], frac[ok]
        flat = rows * nx + cols
        # the downstream-most sample in each cell speaks for it (lowest bed)
        _, last = np.unique(flat[::-1], return_index=True)
        idx = len(flat) - 1 - last
        bed_grid = np.zeros((ny, nx))
        par = {
            n: np.zeros((ny, nx))
            for n in ("half_width_m", "bank_m", "floodplain_m", "relief_m", "decay_m")
        }
        mask = np.ones((ny, nx), dtype=bool)
        rr, cc = rows[idx], cols[idx]
        mask[rr, cc] = False
        bed_grid[rr, cc] = bed[idx]
        for n, g in par.items():
            g[rr, cc] = L.valley_param(r, n, frac[idx])
        if not r.phantom:
            river_masks[r.id] = ~mask
        dist, (ir, ic) = ndimage.distance_transform_edt(
            mask, sampling=L.CELL_M, return_indices=True
        )
        h, hill = valley_height(dist, *(g[ir, ic] for g in par.values()))
        surf = bed_grid[ir, ic] + h
        better = surf < z_env
        z_env = np.where(better, surf, z_env)
        hill_env = np.where(better, hill, hill_env)
        d_env = np.where(better, dist, d_env)
        win = np.where(better, np.int16(-1 if r.phantom else k), win)

    # Rough hills: noise scaled by the hillslope height, none on channels and floodplains.
    noise = _fractal_noise(rng, (ny, nx))
    z = z_env + 0.22 * hill_env * noise
    # Soften the creases where valley surfaces meet, but leave the valley floors exact.
    smooth = ndimage.gaussian_filter(z, 1.5, mode="nearest")
    w = np.clip((d_env - 90.0) / 240.0, 0.0, 1.0)
    z = w * smooth + (1.0 - w) * z

    sl = (slice(pad, pad + L.NY), slice(pad, pad + L.NX))
    z = z[sl].copy()
    reach_label = win[sl].copy()
    for m in river_masks.values():
        m = m[sl]
        # channels stay at their bed even where a neighbouring valley surface was lower
        z[m] = np.minimum(z[m], z_env[sl][m])

    reach_label = _clean_labels(reach_label)
    sub_of_reach = np.full(len(L.REACHES) + 1, -1, dtype=np.int16)
    for si, sb in enumerate(L.SUBBASINS):
        for rid in sb.reaches:
            sub_of_reach[[r.id for r in L.REACHES].index(rid)] = si
    label = sub_of_reach[reach_label]  # -1 -> last entry -> -1

    dam_cells = _burn_dam(z)
    levee, levee_cells, crest = _burn_levee(z)
    # Hydrological conditioning: every hill cell drains to a river or the map edge (the noise
    # leaves closed hollows). Channels and the edge are the outlets, so the reservoir behind
    # the dam and the polder behind the levee are not filled up.
    seeds = np.zeros(z.shape, dtype=bool)
    seeds[0, :] = seeds[-1, :] = seeds[:, 0] = seeds[:, -1] = True
    for m in river_masks.values():
        seeds |= m[sl]
    seeds[dam_cells[:, 0], dam_cells[:, 1]] = False
    z = np.round(z, 2)
    priority_flood(z, seeds, FILL_EPS_M)

    # A few nodata cells in the south-west corner, outside the catchment, to keep readers honest.
    rr, cc = np.mgrid[L.NY - 8 : L.NY, 0:8]
    corner = (rr - (L.NY - 8)) >= cc
    corner_r, corner_c = rr[corner], cc[corner]
    outside = label[corner_r, corner_c] < 0
    dem = np.round(z, 2).astype(np.float32)
    dem[corner_r[outside], corner_c[outside]] = np.float32(L.NODATA)
    label[dem == np.float32(L.NODATA)] = -1
    return Terrain(
        dem=dem,
        label=label.astype(np.int16),
        reach_label=reach_label,
        river=river,
        river_s=river_s,
        dam_cells=dam_cells,
        levee=levee,
        levee_cells=levee_cells,
        levee_crest_m=crest,
    )


@numba.njit(cache=True)
def priority_flood(z: np.ndarray, seeds: np.ndarray, eps: float) -> None:
    """Fill closed depressions in place so that every cell has a descending path to a seed.

    Priority-Flood + ε (Barnes, Lehman & Mulla 2014, Computers & Geosciences 62, Alg. 3): cells
    are taken lowest first from the seeds; a neighbour not above the current cell is raised
    to it plus ``eps``, so filled hollows keep a gentle slope towards their spill point.
    """
    ny, nx = z.shape
    closed = seeds.copy()
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for r in range(ny):
        for c in range(nx):
            if seeds[r, c]:
                heapq.heappush(heap, (z[r, c], np.int64(r * nx + c)))
    while heap:
        zc, k = heapq.heappop(heap)
        r, c = k // nx, k % nx
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if rr < 0 or rr >= ny or cc < 0 or cc >= nx or closed[rr, cc]:
                    continue
                closed[rr, cc] = True
                if z[rr, cc] <= zc:
                    z[rr, cc] = zc + eps
                heapq.heappush(heap, (z[rr, cc], np.int64(rr * nx + cc)))


def _clean_labels(lab: np.ndarray) -> np.ndarray:
    """Keep each label's largest 4-connected piece; give stray pieces to the nearest big piece."""
    out = lab.copy()
    unassigned = np.zeros(lab.shape, dtype=bool)
    for value in np.unique(lab):
        comp, n = ndimage.label(lab == value)
        if n <= 1:
            continue
        sizes = ndimage.sum_labels(np.ones_like(comp), comp, index=np.arange(1, n + 1))
        keep = 1 + int(np.argmax(sizes))
        unassigned |= (comp > 0) & (comp != keep)
    if unassigned.any():
        _, (ir, ic) = ndimage.distance_transform_edt(unassigned, return_indices=True)
        out = out[ir, ic]
    return out


def dam_axis_row() -> int:
    """DEM row of the dam axis (the river flows due south there)."""
    return int(np.floor((L.NY * L.CELL_M - L.DAM_UV[1]) / L.CELL_M))


def _burn_dam(z: np.ndarray) -> np.ndarray:
    """Raise the dam body (DAM_BODY_ROWS rows) to the crest between the abutments."""
    row0 = dam_axis_row()
    col_r = int(np.floor(L.DAM_UV[0] / L.CELL_M))
    cells = []
    for row in range(row0, row0 + L.DAM_BODY_ROWS):
        c = col_r
        while z[row, c] < L.DAM_CREST_M:
            c -= 1
        left = c
        c = col_r
        while z[row, c] < L.DAM_CREST_M:
            c += 1
        right = c
        for cc in range(left, right + 1):
            if z[row, cc] < L.DAM_CREST_M:
                z[row, cc] = L.DAM_CREST_M
                cells.append((row, cc))
    return np.array(cells, dtype=np.int64)


def dam_span(dem: np.ndarray) -> tuple[float, float]:
    """West and east ends (map x, m) of the dam crest: where the terrain first reaches the crest."""
    row = dam_axis_row()
    cols = np.nonzero(np.isclose(dem[row], L.DAM_CREST_M, atol=0.01))[0]
    col_r = int(np.floor(L.DAM_UV[0] / L.CELL_M))
    left = col_r
    while left - 1 in cols:
        left -= 1
    right = col_r
    while right + 1 in cols:
        right += 1
    return L.X0 + left * L.CELL_M, L.X0 + (right + 1) * L.CELL_M


def _burn_levee(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A levee along the north bank of the lower Qingxi in front of the town."""
    r = next(x for x in L.REACHES if x.id == "qx4")
    dense = L.polyline_densify(r.points, 10.0)
    s = L.arc_length(dense)
    length = s[-1]
    t = np.gradient(dense, axis=0)
    t /= np.hypot(t[:, 0], t[:, 1])[:, None]
    normal_left = np.column_stack([-t[:, 1], t[:, 0]])  # left of an east-flowing river = north
    sel = (dense[:, 0] >= L.LEVEE_U_RANGE[0]) & (dense[:, 0] <= L.LEVEE_U_RANGE[1])
    line = dense[sel] + L.LEVEE_OFFSET_M * normal_left[sel]
    line = L.polyline_densify((*map(tuple, line[::10]), tuple(line[-1])), 30.0)
    # crest: bank top + LEVEE_HEIGHT_M, taken at the nearest centreline point
    near = np.argmin(
        np.hypot(dense[:, None, 0] - line[None, :, 0], dense[:, None, 1] - line[None, :, 1]), axis=0
    )
    frac = s[near] / length
    crest = L.bed_profile(r, s[near], length) + L.valley_param(r, "bank_m", frac) + L.LEVEE_HEIGHT_M
    crest = np.round(crest, 2)
    cells = line_cells_4(line)
    # crest of each cell from the nearest line vertex
    cu = (cells[:, 1] + 0.5) * L.CELL_M
    cv = (L.NY - cells[:, 0] - 0.5) * L.CELL_M
    j = np.argmin(np.hypot(cu[:, None] - line[None, :, 0], cv[:, None] - line[None, :, 1]), axis=1)
    z[cells[:, 0], cells[:, 1]] = np.maximum(z[cells[:, 0], cells[:, 1]], crest[j])
    return line + np.array([L.X0, L.Y0]), cells, crest
