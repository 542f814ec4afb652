"""Live samples from an OPC UA server (asyncua) through a subscription, on a thread with its own event loop.

Each ``[[sources.nodes]]`` entry names a node by id (``ns=2;i=5``, ``ns=2;s=Pump.Temp``) or by browse path
from the root (``0:Objects/2:Pump/2:Temperature``) and the sensor it feeds. Values arrive as data-change
notifications (not polling) and are stamped with the server's SourceTimestamp, else its ServerTimestamp,
else the arrival time. Good values go to the store; uncertain values too (journal quality 1); a bad status
code is counted and stored as NaN (quality 2), so the view shows "no data" rather than an old value.

If the server goes away, the source notices (asyncua's keep-alive watchdog), reports ``disconnected``, and
reconnects with exponential backoff, re-resolving the nodes and re-creating the subscription.

:func:`browse` returns the server's address space as a tree of :class:`BrowseNode` for a browse dialog.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from asyncua import Client, Node, ua

from twinviewer.core import project as project_model
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.secrets import PasswordPrompt, Secret, SecretStore, redact, resolve_password
from twinviewer.core.timerange import RANGE_TEXT, time_ok
from twinviewer.sources.base import LiveSource, SampleSink, SourceState, sensor_periods
from twinviewer.sources.payloads import parse_value

_NODE_ID_PREFIXES = ("ns=", "i=", "s=", "g=", "b=", "nsu=")


class OpcUaError(TwinViewerError):
    """An OPC UA endpoint or node that cannot be used."""


def is_node_id(text: str) -> bool:
    return text.strip().startswith(_NODE_ID_PREFIXES)


async def resolve_node(client: Client, text: str) -> Node:
    """A node id or a browse path from the root (``0:Objects/2:Pump/2:Temperature``) → an existing Node."""
    try:
        if is_node_id(text):
            node = client.get_node(text.strip())
        else:
            parts = [p for p in text.strip().strip("/").split("/") if p]
            node = await client.nodes.root.get_child(parts)
        await node.read_browse_name()  # raises if the node does not exist
    except (ua.UaError, ValueError) as exc:
        raise OpcUaError(f"node {text!r} not found on the server ({exc})") from None
    return node


async def _server_endpoints(endpoint: str, timeout_s: float) -> list[ua.EndpointDescription]:
    """What the server offers, asked on an open discovery channel (no security, no session); [] if even
    that fails, and there is nothing to add to the error at hand."""
    try:
        return await Client(endpoint, timeout=timeout_s).connect_and_get_server_endpoints()
    except Exception:
        return []


async def _pinned_certificate_differs(endpoint: str, pinned: str, timeout_s: float) -> bool:
    """True when the server's own certificate is not the pinned one."""
    from asyncua.crypto import uacrypto
    from cryptography.hazmat.primitives.serialization import Encoding

    offered = {bytes(e.ServerCertificate or b"") for e in await _server_endpoints(endpoint, timeout_s)}
    if not offered:
        return False
    try:
        expected = (await uacrypto.load_certificate(pinned)).public_bytes(Encoding.DER)
    except Exception:
        return False
    return expected not in offered


async def _endpoint_mismatch(endpoint: str, timeout_s: float, policy: str, mode: str) -> str:
    """Why connecting found no endpoint: the security the source asks for against what the server offers."""
    offered = sorted({(e.SecurityPolicyUri.rsplit("#", 1)[-1], e.SecurityMode.name)
                      for e in await _server_endpoints(endpoint, timeout_s)})
    listed = ", ".join(f"{p} {m}" for p, m in offered) or "nothing it would tell"
    return (f"the server has no endpoint with security {policy} {mode}; it offers {listed}. Set "
            "security_policy and security_mode (with cert_file and key_file) in this [[sources]] entry")


async def configure_client(client: Client, *, security_policy: str, security_mode: str, cert_file: str | None,
                           key_file: str | None, server_cert_file: str | None, username: str | None,
                           password: Secret | None) -> None:
    if security_policy != "None":
        parts = [security_policy, security_mode, cert_file or "", key_file or ""]
        if server_cert_file:
            parts.append(server_cert_file)
        await client.set_security_string(",".join(parts))
    elif cert_file and key_file:
        await client.load_client_certificate(cert_file)
        await client.load_private_key(Path(key_file))
    if username:
        client.set_user(username)
        if password is not None:
            client.set_password(password.reveal())


