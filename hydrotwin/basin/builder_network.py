"""River network and sub-basins of a conditioned grid: reaches split at confluences and sites.

A reach runs from a headwater (or the cell below a confluence) down to its outlet cell: a cell
whose downstream cell is a confluence, the basin outlet, or a split point (station, reservoir).
Every cell of the basin belongs to the sub-basin of the first reach outlet downstream of it
(pyflwdir ``basins``), so there is one sub-basin per reach and the areas sum to the basin's.

Muskingum K = reach length / kinematic-wave celerity. The celerity of a wide channel under
Manning friction is c = 5/3 · v (Chow, Maidment & Mays 1988, *Applied Hydrology* §9.6), with
v = h^(2/3) · S^(1/2) / n at bankfull depth h. h comes from the bankfull hydraulic geometry of
Bieger et al. (2015, JAWRA 51(4), all-USA fit): h = 0.30 · A^0.213 m, A the drainage area in
km²; n = 0.035 (natural channel, Chow 1959 table 5-6). The forecast sub-reaches and sub-steps
any K it receives (``solver.muskingum``), so short reaches are fine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hydrotwin.basin.builder_terrain import Terrain

MANNING_N = 0.035
MIN_SLOPE = 1.0e-4
CELERITY_RANGE_MS = (0.5, 5.0)
DEFAULT_X = 0.2


@dataclass
class ReachCells:
    """One extracted reach: flat cell indices from upstream to its outlet, and attributes."""

    id: str
    cells: np.ndarray
    outlet: int
    downstream: str | None
    order: int
    upa_km2: float
    length_m: float = 0.0
    slope: float = MIN_SLOPE
    area_km2: float = 0.0


@dataclass
class Network:
    reaches: list[ReachCells]
    labels: np.ndarray
    """Sub-basin raster: 1 + the index of the reach a cell drains to, 0 outside the basin."""
    stream: np.ndarray


def bankfull_depth_m(area_km2: float) -> float:
    """Bankfull depth from drainage area (Bieger et al. 2015, all-USA regression)."""
    return 0.30 * max(area_km2, 0.01) ** 0.213


def celerity_ms(slope: float, area_km2: float) -> float:
    """Kinematic-wave celerity at bankfull (module docstring), clipped to 0.5–5 m/s."""
    h = bankfull_depth_m(area_km2)
    v = h ** (2.0 / 3.0) * max(slope, MIN_SLOPE) ** 0.5 / MANNING_N
    return float(np.clip(5.0 / 3.0 * v, *CELERITY_RANGE_MS))


def muskingum_k_h(length_m: float, slope: float, area_km2: float) -> float:
    """Muskingum K in hours (≥ 0.05 h; the solver sub-steps short reaches)."""
    return max(length_m / celerity_ms(slope, area_km2) / 3600.0, 0.05)


def extract(
    t: Terrain, outlet: int, stream_km2: float, splits: list[int] | tuple[int, ...] = ()
) -> Network:
    """Reaches and sub-basins upstream of ``outlet`` (module docstring)."""
    flw = t.flw
    n = t.upa_km2.size
    basin = flw.basins(idxs=np.array([outlet])).ravel() > 0
    upa = t.upa_km2.ravel()
    upa = np.where(upa >= 0.0, upa, 0.0)  # NaN outside → 0 (one pass, unlike nan_to_num)
    stream = basin & (upa >= stream_km2)
    stream[outlet] = True
    ds = np.asarray(flw.idxs_ds)
    cells = np.flatnonzero(stream)
    own = ds[cells] != cells
    n_up = np.bincount(ds[cells[own]], minlength=n)
    confluence = stream & (n_up >= 2)
    ends = cells[own & confluence[ds[cells]]]
    outlets = np.unique(np.concatenate([ends, [outlet], np.asarray(splits, dtype=np.int64)]))
    outlets = outlets[stream[outlets]]
    # main stem first (largest area), then by area: ids read downstream-up
    outlets = outlets[np.argsort(-upa[outlets], kind="stable")]
    ids = np.arange(1, outlets.size + 1, dtype=np.uint32)
    labels = flw.basins(idxs=outlets, ids=ids).ravel()
    labels[~basin] = 0
    order = flw.stream_order(type="strahler", mask=stream.reshape(t.shape)).ravel()
    reaches = _reaches(outlets, labels, stream, ds, upa, order, outlet)
    return Network(reaches, labels.reshape(t.shape), stream.reshape(t.shape))


def _reaches(outlets, labels, stream, ds, upa, order, outlet) -> list[ReachCells]:
    sc = np.flatnonzero(stream)
    lab = labels[sc]
    by = np.argsort(lab, kind="stable")
    sc, lab = sc[by], lab[by]
    starts = np.searchsorted(lab, np.arange(1, outlets.size + 2))
    width = len(str(outlets.size))
    out: list[ReachCells] = []
    for k, o in enumerate(outlets):
        cells = sc[starts[k] : starts[k + 1]]
        cells = cells[np.argsort(upa[cells], kind="stable")]
        down = None if o == outlet else f"r{int(labels[ds[o]]):0{width}d}"
        out.append(
            ReachCells(
                id=f"r{k + 1:0{width}d}",
                cells=cells,
                outlet=int(o),
                downstream=down,
                order=int(max(order[o], 1)),
                upa_km2=float(upa[o]),
            )
        )
    return out


def measure(t: Terrain, net: Network, to_metric, z_at=None) -> None:
    """Set each reach's length (m, metric CRS), slope and area.

    The slope is the drop between the reach's ends over its length, from the conditioned DEM
    of the grid, or from ``z_at(xs, ys)`` (grid coordinates → elevation) when a D8 raster
    drove the analysis and the DEM is on another grid.
    """
    ncol = t.shape[1]
    if t.latlon:
        area = np.bincount(net.labels.ravel(), weights=t.cell_area_m2().ravel()) / 1e6
    else:  # equal cells: a count (no 16M-cell float64 area grid)
        area = np.bincount(net.labels.ravel()) * abs(t.transform.a * t.transform.e) / 1e6
    ds = np.asarray(t.flw.idxs_ds)
    for i, r in enumerate(net.reaches):
        line = line_cells(r, ds)
        xs, ys = t.xy(line // ncol, line % ncol)
        mx, my = to_metric(xs, ys)
        r.length_m = float(np.hypot(np.diff(mx), np.diff(my)).sum()) or abs(t.transform.a)
        if t.z is not None:
            drop = float(t.z.ravel()[r.cells[0]] - t.z.ravel()[line[-1]])
        elif z_at is not None:
            ends = z_at(xs[[0, -1]], ys[[0, -1]])
            drop = float(ends[0] - ends[1]) if np.isfinite(ends).all() else 0.0
        else:
            drop = 0.0
        r.slope = max(drop / r.length_m, MIN_SLOPE)
        r.area_km2 = float(area[i + 1]) if i + 1 < area.size else 0.0


def line_cells(r: ReachCells, ds: np.ndarray) -> np.ndarray:
    """The reach's cells plus the cell its outlet drains to (so lines join at confluences)."""
    nxt = ds[r.outlet]
    return r.cells if nxt == r.outlet else np.append(r.cells, nxt)
