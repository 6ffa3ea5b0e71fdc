# ifcopenshell loads its SWIG wrapper and the geometry kernels (OpenCASCADE, CGAL) by name.
# Only what HydroTwin uses is kept: the parser (its IFC2X3/IFC4/IFC4X3 schemas are compiled
# in), the geometry iterator and the util modules ifc.py imports; the authoring API (api/,
# bsi/) and the EXPRESS toolkit with its .exp files (express/, 22 MB) stay out.
from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs

hiddenimports = [
    "ifcopenshell.ifcopenshell_wrapper",
    "ifcopenshell.geom",
    "ifcopenshell.util.placement",
    "ifcopenshell.util.element",
    "ifcopenshell.util.unit",
    "ifcopenshell.util.geolocation",
]
binaries = collect_dynamic_libs("ifcopenshell")
datas = collect_data_files("ifcopenshell", includes=["*.json", "util/schema/**"])