def _timestamp(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        t = value.timestamp()
    except (OverflowError, ValueError, OSError):
        return None
    return t if t > 86400 else None  # OPC UA's "no time" is 1601-01-01


class _Handler:
    """asyncua calls this on the source's event loop for every data change."""

    def __init__(self, source: OpcUaSource, sensors_of_node: dict[Any, list[str]], names: dict[Any, str]):
        self.source = source
        self.sensors_of_node = sensors_of_node
        self.names = names

    def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
        arrival = time.time()
        try:
            self.source.handle_value(self.names.get(node.nodeid, str(node.nodeid)),
                                     self.sensors_of_node.get(node.nodeid, []), data.monitored_item.Value,
                                     arrival)
        except Exception as exc:  # never let one value stop the subscription
            self.source._stats.problem("internal", str(node.nodeid), f"{type(exc).__name__}: {exc}")

    def status_change_notification(self, status: Any) -> None:
        self.source._stats.problem("bad_status", "subscription", f"subscription status changed: {status}")


class OpcUaSource(LiveSource):
    """An OPC UA subscription feeding the store. ``start()`` returns at once."""

    kind = "opcua"
    config_error = OpcUaError

    def __init__(self, config: project_model.OpcUaSource, store: Any, project_sensors: Any = None,
                 journal: Any = None, *, password_prompt: PasswordPrompt | None = None,
                 secret_store: SecretStore | None = None,
                 base_dir: Path | None = None, flush_interval_s: float = 0.02, flush_max_samples: int = 500,
                 watchdog_interval_s: float = 1.0):
        super().__init__(config.name or f"opcua {config.endpoint}", config.endpoint)
        self.config = config
        self.store = store
        self.journal = journal
        self.base_dir = base_dir or Path.cwd()
        self.password_prompt = password_prompt
        self.secret_store = secret_store
        self.watchdog_interval_s = watchdog_interval_s
        self._periods = sensor_periods(project_sensors)
        self.sink = SampleSink(store, journal, flush_interval_s=flush_interval_s,
                               flush_max_samples=flush_max_samples)
        self._password: Secret | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        if self._thread is not None:
            return
        config = self.config
        host = config.endpoint.removeprefix("opc.tcp://").split("/")[0]
        self._password = resolve_password(kind="opcua", host=host, username=config.username,
                                          password_env=config.password_env, prompt=self.password_prompt,
                                          store=self.secret_store)
        self._files = {k: self._path(getattr(config, k))
                       for k in ("cert_file", "key_file", "server_cert_file")}
        for sensor, period in self._periods.items():
            self.store.add_sensor(sensor, expected_period_s=period)
            if self.journal is not None:
                self.journal.add_sensor(sensor, period)
        unknown = [n.sensor for n in config.nodes if self._periods and n.sensor not in self._periods]
        for sensor in unknown:
            self._stats.problem("unknown_sensor", sensor,
                                f"sensor {sensor!r} of this source is not in the project")
        self._set_state(SourceState.CONNECTING, "")
        self.sink.start()
        self._ready.clear()
        self._thread = threading.Thread(target=self._thread_main, name=f"twinviewer-opcua-{host}",
                                        daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def stop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        if self._loop is not None and self._stop_event is not None:
            self._loop.call_soon_threadsafe(self._stop_event.set)
        thread.join(timeout=15)
        self._thread = None
        self.sink.stop()
        self._set_state(SourceState.STOPPED)

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._run())
        finally:
            loop.close()
            self._loop = None

    def _error(self, exc: BaseException) -> str:
        text = str(exc) or type(exc).__name__
        return redact(f"{type(exc).__name__}: {text}" if not isinstance(exc, OpcUaError) else text,
                      [self._password])

    async def _run(self) -> None:
        self._stop_event = asyncio.Event()
        self._ready.set()
        delay = self.config.reconnect_min_s
        while not self._stop_event.is_set():
            lost = asyncio.Event()
            client = Client(self.config.endpoint, timeout=self.config.timeout_s,
                            watchdog_intervall=self.watchdog_interval_s)

            async def on_lost(exc: Exception, lost: asyncio.Event = lost) -> None:
                self._set_state(SourceState.DISCONNECTED, self._error(exc) + "; reconnecting")
                lost.set()

            client.connection_lost_callback = on_lost
            connected = False
            try:
                self._set_state(SourceState.CONNECTING)
                await configure_client(client, security_policy=self.config.security_policy,
                                       security_mode=self.config.security_mode,
                                       cert_file=self._files["cert_file"],
                                       key_file=self._files["key_file"],
                                       server_cert_file=self._files["server_cert_file"],
                                       username=self.config.username, password=self._password)
                try:
                    await client.connect()
                except ua.UaError as exc:
                    if "No matching endpoints" not in str(exc):
                        raise
                    raise OpcUaError(await _endpoint_mismatch(self.config.endpoint, self.config.timeout_s,
                                                              self.config.security_policy,
                                                              self.config.security_mode)) from None
                except (TimeoutError, ConnectionError):
                    # A server cannot answer a client that encrypted for another certificate: say so.
                    pinned = self._files["server_cert_file"]
                    if pinned and await _pinned_certificate_differs(self.config.endpoint, pinned,
                                                                    self.config.timeout_s):
                        raise OpcUaError(
                            "the server's certificate is not the one pinned in "
                            f"server_cert_file ({pinned}); replace that file with the server's certificate"
                        ) from None
                    raise
                connected = True
                await self._subscribe(client)
                self._stats.connected()
                self._set_state(SourceState.CONNECTED, "")
                delay = self.config.reconnect_min_s
                await _first_of(self._stop_event.wait(), lost.wait())
            except Exception as exc:  # any failure: report it, back off, try again
                self._set_state(SourceState.ERROR,
                                self._error(exc) + ("" if self._stop_event.is_set() else "; retrying"))
            finally:
                if connected:
                    try:
                        await asyncio.wait_for(client.disconnect(), timeout=2)
                    except Exception:
                        client.disconnect_socket()
            if self._stop_event.is_set():
                break
            if lost.is_set():
                self._set_state(SourceState.DISCONNECTED)
            try:
                await asyncio.wait_for(self._stop_event.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
            delay = min(delay * 2, self.config.reconnect_max_s)

    async def _subscribe(self, client: Client) -> None:
        sensors_of_node: dict[Any, list[str]] = {}
        names: dict[Any, str] = {}
        nodes: list[Node] = []
        for entry in self.config.nodes:
            try:
                node = await resolve_node(client, entry.node)
            except OpcUaError as exc:
                self._stats.problem("unknown_node", entry.node, str(exc))
                continue
            if node.nodeid not in sensors_of_node:
                nodes.append(node)
            sensors_of_node.setdefault(node.nodeid, []).append(entry.sensor)
            names[node.nodeid] = entry.node
        if not nodes:
            raise OpcUaError("none of the configured nodes exists on the server")
        handler = _Handler(self, sensors_of_node, names)
        subscription = await client.create_subscription(self.config.publishing_interval_ms, handler)
        results = await subscription.subscribe_data_change(nodes)
        for node, result in zip(nodes, results, strict=True):
            if isinstance(result, ua.StatusCode) and not result.is_good():
                self._stats.problem("unknown_node", names[node.nodeid],
                                    f"cannot subscribe to {names[node.nodeid]}: {result}")

    def handle_value(self, where: str, sensors: list[str], data_value: Any, arrival: float) -> None:
        """One data change: choose the timestamp, check the status, queue the sample for every mapped
        sensor."""
        stats = self._stats
        t = _timestamp(data_value.SourceTimestamp) or _timestamp(data_value.ServerTimestamp) or arrival
        if not time_ok(t):
            stats.message(0, 0, arrival)
            stats.problem("bad_time", where, f"{where}: server timestamp {t!r} is outside {RANGE_TEXT}")
            return
        status = data_value.StatusCode
        quality = 0
        if status is not None and not status.is_good():
            if status.is_bad():
                stats.message(0, 0, arrival)
                stats.problem("bad_status", where, f"{where}: status {status.name}")
                for sensor in sensors:
                    if sensor in self._periods or not self._periods:
                        self.sink.add(sensor, t, float("nan"), 2)
                return
            quality = 1
        variant = data_value.Value
        raw = variant.Value if variant is not None else None
        try:
            value = parse_value(raw)
        except TwinViewerError as problem:
            stats.message(0, 0, arrival)
            stats.problem(getattr(problem, "kind", "not_a_number"), where, f"{where}: {problem}")
            return
        accepted = 0
        for sensor in sensors:
            if self._periods and sensor not in self._periods:
                continue
            self.sink.add(sensor, t, value, quality)
            accepted += 1
        stats.message(0, accepted, arrival)


async def _first_of(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


# -- browsing ----------------------------------------------------------------------------------------------


@dataclass
class BrowseNode:
    """One node of the server's address space (a browse dialog shows these as a tree)."""

    node_id: str
    browse_name: str
    display_name: str
    node_class: str
    browse_path: str
    data_type: str | None = None
    value: Any = None
    children: list[BrowseNode] = field(default_factory=list)

    def find(self, browse_name: str) -> BrowseNode | None:
        """The first node below (or at) this one with that browse name (``2:Temperature``) or display name."""
        if browse_name in (self.browse_name, self.display_name):
            return self
        for child in self.children:
            found = child.find(browse_name)
            if found is not None:
                return found
        return None

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


async def browse_async(client: Client, root: str = "0:Objects", depth: int = 3,
                       max_nodes: int = 2000) -> BrowseNode:
    start = client.nodes.objects if root in ("0:Objects", "Objects", "") else await resolve_node(client, root)
    type_names: dict[Any, str] = {}
    count = 0

    async def describe(node: Node, path: str, level: int) -> BrowseNode:
        nonlocal count
        count += 1
        browse_name = await node.read_browse_name()
        display_name = await node.read_display_name()
        node_class = await node.read_node_class()
        qualified = f"{browse_name.NamespaceIndex}:{browse_name.Name}"
        item = BrowseNode(node.nodeid.to_string(), qualified, display_name.Text or browse_name.Name,
                          node_class.name, f"{path}/{qualified}" if path else qualified)
        if node_class == ua.NodeClass.Variable:
            try:
                type_id = await node.read_data_type()
                if type_id not in type_names:
                    type_names[type_id] = (await client.get_node(type_id).read_browse_name()).Name
                item.data_type = type_names[type_id]
                item.value = await node.read_value()
            except ua.UaError:
                item.value = None
        if level < depth:
            for child in await node.get_children():
                if count >= max_nodes:
                    break
                item.children.append(await describe(child, item.browse_path, level + 1))
        return item

    start_path = "0:Objects" if root in ("0:Objects", "Objects", "") else ""
    tree = await describe(start, "", 0)
    if start_path:
        tree.browse_path = start_path
        for child in tree.children:
            _reroot(child, start_path)
    return tree


def _reroot(node: BrowseNode, prefix: str) -> None:
    node.browse_path = f"{prefix}/{node.browse_name}"
    for child in node.children:
        _reroot(child, node.browse_path)


def browse(endpoint: str, *, username: str | None = None, password: str | Secret | None = None,
           security_policy: str = "None", security_mode: str = "None", cert_file: str | None = None,
           key_file: str | None = None, server_cert_file: str | None = None, root: str = "0:Objects",
           depth: int = 3, timeout: float = 5.0, max_nodes: int = 2000) -> BrowseNode:
    """Connect, read the address space below ``root`` to ``depth`` levels, disconnect. Blocking.

    Each node's ``browse_path`` (``0:Objects/2:Pump/2:Temperature``) can be written as a ``node`` of
    ``[[sources.nodes]]``, as can its ``node_id``.
    """
    secret = Secret(password, "browse dialog") if isinstance(password, str) else password

    async def run() -> BrowseNode:
        client = Client(endpoint, timeout=timeout)
        await configure_client(client, security_policy=security_policy, security_mode=security_mode,
                               cert_file=cert_file, key_file=key_file, server_cert_file=server_cert_file,
                               username=username, password=secret)
        try:
            await asyncio.wait_for(client.connect(), timeout=timeout)
        except (OSError, asyncio.TimeoutError, ua.UaError) as exc:
            raise OpcUaError(redact(f"cannot connect to {endpoint}: {exc or type(exc).__name__}",
                                    [secret])) from None
        try:
            return await browse_async(client, root, depth, max_nodes)
        finally:
            try:
                await asyncio.wait_for(client.disconnect(), timeout=2)
            except Exception:
                client.disconnect_socket()

    result: dict[str, Any] = {}

    def worker() -> None:
        try:
            result["tree"] = asyncio.run(run())
        except BaseException as exc:  # handed to the calling thread below
            result["error"] = exc

    thread = threading.Thread(target=worker, name="twinviewer-opcua-browse", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["tree"]
