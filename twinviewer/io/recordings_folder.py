"""Where live sessions are recorded: the folder the user chose (kept in the app's settings) or the platform's
data folder (``io.journal_files.default_recordings_dir``), and the journals a crash left that are still to be
offered for recovery. An adapter ``app.py`` builds and hands to the
:class:`~twinviewer.sources.live.LiveController` and the live panel; Qt-free (any settings object with
``value`` and ``setValue``, such as ``QSettings``, will do)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from twinviewer.io.journal_files import default_recordings_dir

SETTINGS_FOLDER_KEY = "live/recordings_dir"
SETTINGS_PENDING_KEY = "live/pending_recovery"


class Settings(Protocol):
    def value(self, key: str, default: Any = ...) -> Any: ...

    def setValue(self, key: str, value: Any) -> None: ...  # noqa: N802 (QSettings' name)

    def sync(self) -> None: ...


class RecordingsFolder:
    """``path()`` now; ``set(folder)`` remembers another one (used from the next connection);
    ``pending()`` / ``set_pending(paths)``: crashed journals still to offer (existing files only)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def path(self) -> Path:
        value = self.settings.value(SETTINGS_FOLDER_KEY, "")
        return Path(value) if value else default_recordings_dir()

    def set(self, folder: Path | str) -> None:
        self.settings.setValue(SETTINGS_FOLDER_KEY, str(folder))

    def pending(self) -> list[str]:
        value = self.settings.value(SETTINGS_PENDING_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if v and Path(v).is_file()]

    def set_pending(self, paths: list[str]) -> None:
        self.settings.setValue(SETTINGS_PENDING_KEY, sorted(set(paths)))
        self.settings.sync()  # a crash right after must not forget which journals to offer
