"""River-network routing: reaches in topological order, lateral inflow, sums at junctions.

Each reach receives, at its upstream end, the outflow of every reach that drains into it plus
its lateral inflow (the runoff of the sub-basins that drain to it and any base flow), and routes
the total with Muskingum (:mod:`hydrotwin.solver.muskingum`). A structure at a reach's outlet
(reservoir, sluice gate) is a callable given by the caller that turns the routed series into the
series passed downstream; the solver knows nothing else about it. A cycle is an error that names
the reaches in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hydrotwin.errors import SolverError
from hydrotwin.solver.muskingum import MuskingumPlan, plan, route_reach

# structure(routed_inflow_m3s[t]) -> outflow_m3s[t]
OutletStructure = Callable[[np.ndarray], np.ndarray]


def topological_order(
    downstream: Sequence[int] | np.ndarray, names: Sequence[str] | None = None
) -> np.ndarray:
    """Order reaches so that every reach comes before the one it drains into.

    ``downstream[i]`` is the index of the next reach, or −1 at an outlet. Kahn's algorithm; what
    is left when no reach without upstream inflow remains lies on (or below) a cycle, and the
    cycle itself is found by following ``downstream`` from one of them.
    """
    ds = np.asarray(downstream, dtype=np.int64)
    n = ds.size
    label = list(names) if names is not None else [str(i) for i in range(n)]
    bad = (ds < -1) | (ds >= n)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SolverError(
            f"reach {label[i]!r} drains to index {int(ds[i])}; expected −1 or 0–{n - 1}"
        )
    indeg = np.zeros(n, dtype=np.int64)
    for d in ds:
        if d >= 0:
            indeg[d] += 1
    stack = [i for i in range(n) if indeg[i] == 0]
    order: list[int] = []
    while stack:
        i = stack.pop()
        order.append(i)
        d = ds[i]
        if d >= 0:
            indeg[d] -= 1
            if indeg[d] == 0:
                stack.append(int(d))
    if len(order) < n:
        left = set(range(n)) - set(order)
        start = min(left)
        seen: list[int] = []
        i = start
        while i not in seen:
            seen.append(i)
            i = int(ds[i])
        cycle = seen[seen.index(i) :]
        path = " → ".join(label[j] for j in [*cycle, cycle[0]])
        raise SolverError(f"the river network has a cycle: {path}; a reach network must be a tree")
    return np.array(order, dtype=np.int64)


@dataclass
class ReachState:
    """Where a reach stands at the end of a run: its last inflow and outflow (m³/s, the flow
    passed downstream) and the Muskingum state ``[2, N]`` of its sub-reaches."""

    inflow_m3s: float
    outflow_m3s: float
    muskingum: np.ndarray


@dataclass
class NetworkResult:
    """Per reach and step (m³/s): total inflow at the upstream end, routed flow at the downstream
    end before any structure, and the flow passed downstream (after the structure). Arrays are
    indexed ``[t, r]`` (transposed views of reach-major arrays)."""

    inflow_m3s: np.ndarray  # [t, r]
    routed_m3s: np.ndarray  # [t, r]
    outflow_m3s: np.ndarray  # [t, r]
    order: np.ndarray
    end_states: list[ReachState]


def route_network(
    lateral_m3s: np.ndarray,
    downstream: Sequence[int] | np.ndarray,
    k_s: Sequence[float] | np.ndarray,
    x: Sequence[float] | np.ndarray,
    dt_s: float,
    *,
    initial_lateral_m3s: np.ndarray | None = None,
    structures: Mapping[int, OutletStructure] | None = None,
    initial_structure_outflow_m3s: Mapping[int, float] | None = None,
    names: Sequence[str] | None = None,
    warm: Sequence[ReachState] | None = None,
) -> NetworkResult:
    """Route ``lateral_m3s[t, r]`` (inflow at the end of each step) through the network.

    The network starts in steady flow: each reach carries its initial lateral inflow plus what
    arrives from upstream at time 0 (``initial_lateral_m3s``, default the first step's lateral).
    Below a structure the initial flow is ``initial_structure_outflow_m3s[r]`` when given.
    ``warm`` (one :class:`ReachState` per reach, from ``end_states`` of a previous run) continues
    that run exactly instead.
    """
    lat = np.asarray(lateral_m3s, dtype=np.float64)
    if lat.ndim != 2:
        raise SolverError(f"lateral inflow has shape {lat.shape}; expected (steps, reaches)")
    nt, n = lat.shape
    ds = np.asarray(downstream, dtype=np.int64)
    if ds.size != n or len(k_s) != n or len(x) != n:
        raise SolverError(
            f"{n} reaches in the lateral inflow but {ds.size} downstream links, {len(k_s)} K "
            f"and {len(x)} X values"
        )
    label = list(names) if names is not None else [str(i) for i in range(n)]
    if not np.isfinite(lat).all():
        t, r = (int(v) for v in np.argwhere(~np.isfinite(lat))[0])
        raise SolverError(f"lateral inflow of reach {label[r]!r} at step {t} is not finite")
    order = topological_order(ds, label)
    plans: list[MuskingumPlan] = [
        plan(float(k_s[i]), float(x[i]), dt_s, name=f"reach {label[i]!r}") for i in range(n)
    ]
    lat0 = lat[0] if initial_lateral_m3s is None else np.asarray(initial_lateral_m3s, float)
    structures = structures or {}
    init_struct = initial_structure_outflow_m3s or {}

    # reach-major [r, t] layout: every series is one contiguous row (columns of a [t, r]
    # array are strided and cost a cache miss per step)
    inflow = np.array(lat.T, order="C", copy=True)
    q0 = lat0.copy()  # steady initial inflow, accumulated like the series
    routed = np.empty_like(inflow)
    outflow = np.empty_like(inflow)
    if warm is not None:
        if len(warm) != n:
            raise SolverError(f"warm start has {len(warm)} reach states; expected {n}")
        for i, w in enumerate(warm):
            if w.muskingum.shape != (2, plans[i].n_sub):
                raise SolverError(
                    f"warm state of reach {label[i]!r} has shape {w.muskingum.shape}; expected "
                    f"(2, {plans[i].n_sub}) for its sub-reaches (was K, X or the step changed?)"
                )
    ends: list[ReachState | None] = [None] * n
    for i in order:
        if warm is None:
            routed[i], st = route_reach(inflow[i], plans[i], initial_inflow_m3s=float(q0[i]))
        else:
            routed[i], st = route_reach(
                inflow[i], plans[i], initial_inflow_m3s=warm[i].inflow_m3s, state=warm[i].muskingum
            )
        if i in structures:
            out = np.asarray(structures[i](routed[i]), dtype=np.float64)
            if out.shape != (nt,):
                raise SolverError(
                    f"structure at reach {label[i]!r} returned shape {out.shape}; expected ({nt},)"
                )
            outflow[i] = out
            q_out0 = float(init_struct.get(i, q0[i]))
        else:
            outflow[i] = routed[i]
            q_out0 = float(q0[i])
        ends[i] = ReachState(float(inflow[i, -1]), float(outflow[i, -1]), st)
        d = ds[i]
        if d >= 0:
            inflow[d] += outflow[i]
            q0[d] += q_out0
    return NetworkResult(inflow.T, routed.T, outflow.T, order, [e for e in ends if e is not None])
