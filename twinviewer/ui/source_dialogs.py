"""Dialogs for live sources: their settings and statistics (Live → Sources…) and the OPC UA browser.

- :class:`SourcesDialog` lists the project's MQTT / OPC UA sources with their live statistics; the selected
  one's host, port, topics or nodes, TLS files and user name can be edited, applied to the running session
  (the source reconnects) and saved back into the project file's ``[[sources]]`` table.
- :class:`BrowseDialog` connects to an OPC UA endpoint, shows the server's node tree with current values
  (``sources.opcua.browse``), lets the user map variable nodes to project sensors, adds them to the running
  session as a new source and optionally appends it to the project file.
- :func:`save_source_to_project` / :func:`append_source_to_project` edit the project file with tomlkit, so
  everything else in it (comments, order, other tables) stays as it was. Passwords are never written: a
  source names the environment variable that holds its password (``password_env``).

Over 600 lines: two dialogs that share the source field editors and the project-file edits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core import project as project_model
from twinviewer.core.errors import CancelledError, TwinViewerError
from twinviewer.core.formatting import counted, format_number

PAYLOAD_KINDS = ("number", "json", "json_dict")
SECURITY_POLICIES = ("None", "Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss")
SECURITY_MODES = ("None", "Sign", "SignAndEncrypt")


class SourceSettingsError(TwinViewerError):
    """Source settings that do not validate (one line per problem, naming the field)."""


# ----- the project file ----------------------------------------------------------------------------------
def _validated(kind: str, data: dict[str, Any]):
    model = project_model.MqttSource if kind == "mqtt" else project_model.OpcUaSource
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "source"
            lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        raise SourceSettingsError("; ".join(lines)) from None


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _table_value(value: Any):
    """A Python value as tomlkit wants it (lists of dicts become arrays of tables)."""
    import tomlkit

    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        tables = tomlkit.aot()
        for item in value:
            table = tomlkit.table()
            for key, inner in item.items():
                table[key] = inner
            tables.append(table)
        return tables
    return value


def _write_checked(path: Path, text: str) -> None:
    """Validate the new text as a project, then replace the file atomically."""
    project_model.parse_project(text, path)
    temporary = path.with_name(path.name + ".saving")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _load_document(path: Path):
    import tomlkit

    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TwinViewerError(f"{path}: cannot read the project file: {exc}") from None
    except Exception as exc:  # tomlkit's parse errors
        raise TwinViewerError(f"{path}: the project file is not valid TOML: {exc}") from None


def save_source_to_project(path: Path | str, index: int, config) -> None:
    """Write ``config`` over the ``index``-th ``[[sources]]`` table, changing only keys whose value changed.

    Keys that keep their value keep their place and comments; keys now unset are removed; nothing else in
    the file changes. ``password_env`` is written, never a password (the models have no such field).
    """
    import tomlkit

    path = Path(path)
    document = _load_document(path)
    sources = document.get("sources")
    if sources is None or index >= len(sources):
        raise TwinViewerError(f"{path}: there is no [[sources]] table number {index + 1} to update")
    table = sources[index]
    full = _plain(config.model_dump(exclude_none=True))
    minimal = _plain(config.model_dump(exclude_none=True, exclude_defaults=True))
    minimal["kind"] = config.kind
    for key in list(table.keys()):
        if key not in full:
            del table[key]
        elif _plain(table[key].unwrap() if hasattr(table[key], "unwrap") else table[key]) != full[key]:
            table[key] = _table_value(full[key])
    for key, value in minimal.items():
        if key not in table:
            table[key] = _table_value(value)
    _write_checked(path, tomlkit.dumps(document))


def append_source_to_project(path: Path | str, config) -> int:
    """Append ``config`` as a new ``[[sources]]`` table at the end of the file; returns its index."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    import tomlkit

    document = _load_document(path)
    index = len(document.get("sources", []))
    data = _plain(config.model_dump(exclude_none=True, exclude_defaults=True))
    data["kind"] = config.kind
    wrapper = tomlkit.document()
    wrapper["sources"] = _table_value([{"kind": data.pop("kind"), **data}])
    addition = tomlkit.dumps(wrapper)
    _write_checked(path, text.rstrip("\n") + "\n\n" + addition)
    return index


