"""The Qt-free, display-free core: project model, geometry, store, clock, overlay math, scenarios."""
