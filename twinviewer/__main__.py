"""``python -m twinviewer`` runs the same entry point as the ``twinviewer`` command."""

from twinviewer.cli import entry

entry()
