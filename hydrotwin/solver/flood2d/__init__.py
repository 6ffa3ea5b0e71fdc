"""2D flood inundation on a regular grid: one domain and simulation, several schemes.

``Domain`` (grid, roughness, boundaries, sources) → ``Simulation(domain, scheme=...)`` →
``for frame in sim.run(until_s, every_s)``. Schemes: ``"inertial"`` (local inertial, Bates et
al. 2010 / de Almeida et al. 2012: fast, for slow floodplain filling) and ``"godunov"``
(shock-capturing finite volume, for dam breaks). Arrays in, arrays out: no files, no basin.
"""

import os

# numba's OpenMP threads spin between parallel regions by default; on a shared machine (the 3D
# view, other processes) a descheduled spinner stalls every step. Measured on the 2-core CI
# machine under load: 1000² dam break, 2 threads, 85/29 M cell-updates/s spinning vs 290/181
# passive. Set before the OpenMP runtime loads (first parallel call); the user can override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from hydrotwin.solver.flood2d.domain import (
    EDGES,
    Boundary,
    Breach,
    Domain,
    LineInflow,
    PointInflow,
)
from hydrotwin.solver.flood2d.scheme import (
    DRY_DEPTH_M,
    G_MPS2,
    Scheme,
    available_schemes,
    register_scheme,
    scheme_class,
)
from hydrotwin.solver.flood2d.simulation import Frame, Maxima, Simulation

__all__ = [
    "DRY_DEPTH_M",
    "EDGES",
    "G_MPS2",
    "Boundary",
    "Breach",
    "Domain",
    "Frame",
    "LineInflow",
    "Maxima",
    "PointInflow",
    "Scheme",
    "Simulation",
    "available_schemes",
    "register_scheme",
    "scheme_class",
]
