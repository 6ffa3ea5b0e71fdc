"""The demo basin's design: every constant the generator and ``basin.toml`` share.

The Qingxi (青溪) basin is invented but built like a real one in the hills east of Changsha,
Hunan (about 113.6°E 28.2°N): a 30 km × 30 km window of a 30 m DEM in CGCS2000 3-degree
Gauss–Krüger, CM 114°E (EPSG:4547). The main river flows from the north-west corner through a
reservoir behind a concrete gravity dam, past the Shimen sluice, collects two tributaries
(Beixi from the north, Nanxi from the south-west) and leaves at the east edge past Qingxi town.

Everything is given in map coordinates (metres, EPSG:4547) or derived from them in code, so the
raster, the vectors, the IFC models and the manifest cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Bump when anything that changes the generated files changes; ``prepare`` regenerates then.
GENERATOR_VERSION = "1.2.2"
SEED = 20260322

CRS = "EPSG:4547"
CELL_M = 30.0
NX = 1000
NY = 1000
X0 = 445000.0  # west edge (m)
Y0 = 3106000.0  # south edge (m)
X1 = X0 + NX * CELL_M
Y1 = Y0 + NY * CELL_M  # north edge; raster row 0 is here
NODATA = -9999.0
PAD = 100  # cells of margin used while shaping the terrain (phantom valleys live there)


def to_map(u: float, v: float) -> tuple[float, float]:
    """Local design coordinates (m from the south-west corner) to EPSG:4547."""
    return X0 + u, Y0 + v


@dataclass(frozen=True)
class ReachDesign:
    """One river reach: control points (local m, downstream order), bed profile and valley shape.

    The bed falls from ``z_start`` to ``z_end`` as ``z_end + dz·(1 − s/L)^concavity`` (a concave
    long profile, as graded rivers have). Valley parameters are given at fractions of the length
    and interpolated linearly: channel half-width, bank height, floodplain half-width beyond the
    channel, hillslope relief and its e-folding distance.
    """

    id: str
    zh: str
    en: str
    points: tuple[tuple[float, float], ...]
    z_start: float
    z_end: float
    concavity: float
    frac: tuple[float, ...]
    half_width_m: tuple[float, ...]
    bank_m: tuple[float, ...]
    floodplain_m: tuple[float, ...]
    relief_m: tuple[float, ...]
    decay_m: tuple[float, ...]
    downstream: str | None = None
    celerity_ms: float = 2.5  # flood-wave celerity for Muskingum K = L / c
    muskingum_x: float = 0.25
    phantom: bool = False  # a neighbouring basin's valley: shapes the divide, not in the network


def _r(
    id: str,
    zh: str,
    en: str,
    pts: Sequence[tuple[float, float]],
    z: tuple[float, float, float],
    frac: list[float],
    hw: list[float],
    bank: list[float],
    fp: list[float],
    relief: list[float],
    decay: list[float],
    **kw: object,
) -> ReachDesign:
    return ReachDesign(
        id,
        zh,
        en,
        tuple(pts),
        z[0],
        z[1],
        z[2],
        tuple(frac),
        tuple(hw),
        tuple(bank),
        tuple(fp),
        tuple(relief),
        tuple(decay),
        **kw,  # type: ignore[arg-type]
    )


# Key points (local metres from the south-west corner).
DAM_UV = (10500.0, 19000.0)  # the river flows due south here: the dam axis runs east–west
SLUICE_UV = (14500.0, 15600.0)  # the river flows due east here: the sluice axis runs north–south
CONFLUENCE_UV = (20000.0, 12500.0)
OUTLET_UV = (29985.0, 8500.0)  # centre of the last column: the river leaves at the east edge

REACHES: tuple[ReachDesign, ...] = (
    _r(
        "qx1",
        "青溪上游",
        "Upper Qingxi",
        [
            (2200, 26800),
            (3800, 26200),
            (5200, 25000),
            (6800, 24300),
            (8300, 23200),
            (9400, 22100),
            (10200, 21000),
            (10500, 20000),
            (10500, 19500),
            DAM_UV,
        ],
        (430.0, 150.0, 2.2),
        [0.0, 0.35, 0.55, 0.88, 0.94, 1.0],
        [8, 12, 15, 18, 18, 18],
        [1.5, 2.0, 2.5, 3.0, 3.0, 3.0],
        [40, 150, 450, 450, 60, 0],
        [380, 340, 320, 320, 320, 320],
        [900, 900, 850, 750, 650, 600],
        downstream="qx2",
        celerity_ms=3.0,
        muskingum_x=0.2,
    ),
    _r(
        "qx2",
        "青溪坝下段",
        "Qingxi below the dam",
        [
            DAM_UV,
            (10500, 18500),
            (10600, 17600),
            (11000, 16900),
            (11800, 16300),
            (12900, 15800),
            (13700, 15600),
            SLUICE_UV,
        ],
        (150.0, 82.0, 1.3),
        [0.0, 0.1, 0.4, 1.0],
        [18, 20, 22, 25],
        [3.0, 3.2, 3.6, 4.0],
        [0, 80, 350, 600],
        [320, 260, 200, 150],
        [600, 700, 900, 1000],
        downstream="qx3",
        celerity_ms=2.0,
        muskingum_x=0.25,
    ),
    _r(
        "qx3",
        "青溪石门段",
        "Qingxi at Shimen",
        [SLUICE_UV, (15300, 15600), (16500, 15100), (17600, 14200), (18700, 13200), CONFLUENCE_UV],
        (82.0, 66.0, 1.2),
        [0.0, 1.0],
        [25, 30],
        [4.0, 4.5],
        [600, 1100],
        [150, 120],
        [1000, 1200],
        downstream="qx4",
        celerity_ms=2.3,
        muskingum_x=0.3,
    ),
    _r(
        "bx",
        "北溪",
        "Beixi",
        [
            (17800, 28600),
            (18300, 26500),
            (18200, 24300),
            (18900, 22200),
            (19300, 19800),
            (19500, 17300),
            (19900, 14800),
            CONFLUENCE_UV,
        ],
        (380.0, 66.0, 1.8),
        [0.0, 0.5, 1.0],
        [8, 14, 20],
        [1.5, 2.5, 3.5],
        [30, 250, 500],
        [350, 250, 150],
        [800, 950, 1100],
        downstream="qx4",
        celerity_ms=2.6,
        muskingum_x=0.25,
    ),
    _r(
        "nx",
        "南溪",
        "Nanxi",
        [
            (8200, 2600),
            (10200, 3400),
            (12400, 4300),
            (14300, 5800),
            (16200, 7300),
            (17800, 9000),
            (19000, 10900),
            CONFLUENCE_UV,
        ],
        (330.0, 66.0, 1.8),
        [0.0, 0.5, 1.0],
        [8, 14, 20],
        [1.5, 2.5, 3.5],
        [30, 300, 600],
        [300, 220, 130],
        [800, 950, 1100],
        downstream="qx4",
        celerity_ms=2.6,
        muskingum_x=0.25,
    ),
    _r(
        "qx4",
        "青溪下游",
        "Lower Qingxi",
        [
            CONFLUENCE_UV,
            (21200, 11500),
            (22600, 10800),
            (24200, 10500),
            (25800, 10100),
            (27200, 9300),
            (28600, 8700),
            OUTLET_UV,
        ],
        (66.0, 45.0, 1.1),
        [0.0, 0.5, 1.0],
        [32, 36, 40],
        [4.5, 5.0, 5.0],
        [1200, 1500, 1000],
        [120, 100, 80],
        [1200, 1400, 1500],
        downstream=None,
        celerity_ms=2.0,
        muskingum_x=0.3,
    ),
)

# Neighbouring valleys just outside or at the edge of the window: they make the water divide
# irregular and let the DEM's margins drain away from the basin.
PHANTOMS: tuple[ReachDesign, ...] = tuple(
    _r(
        f"ph{i}",
        "邻谷",
        "neighbour",
        pts,
        z,
        [0.0, 1.0],
        [10, 10],
        [2.0, 2.0],
        [100, 100],
        [260, 260],
        [900, 900],
        phantom=True,
    )
    for i, (pts, z) in enumerate(
        [
            ([(-3000, 32000), (8000, 32600), (20000, 32400), (33000, 32800)], (330.0, 250.0, 1.0)),
            ([(-1800, 31000), (-2000, 20000), (-2200, 10000), (-2000, -3000)], (340.0, 200.0, 1.0)),
            ([(3500, 9500), (1500, 7000), (-3000, 5000)], (300.0, 200.0, 1.0)),
            ([(-3000, -2200), (10000, -2000), (24000, -2400), (33000, -2000)], (260.0, 150.0, 1.0)),
            ([(23500, 3500), (27000, 1500), (31500, -1500)], (240.0, 160.0, 1.0)),
            ([(33000, 2000), (32200, 5000), (32400, 6500)], (200.0, 150.0, 1.0)),
            ([(32400, 12000), (32000, 20000), (32600, 33000)], (220.0, 160.0, 1.0)),
            ([(25000, 25000), (28500, 26500), (33000, 27500)], (320.0, 220.0, 1.0)),
        ]
    )
)

REACH_ZH = {r.id: r.zh for r in REACHES}


@dataclass(frozen=True)
class SubBasinDesign:
    id: str
    zh: str
    en: str
    reaches: tuple[str, ...]  # reaches whose nearest-valley cells make up the sub-basin
    outlet_reach: str
    xaj: dict[str, float] = field(default_factory=dict)


# Xinanjiang parameters for humid south China (standards.md §5.1 ranges; daily KI, KG, CI, CG).
_XAJ_BASE = {
    "K": 0.95,
    "WUM": 20.0,
    "WLM": 75.0,
    "WDM": 40.0,
    "C": 0.16,
    "B": 0.3,
    "IM": 0.02,
    "SM": 30.0,
    "EX": 1.5,
    "KI": 0.4,
    "KG": 0.3,
    "CS": 0.8,
    "L": 1,
    "CI": 0.85,
    "CG": 0.98,
}


def _xaj(**over: float) -> dict[str, float]:
    out = dict(_XAJ_BASE)
    out.update(over)
    return out


SUBBASINS: tuple[SubBasinDesign, ...] = (
    SubBasinDesign(
        "sb_upper",
        "青溪水库以上",
        "Above Qingxi Reservoir",
        ("qx1",),
        "qx1",
        _xaj(WUM=20.0, WLM=80.0, WDM=45.0, B=0.35, SM=35.0, KI=0.42, KG=0.28, L=1),
    ),
    SubBasinDesign(
        "sb_shimen",
        "坝下石门区间",
        "Dam to Shimen",
        ("qx2",),
        "qx2",
        _xaj(WLM=70.0, B=0.3, IM=0.03, SM=28.0, CS=0.75, L=0),
    ),
    SubBasinDesign(
        "sb_beixi",
        "北溪",
        "Beixi",
        ("bx",),
        "bx",
        _xaj(WLM=80.0, WDM=50.0, B=0.32, SM=32.0, KI=0.38, KG=0.32, CS=0.82, L=1),
    ),
    SubBasinDesign(
        "sb_nanxi",
        "南溪",
        "Nanxi",
        ("nx",),
        "nx",
        _xaj(WUM=18.0, WLM=72.0, B=0.28, SM=30.0, CS=0.82, L=1),
    ),
    SubBasinDesign(
        "sb_lower",
        "青溪下游区间",
        "Lower Qingxi",
        ("qx3", "qx4"),
        "qx4",
        _xaj(WUM=15.0, WLM=65.0, WDM=35.0, B=0.25, IM=0.05, SM=25.0, CS=0.7, L=0),
    ),
)

# --- the reservoir and its dam -------------------------------------------------------------
RESERVOIR_ID = "qingxi_res"
DAM_CREST_M = 212.0
DAM_BED_M = 150.0  # river bed at the dam axis (= qx1 z_end)
DAM_BODY_ROWS = 2  # DEM rows carrying the dam body (axis row and the one downstream)
LEVELS = {
    "dead_m": 170.0,
    "flood_limit_m": 196.0,
    "normal_m": 200.0,
    "flood_control_high_m": 204.0,
    "design_flood_m": 205.5,
    "check_flood_m": 208.0,
    "dam_crest_m": DAM_CREST_M,
}
CURVE_STEP_M = 2.0
SURFACE_GATES: dict[str, Any] = {
    "id": "surface",
    "bays": 4,
    "bay_width_m": 10.0,
    "sill_m": 193.0,
    "max_opening_m": 10.0,
    "leaf_height_m": 8.5,
    "pier_m": 3.0,
}
BOTTOM_GATES: dict[str, Any] = {
    "id": "bottom",
    "bays": 1,
    "bay_width_m": 4.0,
    "sill_m": 160.0,
    "max_opening_m": 5.0,
    "leaf_height_m": 5.0,
}
FREE_SPILLWAY: dict[str, Any] = {"crest_m": 204.0, "width_m": 30.0}
SAFE_DOWNSTREAM_M3S = 300.0
OUTFLOW_OFFSET_M = 180.0  # reservoir outflow enters the 2D grid this far below the dam axis

# --- the sluice ----------------------------------------------------------------------------
SLUICE_ID = "shimen"
SLUICE_GATES: dict[str, Any] = {
    "id": "main",
    "bays": 5,
    "bay_width_m": 8.0,
    "sill_m": 82.0,
    "max_opening_m": 6.5,
    "leaf_height_m": 6.0,
    "pier_m": 1.6,
}
SLUICE_DECK_M = 92.0

# --- the levee protecting Qingxi town (north bank of qx4) ------------------------------------
LEVEE_OFFSET_M = 95.0
LEVEE_U_RANGE = (21200.0, 27600.0)
LEVEE_HEIGHT_M = 3.5  # above bank top

# --- town and villages (exposure) -----------------------------------------------------------
TOWN: dict[str, Any] = {
    "zh": "青溪镇",
    "en": "Qingxi Town",
    "center_uv": (24300.0, 11350.0),
    "size_uv": (2000.0, 700.0),
    "rows": 7,
    "cols": 22,
}
VILLAGES: tuple[dict[str, Any], ...] = (
    {
        "zh": "石门村",
        "en": "Shimen Village",
        "center_uv": (15600.0, 15050.0),
        "size_uv": (500.0, 250.0),
        "rows": 3,
        "cols": 8,
    },
    {
        "zh": "白沙村",
        "en": "Baisha Village",
        "center_uv": (17950.0, 10000.0),
        "size_uv": (420.0, 260.0),
        "rows": 3,
        "cols": 7,
    },
)

# --- stations --------------------------------------------------------------------------------
# 8-digit STCD (SL 502 style, a made-up Xiang-river block 6161xxxx); SL 651 address = 00 + STCD.


@dataclass(frozen=True)
class StationDesign:
    id: str
    zh: str
    en: str
    kind: str
    uv: tuple[float, float] | None = None  # rain gauges: a fixed spot
    reach: str | None = None  # river gauges: on this reach at fraction ``frac`` of its length
    frac: float = 0.0
    password: str = "0000"
    datum_name: str | None = None
    datum_offset_m: float = 0.0


STATIONS: tuple[StationDesign, ...] = (
    StationDesign(
        "61612010", "黄茅坪", "Huangmaoping", "rain", uv=(4300.0, 27900.0), password="3A71"
    ),
    StationDesign("61612020", "龙潭", "Longtan", "rain", uv=(7600.0, 21300.0), password="5C12"),
    StationDesign("61612030", "上坪", "Shangping", "rain", uv=(18600.0, 24100.0), password="7E03"),
    StationDesign("61612040", "桥头", "Qiaotou", "rain", uv=(11800.0, 5600.0), password="1B64"),
    StationDesign("61612100", "青溪水库", "Qingxi Reservoir", "reservoir", password="2D45"),
    StationDesign("61612200", "石门闸", "Shimen Sluice", "gate", password="4F26"),
    StationDesign("61612300", "沙坪", "Shaping", "river", reach="bx", frac=0.82, password="6A37"),
    StationDesign("61612400", "白沙", "Baisha", "river", reach="nx", frac=0.86, password="0C58"),
    StationDesign(
        "61612500",
        "青溪镇",
        "Qingxi Town",
        "river",
        reach="qx4",
        frac=0.42,
        password="9E19",
        datum_name="冻结吴淞高程",
        datum_offset_m=-1.85,
    ),
)

# --- design storms (72 h hourly, alternating-block hyetographs) --------------------------------
# Depth–duration P(D) = P72·(D/72)^n fitted through the 1-h and 72-h point depths; values typical
# of the Hunan storm atlas for the hills east of Changsha (湖南省暴雨洪水查算手册 magnitudes).
STORMS: tuple[dict[str, Any], ...] = (
    {
        "id": "design_20yr",
        "zh": "20年一遇设计暴雨",
        "en": "20-year design storm",
        "T": 20.0,
        "p1_mm": 62.0,
        "p72_mm": 300.0,
    },
    {
        "id": "design_50yr",
        "zh": "50年一遇设计暴雨",
        "en": "50-year design storm",
        "T": 50.0,
        "p1_mm": 72.0,
        "p72_mm": 355.0,
    },
    {
        "id": "design_100yr",
        "zh": "100年一遇设计暴雨",
        "en": "100-year design storm",
        "T": 100.0,
        "p1_mm": 80.0,
        "p72_mm": 400.0,
    },
)
STORM_HOURS = 72
STORM_PEAK_HOUR = 47  # 0-based index of the peak hour (single peak at two thirds)

# --- rehearsal -------------------------------------------------------------------------------
REHEARSAL_BBOX_UV = (9600.0, 6300.0, 30000.0, 18900.0)  # top edge just below the dam body
BREACH: dict[str, Any] = {
    "id": "levee_town",
    "zh": "青溪镇堤防溃口",
    "en": "Qingxi town levee breach",
    "u": 23400.0,
    "width_m": 60.0,
    "time_h": 48.0,
}

#: A dam-break scenario (issue 7): three blocks of the gravity dam fail at the storm's peak; the
#: breach sits on the dam axis where the outflow enters the rehearsal grid, and the reservoir
#: drains through it (broad-crested weir, level-pool drawdown on the level–storage curve).
DAM_BREACH: dict[str, Any] = {
    "id": "dam_break",
    "zh": "青溪水库大坝溃决",
    "en": "Qingxi dam break",
    "width_m": 90.0,
    "time_h": 47.0,
}

# --- manning roughness used for rating curves -------------------------------------------------
N_CHANNEL = 0.032
N_FLOODPLAIN = 0.06


def polyline_densify(points: tuple[tuple[float, float], ...], step_m: float) -> np.ndarray:
    """A smooth curve through control points (centripetal Catmull–Rom), sampled every step_m.

    Centripetal parametrisation (Yuksel et al. 2011) never loops or cusps; three collinear
    control points give a straight piece, which keeps the river straight at the dam and sluice.
    """
    p = np.asarray(points, dtype=np.float64)
    keep = np.concatenate([[True], np.hypot(*np.diff(p, axis=0).T) > 1e-6])
    p = p[keep]
    if len(p) < 2:
        return p.copy()
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = [p[0]]
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        t0 = 0.0
        t1 = t0 + np.linalg.norm(p1 - p0) ** 0.5
        t2 = t1 + np.linalg.norm(p2 - p1) ** 0.5
        t3 = t2 + np.linalg.norm(p3 - p2) ** 0.5
        n = max(int(np.ceil(np.linalg.norm(p2 - p1) / (step_m / 4))), 2)
        t = np.linspace(t1, t2, n + 1)[1:, None]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        c = (t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2
        out.extend(c)
    fine = np.asarray(out)
    seg = np.hypot(*np.diff(fine, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n_out = max(round(float(s[-1]) / step_m), 1)
    s_out = np.linspace(0.0, s[-1], n_out + 1)
    return np.column_stack([np.interp(s_out, s, fine[:, 0]), np.interp(s_out, s, fine[:, 1])])


def arc_length(xy: np.ndarray) -> np.ndarray:
    """Cumulative length along a polyline (m)."""
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])


def bed_profile(r: ReachDesign, s: np.ndarray, length: float) -> np.ndarray:
    """Bed elevation (m) at arc length s along reach r (concave long profile)."""
    f = np.clip(1.0 - s / length, 0.0, 1.0)
    return r.z_end + (r.z_start - r.z_end) * f**r.concavity


def valley_param(r: ReachDesign, name: str, frac: np.ndarray) -> np.ndarray:
    """A valley parameter of reach r interpolated at fractions of its length."""
    return np.interp(frac, r.frac, getattr(r, name))
