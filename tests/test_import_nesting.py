"""Importing the headless layers must stay cheap and display-free: no Qt, no VTK, no pyvista
(and the package root not even numba). Checked in a fresh interpreter per module."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

GUI = ("PySide6", "vtkmodules", "vtk", "pyvista", "pyvistaqt", "pyqtgraph")


def _imported(module: str) -> set[str]:
    code = f"import sys, json, {module}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_package_root_is_light():
    mods = _imported("hydrotwin")
    heavy = {m for m in mods if m.split(".")[0] in (*GUI, "numba", "xarray", "rasterio")}
    assert heavy == set()


@pytest.mark.parametrize(
    "module",
    [
        "hydrotwin.basin",
        "hydrotwin.solver",
        "hydrotwin.live",
        "hydrotwin.fourpre",
        "hydrotwin.app.cli",
    ],
)
def test_headless_layers_import_no_gui(module):
    mods = _imported(module)
    gui = sorted(m for m in mods if m.split(".")[0] in GUI)
    assert gui == [], f"{module} pulls in GUI modules: {gui[:5]}"
