"""Keep VTK's own log and warning lines off stderr: TwinViewer reports problems as one line of its own.

VTK writes warnings ("vtkXMLParser: ...", "Error parsing XML") through its output window and its logger,
straight to stderr beside the CLI's message. :func:`silence_vtk` routes the output window into a string
buffer (read with :func:`vtk_messages`) and turns the logger's stderr output off. Set
``TWINVIEWER_VTK_LOG=1`` to see them again.
"""

from __future__ import annotations

import os

_window = None


def silence_vtk() -> None:
    global _window
    if _window is not None or os.environ.get("TWINVIEWER_VTK_LOG") == "1":
        return
    from vtkmodules.vtkCommonCore import vtkLogger, vtkOutputWindow, vtkStringOutputWindow

    vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)
    _window = vtkStringOutputWindow()
    vtkOutputWindow.SetInstance(_window)


def vtk_messages() -> str:
    """What VTK reported since silencing (empty when it was not silenced)."""
    return _window.GetOutput() if _window is not None else ""
