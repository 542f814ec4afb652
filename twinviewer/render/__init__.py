"""The render layer: maps the core's state to pyvista actors (offscreen plotter or QtInteractor)."""
