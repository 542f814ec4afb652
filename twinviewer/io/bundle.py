"""Incident bundles (``*.twinbundle``): one zip holding a project, its model files, a recording (all of it or
a window), bookmarks, acknowledgements, events, the view state and any attachments, with a manifest of
sizes and SHA-256 checksums. Format: ``docs/bundle-format.md``.

:func:`write_bundle` builds one; :func:`extract_bundle` unpacks one into a new folder. A bundle is untrusted
input: before anything is written every member is checked against the manifest (a safe relative name, no
symlink, the declared size, nothing unlisted, nothing missing) and the totals against the budgets, so a zip
bomb is refused before it fills the disk; while unpacking, the bytes are counted and hashed as they stream,
so a member that decompresses to more than it claims, or to other bytes, is refused too. Nothing in a bundle
is executed or unpickled: it holds TOML, JSON, Parquet and mesh files, read by the usual readers.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from twinviewer import __version__
from twinviewer.core.bookmarks import Bookmark, ViewState, describe_validation_error
from twinviewer.core.errors import CancelledError, TwinViewerError
from twinviewer.core.events import Event
from twinviewer.core.store import TimeSeriesStore

BUNDLE_FORMAT = "twinviewer-bundle"
BUNDLE_VERSION = 1
BUNDLE_SUFFIX = ".twinbundle"
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_MEMBERS = 5000
MAX_MEMBER_BYTES = 4 * 1024 ** 3
MAX_TOTAL_BYTES = 8 * 1024 ** 3
MAX_ATTACHMENT_BYTES = 512 * 1024 * 1024
MAX_STATE_BYTES = 1024 * 1024
MAX_EVENTS_BYTES = 64 * 1024 * 1024
CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._ +()\[\]@,=-]+$")

Progress = Callable[[float, str], None]
Cancelled = Callable[[], bool]


def _no_progress(_fraction: float, _message: str = "") -> None:
    return None


def _never() -> bool:
    return False


class BundleError(TwinViewerError):
    """A bundle that cannot be written, or one that is refused when opened."""


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    path: str = Field(min_length=1, max_length=400)
    size: int = Field(ge=0, le=MAX_MEMBER_BYTES)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: Literal["project", "model", "scenario", "recording", "bookmarks", "acknowledgements", "events",
                  "state", "attachment"]

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        problem = unsafe_member_name(value)
        if problem:
            raise ValueError(problem)
        return value


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    format: Literal["twinviewer-bundle"]
    version: Literal[1]
    created_at: float
    created_by: str = ""
    asset: str = ""
    project: str
    recording: str | None = None
    window: tuple[float, float] | None = None
    members: list[Member] = Field(max_length=MAX_MEMBERS)

    @field_validator("created_at")
    @classmethod
    def _created_finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("window")
    @classmethod
    def _window_ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (math.isfinite(value[0]) and math.isfinite(value[1]) and value[0] < value[1]):
            raise ValueError("must be two finite times, the first before the second")
        return value


def unsafe_member_name(name: str) -> str | None:
    """Why a member name may not be unpacked (None if it is fine): only plain relative POSIX paths of
    ordinary characters, no ``..``, no absolute path, no drive letter or backslash."""
    if "\\" in name or "\x00" in name:
        return f"member {name!r} uses a backslash or NUL"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return f"member {name!r} is an absolute path"
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return f"member {name!r} has an empty, '.' or '..' path component"
    if any(not _SAFE_NAME.match(p) for p in parts):
        return f"member {name!r} has characters a bundle member may not use"
    return None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_filename(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._ +()\[\]@,=-]", "_", name).strip(" .") or "file"
    return cleaned


# ----------------------------------------------------------------------------------------------- writing
@dataclass
class BundleContents:
    """What goes into a bundle; :func:`write_bundle` writes it."""

    project_path: Path
    store: TimeSeriesStore | None = None
    recording_name: str = "recording"
    window: tuple[float, float] | None = None
    bookmarks: list[Bookmark] = field(default_factory=list)
    acknowledgements_file: Path | None = None
    events: list[Event] = field(default_factory=list)
    state: ViewState | None = None
    attachments: list[Path] = field(default_factory=list)  # files beside the project or the recording
    recording_paths: list[Path] = field(default_factory=list)  # where the recording came from (sidecars)


def windowed_store(store: TimeSeriesStore, t0: float, t1: float) -> TimeSeriesStore:
    """A copy of ``store`` holding the samples in ``[t0, t1]`` plus each sensor's last sample before ``t0``
    (so the state at ``t0`` is the same as in the full recording)."""
    out = TimeSeriesStore()
    for sensor_id in store.sensor_ids:
        out.add_sensor(sensor_id, store.expected_period(sensor_id))
        times, values = store.samples(sensor_id)
        if times.size == 0:
            continue
        first = max(int(np.searchsorted(times, t0, side="left")) - 1, 0)
        last = int(np.searchsorted(times, t1, side="right"))
        if last > first:
            out.append_many(sensor_id, times[first:last], values[first:last])
    return out


def sidecar_attachments(anchor: Path, limit_bytes: int = MAX_ATTACHMENT_BYTES) -> list[Path]:
    """Files beside ``anchor`` named ``<anchor stem>.*`` (other tools' sidecars: acknowledgements,
    detector models, event lists…), excluding ``anchor`` itself; the attachment rule of a bundle."""
    stem = anchor.name[: -len(".toml")] if anchor.name.endswith(".toml") else anchor.stem
    found = []
    try:
        candidates = sorted(anchor.parent.iterdir())
    except OSError:
        return []
    for path in candidates:
        if path == anchor or not path.name.startswith(stem + ".") or not path.is_file() or path.is_symlink():
            continue
        if path.suffix.lower() in (".parquet", ".csv", ".tmp") or path.name.endswith(".toml"):
            continue  # other recordings or projects are not sidecars
        if path.stat().st_size <= limit_bytes:
            found.append(path)
    return found


def _model_companions(model: Path) -> list[str]:
    """Relative paths of files a model file refers to (glTF buffers and images, OBJ material libraries)."""
    names: list[str] = []
    try:
        if model.suffix.lower() == ".gltf":
            document = json.loads(model.read_text(encoding="utf-8"))
            for key in ("buffers", "images"):
                for entry in document.get(key, []) or []:
                    uri = entry.get("uri") if isinstance(entry, dict) else None
                    if isinstance(uri, str) and not uri.startswith("data:") and "://" not in uri:
                        names.append(uri)
        elif model.suffix.lower() == ".obj":
            with open(model, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if line.startswith("mtllib "):
                        names.append(line.split(None, 1)[1].strip())
    except (OSError, ValueError):
        return []
    from urllib.parse import unquote

    out = []
    for name in names:
        name = unquote(name).replace("\\", "/")
        if unsafe_member_name(name) is None and (model.parent / name).is_file():
            out.append(name)
    return out


def _bundled_project_text(project_path: Path, model_names: list[str], scenario_names: list[str],
                          recording_member: str | None, recording_label: str) -> str:
    """The project file as it goes into the bundle: models and scenarios point at their bundled copies, the
    sources are replaced by the bundled recording (live connections do not travel)."""
    import tomlkit

    document = tomlkit.parse(project_path.read_text(encoding="utf-8"))
    for entry, name in zip(document.get("models", []), model_names, strict=True):
        entry["file"] = name
    for entry, name in zip(document.get("scenarios", []), scenario_names, strict=True):
        entry["file"] = name
    if "sources" in document:
        del document["sources"]
    if recording_member is not None:
        sources = tomlkit.aot()
        source = tomlkit.table()
        source["kind"] = "recording"
        source["name"] = recording_label
        source["file"] = recording_member
        sources.append(source)
        document["sources"] = sources
    return tomlkit.dumps(document)


def write_bundle(out: Path | str, contents: BundleContents, progress: Progress | None = None,
                 cancelled: Cancelled | None = None) -> Path:
    """Write ``contents`` as one ``.twinbundle`` (atomically: a temporary file renamed into place)."""
    from twinviewer.core.bookmarks import bookmarks_document
    from twinviewer.io.project_files import load_project
    from twinviewer.io.recording import write_store

    out = Path(out)
    progress = progress or _no_progress
    cancelled = cancelled or _never
    project_path = Path(contents.project_path).resolve()
    project = load_project(project_path)
    project_dir = "project"
    files: list[tuple[str, Path | bytes, str]] = []  # (member, source file or bytes, role)

    model_names = []
    for i, model in enumerate(project.models):
        source = project.resolve(model.file)
        member = f"{project_dir}/models/{i}/{_safe_filename(source.name)}"
        model_names.append(f"models/{i}/{_safe_filename(source.name)}")
        files.append((member, source, "model"))
        for companion in _model_companions(source):
            files.append((f"{project_dir}/models/{i}/{companion}", source.parent / companion, "model"))
    scenario_names = []
    for i, ref in enumerate(project.scenarios):
        source = project.resolve(ref.file)
        name = f"scenarios/{i}_{_safe_filename(source.name)}"
        scenario_names.append(name)
        files.append((f"{project_dir}/{name}", source, "scenario"))

    work = Path(tempfile.mkdtemp(prefix="twinbundle-"))
    try:
        recording_member = None
        rec_stem = _safe_filename(Path(contents.recording_name or "recording").stem) or "recording"
        if contents.store is not None and contents.store.time_range() is not None:
            progress(0.05, "Writing the recording")
            store = contents.store
            if contents.window is not None:
                store = windowed_store(store, *contents.window)
            recording_file = work / f"{rec_stem}.parquet"
            units = {s.id: s.unit for s in project.sensors}
            sensor_ids = [s for s in store.sensor_ids if store.sensor_time_range(s) is not None]
            write_store(recording_file, store, sensor_ids, metadata={
                "asset": project.asset.name, "units": {k: v for k, v in units.items() if k in sensor_ids},
                "events": list(contents.events)})
            recording_member = f"recording/{rec_stem}.parquet"
            files.append((recording_member, recording_file, "recording"))
        if cancelled():
            raise CancelledError("bundle cancelled")
        project_name = _safe_filename(project_path.name)
        stem = project_name[: -len(".toml")] if project_name.endswith(".toml") else Path(project_name).stem
        project_member = f"{project_dir}/{project_name}"
        bundled_project = _bundled_project_text(project_path, model_names, scenario_names,
                                                f"../{recording_member}" if recording_member else None,
                                                contents.recording_name or rec_stem)
        files.append((project_member, bundled_project.encode("utf-8"), "project"))
        files.append((f"recording/{rec_stem}.bookmarks.json",
                      json.dumps(bookmarks_document(contents.bookmarks, contents.recording_name), indent=2,
                                 ensure_ascii=False).encode("utf-8"), "bookmarks"))
        if contents.acknowledgements_file is not None and Path(contents.acknowledgements_file).is_file():
            files.append((f"{project_dir}/{stem}.acks.json", Path(contents.acknowledgements_file),
                          "acknowledgements"))
        files.append(("events.json", json.dumps({"format": "twinviewer-events", "version": 1,
                                                 "events": [e.to_json() for e in contents.events]},
                                                indent=2).encode("utf-8"), "events"))
        files.append(("state.json", (contents.state or ViewState()).model_dump_json(indent=2).encode("utf-8"),
                      "state"))
        taken = {m for m, _, _ in files}
        first_recording = Path(sorted(contents.recording_paths)[0]) if contents.recording_paths else None
        for attached in contents.attachments:
            attachment = Path(attached)
            name = _safe_filename(attachment.name)
            if (first_recording is not None and attachment.parent == first_recording.parent
                    and attachment.name.startswith(first_recording.stem + ".")):
                folder, name = "recording", rec_stem + name[len(_safe_filename(first_recording.stem)):]
            elif attachment.parent == project_path.parent:
                folder = "project"
            else:
                folder = "attachments"
            member = f"{folder}/{name}"
            if member in taken or not attachment.is_file():
                continue
            taken.add(member)
            files.append((member, attachment, "attachment"))

        members = []
        total = sum(len(s) if isinstance(s, bytes) else s.stat().st_size for _, s, _ in files) or 1
        done = 0
        temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
                for member, content, role in files:
                    if cancelled():
                        raise CancelledError("bundle cancelled")
                    progress(0.1 + 0.85 * done / total, f"Adding {member}")
                    if isinstance(content, bytes):
                        archive.writestr(member, content)
                        size, digest = len(content), hashlib.sha256(content).hexdigest()
                    else:
                        archive.write(content, member)
                        size, digest = content.stat().st_size, _sha256_file(content)
                    done += size
                    members.append(Member(path=member, size=size, sha256=digest, role=role))
                manifest = Manifest(format=BUNDLE_FORMAT, version=BUNDLE_VERSION, created_at=time.time(),
                                    created_by=f"twinviewer {__version__}", asset=project.asset.name,
                                    project=project_member, recording=recording_member, window=contents.window,
                                    members=members)
                archive.writestr(MANIFEST_NAME, manifest.model_dump_json(indent=2))
            os.replace(temporary, out)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise BundleError(f"cannot write the bundle {out}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    progress(1.0, "Bundle written")
    return out


# ----------------------------------------------------------------------------------------------- reading
@dataclass
class ExtractedBundle:
    """A bundle unpacked into ``folder``: where its project and recording are, and its view state."""

    folder: Path
    manifest: Manifest
    project_path: Path
    recording_path: Path | None
    state: ViewState
    events: list[Event]


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def check_bundle(archive: zipfile.ZipFile, name: str, max_total_bytes: int = MAX_TOTAL_BYTES) -> Manifest:
    """The validated manifest of an open bundle, after checking every entry against it (nothing is written)."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS + 1:
        raise BundleError(f"{name}: {len(infos):,} members is more than a bundle may hold ({MAX_MEMBERS:,})")
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        problem = unsafe_member_name(info.filename.rstrip("/") if info.is_dir() else info.filename)
        if problem:
            raise BundleError(f"{name}: refused: {problem}")
        if _is_symlink(info):
            raise BundleError(f"{name}: refused: member {info.filename!r} is a symbolic link")
        if info.is_dir():
            continue
        if info.filename in by_name:
            raise BundleError(f"{name}: refused: member {info.filename!r} appears twice")
        by_name[info.filename] = info
    manifest_info = by_name.get(MANIFEST_NAME)
    if manifest_info is None:
        raise BundleError(f"{name}: not a TwinViewer bundle (no {MANIFEST_NAME})")
    if manifest_info.file_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{name}: refused: {MANIFEST_NAME} declares {manifest_info.file_size:,} bytes "
                          f"(at most {MAX_MANIFEST_BYTES:,})")
    with archive.open(manifest_info) as handle:
        raw = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise BundleError(f"{name}: refused: {MANIFEST_NAME} is larger than {MAX_MANIFEST_BYTES:,} bytes")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{name}: {MANIFEST_NAME} is not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{name}: not a TwinViewer bundle (manifest format is not {BUNDLE_FORMAT!r})")
    try:
        manifest = Manifest.model_validate(document)
    except ValidationError as exc:
        raise BundleError("refused: " + describe_validation_error(exc, f"{name}: {MANIFEST_NAME}")) from None
    listed = {m.path: m for m in manifest.members}
    if len(listed) != len(manifest.members):
        raise BundleError(f"{name}: refused: the manifest lists a member twice")
    total = sum(m.size for m in manifest.members)
    if total > max_total_bytes:
        raise BundleError(f"{name}: refused: its members unpack to {total:,} bytes, more than the "
                          f"{max_total_bytes:,} allowed")
    for entry_name, info in by_name.items():
        if entry_name == MANIFEST_NAME:
            continue
        member = listed.get(entry_name)
        if member is None:
            raise BundleError(f"{name}: refused: member {entry_name!r} is not listed in the manifest")
        if info.file_size != member.size:
            raise BundleError(f"{name}: refused: member {entry_name!r} declares {info.file_size:,} bytes, the "
                              f"manifest {member.size:,}")
    for member in manifest.members:
        if member.path not in by_name:
            raise BundleError(f"{name}: refused: member {member.path!r} listed in the manifest is missing")
    if manifest.project not in listed or listed[manifest.project].role != "project":
        raise BundleError(f"{name}: refused: the manifest's project {manifest.project!r} is not a project member")
    if manifest.recording is not None and manifest.recording not in listed:
        raise BundleError(f"{name}: refused: the manifest's recording {manifest.recording!r} is not a member")
    return manifest


