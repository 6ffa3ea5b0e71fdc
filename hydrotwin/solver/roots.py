"""The Illinois variant of regula falsi, shared by the numba kernels that solve for a level,
an opening or a rain depth on a bracket [lo, hi] of an increasing function.

Plain regula falsi keeps one end of the bracket for ever on a convex function and converges
linearly; halving the value kept at that end each time it is kept twice (Dowell & Jarratt,
BIT 11 (1971) 168–174) restores superlinear convergence at the cost of one multiply.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def secant_point(lo: float, flo: float, hi: float, fhi: float) -> float:
    """Where the chord through (lo, flo) and (hi, fhi) crosses zero."""
    return (lo * fhi - hi * flo) / (fhi - flo)


@njit(cache=True)
def illinois_keep(
    lo: float, flo: float, hi: float, fhi: float, side: int, x: float, fx: float
) -> tuple[float, float, float, float, int]:
    """The bracket after f(x) = fx: the end on fx's side moves to x; the end kept a second
    time in a row has its value halved. ``side`` is -1 after hi moved, 1 after lo moved."""
    if fx > 0.0:
        if side == -1:
            flo *= 0.5
        return lo, flo, x, fx, -1
    if side == 1:
        fhi *= 0.5
    return x, fx, hi, fhi, 1
