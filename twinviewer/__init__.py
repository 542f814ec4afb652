"""TwinViewer: an offline desktop digital-twin viewer."""

__version__ = "0.1.0"
