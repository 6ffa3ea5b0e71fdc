# ifcopenshell loads its SWIG wrapper and the geometry kernels (OpenCascade) by name and reads
# the EXPRESS schemas from its package folder. Only what HydroTwin uses is kept: the parser,
# the geometry iterator and the schemas; the BIM authoring API (api/, bsi/, util/ beyond the
# few modules ifc.py imports) stays out.
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
datas = collect_data_files("ifcopenshell", includes=["express/**", "*.json"])