def extract_bundle(path: Path | str, parent: Path | str | None = None, progress: Progress | None = None,
                   cancelled: Cancelled | None = None, max_total_bytes: int = MAX_TOTAL_BYTES) -> ExtractedBundle:
    """Check and unpack a bundle into a new folder under ``parent`` (default: the system temp folder).

    Everything is checked before the first byte is written; a refusal raises :class:`BundleError` with one
    message and leaves nothing behind.
    """
    path = Path(path)
    progress = progress or _no_progress
    cancelled = cancelled or _never
    name = path.name
    if not path.is_file():
        raise BundleError(f"{path}: no such file")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{name}: not a TwinViewer bundle (not a zip file: {exc})") from None
    except OSError as exc:
        raise BundleError(f"{name}: cannot read: {exc.strerror or exc}") from None
    with archive:
        manifest = check_bundle(archive, name, max_total_bytes)
        total = sum(m.size for m in manifest.members)
        parent = Path(parent) if parent is not None else Path(tempfile.gettempdir())
        parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(parent).free
        if total > free:
            raise BundleError(f"{name}: refused: it unpacks to {total:,} bytes and only {free:,} are free in {parent}")
        folder = Path(tempfile.mkdtemp(prefix="bundle-", dir=parent)).resolve()
        try:
            done = 0
            for member in manifest.members:
                if cancelled():
                    raise CancelledError("opening the bundle was cancelled")
                progress(0.9 * done / max(total, 1), f"Unpacking {member.path}")
                target = (folder / PurePosixPath(member.path)).resolve()
                if folder not in target.parents:
                    raise BundleError(f"{name}: refused: member {member.path!r} would land outside the folder")
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                written = 0
                try:
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
                except FileExistsError:  # e.g. "A.txt" and "a.txt" on a case-insensitive disk
                    raise BundleError(f"{name}: refused: member {member.path!r} collides with another member") from None
                with os.fdopen(fd, "wb") as out, archive.open(member.path) as source:
                    while True:
                        chunk = source.read(CHUNK)
                        if not chunk:
                            break
                        written += len(chunk)
                        if written > member.size:
                            raise BundleError(f"{name}: refused: member {member.path!r} unpacks to more than the "
                                              f"{member.size:,} bytes the manifest lists")
                        digest.update(chunk)
                        out.write(chunk)
                if written != member.size:
                    raise BundleError(f"{name}: refused: member {member.path!r} holds {written:,} bytes, the "
                                      f"manifest lists {member.size:,}")
                if digest.hexdigest() != member.sha256:
                    raise BundleError(f"{name}: refused: member {member.path!r} does not match its SHA-256 "
                                      "checksum (the bundle was changed or damaged)")
                done += written
            state, events = _read_state(folder, manifest, name)
            _check_project_stays_inside(folder, folder / manifest.project, name)
        except zipfile.BadZipFile as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise BundleError(f"{name}: refused: a member is damaged ({exc})") from None
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise BundleError(f"{name}: cannot unpack into {parent}: {exc.strerror or exc}") from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    progress(1.0, "Bundle unpacked")
    return ExtractedBundle(folder, manifest, folder / manifest.project,
                           folder / manifest.recording if manifest.recording else None, state, events)


