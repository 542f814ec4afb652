"""The render layer: maps the core's state to VTK actors (an offscreen window or the Qt view's renderer)."""
