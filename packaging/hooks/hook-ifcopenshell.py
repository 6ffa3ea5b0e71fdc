# ifcopenshell loads its SWIG wrapper and the geometry kernels (OpenCASCADE, CGAL) by name.
# Only what HydroTwin uses is kept: the parser (its IFC2X3/IFC4/IFC4X3 schemas are compiled
# in), the geometry iterator, the util modules ifc.py imports and the compiled EXPRESS rules
# (express/rules: derived attributes are computed by them); the authoring API (api/, bsi/)
# and the EXPRESS toolkit's data (.exp, .csv) stay out.
from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, collect_submodules, get_package_paths

hiddenimports = [
    "ifcopenshell.ifcopenshell_wrapper",
    "ifcopenshell.geom",
    "ifcopenshell.util.placement",
    "ifcopenshell.util.element",
    "ifcopenshell.util.unit",
    "ifcopenshell.util.geolocation",
    *collect_submodules("ifcopenshell.express.rules"),
]
# The schema parsers, mappings and kernels are plugins (ifcopenshell_*.so) that the core
# dlopens; collect_dynamic_libs only takes lib*.so, so every shared object is listed here.
_pkg = Path(get_package_paths("ifcopenshell")[1])
binaries = [
    (str(p), "ifcopenshell")
    for p in sorted(_pkg.glob("*.so*"))
    if not p.name.startswith("_ifcopenshell_wrapper")  # the extension module is found anyway
]
# libifcopenshell.plugin.so looks for plugins in the folder it was loaded from (dladdr); in
# the bundle that is the top folder, where PyInstaller links the libraries the wrapper needs
# (the schemas, the OpenCASCADE kernel) but not the CGAL kernels the hybrid kernel asks for
# ("Invalid hybrid kernel"). Link every plugin there too (PyInstaller makes these symlinks).
binaries += [(src, ".") for src, _ in binaries if Path(src).name.startswith("ifcopenshell_")]
# express/__init__ writes express_parser.py into its folder (running bootstrap.py with
# sys.executable) unless it is there: ship the file, so nothing is written into the bundle.
datas = collect_data_files("ifcopenshell", includes=["*.json", "util/schema/**"])
datas += [(str(_pkg / "express" / "express_parser.py"), "ifcopenshell/express")]
