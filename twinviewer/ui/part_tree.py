"""The part tree: parts grouped as in the project, a visibility checkbox each, selection both ways."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from twinviewer.core.project import Project, parse_colour

PART_ROLE = Qt.ItemDataRole.UserRole + 1


def colour_icon(rgb: tuple[float, float, float]) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor.fromRgbF(*rgb))
    return QIcon(pixmap)


class PartTree(QTreeWidget):
    """Emits ``part_selected(name)`` when the user picks a part and ``visibility_changed(name, shown)``."""

    part_selected = Signal(object)
    visibility_changed = Signal(str, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderLabels(["Part", "Sensors"])
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, self.header().ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, self.header().ResizeMode.ResizeToContents)
        self.setUniformRowHeights(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "Pump bearing h…drive end" vs "…non-drive end"
        self._items: dict[str, QTreeWidgetItem] = {}
        self._groups: dict[str, QTreeWidgetItem] = {}
        self._updating = False
        self.itemChanged.connect(self._on_item_changed)
        self.currentItemChanged.connect(self._on_current_changed)

    def set_parts(self, project: Project, part_names: list[str],
                  colours: dict[str, tuple[float, float, float]], scene_paths: dict[str, str] | None = None) -> None:
        """``scene_paths``: each part's node path in its file ("truck/axle/wheel", glTF), shown as folders."""
        self._updating = True
        self.clear()
        self._items.clear()
        self._groups.clear()
        for name in part_names:
            part = project.part(name)
            group = part.group if part and part.group else ""
            parent = self.invisibleRootItem()
            label = part.display_name if part else name
            if group:
                parent = self._folder([group])
            elif "/" in name.strip("/"):
                # An assembly path (STEP, or "assembly/sub-assembly/leaf" names): sub-assemblies are folders
                # and the part shows its own short name.
                path = [p for p in name.split("/") if p]
                parent = self._folder(path[:-1])
                if label == name:
                    label = path[-1]
            elif scene_paths and "/" in scene_paths.get(name, "").strip("/"):
                parent = self._folder([p for p in scene_paths[name].split("/") if p][:-1])
            if group and label == name and name.startswith(f"{group} "):
                label = name[len(group) + 1:]  # "pump body 003" under "pump" reads "body 003"
            n_sensors = len(project.sensors_of_part(name))
            item = QTreeWidgetItem([label, str(n_sensors) if n_sensors else ""])
            item.setData(0, PART_ROLE, name)
            item.setToolTip(0, f"{label} ({name})" if label != name else name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked)
            colour = colours.get(name)
            if part and part.color:
                colour = parse_colour(part.color)
            if colour:
                item.setIcon(0, colour_icon(colour))
            parent.addChild(item)
            self._items[name] = item
        self._updating = False

    def _folder(self, path: list[str]) -> QTreeWidgetItem:
        """The (nested) folder item for ``path``, created as needed; checking it shows or hides its parts."""
        parent = self.invisibleRootItem()
        for depth in range(len(path)):
            key = "/".join(path[:depth + 1])
            item = self._groups.get(key)
            if item is None:
                item = QTreeWidgetItem([path[depth], ""])
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
                item.setCheckState(0, Qt.CheckState.Checked)
                item.setToolTip(0, key)
                parent.addChild(item)
                item.setExpanded(depth < 2)
                self._groups[key] = item
            parent = item
        return parent

    def item_for(self, name: str) -> QTreeWidgetItem | None:
        return self._items.get(name)

    def selected_part(self) -> str | None:
        item = self.currentItem()
        return item.data(0, PART_ROLE) if item else None

    def select_part(self, name: str | None) -> None:
        """Follow a selection made elsewhere (3D pick) without echoing it back."""
        self._updating = True
        item = self._items.get(name) if name else None
        self.setCurrentItem(item) if item else self.clearSelection()
        if item is None:
            self.setCurrentItem(None)
        else:
            self.scrollToItem(item)
        self._updating = False

    def set_checked(self, name: str, shown: bool) -> None:
        item = self._items.get(name)
        if item is not None:
            item.setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def is_checked(self, name: str) -> bool:
        item = self._items.get(name)
        return item is not None and item.checkState(0) == Qt.CheckState.Checked

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        name = item.data(0, PART_ROLE)
        if column == 0 and name is not None:
            self.visibility_changed.emit(name, item.checkState(0) == Qt.CheckState.Checked)

    def _on_current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if self._updating:
            return
        self.part_selected.emit(current.data(0, PART_ROLE) if current else None)
