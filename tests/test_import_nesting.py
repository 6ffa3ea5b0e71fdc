"""Importing the headless layers must stay cheap and display-free: no Qt, no VTK, no pyvista
(and the package root not even numba). Every submodule of the headless layers is imported, in
a fresh interpreter, so that a GUI import anywhere in them (not just in a package ``__init__``)
fails here; the walk finds new modules by itself (MNE's import-nesting test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GUI = ("PySide6", "vtkmodules", "vtk", "pyvista", "pyvistaqt", "pyqtgraph")
REPO = Path(__file__).resolve().parents[1]
HEADLESS = ("hydrotwin.solver", "hydrotwin.basin", "hydrotwin.live", "hydrotwin.fourpre")

# Run in the child: walk each headless package, import every module found, report what was
# imported, which modules fail to import (a broken module must not hide a GUI import) and the
# first module after whose import a GUI package was loaded (the culprit, for the message).
_WALK = """
import importlib, json, pkgutil, sys
gui = %r
found, errors, culprit = [], {}, None
def check(name):
    global culprit
    if culprit is None and any(m.split(".")[0] in gui for m in sys.modules):
        culprit = name
for root in %r:
    pkg = importlib.import_module(root)
    found.append(root)
    check(root)
    for info in pkgutil.walk_packages(pkg.__path__, root + ".", onerror=lambda name: None):
        found.append(info.name)
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            errors[info.name] = f"{type(exc).__name__}: {exc}"
        check(info.name)
out = {"found": found, "errors": errors, "culprit": culprit, "modules": sorted(sys.modules)}
print(json.dumps(out))
"""


def _run(code: str) -> dict | list:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, f"the import child failed:\n{out.stderr[-3000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _modules_on_disk() -> list[str]:
    names = []
    for pkg in HEADLESS:
        for f in (REPO / pkg.replace(".", "/")).rglob("*.py"):
            parts = f.relative_to(REPO).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def _gui(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in GUI)


def test_package_root_is_light():
    mods = _run("import sys, json, hydrotwin\nprint(json.dumps(sorted(sys.modules)))")
    heavy = {m for m in mods if m.split(".")[0] in (*GUI, "numba", "xarray", "rasterio")}
    assert heavy == set()


def test_every_headless_module_imports_without_gui():
    res = _run(_WALK % (GUI, HEADLESS))
    # the walk reached every module on disk (a broken walk must not pass vacuously)
    assert sorted(res["found"]) == _modules_on_disk()
    assert res["errors"] == {}, f"headless modules that fail to import: {res['errors']}"
    gui = _gui(res["modules"])
    assert gui == [], f"importing {res['culprit']} pulls in GUI modules: {gui[:8]}"


def test_cli_module_imports_without_gui():
    mods = _run("import sys, json, hydrotwin.app.cli\nprint(json.dumps(sorted(sys.modules)))")
    gui = _gui(mods)
    assert gui == [], f"hydrotwin.app.cli pulls in GUI modules: {gui[:8]}"
