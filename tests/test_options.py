"""Every named option is declared once (core/options.py): the CLI, the project model and the render layer
accept exactly those names."""

from __future__ import annotations

import argparse
import typing

import pytest

from twinviewer.core import project as project_model
from twinviewer.core.options import LABEL_MODES, OVERLAY_KINDS, RENDER_STYLES, VIEW_NAMES
from twinviewer.core.project import ProjectError, parse_project

PROJECT = """
[asset]
name = "rig"
[[models]]
file = "rig.stl"
[[parts]]
name = "pump"
[view]
{line}
"""


def _render_choices() -> dict[str, tuple]:
    from twinviewer.cli import render

    parser = argparse.ArgumentParser()
    render.add_arguments(parser)
    return {a.dest: tuple(a.choices) for a in parser._actions if a.choices}


def test_render_command_offers_exactly_the_declared_names():
    choices = _render_choices()
    assert choices["labels"] == LABEL_MODES
    assert choices["style"] == RENDER_STYLES
    assert choices["view"] == VIEW_NAMES


def test_project_view_accepts_the_declared_names_and_refuses_others():
    fields = project_model.ViewSettings.model_fields
    assert typing.get_args(fields["labels"].annotation) == LABEL_MODES
    assert typing.get_args(fields["overlay"].annotation) == OVERLAY_KINDS
    assert typing.get_args(fields["camera"].annotation) == VIEW_NAMES
    for overlay in OVERLAY_KINDS:
        assert parse_project(PROJECT.format(line=f'overlay = "{overlay}"')).view.overlay == overlay
    with pytest.raises(ProjectError, match=r"view\.overlay") as error:
        parse_project(PROJECT.format(line='overlay = "heatmap"'))
    assert "status" in str(error.value)
    with pytest.raises(ProjectError, match=r"view\.camera"):
        parse_project(PROJECT.format(line='camera = "sideways"'))


def test_render_layer_checks_against_the_same_names(blocks_view):
    for style in RENDER_STYLES:
        blocks_view.scene.set_style(style)
    with pytest.raises(ValueError):
        blocks_view.scene.set_style("cartoon")
    for view in VIEW_NAMES:
        blocks_view.scene.set_view(view)
