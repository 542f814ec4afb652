"""PySide6 widgets that wire user intent to the core. VTK draws into a native window in the 3D view (ui/viewer.py)."""
