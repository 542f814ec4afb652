"""Offscreen render windows: through EGL, without the X server, in a process that shows no window.

A headless command (``twinviewer render``, ``report``, ``video``, ``validate``) draws into an offscreen
window. On Linux VTK makes that an X window's context by default, which costs a round trip through the X
server for the context and for every frame read back: 30 ms of a 0.5 s ``render`` of a small assembly. EGL
draws the same pixels (checked bit for bit) without it. The command line turns it on
(:func:`render_without_display`); the desktop app does not, because one thread may not hold a GLX (Qt's
view) and an EGL context at once. When EGL cannot start (no libEGL, no usable device) the window falls back
to VTK's default, so nothing depends on it.

This module imports VTK only when a window is made, so the command line can call it for free.
"""

from __future__ import annotations

import sys

_egl_wanted = False
_egl_failed = False


def render_without_display() -> None:
    """From now on, offscreen windows in this process use EGL where the platform has it (Linux)."""
    global _egl_wanted
    _egl_wanted = sys.platform.startswith("linux")


def offscreen_window(size: tuple[int, int] | None = None):
    """A new offscreen ``vtkRenderWindow`` (EGL when asked for and working), ``size`` set if given, no
    multisampling (FXAA smooths edges; MSAA costs too much in software OpenGL)."""
    global _egl_failed
    if _egl_wanted and not _egl_failed:
        from vtkmodules.vtkCommonCore import vtkLogger
        from vtkmodules.vtkRenderingOpenGL2 import vtkEGLRenderWindow

        window = _offscreen(vtkEGLRenderWindow(), size)
        previous = vtkLogger.GetCurrentVerbosityCutoff()
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)  # a failed try prints half a dozen warnings
        try:
            window.Initialize()
        finally:
            vtkLogger.SetStderrVerbosity(previous)
        if window.GetInitialized():
            return window
        window.Finalize()
        _egl_failed = True  # no point asking again in this process
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL render window factory)
    from vtkmodules.vtkRenderingCore import vtkRenderWindow

    return _offscreen(vtkRenderWindow(), size)


def _offscreen(window, size: tuple[int, int] | None):
    window.SetOffScreenRendering(1)
    window.SetMultiSamples(0)
    if size is not None:
        window.SetSize(*size)
    return window
