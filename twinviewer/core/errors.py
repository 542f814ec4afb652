"""Errors the user is shown: one clear sentence each, never a traceback."""


class TwinViewerError(Exception):
    """Base of every error the UI shows in a dialog and the CLI prints as one line (exit code 2)."""


class MeshLoadError(TwinViewerError):
    """A model file that cannot be loaded: missing, empty, corrupt, unsupported or mislabelled."""


class RecordingError(TwinViewerError):
    """A recording that cannot be imported or written."""


class CancelledError(TwinViewerError):
    """Long work stopped by the user."""
