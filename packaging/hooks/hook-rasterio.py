# rasterio's Cython modules import each other from C, out of PyInstaller's sight; its wheel
# carries GDAL's and PROJ's data folders (gdal_data, proj_data) that GDAL reads at run time.
from PyInstaller.utils.hooks import collect_data_files, collect_submodules

hiddenimports = collect_submodules("rasterio", filter=lambda n: ".tests" not in n)
datas = collect_data_files("rasterio", excludes=["**/tests/**"])
