"""PySide6 widgets that wire user intent to the core. The only package that imports pyvistaqt."""
