"""Bookmarks: what a reviewer marked in a recording (a time or an interval, a title, notes, who, the parts
concerned and the camera view), and the view state an incident bundle restores.

Pure data: parsing and validating a sidecar document (:func:`parse_bookmarks`), building one
(:func:`bookmarks_document`) and merging two people's lists (:func:`merge_bookmarks`). Reading and writing
the file is ``twinviewer.io.bookmarks_file``; the format is documented in ``docs/bookmarks-format.md``.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.options import LabelMode

BOOKMARKS_FORMAT = "twinviewer-bookmarks"
BOOKMARKS_VERSION = 1
MAX_BOOKMARKS = 10_000


class BookmarkError(TwinViewerError):
    """A bookmark file or entry that breaks a rule of the format."""


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Vector = tuple[float, float, float]


class Camera(BaseModel):
    """A camera as the 3D view had it: scene-frame metres, Z up."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    position: Vector
    focal_point: Vector
    view_up: Vector = (0.0, 0.0, 1.0)
    parallel_scale: float = Field(default=1.0, gt=0)
    parallel: bool = False

    @field_validator("position", "focal_point", "view_up")
    @classmethod
    def _vector_finite(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        for c in v:
            _finite(c)
        return v

    @field_validator("parallel_scale")
    @classmethod
    def _scale_finite(cls, v: float) -> float:
        return _finite(v)

    @model_validator(mode="after")
    def _not_degenerate(self) -> Camera:
        if self.position == self.focal_point:
            raise ValueError("position and focal_point must differ")
        if self.view_up == (0.0, 0.0, 0.0):
            raise ValueError("view_up must not be zero")
        return self


class Bookmark(BaseModel):
    """A time (``t_end`` None) or an interval ``[t, t_end]`` of a recording, in epoch seconds (UTC)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    t: float
    t_end: float | None = None
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=20_000)
    author: str = Field(default="", max_length=200)
    parts: list[str] = Field(default_factory=list, max_length=1000)
    sensors: list[str] = Field(default_factory=list, max_length=1000)
    camera: Camera | None = None
    origin: str = Field(default="timeline", max_length=300)  # timeline, alarm:<id>, event:<kind>
    created_at: float = Field(default_factory=time.time)
    modified_at: float = Field(default_factory=time.time)

    @field_validator("t", "created_at", "modified_at")
    @classmethod
    def _time_finite(cls, v: float) -> float:
        return _finite(v)

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @model_validator(mode="after")
    def _interval_ordered(self) -> Bookmark:
        if self.t_end is not None:
            _finite(self.t_end)
            if self.t_end < self.t:
                raise ValueError("t_end must not be before t")
        return self

    @property
    def is_interval(self) -> bool:
        return self.t_end is not None and self.t_end > self.t

    @property
    def selected_part(self) -> str | None:
        """The part a click on the bookmark selects: the first tagged one."""
        return self.parts[0] if self.parts else None

    def edited(self, **changes: Any) -> Bookmark:
        """A copy with ``changes`` applied and ``modified_at`` now (validated again)."""
        data = self.model_dump()
        data.update(changes)
        data["modified_at"] = max(time.time(), self.modified_at)
        return Bookmark.model_validate(data)


class ViewState(BaseModel):
    """What an incident bundle restores: the time, camera, overlay mode and selection."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    t: float | None = None
    camera: Camera | None = None
    overlay: str = Field(default="status", max_length=100)
    labels: LabelMode | None = None
    selected_part: str | None = Field(default=None, max_length=300)

    @field_validator("t")
    @classmethod
    def _t_finite(cls, v: float | None) -> float | None:
        return None if v is None else _finite(v)


class _BookmarkDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    format: Literal["twinviewer-bookmarks"]
    version: Literal[1]
    recording: str = ""
    bookmarks: list[Bookmark] = Field(default_factory=list, max_length=MAX_BOOKMARKS)


def describe_validation_error(exc: ValidationError, where: str) -> str:
    """One line per problem: ``where: bookmarks[2].t_end: t_end must not be before t``."""
    lines = []
    for error in exc.errors()[:5]:
        loc = ""
        for part in error["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {loc or 'document'}: {message}")
    return "\n".join(lines)


def parse_bookmarks(document: Any, where: str = "bookmarks") -> list[Bookmark]:
    """The bookmarks of a sidecar document (already decoded from JSON), validated; ``where`` names the file
    in errors. Duplicate ids are refused."""
    if not isinstance(document, Mapping):
        raise BookmarkError(f"{where}: not a TwinViewer bookmark file (the top level must be an object)")
    if document.get("format") != BOOKMARKS_FORMAT:
        raise BookmarkError(f"{where}: not a TwinViewer bookmark file (format is not {BOOKMARKS_FORMAT!r})")
    try:
        parsed = _BookmarkDocument.model_validate(document)
    except ValidationError as exc:
        raise BookmarkError(describe_validation_error(exc, where)) from None
    seen: set[str] = set()
    for n, bookmark in enumerate(parsed.bookmarks):
        if bookmark.id in seen:
            raise BookmarkError(f"{where}: bookmarks[{n}].id: {bookmark.id!r} appears twice")
        seen.add(bookmark.id)
    return sorted(parsed.bookmarks, key=lambda b: (b.t, b.id))


def bookmarks_document(bookmarks: Iterable[Bookmark], recording: str = "") -> dict[str, Any]:
    return {"format": BOOKMARKS_FORMAT, "version": BOOKMARKS_VERSION, "recording": recording,
            "bookmarks": [b.model_dump(mode="json") for b in sorted(bookmarks, key=lambda b: (b.t, b.id))]}


def merge_bookmarks(*lists: Iterable[Bookmark]) -> list[Bookmark]:
    """Everyone's bookmarks in one list: the same id in several lists keeps the most recently modified
    one (ties: the later list), distinct ids are all kept; ordered by time."""
    merged: dict[str, Bookmark] = {}
    for bookmarks in lists:
        for bookmark in bookmarks:
            old = merged.get(bookmark.id)
            if old is None or bookmark.modified_at >= old.modified_at:
                merged[bookmark.id] = bookmark
    return sorted(merged.values(), key=lambda b: (b.t, b.id))


def bookmarks_between(bookmarks: Iterable[Bookmark], t0: float, t1: float) -> list[Bookmark]:
    """Bookmarks that touch ``[t0, t1]``."""
    return [b for b in bookmarks if b.t <= t1 and (b.t_end if b.t_end is not None else b.t) >= t0]
