"""The numerical engine: arrays in, arrays out; no files, no basin, no Qt.

Xinanjiang rainfall-runoff, Muskingum routing over the river network, reservoir and gate
hydraulics, rain-holding capacity of reservoirs (``capacity``), and the 2D flood schemes (local
inertial, Godunov) in ``flood2d``.
"""

import os

# numba's OpenMP threads spin while waiting by default; on a 2-core machine shared with the 3D
# view that spinning steals the other thread's core (measured: 2 threads 29–85 → 181–290 M
# cell-updates/s under load). Must be set before numba starts its thread pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
