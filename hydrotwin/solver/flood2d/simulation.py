"""Running a 2D flood: time stepping, sources, volume accounting, maxima and frames.

The :class:`Simulation` is scheme-agnostic: it asks the scheme for a stable step, lets it
advance the hydrodynamics, then adds the sources of that step (rain, infiltration, point and
line inflows, breaches) to ``scheme.h`` with float64 volume accounting. ``run()`` is a
generator of immutable :class:`Frame` copies; closing it cancels the run between two steps.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange

from hydrotwin.errors import SolverError, SolverStabilityError
from hydrotwin.solver.flood2d.domain import Domain
from hydrotwin.solver.flood2d.gates import transfer
from hydrotwin.solver.flood2d.scheme import scheme_class

log = logging.getLogger(__name__)

MIN_DT_S = 1.0e-4
"""A stable step below this means the run has blown up (a runaway step)."""

NEGATIVE_DEPTH_TOL_M = -1.0e-6


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Frame:
    """One output time: arrays are float32 (ny, nx) read-only copies. ``u`` east, ``v`` north
    (m/s), ``wse`` the water surface (m, NaN where dry or wall)."""

    t_s: float
    depth: np.ndarray
    u: np.ndarray
    v: np.ndarray
    wse: np.ndarray


@dataclass
class Maxima:
    """Extremes over a run (float32 grids): ``arrival_s`` is when the depth first exceeded
    ``wet_threshold_m`` (NaN: never), ``t_max_depth_s`` when the maximum depth was reached."""

    depth_m: np.ndarray
    speed_mps: np.ndarray
    hazard_m2s: np.ndarray
    arrival_s: np.ndarray
    t_max_depth_s: np.ndarray
    wet_threshold_m: float = 0.01

    @classmethod
    def empty(cls, shape: tuple[int, int], wet_threshold_m: float) -> Maxima:
        return cls(
            depth_m=np.zeros(shape, np.float32),
            speed_mps=np.zeros(shape, np.float32),
            hazard_m2s=np.zeros(shape, np.float32),
            arrival_s=np.full(shape, np.nan, np.float32),
            t_max_depth_s=np.full(shape, np.nan, np.float32),
            wet_threshold_m=wet_threshold_m,
        )


@njit(parallel=True, cache=True)
def _update_maxima(h, u, v, t, thr, dmax, smax, hmax, arr, tmax):
    ny, nx = h.shape
    for j in prange(ny):
        for i in range(nx):
            d = h[j, i]
            if d <= 0.0:
                continue
            if d > dmax[j, i]:
                dmax[j, i] = d
                tmax[j, i] = t
            sp = math.sqrt(u[j, i] * u[j, i] + v[j, i] * v[j, i])
            if sp > smax[j, i]:
                smax[j, i] = sp
            hz = d * sp
            if hz > hmax[j, i]:
                hmax[j, i] = hz
            if d > thr and arr[j, i] != arr[j, i]:
                arr[j, i] = t


@njit(parallel=True, cache=True)
def _add_uniform(h, wall, d):
    """h += d on every non-wall cell; returns the float64 sum of the depths received."""
    ny, nx = h.shape
    acc = np.zeros(ny, np.float64)
    for j in prange(ny):
        s = 0.0
        for i in range(nx):
            if not wall[j, i]:
                old = h[j, i]
                new = old + d
                h[j, i] = new
                s += new - old  # what float32 really received (exact difference)
        acc[j] = s
    return acc.sum()


@njit(parallel=True, cache=True)
def _add_grid(h, rate, dt):
    """h += rate·dt (rate is 0 on walls); returns the float64 sum of the depths added."""
    ny, nx = h.shape
    acc = np.zeros(ny, np.float64)
    for j in prange(ny):
        s = 0.0
        for i in range(nx):
            old = h[j, i]
            new = old + np.float32(rate[j, i] * dt)
            h[j, i] = new
            s += new - old
        acc[j] = s
    return acc.sum()


@njit(parallel=True, cache=True)
def _infiltrate(h, rate, scalar, dt):
    """h -= min(h, f·dt), never below zero; returns the float64 sum of the depths removed."""
    ny, nx = h.shape
    acc = np.zeros(ny, np.float64)
    for j in prange(ny):
        s = 0.0
        for i in range(nx):
            f = scalar if rate.shape[0] == 0 else rate[j, i]
            take = min(h[j, i], np.float32(f * dt))
            if take > 0.0:
                old = h[j, i]
                new = old - take
                h[j, i] = new
                s += old - new
        acc[j] = s
    return acc.sum()


@njit(parallel=True, cache=True)
def _first_bad(h, tol):
    """Flat index of the first NaN, infinite or negative (< tol) depth, or -1."""
    ny, nx = h.shape
    bad = np.full(ny, -1, np.int64)
    for j in prange(ny):
        for i in range(nx):
            d = h[j, i]
            if not (d >= tol) or d > 1.0e5:
                bad[j] = j * nx + i
                break
    for j in range(ny):
        if bad[j] >= 0:
            return bad[j]
    return -1


@dataclass
class _Timer:
    solver_s: float = 0.0
    sources_s: float = 0.0
    other_s: float = 0.0
    extra: dict = field(default_factory=dict)


class Simulation:
    """A 2D flood run on ``domain`` with the scheme named ``scheme`` (see
    :func:`~hydrotwin.solver.flood2d.scheme.scheme_class`).

    ``threads``: numba threads for this run (None: all). ``dt_s``: a fixed step instead of the
    adaptive CFL step (an error if it ever exceeds the stable step). ``max_dt_s`` caps the
    adaptive step. Maxima are updated every ``maxima_every_s`` of simulated time (0: every
    step) and at every frame. Extra keyword arguments go to the scheme (e.g. ``theta``).
    """

    def __init__(
        self,
        domain: Domain,
        scheme: str = "inertial",
        threads: int | None = None,
        cfl: float = 0.7,
        *,
        dt_s: float | None = None,
        max_dt_s: float = 60.0,
        maxima_every_s: float = 0.0,
        wet_threshold_m: float = 0.01,
        check_every: int = 10,
        **scheme_options,
    ) -> None:
        if not isinstance(domain, Domain):
            raise SolverError(f"domain must be a Domain; got {type(domain).__name__}")
        if threads is not None and not (isinstance(threads, int) and threads >= 1):
            raise SolverError(f"threads must be a positive integer or None; got {threads!r}")
        if dt_s is not None and not (math.isfinite(dt_s) and dt_s > 0):
            raise SolverError(f"dt_s must be a positive step in s; got {dt_s!r}")
        if not (math.isfinite(max_dt_s) and max_dt_s > 0):
            raise SolverError(f"max_dt_s must be > 0; got {max_dt_s!r}")
        if not maxima_every_s >= 0:
            raise SolverError(f"maxima_every_s must be ≥ 0; got {maxima_every_s!r}")
        self.domain = domain
        cls = scheme_class(scheme)
        self.scheme = cls(domain, np.array(domain.h0, np.float32), cfl=cfl, **scheme_options)
        self.scheme_name: str = getattr(self.scheme, "name", scheme)
        self.threads = threads
        self.dt_s = dt_s
        self.max_dt_s = float(max_dt_s)
        self.maxima_every_s = float(maxima_every_s)
        self.check_every = max(int(check_every), 1)
        self.t_s = 0.0
        self.steps = 0
        self.area_m2 = domain.cell_area_m2
        self.z = np.where(domain.wall, np.nan, domain.z).astype(np.float32)
        self.wall = domain.wall.copy()
        self.volume_in = 0.0
        self.volume_out = 0.0
        self.volume_boundary_out = 0.0
        self.volume_infiltrated = 0.0
        self.volume0 = self.volume_now()
        self.maxima = Maxima.empty(domain.shape, wet_threshold_m)
        self._breach_done = [False] * len(domain.breaches)
        self.gate_q_m3s: dict[str, float] = {}  # each gate line's last discharge
        self._next_maxima_t = 0.0
        self._last_frame_t: float | None = None
        self._empty_grid = np.zeros((0, 0), np.float32)
        self.timer = _Timer()

    # -- volumes -------------------------------------------------------------------------------
    def volume_now(self) -> float:
        """Water on the grid (m³, float64 sum)."""
        return float(self.scheme.h.sum(dtype=np.float64)) * self.area_m2

    def volume_error_rel(self) -> float:
        """(stored − initial − in + out) relative to the larger of the water that was there or
        came in and the water stored or gone through the boundaries: 0 for a mass-exact run."""
        now = self.volume_now()
        expected = self.volume0 + self.volume_in - self.volume_out
        scale = max(self.volume0 + self.volume_in, now, abs(self.volume_out), self.area_m2 * 1.0e-3)
        return (now - expected) / scale

    # -- running -------------------------------------------------------------------------------
    def run(self, until_s: float, every_s: float) -> Iterator[Frame]:
        """Yield a frame now (if not yet yielded) and every ``every_s`` until ``until_s``."""
        if not (math.isfinite(until_s) and until_s >= self.t_s):
            raise SolverError(f"until_s must be ≥ the current time {self.t_s} s; got {until_s!r}")
        if not (math.isfinite(every_s) and every_s > 0):
            raise SolverError(f"every_s must be > 0; got {every_s!r}")
        if self.threads is not None:
            numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
        if self._last_frame_t is None or self._last_frame_t < self.t_s:
            yield self._frame()
        next_out = self.t_s + every_s
        while self.t_s < until_s - 1.0e-9:
            target = min(next_out, until_s)
            while self.t_s < target - 1.0e-9:
                self._advance(target)
            yield self._frame()
            next_out += every_s

    def advance_to(self, t_s: float) -> None:
        """Step until ``t_s`` without frames (maxima are still tracked)."""
        while self.t_s < t_s - 1.0e-9:
            self._advance(t_s)

    def _advance(self, target: float) -> None:
        sch = self.scheme
        t = self.t_s
        for k, br in enumerate(self.domain.breaches):
            if not self._breach_done[k] and br.time_s <= t + 1.0e-9:
                self._apply_breach(k)
        stable = sch.max_dt()
        if math.isnan(stable):
            self._raise_bad("the stable time step is NaN")
        if self.dt_s is not None:
            if self.dt_s > stable * (1.0 + 1.0e-6):
                raise SolverError(
                    f"the fixed time step {self.dt_s} s exceeds the stable step {stable:.4g} s "
                    f"(CFL {getattr(sch, 'cfl', '?')}) at t = {t:.3f} s; expected dt_s ≤ "
                    f"{stable:.4g} s or the adaptive step (dt_s=None)"
                )
            dt = self.dt_s
        else:
            dt = min(stable, self.max_dt_s)
            if dt < MIN_DT_S:
                self._raise_bad(f"the stable time step fell to {dt:.3g} s (runaway)")
        dt = min(dt, target - t)
        for k, br in enumerate(self.domain.breaches):
            if not self._breach_done[k] and t < br.time_s < t + dt:
                dt = br.time_s - t
        t0 = time.perf_counter()
        out = sch.step(dt, t)
        t1 = time.perf_counter()
        self.volume_boundary_out += out
        self.volume_out += out
        if self._sources(t, dt):
            sch.after_sources()
        self.timer.solver_s += t1 - t0
        self.timer.sources_s += time.perf_counter() - t1
        self.t_s = t + dt
        self.steps += 1
        if self.steps % self.check_every == 0:
            self.check()
        if self.t_s >= self._next_maxima_t - 1.0e-9:
            self._track_maxima()
            self._next_maxima_t = self.t_s + self.maxima_every_s

    def _apply_breach(self, k: int) -> None:
        br = self.domain.breaches[k]
        self.scheme.apply_breach(br.cells, br.bottom_m)
        r, c = br.cells[:, 0], br.cells[:, 1]
        zc = np.where(np.isnan(self.z[r, c]), np.float32(br.bottom_m), self.z[r, c])
        self.z[r, c] = np.minimum(zc, np.float32(br.bottom_m))
        self.wall[r, c] = False
        self._breach_done[k] = True
        self.scheme.after_sources()
        log.info("breach %r opened at t = %.0f s", br.name, self.t_s)

    def _sources(self, t: float, dt: float) -> bool:
        """Add the sources of [t, t+dt] to the scheme's depths; True if anything changed."""
        d = self.domain
        h = self.scheme.h
        tm = t + 0.5 * dt
        changed = False
        area = self.area_m2
        rain = d.rain_at(tm)
        if rain is not None:
            if np.ndim(rain) == 0:
                if rain > 0:
                    add = np.float32(rain * dt)
                    self.volume_in += _add_uniform(h, self.wall, add) * area
                    changed = True
            else:
                grid = np.asarray(rain, np.float32)
                if grid.shape != h.shape:
                    raise SolverError(f"rain grid has shape {grid.shape}; expected {h.shape}")
                grid = np.where(self.wall, np.float32(0), grid)
                self.volume_in += _add_grid(h, grid, dt) * area
                changed = True
        for p in d.point_inflows:
            q = p.q_at(tm)
            if q > 0:
                old = h[p.row, p.col]
                h[p.row, p.col] = old + np.float32(q * dt / area)
                self.volume_in += float(h[p.row, p.col] - old) * area
                changed = True
        for li in d.line_inflows:
            changed |= self._spread(li.cells, li.q_at(tm), dt)
        for k, br in enumerate(d.breaches):
            if br.has_inflow and self._breach_done[k]:
                changed |= self._spread(br.cells, br.q_at(tm), dt)
        for g in d.gate_lines:  # water moved across a gated wall line, none made
            q = self.gate_q_m3s[g.name] = transfer(g, h, self.z, tm, dt, area)
            changed |= q != 0.0
        f = d.infiltration_mps
        if f is not None and (np.ndim(f) > 0 or f > 0):
            if np.ndim(f) == 0:
                removed = _infiltrate(h, self._empty_grid, float(f), dt)
            else:
                removed = _infiltrate(h, f, 0.0, dt)
            self.volume_infiltrated += removed * area
            self.volume_out += removed * area
            changed = True
        return changed

    def _spread(self, cells: np.ndarray, q: float, dt: float) -> bool:
        if q <= 0:
            return False
        add = np.float32(q * dt / (self.area_m2 * len(cells)))
        h = self.scheme.h
        r, c = cells[:, 0], cells[:, 1]
        before = float(h[r, c].sum(dtype=np.float64))
        np.add.at(h, (r, c), add)
        self.volume_in += (float(h[r, c].sum(dtype=np.float64)) - before) * self.area_m2
        return True

    # -- checks, maxima, frames ----------------------------------------------------------------
    def check(self) -> None:
        """Raise SolverStabilityError naming the first NaN, infinite or negative depth."""
        idx = int(_first_bad(self.scheme.h, NEGATIVE_DEPTH_TOL_M))
        if idx >= 0:
            self._raise_bad("", idx)

    def _raise_bad(self, why: str, idx: int | None = None) -> None:
        if idx is None:
            idx = int(_first_bad(self.scheme.h, NEGATIVE_DEPTH_TOL_M))
        if idx >= 0:
            nx = self.scheme.h.shape[1]
            r, c = divmod(idx, nx)
            val = float(self.scheme.h[r, c])
            msg = (
                f"the {self.scheme_name} scheme became unstable at t = {self.t_s:.3f} s "
                f"(step {self.steps}): depth {val!r} m at cell (row {r}, col {c}); expected "
                "a finite depth ≥ 0"
            )
            if why:
                msg += f" ({why})"
        else:
            msg = f"the {self.scheme_name} scheme became unstable at t = {self.t_s:.3f} s: {why}"
        raise SolverStabilityError(msg)

    def _track_maxima(self, uv: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        u, v = self.scheme.velocity() if uv is None else uv
        m = self.maxima
        _update_maxima(
            self.scheme.h, u, v, np.float32(self.t_s), np.float32(m.wet_threshold_m),
            m.depth_m, m.speed_mps, m.hazard_m2s, m.arrival_s, m.t_max_depth_s,
        )  # fmt: skip

    def _frame(self) -> Frame:
        self.check()
        h = self.scheme.h.copy()
        u, v = self.scheme.velocity()
        u = np.asarray(u, np.float32).copy()
        v = np.asarray(v, np.float32).copy()
        self._track_maxima((u, v))
        wse = np.where(h > 0, self.z + h, np.nan).astype(np.float32)
        self._last_frame_t = self.t_s
        return Frame(self.t_s, _readonly(h), _readonly(u), _readonly(v), _readonly(wse))

    def wet_area_m2(self, threshold_m: float = 0.01) -> float:
        return float(np.count_nonzero(self.scheme.h > threshold_m)) * self.area_m2
