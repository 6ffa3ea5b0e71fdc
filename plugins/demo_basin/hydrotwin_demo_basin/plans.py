"""Candidate operation plans (预案) the demo basin offers, through the plan-template hook.

Registered under the entry point group ``hydrotwin.hooks``; answers only for the demo basin.
This module is the demo's hook plugin: the example panel and live source are imported here so
that pluggy finds every hook implementation on the one module the entry point names.
The numbers come from the design constants in ``layout.py`` (flood-limit level, safe
downstream discharge, the Shimen sluice's gates), so plans and basin stay consistent.
"""

from __future__ import annotations

from typing import Any

from hydrotwin.basin.hooks import hookimpl
from hydrotwin_demo_basin import layout
from hydrotwin_demo_basin.panel import hydrotwin_panels
from hydrotwin_demo_basin.sources import hydrotwin_data_sources

__all__ = ["hydrotwin_data_sources", "hydrotwin_panels", "hydrotwin_plan_templates", "templates"]

BASIN_ID = "demo"
PRE_RELEASE_LEVEL_M = 192.0  # 4 m below the flood limit: ≈ 17 million m³ of room (curve)
SHIMEN_HOLD_OPENING_M = 2.0  # normal operation: the pool held for irrigation intakes
SHIMEN_OPEN_AT_H = 44.0  # fully open a few hours before the 100-yr flood reaches Shimen


def templates() -> list[dict[str, Any]]:
    """The demo's plans as plain dicts (the schema of ``hydrotwin.fourpre.plan.Plan``)."""
    res = layout.RESERVOIR_ID
    return [
        {
            "id": "flood_limit",
            "name": "汛限水位调度（基准）",
            "description": "Standing rule: start at the flood-limit level "
            f"{layout.LEVELS['flood_limit_m']:g} m, release the inflow above it, at most the "
            f"safe downstream discharge {layout.SAFE_DOWNSTREAM_M3S:g} m³/s.",
        },
        {
            "id": "pre_release",
            "name": f"预泄至 {PRE_RELEASE_LEVEL_M:g} m",
            "description": f"Pre-release before the storm to {PRE_RELEASE_LEVEL_M:g} m, then "
            "the flood-limit rule: the reservoir stores the first part of the flood.",
            "reservoirs": {res: {"start_level_m": PRE_RELEASE_LEVEL_M}},
        },
        {
            "id": "safe_release",
            "name": f"按安全泄量 {layout.SAFE_DOWNSTREAM_M3S:g} m³/s 控泄",
            "description": "Hold the release at the safe downstream discharge from the start "
            "(the gates deliver it as far as they can at the level).",
            "reservoirs": {
                res: {"rule": {"kind": "fixed_release", "release_m3s": layout.SAFE_DOWNSTREAM_M3S}}
            },
        },
        {
            "id": "shimen_schedule",
            "name": f"石门闸 {SHIMEN_OPEN_AT_H:g} 时全开",
            "description": f"Shimen sluice held at {SHIMEN_HOLD_OPENING_M:g} m, fully opened "
            f"({layout.SLUICE_GATES['max_opening_m']:g} m) at hour {SHIMEN_OPEN_AT_H:g}; the "
            "reservoir keeps its standing rule.",
            "sluice_gates": {
                layout.SLUICE_ID: {
                    "kind": "gate_schedule",
                    "schedule_h": [0.0, SHIMEN_OPEN_AT_H],
                    "schedule_opening_m": [
                        SHIMEN_HOLD_OPENING_M,
                        layout.SLUICE_GATES["max_opening_m"],
                    ],
                }
            },
        },
    ]


@hookimpl
def hydrotwin_plan_templates(basin: Any) -> list[dict[str, Any]] | None:
    """The demo's candidate plans; None for any other basin."""
    if getattr(basin, "id", None) != BASIN_ID:
        return None
    return templates()
