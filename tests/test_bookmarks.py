"""Bookmarks: the sidecar file round trip, its validation, and merging two people's files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from twinviewer.cli import main
from twinviewer.core.bookmarks import Bookmark, BookmarkError, Camera, merge_bookmarks
from twinviewer.io.bookmarks_file import read_bookmarks_file, sidecar_path, write_bookmarks_file

T0 = 1_700_000_000.0


def test_sidecar_sits_beside_the_recording_and_round_trips(tmp_path: Path):
    recording = tmp_path / "incident.parquet"
    recording.write_bytes(b"not touched")
    path = sidecar_path(recording)
    assert path == tmp_path / "incident.bookmarks.json"
    camera = Camera(position=(3.0, -3.0, 2.0), focal_point=(0.0, 0.0, 0.5), view_up=(0.0, 0.0, 1.0),
                    parallel_scale=1.5)
    marks = [Bookmark(t=T0 + 60, t_end=T0 + 90, title="Bearing runs hot", text="TT-102 climbs\nsecond line",
                      author="ana", parts=["bearing_housing_de"], sensors=["TT-102"], camera=camera),
             Bookmark(t=T0 + 10, title="Start", author="bob")]
    write_bookmarks_file(path, marks, "incident")
    back = read_bookmarks_file(path)
    assert [b.title for b in back] == ["Start", "Bearing runs hot"]  # ordered by time
    assert back[1] == marks[0]
    assert back[1].camera.position == (3.0, -3.0, 2.0) and back[1].is_interval
    assert recording.read_bytes() == b"not touched"
    assert read_bookmarks_file(tmp_path / "none.bookmarks.json") == []


@pytest.mark.parametrize(("change", "message"), [
    ({"t_end": T0 - 5}, "bookmarks[0]: t_end must not be before t"),
    ({"t": "soon"}, "bookmarks[0].t"),
    ({"title": "  "}, "bookmarks[0].title: must not be blank"),
    ({"colour": "red"}, "bookmarks[0].colour"),
    ({"camera": {"position": [1, 1, 1], "focal_point": [1, 1, 1]}}, "position and focal_point must differ"),
])
def test_invalid_entries_name_the_file_and_key(tmp_path: Path, change, message):
    entry = {"id": "a1", "t": T0, "title": "x"} | change
    path = tmp_path / "r.bookmarks.json"
    path.write_text(json.dumps({"format": "twinviewer-bookmarks", "version": 1, "bookmarks": [entry]}))
    with pytest.raises(BookmarkError) as caught:
        read_bookmarks_file(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_not_a_bookmark_file_and_bad_json(tmp_path: Path):
    other = tmp_path / "a.bookmarks.json"
    other.write_text('{"format": "something-else"}')
    with pytest.raises(BookmarkError, match="not a TwinViewer bookmark file"):
        read_bookmarks_file(other)
    other.write_text('{"format": ')
    with pytest.raises(BookmarkError, match="line 1: not valid JSON"):
        read_bookmarks_file(other)


def test_merging_two_peoples_files_keeps_both_and_the_newer_edit(tmp_path: Path, capsys):
    shared = Bookmark(id="shared", t=T0, title="Trip", author="ana", modified_at=1.0)
    ana = [shared, Bookmark(id="ana1", t=T0 + 5, title="Ana's note", author="ana")]
    bob = [shared.model_copy(update={"title": "Trip (confirmed)", "modified_at": 2.0}),
           Bookmark(id="bob1", t=T0 + 3, title="Bob's note", author="bob")]
    merged = merge_bookmarks(ana, bob)
    assert [b.id for b in merged] == ["shared", "bob1", "ana1"]
    assert merged[0].title == "Trip (confirmed)"
    assert merge_bookmarks(bob, ana)[0].title == "Trip (confirmed)"  # the newer edit wins in any order

    a, b, out = tmp_path / "ana.bookmarks.json", tmp_path / "bob.bookmarks.json", tmp_path / "all.bookmarks.json"
    write_bookmarks_file(a, ana)
    write_bookmarks_file(b, bob)
    assert main(["bookmarks", str(a), str(b), "--out", str(out)]) == 0
    assert [x.id for x in read_bookmarks_file(out)] == ["shared", "bob1", "ana1"]
    assert main(["bookmarks", str(out)]) == 0
    assert "Trip (confirmed)" in capsys.readouterr().out