def _check_project_stays_inside(folder: Path, project_path: Path, name: str) -> None:
    """The bundled project may only name files inside the bundle and no live connection."""
    from twinviewer.core.project import RecordingSource
    from twinviewer.io.project_files import load_project

    try:
        project = load_project(project_path, check_files=False)
    except TwinViewerError as exc:
        raise BundleError(f"{name}: its project file is not valid: {str(exc).splitlines()[0]}") from None
    named = [("models", m.file) for m in project.models] + [("scenarios", s.file) for s in project.scenarios]
    for source in project.sources:
        if source.kind in ("mqtt", "opcua"):
            raise BundleError(f"{name}: refused: its project connects to a live source ({source.kind}); a bundle "
                              "may only hold recordings")
        if isinstance(source, RecordingSource):
            named.append(("sources", source.file))
    for table, file in named:
        if "$" in file or "~" in file or any(c in file for c in "*?["):
            raise BundleError(f"{name}: refused: its project's [[{table}]] file {file!r} is not a plain path")
        target = project.resolve(file).resolve()
        if folder not in target.parents:
            raise BundleError(f"{name}: refused: its project's [[{table}]] file {file!r} is outside the bundle")


def _read_state(folder: Path, manifest: Manifest, name: str) -> tuple[ViewState, list[Event]]:
    roles: dict[str, str] = {m.role: m.path for m in manifest.members}
    sizes: dict[str, int] = {m.role: m.size for m in manifest.members}
    for role, limit in (("state", MAX_STATE_BYTES), ("events", MAX_EVENTS_BYTES)):
        if sizes.get(role, 0) > limit:
            raise BundleError(f"{name}: refused: {roles[role]} is larger than the {limit:,} bytes it may hold")
    state = ViewState()
    if "state" in roles:
        try:
            state = ViewState.model_validate_json((folder / roles["state"]).read_bytes())
        except ValidationError as exc:
            raise BundleError(describe_validation_error(exc, f"{name}: {roles['state']}")) from None
    events: list[Event] = []
    if "events" in roles:
        try:
            document = json.loads((folder / roles["events"]).read_bytes())
            events = [Event.from_json(e) for e in document.get("events", [])]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BundleError(f"{name}: {roles['events']}: not a valid event list ({exc})") from None
    return state, events


def collect_attachments(project_path: Path, recording_paths: Sequence[Path]) -> list[Path]:
    """The attachment rule: every ``<stem>.*`` sidecar beside the project and beside the recording."""
    found = sidecar_attachments(Path(project_path))
    if recording_paths:
        first = sorted(Path(p) for p in recording_paths)[0]
        found += sidecar_attachments(first)
    from twinviewer.core.alarms import sidecar_path as acks_path
    from twinviewer.io.bookmarks_file import SIDECAR_SUFFIX

    # acknowledgements and bookmarks travel in their own members
    return [p for p in found if p != acks_path(project_path) and not p.name.endswith(SIDECAR_SUFFIX)]
