"""Network routing: topological order, junction sums, lateral inflow, outlet structures, cycles."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.errors import SolverError
from hydrotwin.solver.muskingum import plan, route_reach
from hydrotwin.solver.network import route_network, topological_order

H = 3600.0


def test_order_puts_upstream_first():
    #  0 ─┐
    #     ├─ 2 ─ 3      4 ─ 3
    #  1 ─┘
    ds = [2, 2, 3, -1, 3]
    order = list(topological_order(ds))
    for i, d in enumerate(ds):
        if d >= 0:
            assert order.index(i) < order.index(d)


def test_cycle_is_named():
    with pytest.raises(SolverError, match=r"cycle: B → C → D → B"):
        topological_order([1, 2, 3, 1], names=["A", "B", "C", "D"])


def test_junction_sums_and_lateral_inflow():
    """Two tributaries join; the trunk's inflow is their outflows plus its lateral inflow, and
    each reach equals routing that inflow alone (independent check with route_reach)."""
    nt = 120
    t = np.arange(nt)
    lat = np.zeros((nt, 3))
    lat[:, 0] = 5 + 100 * np.exp(-(((t - 20) / 5.0) ** 2))
    lat[:, 1] = 3 + 50 * np.exp(-(((t - 30) / 8.0) ** 2))
    lat[:, 2] = 2.0
    k = [4 * H, 6 * H, 10 * H]
    x = [0.2, 0.3, 0.1]
    res = route_network(lat, [2, 2, -1], k, x, H, names=["a", "b", "trunk"])
    np.testing.assert_allclose(
        res.inflow_m3s[:, 2], lat[:, 2] + res.outflow_m3s[:, 0] + res.outflow_m3s[:, 1]
    )
    for i in range(3):
        expect, _ = route_reach(
            res.inflow_m3s[:, i], plan(k[i], x[i], H), initial_inflow_m3s=res.inflow_m3s[0, i]
        )
        np.testing.assert_allclose(res.routed_m3s[:, i], expect, rtol=1e-12)
    # steady start, then the volume that leaves equals what came in minus what is still in transit
    assert res.outflow_m3s[0, 2] == pytest.approx(10.0, rel=1e-5)
    vin = lat.sum()
    vout = res.outflow_m3s[:, 2].sum()
    assert vout == pytest.approx(vin, rel=0.02)


def test_structure_replaces_outflow():
    lat = np.full((50, 2), 10.0)
    lat[10:20, 0] = 200.0
    cap = lambda q: np.minimum(q, 50.0)  # noqa: E731
    res = route_network(lat, [1, -1], [2 * H, 2 * H], [0.2, 0.2], H, structures={0: cap})
    assert res.outflow_m3s[:, 0].max() == pytest.approx(50.0)
    assert res.routed_m3s[:, 0].max() > 150.0
    np.testing.assert_allclose(res.inflow_m3s[:, 1], 10.0 + res.outflow_m3s[:, 0])


def test_bad_inputs():
    with pytest.raises(SolverError, match="lateral inflow of reach 'b' at step 3"):
        lat = np.ones((5, 2))
        lat[3, 1] = np.nan
        route_network(lat, [1, -1], [H, H], [0.2, 0.2], H, names=["a", "b"])
    with pytest.raises(SolverError, match="2 reaches in the lateral inflow but 3"):
        route_network(np.ones((5, 2)), [1, -1, -1], [H, H], [0.2, 0.2], H)