# ----- small widgets -------------------------------------------------------------------------------------
class FileField(QWidget):
    """A path in a line edit with a “…” button that opens a file chooser."""

    def __init__(self, text: str | None, base_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.base_dir = base_dir
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(text or "")
        self.edit.setPlaceholderText("(none)")
        button = QPushButton("…")
        button.setFixedWidth(28)
        button.clicked.connect(self._choose)
        layout.addWidget(self.edit, 1)
        layout.addWidget(button)

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Choose a file",
            str(self.base_dir),
            "Certificates and keys (*.pem *.crt *.der *.key);;All files (*)",
        )
        if path:
            try:
                path = str(Path(path).relative_to(self.base_dir))
            except ValueError:
                pass
            self.edit.setText(path)

    def value(self) -> str | None:
        return self.edit.text().strip() or None


class RowsTable(QWidget):
    """An editable table of rows (topics or nodes) with Add / Remove buttons."""

    def __init__(self, headers: tuple[str, ...], rows: list[list[str]], choices: dict[int, tuple[str, ...]],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.choices = choices
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        add = QPushButton("Add row")
        remove = QPushButton("Remove row")
        add.clicked.connect(lambda: self.add_row([""] * len(headers)))
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        for row in rows:
            self.add_row(row)

    def add_row(self, cells: list[str]) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate(cells):
            if col in self.choices:
                combo = QComboBox()
                combo.addItems(self.choices[col])
                combo.setCurrentText(text or self.choices[col][0])
                self.table.setCellWidget(row, col, combo)
            else:
                self.table.setItem(row, col, QTableWidgetItem(text))

    def rows(self) -> list[list[str]]:
        out = []
        for row in range(self.table.rowCount()):
            cells = []
            for col in range(self.table.columnCount()):
                widget = self.table.cellWidget(row, col)
                item = self.table.item(row, col)
                cells.append(widget.currentText() if widget is not None
                             else (item.text().strip() if item else ""))
            if any(cells[:2]):
                out.append(cells)
        return out


class SourceForm(QWidget):
    """The editable settings of one MQTT or OPC UA source; :meth:`config` validates them."""

    def __init__(self, config, base_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.original = config
        self.kind = config.kind
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.name = QLineEdit(config.name)
        form.addRow("Name", self.name)
        if self.kind == "mqtt":
            self.host = QLineEdit(config.host)
            self.port = QSpinBox()
            self.port.setRange(1, 65535)
            self.port.setValue(config.port)
            form.addRow("Broker host", self.host)
            form.addRow("Port", self.port)
        else:
            self.endpoint = QLineEdit(config.endpoint)
            self.security_policy = QComboBox()
            self.security_policy.addItems(SECURITY_POLICIES)
            self.security_policy.setCurrentText(config.security_policy)
            self.security_mode = QComboBox()
            self.security_mode.addItems(SECURITY_MODES)
            self.security_mode.setCurrentText(config.security_mode)
            form.addRow("Endpoint", self.endpoint)
            form.addRow("Security policy", self.security_policy)
            form.addRow("Security mode", self.security_mode)
        self.username = QLineEdit(config.username or "")
        self.username.setPlaceholderText("(anonymous)")
        self.password_env = QLineEdit(config.password_env or "")
        self.password_env.setPlaceholderText("environment variable with the password (never saved in the "
                                             "file)")
        form.addRow("User name", self.username)
        form.addRow("Password variable", self.password_env)
        if self.kind == "mqtt":
            self.tls = QCheckBox("Connect with TLS")
            self.tls.setChecked(config.tls)
            form.addRow("", self.tls)
            self.ca_file = FileField(config.ca_file, base_dir)
            form.addRow("CA certificate", self.ca_file)
        self.cert_file = FileField(config.cert_file, base_dir)
        self.key_file = FileField(config.key_file, base_dir)
        form.addRow("Client certificate", self.cert_file)
        form.addRow("Client key", self.key_file)
        if self.kind == "mqtt":
            rows = [[t.topic, t.sensor or "", t.payload, t.json_path or ""] for t in config.topics]
            self.rows = RowsTable(("Topic", "Sensor", "Payload", "JSON path"), rows, {2: PAYLOAD_KINDS})
            form.addRow("Topics", self.rows)
        else:
            self.server_cert_file = FileField(config.server_cert_file, base_dir)
            form.addRow("Server certificate", self.server_cert_file)
            rows = [[n.node, n.sensor] for n in config.nodes]
            self.rows = RowsTable(("Node (id or browse path)", "Sensor"), rows, {})
            form.addRow("Nodes", self.rows)

    def config(self):
        """The edited settings as a validated model (the fields not shown keep their values)."""
        data = _plain(self.original.model_dump())
        data.update(name=self.name.text().strip(), username=self.username.text().strip() or None,
                    password_env=self.password_env.text().strip() or None,
                    cert_file=self.cert_file.value(), key_file=self.key_file.value())
        if self.kind == "mqtt":
            data.update(host=self.host.text().strip(), port=self.port.value(), tls=self.tls.isChecked(),
                        ca_file=self.ca_file.value(),
                        topics=[{"topic": topic, "sensor": sensor or None, "payload": payload,
                                 "json_path": json_path or None} for topic, sensor, payload,
                                json_path in self.rows.rows()])
        else:
            data.update(endpoint=self.endpoint.text().strip(),
                        security_policy=self.security_policy.currentText(),
                        security_mode=self.security_mode.currentText(),
                        server_cert_file=self.server_cert_file.value(),
                        nodes=[{"node": node, "sensor": sensor} for node, sensor in self.rows.rows()])
        return _validated(self.kind, data)


# ----- Live → Sources… -------------------------------------------------------------------------------------
class SourcesDialog(QDialog):
    """The project's live sources: settings (editable) and live statistics."""

    def __init__(self, panel, parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.window = panel.window
        self.setWindowTitle("Live sources")
        self.resize(980, 620)
        layout = QVBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.list = QListWidget()
        splitter.addWidget(self.list)
        right = QWidget()
        self.right_layout = QVBoxLayout(right)
        self.form_box = QGroupBox("Settings")
        self.form_layout = QVBoxLayout(self.form_box)
        self.right_layout.addWidget(self.form_box, 1)
        stats_box = QGroupBox("Live statistics")
        stats_layout = QVBoxLayout(stats_box)
        self.stats = QLabel("")
        self.stats.setTextFormat(Qt.TextFormat.RichText)
        self.stats.setWordWrap(True)
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        stats_layout.addWidget(self.stats)
        self.right_layout.addWidget(stats_box)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.right_layout.addWidget(self.message)
        splitter.addWidget(right)
        splitter.setSizes([260, 720])
        layout.addWidget(splitter, 1)
        buttons = QDialogButtonBox()
        self.apply_button = buttons.addButton("Apply and reconnect", QDialogButtonBox.ButtonRole.ApplyRole)
        self.save_button = buttons.addButton("Apply and save to project",
                                             QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.apply_button.clicked.connect(lambda: self.apply(save=False))
        self.save_button.clicked.connect(lambda: self.apply(save=True))
        layout.addWidget(buttons)
        self.form: SourceForm | None = None
        self.list.currentRowChanged.connect(self._show_entry)
        self._fill_list()
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self.refresh_stats)
        self.timer.start()
        if self.panel.entries:
            self.list.setCurrentRow(0)
        else:
            self.message.setText("This project has no MQTT or OPC UA source. Add one with Live → Browse OPC "
                                 "UA server…, or add a [[sources]] table of kind mqtt / opcua to the project "
                                 "file.")
        for button in (self.apply_button, self.save_button):
            button.setEnabled(bool(self.panel.entries))

    def _fill_list(self) -> None:
        current = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        for entry in self.panel.entries:
            item = QListWidgetItem(f"{entry.name}\n{entry.config.kind} · {entry.endpoint} · {entry.state()}")
            self.list.addItem(item)
        self.list.blockSignals(False)
        if 0 <= current < self.list.count():
            self.list.setCurrentRow(current)

    @property
    def entry(self):
        row = self.list.currentRow()
        return self.panel.entries[row] if 0 <= row < len(self.panel.entries) else None

    def _show_entry(self, _row: int) -> None:
        if self.form is not None:
            self.form_layout.removeWidget(self.form)
            self.form.deleteLater()
            self.form = None
        entry = self.entry
        if entry is None:
            return
        self.form = SourceForm(entry.config, self.window.twin.project.base_dir)
        self.form_layout.addWidget(self.form)
        self.message.setText("")
        self.refresh_stats()

    def refresh_stats(self) -> None:
        from twinviewer.ui.live_status import source_tooltip

        entry = self.entry
        self.stats.setText(source_tooltip(entry) if entry is not None else "")
        for row, item_entry in enumerate(self.panel.entries):
            item = self.list.item(row)
            if item is not None:
                item.setText(f"{item_entry.name}\n{item_entry.config.kind} · {item_entry.endpoint} · "
                             f"{item_entry.state()}")

    def apply(self, save: bool) -> bool:
        """Validate the form, reconnect the source with it and (``save``) write it to the project file."""
        entry, form = self.entry, self.form
        if entry is None or form is None:
            return False
        try:
            config = form.config()
        except SourceSettingsError as exc:
            self.message.setText(f"<span style='color:#c0392b'>Not applied: {exc}</span>")
            return False
        self.panel.replace_config(entry, config)
        text = f"Applied to {entry.name}; reconnecting."
        if save:
            path = self.window.twin.path
            try:
                if entry.index >= 0:
                    save_source_to_project(path, entry.index, config)
                else:
                    entry.index = append_source_to_project(path, config)
                    self.window.twin.project.sources.append(config)
            except TwinViewerError as exc:
                self.message.setText(f"<span style='color:#c0392b'>Applied, but not saved: {exc}</span>")
                return False
            text = f"Applied and saved to {path.name}."
            if config.password_env:
                text += f" The password is read from ${config.password_env}; it is never written to the file."
        self.message.setText(text)
        self._fill_list()
        self.refresh_stats()
        return True


# ----- Live → Browse OPC UA server… -------------------------------------------------------------------------
class BrowseDialog(QDialog):
    """Browse an OPC UA server and map its variables to sensors; see the module docstring."""

    COLUMNS = ("Name", "Node id", "Class", "Type", "Value", "Sensor")

    def __init__(self, panel, parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.window = panel.window
        self.project = self.window.twin.project
        self.task = None
        self.tree = None
        self.mapping: dict[str, str] = {}  # node id → sensor id
        self.nodes: dict[str, Any] = {}  # node id → BrowseNode
        self.items: dict[str, QTreeWidgetItem] = {}
        self.setWindowTitle("Browse OPC UA server")
        self.resize(1000, 680)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        known = next((e.config for e in panel.entries if e.config.kind == "opcua"), None)
        self.endpoint = QLineEdit(known.endpoint if known else "opc.tcp://localhost:4840")
        self.username = QLineEdit(known.username or "" if known else "")
        self.username.setPlaceholderText("(anonymous)")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("used for this connection only, never saved")
        self.password_env = QLineEdit(known.password_env or "" if known else "")
        self.password_env.setPlaceholderText("environment variable the saved source reads its password from")
        self.depth = QSpinBox()
        self.depth.setRange(1, 8)
        self.depth.setValue(4)
        row = QHBoxLayout()
        row.addWidget(self.endpoint, 1)
        row.addWidget(QLabel("Depth"))
        row.addWidget(self.depth)
        self.connect_button = QPushButton("Connect and browse")
        self.connect_button.clicked.connect(self.connect_server)
        row.addWidget(self.connect_button)
        form.addRow("Endpoint", row)
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        form.addRow("Password variable", self.password_env)
        layout.addLayout(form)
        self.view = QTreeWidget()
        self.view.setColumnCount(len(self.COLUMNS))
        self.view.setHeaderLabels(self.COLUMNS)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.view, 1)
        mapping_row = QHBoxLayout()
        mapping_row.addWidget(QLabel("Map the selected variable(s) to sensor"))
        self.sensor_combo = QComboBox()
        for sensor in self.project.sensors:
            self.sensor_combo.addItem(f"{sensor.id} — {sensor.display_name}", sensor.id)
        mapping_row.addWidget(self.sensor_combo, 1)
        self.map_button = QPushButton("Map")
        self.map_button.clicked.connect(self._map_selected)
        self.unmap_button = QPushButton("Clear mapping")
        self.unmap_button.clicked.connect(self._unmap_selected)
        mapping_row.addWidget(self.map_button)
        mapping_row.addWidget(self.unmap_button)
        layout.addLayout(mapping_row)
        self.save_check = QCheckBox("Also save the new source to the project file")
        layout.addWidget(self.save_check)
        self.message = QLabel("Connect to a server to see its nodes.")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox()
        self.add_button = buttons.addButton("Add to the session", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.add_button.clicked.connect(lambda: self.add_to_session())
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._selection_changed()

    # ----- browsing -----------------------------------------------------------------------------------
    def connect_server(self):
        """Browse the endpoint off the GUI thread; the tree shows when it is read."""
        from twinviewer.sources.opcua import browse
        from twinviewer.ui.tasks import run_task

        endpoint = self.endpoint.text().strip()
        username = self.username.text().strip() or None
        password = self.password.text() or None
        depth = self.depth.value()
        self.message.setText(f"Connecting to {endpoint}…")

        def work(progress, cancelled):
            progress(0.2, f"Reading the address space of {endpoint}")
            return browse(endpoint, username=username, password=password, depth=depth)

        def failed(exc: BaseException, details: str) -> None:
            if isinstance(exc, CancelledError):
                self.message.setText("Browsing cancelled.")
                return
            text = str(exc) if isinstance(exc, TwinViewerError) else f"{type(exc).__name__}: {exc}"
            if password:
                text = text.replace(password, "***")
            self.message.setText(f"<span style='color:#c0392b'>{text}</span>")

        self.task = run_task(self, f"Browsing {endpoint}", work, self.show_tree, failed)
        return self.task

    def show_tree(self, tree) -> None:
        self.tree = tree
        self.view.clear()
        self.nodes.clear()
        self.items.clear()

        def add(node, parent) -> None:
            value = node.value
            shown = (
                format_number(float(value))
                if isinstance(value, (int, float)) and not isinstance(value, bool)
                else ("" if value is None else str(value)[:60])
            )
            item = QTreeWidgetItem([node.display_name, node.node_id, node.node_class, node.data_type or "",
                                    shown,
                                    self.mapping.get(node.node_id, "")])
            item.setToolTip(0, node.browse_path)
            if node.node_class != "Variable":
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.nodes[node.node_id] = node
            self.items[node.node_id] = item
            if parent is None:
                self.view.addTopLevelItem(item)
            else:
                parent.addChild(item)
            for child in node.children:
                add(child, item)

        add(tree, None)
        self.view.expandToDepth(1)
        for node in tree.children:  # the server's own namespace-0 objects stay folded
            if node.browse_name.startswith("0:"):
                self.items[node.node_id].setExpanded(False)
        variables = sum(1 for n in tree.walk() if n.node_class == "Variable")
        self.message.setText(f"{len(self.nodes):,} nodes, {variables:,} variables. Select variables and map "
                             "them to sensors.")

    # ----- mapping ------------------------------------------------------------------------------------
    def _selected_variables(self) -> list[str]:
        return [item.text(1) for item in self.view.selectedItems() if item.text(2) == "Variable"]

    def _selection_changed(self) -> None:
        selected = self._selected_variables()
        self.map_button.setEnabled(bool(selected))
        self.unmap_button.setEnabled(bool(selected))
        self.add_button.setEnabled(bool(self.mapping))

    def map_node(self, node_id: str, sensor_id: str | None) -> None:
        """Map one variable node to a project sensor (None clears it)."""
        node = self.nodes.get(node_id)
        if node is None or node.node_class != "Variable":
            raise TwinViewerError(f"node {node_id} is not a variable of the browsed server")
        if sensor_id is None:
            self.mapping.pop(node_id, None)
        else:
            self.project.sensor(sensor_id)  # KeyError for an unknown sensor
            self.mapping[node_id] = sensor_id
        self.items[node_id].setText(5, sensor_id or "")
        self._selection_changed()

    def _map_selected(self) -> None:
        for node_id in self._selected_variables():
            self.map_node(node_id, self.sensor_combo.currentData())

    def _unmap_selected(self) -> None:
        for node_id in self._selected_variables():
            self.map_node(node_id, None)

    def source_config(self):
        """The mapped nodes as an ``opcua`` source (string node ids as they are, others by browse path)."""
        nodes = []
        for node_id, sensor in self.mapping.items():
            node = self.nodes[node_id]
            stable = ";s=" in node_id or ";g=" in node_id
            nodes.append({"node": node_id if stable else node.browse_path, "sensor": sensor})
        endpoint = self.endpoint.text().strip()
        host = endpoint.removeprefix("opc.tcp://").split("/")[0]
        return _validated("opcua", {
            "kind": "opcua", "name": f"OPC UA {host}", "endpoint": endpoint,
            "username": self.username.text().strip() or None,
            "password_env": self.password_env.text().strip() or None, "nodes": nodes})

    def add_to_session(self, save: bool | None = None):
        """Start a source for the mapped nodes in the running session; optionally save it to the project."""
        if not self.mapping:
            self.message.setText("Map at least one variable to a sensor first.")
            return None
        try:
            config = self.source_config()
        except SourceSettingsError as exc:
            self.message.setText(f"<span style='color:#c0392b'>{exc}</span>")
            return None
        save = self.save_check.isChecked() if save is None else save
        entry = self.panel.add_live_source(config, password=self.password.text() or None)
        text = f"Added {config.name} with {counted(len(config.nodes), 'node')} to the session."
        if save:
            try:
                entry.index = append_source_to_project(self.window.twin.path, config)
                self.project.sources.append(config)
                text += f" Saved to {self.window.twin.path.name}."
            except TwinViewerError as exc:
                text += f" Not saved: {exc}"
        self.message.setText(text)
        self.window.show_status(text)
        return entry
