"""Reading a file that another file names (a glTF buffer or image, an OBJ material library) safely.

The name must stay inside the folder of the file that names it (no ``..`` out of it, no absolute path, no
symbolic link pointing elsewhere), must be a regular file (not ``/dev/zero``, a FIFO or a folder), and is
read with a size cap: the size the referring file declares when it declares one (a glTF buffer's
``byteLength``), else :data:`~twinviewer.core.budgets.MAX_REFERENCED_FILE_BYTES`.
"""

from __future__ import annotations

import stat
import urllib.parse
from pathlib import Path

from twinviewer.core.budgets import MAX_REFERENCED_FILE_BYTES
from twinviewer.core.errors import MeshLoadError


class ReferencedFileError(MeshLoadError):
    """A referenced file that is outside the allowed folder, not a regular file, missing or too large."""


def resolve_reference(owner: Path, reference: str, what: str) -> Path:
    """The path ``reference`` names, relative to ``owner``'s folder, checked to stay inside that folder."""
    name = urllib.parse.unquote(reference)
    if "\x00" in name:
        raise ReferencedFileError(f"{owner}: {what} {reference[:80]!r} holds a NUL character")
    candidate = Path(name)
    folder = owner.parent.resolve()
    drive_or_scheme = bool(candidate.parts) and ":" in candidate.parts[0]  # C:\x, http://…
    if candidate.is_absolute() or name.startswith(("\\", "//")) or drive_or_scheme:
        raise ReferencedFileError(f"{owner}: {what} {reference[:80]!r} is an absolute path or URL; a referenced file "
                                  f"must be inside the model's folder {folder}")
    resolved = (folder / candidate).resolve()
    if not resolved.is_relative_to(folder):
        raise ReferencedFileError(f"{owner}: {what} {reference[:80]!r} points outside the model's folder "
                                  f"{folder}; referenced files must be inside it")
    return resolved


def read_reference(owner: Path, reference: str, what: str, *, declared_bytes: int | None = None) -> bytes:
    """The bytes of a referenced file, at most ``declared_bytes`` (the declared size) or the global cap."""
    path = resolve_reference(owner, reference, what)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ReferencedFileError(f"{owner}: {what} {reference[:80]!r} not found next to it") from None
    except OSError as exc:
        raise ReferencedFileError(f"{owner}: {what} {reference[:80]!r} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ReferencedFileError(f"{owner}: {what} {reference[:80]!r} is not a regular file")
    cap = MAX_REFERENCED_FILE_BYTES.value
    if declared_bytes is not None:
        if declared_bytes > cap:
            MAX_REFERENCED_FILE_BYTES.check(declared_bytes, str(owner), f"{what} {reference[:80]!r} declares")
        if info.st_size < declared_bytes:
            raise ReferencedFileError(f"{owner}: {what} {reference[:80]!r} has {info.st_size:,} bytes but "
                                      f"{declared_bytes:,} are declared: it is truncated")
        cap = declared_bytes
    elif info.st_size > cap:
        MAX_REFERENCED_FILE_BYTES.check(info.st_size, str(owner), f"{what} {reference[:80]!r} has")
    try:
        with open(path, "rb") as handle:
            return handle.read(cap)
    except OSError as exc:
        raise ReferencedFileError(f"{owner}: {what} {reference[:80]!r} cannot be read ({exc.strerror})") from None
