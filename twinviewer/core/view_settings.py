"""Saving how a twin is shown (overlay mode, colour maps, value ranges, labels, camera) into its project file:
the text edit (:func:`replace_view_table`); the file is read and written by ``io/view_file.py``.

Only the ``[view]`` table of the ``*.twin.toml`` is rewritten: the file is edited as text, so every other
line, comment and blank line stays byte for byte as it was (a project is often hand-written and commented;
re-serialising it would lose that). The old ``[view]`` table and its sub-tables (``[view.colormaps]``,
``[view.ranges]``) are replaced in place by one ``[view]`` table with inline tables; full-line comments
that were inside it are kept at its top. A file without ``[view]`` gets the table appended at the end.

The result is parsed back before anything is written: if everything outside ``[view]`` does not read back
identical (for example a file that sets ``view.overlay`` as a dotted key at the top level), nothing is
written and :class:`ViewSaveError` says why.
"""

from __future__ import annotations

import math
import re

from twinviewer.core.colormaps import ColormapError, colormap_for
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.project import ViewSettings

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_HEADER = re.compile(r"^\s*\[(\[?)\s*(.*?)\s*\]\]?\s*(#.*)?$")


class ViewSaveError(TwinViewerError):
    """The view settings cannot be saved into the project file."""


# ----------------------------------------------------------------------------------------- TOML text
def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _number(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ViewSaveError(f"value range bound {value} is not a finite number")
    return repr(value)


def check_view(view: ViewSettings) -> None:
    """Refuse settings the project loader would reject: unknown colour maps, empty or inverted ranges."""
    for quantity, name in view.colormaps.items():
        try:
            colormap_for(quantity, {quantity: name})
        except ColormapError as exc:
            raise ViewSaveError(f"[view.colormaps] {quantity}: {exc}") from None
    for quantity, (low, high) in view.ranges.items():
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ViewSaveError(f"[view.ranges] {quantity}: [{low}, {high}] must be finite with min < max")
    if view.overlay == "field" and not view.field_quantity:
        raise ViewSaveError("[view] overlay = \"field\" needs a field_quantity")


def view_table(view: ViewSettings) -> str:
    """The ``[view]`` table as TOML text (ends with a newline)."""
    check_view(view)
    lines = ["[view]", f"overlay = {_string(view.overlay)}"]
    if view.field_quantity:
        lines.append(f"field_quantity = {_string(view.field_quantity)}")
    lines.append(f"labels = {_string(view.labels)}")
    lines.append(f"camera = {_string(view.camera)}")
    if view.colormaps:
        items = ", ".join(f"{_key(q)} = {_string(n)}" for q, n in sorted(view.colormaps.items()))
        lines.append(f"colormaps = {{ {items} }}")
    if view.ranges:
        items = ", ".join(f"{_key(q)} = [{_number(lo)}, {_number(hi)}]" for q,
                          (lo, hi) in sorted(view.ranges.items()))
        lines.append(f"ranges = {{ {items} }}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ finding tables
def _table_headers(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, dotted table name) of every table header, skipping multi-line strings and arrays."""
    headers: list[tuple[int, str]] = []
    depth = 0  # open [ of arrays / { of inline tables
    in_multiline: str | None = None  # '"""' or "'''" while inside a multi-line string
    for n, line in enumerate(lines):
        if in_multiline is None and depth == 0:
            match = _HEADER.match(line)
            if match and line.lstrip().startswith("["):
                name = re.sub(r"\s*\.\s*", ".", match.group(2)).replace('"', "").replace("'", "")
                headers.append((n, name))
                continue
        i = 0
        while i < len(line):
            if in_multiline is not None:
                end = line.find(in_multiline, i)
                if end < 0:
                    break
                i = end + 3
                in_multiline = None
                continue
            ch = line[i]
            if ch == "#":
                break
            if line.startswith('"""', i) or line.startswith("'''", i):
                in_multiline = line[i:i + 3]
                i += 3
                continue
            if ch == '"':
                i += 1
                while i < len(line) and line[i] != '"':
                    i += 2 if line[i] == "\\" else 1
            elif ch == "'":
                end = line.find("'", i + 1)
                i = len(line) if end < 0 else end
            elif ch in "[{":
                depth += 1
            elif ch in "]}":
                depth = max(0, depth - 1)
            i += 1
    return headers


def _is_view_table(name: str) -> bool:
    return name == "view" or name.startswith("view.")


def replace_view_table(text: str, view: ViewSettings) -> str:
    """``text`` with its ``[view]`` table (and sub-tables) replaced by ``view``; everything else untouched."""
    lines = text.splitlines(keepends=True)
    headers = _table_headers(lines)
    table = view_table(view)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if newline != "\n":
        table = table.replace("\n", newline)
    blocks = []  # (start, end) line ranges of view tables; end exclusive
    for k, (start, name) in enumerate(headers):
        if _is_view_table(name):
            end = headers[k + 1][0] if k + 1 < len(headers) else len(lines)
            # Comments and blank lines just before the next header belong to that next table.
            while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
                end -= 1
            blocks.append((start, end))
    if not blocks:
        head = text
        if head and not head.endswith(("\n", "\r")):
            head += newline
        separator = newline if head.strip() and not head.endswith(newline * 2) else ""
        return head + separator + table
    kept_comments = [line for start,
                     end in blocks for line in lines[start + 1:end] if line.lstrip().startswith("#")]
    replacement = table.splitlines(keepends=True)
    replacement[1:1] = kept_comments
    first_start = blocks[0][0]
    out: list[str] = []
    cursor = 0
    for start, end in blocks:
        between = lines[cursor:start]
        if start != first_start and all(not line.strip() for line in between):
            between = []  # blank lines that only separated two view tables go with them
        out.extend(between)
        if start == first_start:
            out.extend(replacement)
        cursor = end
    out.extend(lines[cursor:])
    return "".join(out)
