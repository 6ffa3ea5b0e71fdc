"""Folding ensemble members into probabilities and percentiles as they arrive.

Series (station and reservoir × time) are small and kept per member, so their percentiles are
exact (``numpy.percentile``, linear). Maps are not kept: each member's maximum-depth map is
added to running counts and dropped, so memory does not grow with N —

- inundation probability: the count of members with max depth ≥ 0.15 m
  (:data:`~hydrotwin.fourpre.flood.FLOODED_M`), over the members that completed;
- mean max depth: a sum in whole micrometres (int64: exact, so the result does not depend on
  the order members arrive in — a LocalCluster and a remote cluster give the same bits);
- 90th-percentile max depth: per-cell counts in the bins :data:`DEPTH_BINS_M`, read by linear
  interpolation inside the bin (resolved to the bin's width: 1 cm below 5 cm, 5–10 cm up to
  0.5 m, 25–50 cm up to 3 m).

Probabilities count the members that completed; a failed member is listed with its reason
(``member_error``) and counted nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from hydrotwin.basin.manifest import Basin
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.flood import FLOODED_M
from hydrotwin.fourpre.warning import GRADES, Level, StationThresholds
from hydrotwin.timeutil import to_datetime64

PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
GRADE_LEVELS = (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)
DEPTH_BINS_M = np.array(
    [0.0, 0.01, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0,
     4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, np.inf]
)  # fmt: skip
UM = 1e6  # micrometres per metre


class EnsembleReducer:
    """Running state of one ensemble (plans × members); :meth:`add` each result, then
    :meth:`dataset`."""

    def __init__(self, basin: Basin, tasks: Sequence[Any]) -> None:
        self.basin = basin
        self.tasks = list(tasks)
        self.plans = list(dict.fromkeys(t.plan_id for t in tasks))
        self.members = max(t.member for t in tasks) + 1
        t0 = self.tasks[0]
        steps = round(t0.hours / t0.dt_h)
        self.times = np.array(
            [to_datetime64(t0.start) + np.timedelta64(round(k * t0.dt_h * 3600), "s")
             for k in range(steps + 1)]
        )  # fmt: skip
        n_p, n_m, n_s, n_t = len(self.plans), self.members, len(basin.stations), steps + 1
        self.level = np.full((n_p, n_m, n_s, n_t), np.nan)
        self.discharge = np.full((n_p, n_m, n_s, n_t), np.nan)
        self.grade_count = np.zeros((n_p, n_s, len(GRADE_LEVELS), n_t), np.int64)
        n_r = len(basin.reservoirs)
        self.res_count = np.zeros((n_p, n_r, 3, n_t), np.int64)
        self.ok = np.zeros((n_p, n_m), bool)
        self.seen = np.zeros((n_p, n_m), bool)
        self.errors: dict[tuple[int, int], str] = {}
        self.people = np.full((n_p, n_m), np.nan)
        self.places: list[str] = []
        self.place_depth: dict[tuple[int, int], dict[str, float]] = {}
        self.grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # x, y, wall
        self.flooded: np.ndarray | None = None
        self.depth_um: np.ndarray | None = None
        self.hist: np.ndarray | None = None

    def add(self, r: Any) -> None:
        """Fold in one :class:`~hydrotwin.fourpre.ensemble.MemberResult`."""
        p, m = self.plans.index(r.plan_id), r.member
        if self.seen[p, m]:
            return  # a task Dask ran twice: counted once
        self.seen[p, m] = True
        if r.error is not None:
            self.errors[(p, m)] = r.error
            return
        self.ok[p, m] = True
        self.level[p, m], self.discharge[p, m] = r.station_level, r.station_discharge
        for g, lv in enumerate(GRADE_LEVELS):
            self.grade_count[p, :, g] += r.grade_reached >= int(lv)
        self.res_count[p] += r.reservoir_exceeded
        if r.max_depth is not None:
            self._add_map(p, r)
            self.people[p, m] = r.people_deep
            self.place_depth[(p, m)] = r.place_max_depth
            self.places.extend(k for k in r.place_max_depth if k not in self.places)

    def _add_map(self, p: int, r: Any) -> None:
        d = r.max_depth
        if self.grid is None:
            shape = (len(self.plans), *d.shape)
            self.grid = (r.grid_x, r.grid_y, np.isnan(d))
            self.flooded = np.zeros(shape, np.int32)
            self.depth_um = np.zeros(shape, np.int64)
            self.hist = np.zeros((len(self.plans), DEPTH_BINS_M.size - 1, *d.shape), np.uint16)
        assert self.flooded is not None and self.depth_um is not None and self.hist is not None
        if d.shape != self.flooded.shape[1:]:
            raise InputDataError(
                f"member {r.member}: max-depth map {d.shape}; expected {self.flooded.shape[1:]}"
            )
        d0 = np.nan_to_num(d.astype(np.float64), nan=0.0)
        self.flooded[p] += d0 >= FLOODED_M
        self.depth_um[p] += np.rint(d0 * UM).astype(np.int64)
        b = np.searchsorted(DEPTH_BINS_M, d0, side="right") - 1
        np.add.at(self.hist[p], (b, *np.indices(d0.shape)), 1)

    def dataset(self) -> xr.Dataset:
        """The CF-1.8 result (module docstring; variables' attributes say the rest)."""
        from hydrotwin.fourpre.ensemble_output import build_dataset

        return build_dataset(self)

    def missing(self) -> list[tuple[str, int]]:
        """(plan, member) pairs no result has come back for (should be none)."""
        return [(self.plans[p], int(m)) for p, m in np.argwhere(~self.seen)]


def percentile_from_hist(hist: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` percentile per cell from counts ``hist[bin, …]`` over :data:`DEPTH_BINS_M`,
    linear inside the bin (the last, open bin gives its lower edge)."""
    n = hist.sum(axis=0).astype(float)
    cum = np.cumsum(hist, axis=0)
    target = q / 100.0 * n
    k = np.minimum((cum < target[None]).sum(axis=0), hist.shape[0] - 1)
    before = np.where(k > 0, np.take_along_axis(cum, np.maximum(k - 1, 0)[None], 0)[0], 0)
    inside = np.take_along_axis(hist, k[None], 0)[0].astype(float)
    lo, hi = DEPTH_BINS_M[k], DEPTH_BINS_M[k + 1]
    frac = np.where(inside > 0, (target - before) / np.maximum(inside, 1), 0.0)
    out = np.where(np.isfinite(hi), lo + np.clip(frac, 0, 1) * (hi - lo), lo)
    return np.where(n > 0, out, np.nan)


def station_thresholds(basin: Basin) -> np.ndarray:
    """[station, grade] level thresholds (m, basin datum; NaN: not defined), for fan charts."""
    out = np.full((len(basin.stations), len(GRADE_LEVELS)), np.nan)
    for k, s in enumerate(basin.stations):
        th = StationThresholds.from_station(s, basin)
        for g, lv in enumerate(GRADE_LEVELS):
            t = th.threshold(lv)
            out[k, g] = np.nan if t is None else t
    return out


GRADE_KEYS = [GRADES[lv].key for lv in GRADE_LEVELS]
