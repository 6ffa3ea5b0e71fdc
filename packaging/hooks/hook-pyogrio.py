# pyogrio (geopandas' file engine) imports its Cython modules from C and reads its own
# GDAL's and PROJ's data folders (gdal_data, proj_data) from its package folder.
from PyInstaller.utils.hooks import collect_data_files, collect_submodules

hiddenimports = collect_submodules("pyogrio", filter=lambda n: ".tests" not in n)
datas = collect_data_files("pyogrio", excludes=["**/tests/**"])
