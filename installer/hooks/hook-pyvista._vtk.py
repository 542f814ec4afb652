# PyInstaller hook (local to TwinViewer's build): pyvista._vtk imports VTK modules lazily, by name, from its
# own class-to-module table, and under TYPE_CHECKING does `from vtk import *`, which PyInstaller follows and
# which would bundle every VTK module (about 550 MB). Bundle exactly the modules in pyvista's table instead.
from PyInstaller.utils.hooks import isolated


@isolated.decorate
def _pyvista_vtk_modules():
    from pyvista import _vtk

    root = getattr(_vtk, "_VTK_ROOT", "vtkmodules")
    return sorted({f"{root}.{module}" for module in _vtk._VTK_CLASS_TO_MODULE.values()})


hiddenimports = _pyvista_vtk_modules()
excludedimports = ["vtk"]
