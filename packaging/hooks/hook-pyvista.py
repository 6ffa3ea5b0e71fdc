# pyvista imports VTK lazily, by module name (pyvista/_vtk.py), so PyInstaller sees none of
# it, while the `vtk` shim it mentions would bring all ~180 VTK modules (the spec excludes
# it). Take the modules of pyvista's own class map, plus its plotter components.
import pyvista._vtk as pv_vtk
from PyInstaller.utils.hooks import collect_entry_point

datas, hiddenimports = collect_entry_point("pyvista.plotter_components")
_maps = pv_vtk._CORE_MODULES | pv_vtk._PLOTTING_MODULES | pv_vtk._OPENGL_MODULES
hiddenimports += sorted(f"vtkmodules.{m}" for m in _maps if m != "util.pickle_support")
hiddenimports += ["vtkmodules.vtkPythonContext2D", "vtkmodules.vtkRenderingContextOpenGL2"]
# imported at run time by the modules above or by VTK's object factories (found by rendering
# the demo in the venv and listing sys.modules)
hiddenimports += [
    f"vtkmodules.{m}"
    for m in ("vtkCommonMisc", "vtkCommonSystem", "vtkFiltersPython", "vtkIOCore",
              "vtkImagingMath", "vtkRenderingHyperTreeGrid", "vtkRenderingMatplotlib",
              "vtkViewsCore")
]  # fmt: skip
