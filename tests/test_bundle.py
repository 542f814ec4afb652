"""Incident bundles: a round trip restores the same picture; malicious bundles are refused before any write."""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.blocks import build_blocks_project
from twinviewer.cli import main
from twinviewer.cli._incident import open_inputs
from twinviewer.core.bookmarks import Bookmark, Camera, ViewState
from twinviewer.io.bookmarks_file import write_bookmarks_file
from twinviewer.io.bundle import BundleError, extract_bundle
from twinviewer.io.incident import make_bundle
from twinviewer.io.recording import write_recording

T0 = 1_700_000_000.0
CAMERA = Camera(position=(2.5, -4.0, 2.0), focal_point=(0.2, 0.0, 0.0), view_up=(0.0, 0.0, 1.0), parallel_scale=1.2)


@pytest.fixture
def incident(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "source"
    source.mkdir()
    project = build_blocks_project(source)
    times = T0 + np.arange(20.0)
    right = np.where(np.arange(20) < 8, 40.0, 95.0)  # the right block goes into alarm at +8 s
    recording = source / "rec.parquet"
    write_recording(recording, times, ["T-L", "T-R"], np.column_stack((np.full(20, 40.0), right)))
    write_bookmarks_file(source / "rec.bookmarks.json", [Bookmark(t=T0 + 9, title="Right block trips", author="ana",
                                                                  parts=["right"], camera=CAMERA)])
    (source / "rec.detector.json").write_text('{"model": "an attachment travels along"}')
    return project, recording


def render(inputs, t: float) -> np.ndarray:
    from twinviewer.render.incident_render import MomentRenderer

    renderer = MomentRenderer(inputs.twin, inputs.store, (320, 240), inputs.state.overlay, "off")
    try:
        renderer.set_camera(inputs.state.camera)
        renderer.select(inputs.state.selected_part)
        return renderer.image(t)
    finally:
        renderer.close()


def test_round_trip_into_a_clean_folder_shows_the_same_picture(incident, tmp_path: Path):
    project, recording = incident
    out = tmp_path / "shared" / "case.twinbundle"
    with open_inputs(project, recording) as inputs:
        inputs.state = ViewState(t=T0 + 12, camera=CAMERA, overlay="status", selected_part="right")
        make_bundle(inputs, out, window=(T0 + 5, T0 + 15))
        original = render(inputs, T0 + 12)
    names = zipfile.ZipFile(out).namelist()
    assert {"manifest.json", "state.json", "events.json", "recording/rec.parquet", "recording/rec.bookmarks.json",
            "recording/rec.detector.json", "project/blocks.twin.toml", "project/models/0/blocks.glb"} <= set(names)

    with open_inputs(out) as reopened:
        assert reopened.extracted is not None and project.parent not in reopened.twin.path.parents
        assert reopened.state.t == T0 + 12 and reopened.state.selected_part == "right"
        assert reopened.state.camera == CAMERA
        assert [b.title for b in reopened.bookmarks] == ["Right block trips"]
        assert reopened.store.time_range() == (T0 + 4, T0 + 15)  # the window, plus the sample before it
        restored = render(reopened, reopened.state.t)
        folder = reopened.extracted
    assert not folder.exists()  # the temporary folder is removed afterwards
    assert np.abs(restored.astype(int) - original.astype(int)).max() <= 2
    assert restored.std() > 10  # a real picture, not a blank one


def test_bundle_cli(incident, tmp_path: Path, capsys):
    project, recording = incident
    out = tmp_path / "cli"
    assert main(["bundle", str(project), "--recording", str(recording), "--from", "+5s", "--to", "+10s",
                 "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out and (tmp_path / "cli.twinbundle").is_file()
    assert main(["bundle", str(project), "--recording", str(recording), "--from", "+10s", "--to", "+5s",
                 "--out", str(out)]) == 2
    assert "must be after" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------- malicious
@pytest.fixture
def good_bundle(incident, tmp_path: Path) -> Path:
    project, recording = incident
    out = tmp_path / "good.twinbundle"
    with open_inputs(project, recording) as inputs:
        make_bundle(inputs, out)
    return out


def rewrite(bundle: Path, out: Path, *, add: dict[str, bytes] | None = None, drop: tuple[str, ...] = (),
            list_too: bool = True, symlink: str | None = None, manifest_edit=None) -> Path:
    """A copy of ``bundle`` with members added (and listed in the manifest), dropped or edited."""
    with zipfile.ZipFile(bundle) as source:
        entries = {n: source.read(n) for n in source.namelist()}
    manifest = json.loads(entries.pop("manifest.json"))
    for name in drop:
        entries.pop(name)
    for name, data in (add or {}).items():
        entries[name] = data
        if list_too:
            manifest["members"].append({"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                        "role": "attachment"})
    if manifest_edit:
        manifest_edit(manifest)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name == symlink:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            target.writestr(info, data)
        target.writestr("manifest.json", json.dumps(manifest))
    return out


def refused(bundle: Path, tmp_path: Path, match: str, **kwargs) -> None:
    parent = tmp_path / "unpack"
    with pytest.raises(BundleError, match=match) as caught:
        extract_bundle(bundle, parent, **kwargs)
    assert "\n" not in str(caught.value)  # one clear message
    assert not parent.exists() or not any(parent.iterdir())  # nothing left behind
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/twinviewer-evil.txt").exists()


def test_path_traversal_is_refused(good_bundle, tmp_path: Path):
    bad = rewrite(good_bundle, tmp_path / "b.twinbundle", add={"../evil.txt": b"x"})
    refused(bad, tmp_path, r"refused: member '\.\./evil\.txt' has an empty, '\.' or '\.\.' path component")


def test_absolute_path_is_refused(good_bundle, tmp_path: Path):
    bad = rewrite(good_bundle, tmp_path / "b.twinbundle", add={"/tmp/twinviewer-evil.txt": b"x"})
    refused(bad, tmp_path, "is an absolute path")


def test_symlink_member_is_refused(good_bundle, tmp_path: Path):
    bad = rewrite(good_bundle, tmp_path / "b.twinbundle", add={"recording/link": b"/etc/passwd"},
                  symlink="recording/link")
    refused(bad, tmp_path, "'recording/link' is a symbolic link")


def test_zip_bomb_is_refused_before_unpacking(good_bundle, tmp_path: Path):
    zeros = bytes(64 * 1024 * 1024)  # 64 MiB of zeros: about 64 KiB compressed
    bad = rewrite(good_bundle, tmp_path / "b.twinbundle", add={"attachments/zeros.bin": zeros})
    assert bad.stat().st_size < 1024 * 1024
    refused(bad, tmp_path, "unpack to 6[0-9],[0-9,]+ bytes, more than the 16,777,216 allowed",
            max_total_bytes=16 * 1024 * 1024)
    # the same bomb whose manifest claims a small size is caught by the size its zip entry declares
    lying = rewrite(good_bundle, tmp_path / "c.twinbundle", add={"attachments/zeros.bin": zeros},
                    manifest_edit=lambda m: m["members"][-1].update(size=10))
    refused(lying, tmp_path, "declares 67,108,864 bytes, the manifest 10")


def test_wrong_checksum_is_refused(good_bundle, tmp_path: Path):
    def tamper(manifest):
        member = next(m for m in manifest["members"] if m["role"] == "recording")
        member["sha256"] = "0" * 64

    bad = rewrite(good_bundle, tmp_path / "b.twinbundle", manifest_edit=tamper)
    refused(bad, tmp_path, "'recording/rec.parquet' does not match its SHA-256 checksum")


def test_missing_member_is_refused(good_bundle, tmp_path: Path):
    bad = rewrite(good_bundle, tmp_path / "b.twinbundle", drop=("project/models/0/blocks.glb",))
    refused(bad, tmp_path, "'project/models/0/blocks.glb' listed in the manifest is missing")


def test_unlisted_member_and_not_a_bundle_are_refused(good_bundle, tmp_path: Path):
    bad = rewrite(good_bundle, tmp_path / "b.twinbundle", add={"extra.py": b"print('hi')"}, list_too=False)
    refused(bad, tmp_path, "'extra.py' is not listed in the manifest")
    junk = tmp_path / "junk.twinbundle"
    junk.write_bytes(b"hello")
    refused(junk, tmp_path, "not a TwinViewer bundle")


def test_project_pointing_outside_the_bundle_is_refused(good_bundle, tmp_path: Path):
    with zipfile.ZipFile(good_bundle) as source:
        text = source.read("project/blocks.twin.toml").decode()
    evil = text.replace('file = "models/0/blocks.glb"', 'file = "../../source/blocks.glb"').encode()

    def fix(manifest):
        member = next(m for m in manifest["members"] if m["role"] == "project")
        member.update(size=len(evil), sha256=hashlib.sha256(evil).hexdigest())

    bad = rewrite(good_bundle, tmp_path / "b.twinbundle", add={"project/blocks.twin.toml": evil}, list_too=False,
                  manifest_edit=fix)
    refused(bad, tmp_path, r"\[\[models\]\] file '\.\./\.\./source/blocks\.glb' is outside the bundle")


def test_member_whose_zip_header_understates_its_size_is_refused(good_bundle, tmp_path: Path):
    """A header that claims 100 bytes for a member that inflates to 1 MiB (manifest says 100 too): the
    stream is cut at the claimed size and the member no longer matches its CRC and checksum."""
    zeros = bytes(1024 * 1024)
    bad = rewrite(good_bundle, tmp_path / "b.twinbundle", add={"attachments/zeros.bin": zeros},
                  manifest_edit=lambda m: m["members"][-1].update(size=100))
    data = bytearray(bad.read_bytes())
    name = b"attachments/zeros.bin"
    with zipfile.ZipFile(bad) as archive:
        local = archive.getinfo(name.decode()).header_offset
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(name))  # its central directory entry
    real, claimed = (1024 * 1024).to_bytes(4, "little"), (100).to_bytes(4, "little")
    for offset in (local + 22, central + 24):  # "uncompressed size" in the local header and the directory
        assert data[offset:offset + 4] == real
        data[offset:offset + 4] = claimed
    bad.write_bytes(bytes(data))
    refused(bad, tmp_path, "refused: a member is damaged|does not match its SHA-256 checksum")
