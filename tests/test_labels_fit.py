""""All labels" shows as many labels as fit without overlap, and says how many it hid and why."""

from __future__ import annotations

import numpy as np

from twinviewer.core.overlay import place_labels
from twinviewer.core.overlay_engine import labels_note

BOX = (150.0, 22.0)


def boxes_overlap(corners: np.ndarray) -> bool:
    for i in range(len(corners)):
        for j in range(i + 1, len(corners)):
            if abs(corners[i, 0] - corners[j, 0]) < BOX[0] and abs(corners[i, 1] - corners[j, 1]) < BOX[1]:
                return True
    return False


def test_labels_take_other_places_around_their_marker_to_fit():
    # Three markers close together on a line: one place each (to the right) fits one label; with places
    # around the marker, all three fit.
    xy = np.array([[400.0, 300.0], [420.0, 302.0], [410.0, 280.0]])
    keep, corners = place_labels(xy, np.array([2.0, 1.0, 0.0]), BOX)
    assert keep.all()
    assert not boxes_overlap(corners[keep])
    # The highest priority (an alarm) keeps the first place, right of its marker.
    assert corners[0].tolist() == [412.0, 292.0]


def test_labels_note_says_how_many_were_hidden_and_why():
    assert labels_note("all", 12, 12, overlapping=0, off_screen=0, on_hidden_parts=0) == ""
    assert labels_note("selected", 3, 1, overlapping=2, off_screen=0, on_hidden_parts=0) == ""
    note = labels_note("all", 11, 7, overlapping=3, off_screen=1, on_hidden_parts=1)
    assert note == "7 of 12 labels shown: 3 would overlap (zoom in or select a part), 1 off screen, 1 on hidden parts"


def test_headless_render_with_all_labels_shows_the_note(blocks_twin, blocks_view):
    from twinviewer.core.session import Session
    from twinviewer.render.overlay_layer import OverlayLayer

    session = Session(blocks_twin.project, blocks_twin.model.part_names)
    layer = OverlayLayer(blocks_view.scene, session.overlay)
    layer.set_labels("all")
    session.store.append("T-L", 1_700_000_000.0, 42.5)
    session.store.append("T-R", 1_700_000_000.0, 43.0)
    blocks_view.scene.set_visible("right", False)
    layer.apply(session.frame_at(1_700_000_000.0).overlay)
    assert layer.labels_note == "1 of 2 labels shown: 1 on hidden parts"
    blocks_view.scene.set_visible("right", True)
