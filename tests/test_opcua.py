"""OPC UA source against a real asyncua server in this process: username/password, a subscription with
server timestamps, bad status codes, the server going away and coming back, and browsing."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import datetime, timezone

import pytest
from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole

from tests.waiting import wait_for as wait_until
from twinviewer.core.project import OpcUaSource as OpcUaConfig
from twinviewer.core.store import TimeSeriesStore
from twinviewer.sources.base import SourceState
from twinviewer.sources.opcua import OpcUaSource, browse

USER, PASSWORD = "operator", "pump-Room-7!"
SENSORS = {"TT-102": 1.0, "IT-101": 1.0, "PT-101": 1.0}



def wait_for(condition, timeout: float = 8.0, what: str = "condition"):
    return wait_until(condition, timeout, what)


class _Users:
    def get_user(self, iserver, username=None, password=None, certificate=None):
        if username == USER and password == PASSWORD:
            return User(role=UserRole.User, name=username)
        return None


class PumpServer:
    """An asyncua server on a free port, run on its own thread and event loop."""

    def __init__(self, port: int | None = None):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = port or sock.getsockname()[1]
        self.endpoint = f"opc.tcp://127.0.0.1:{self.port}/twin/"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self._start())

    def call(self, coroutine, timeout: float = 20):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _start(self) -> None:
        self.server = Server(user_manager=_Users())
        await self.server.init()
        self.server.set_endpoint(self.endpoint)
        self.server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self.server.set_identity_tokens([ua.UserNameIdentityToken])
        idx = await self.server.register_namespace("urn:twinviewer:test:pump")
        pump = await self.server.nodes.objects.add_object(idx, "Pump")
        self.temperature = await pump.add_variable(ua.NodeId("Pump.Temperature", idx),
                                                   ua.QualifiedName("Temperature", idx), 20.0)
        self.current = await pump.add_variable(ua.NodeId(5001, idx), ua.QualifiedName("Current", idx), 50.0)
        await self.server.start()

    @staticmethod
    async def _cancel_leftover_tasks() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def write(self, node, value: float, source_time: float | None = None, status=ua.StatusCodes.Good) -> None:
        stamp = datetime.fromtimestamp(source_time, timezone.utc) if source_time else None
        data = ua.DataValue(ua.Variant(value, ua.VariantType.Double), StatusCode=ua.StatusCode(status),
                            SourceTimestamp=stamp, ServerTimestamp=stamp)
        self.call(node.write_value(data))

    def stop(self) -> None:
        self.call(self.server.stop())
        self.call(self._cancel_leftover_tasks())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def pump_server():
    server = PumpServer()
    yield server
    server.stop()


def make_source(endpoint: str, store: TimeSeriesStore, **config) -> OpcUaSource:
    settings = {"kind": "opcua", "endpoint": endpoint, "username": USER,
                "password_env": "TV_TEST_OPCUA_PASSWORD",
                "publishing_interval_ms": 20, "reconnect_min_s": 0.2, "reconnect_max_s": 0.5, "timeout_s": 2,
                "nodes": [{"node": "ns=2;s=Pump.Temperature", "sensor": "TT-102"},
                          {"node": "0:Objects/2:Pump/2:Current", "sensor": "IT-101"}], **config}
    return OpcUaSource(OpcUaConfig.model_validate(settings), store, SENSORS, flush_interval_s=0.01,
                       watchdog_interval_s=0.3)


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("TV_TEST_OPCUA_PASSWORD", PASSWORD)


def test_subscription_delivers_values_with_server_timestamps(pump_server):
    store = TimeSeriesStore()
    with make_source(pump_server.endpoint, store) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 8), source.status()
        stamp = time.time() - 30.0  # a source timestamp clearly different from the arrival time
        pump_server.write(pump_server.temperature, 61.5, stamp)
        pump_server.write(pump_server.current, 58.25, stamp + 1)
        wait_for(lambda: 61.5 in store.samples("TT-102")[1], what="TT-102 value")
        wait_for(lambda: 58.25 in store.samples("IT-101")[1], what="IT-101 value (browse path)")
        times, values = store.samples("TT-102")
        assert times[list(values).index(61.5)] == pytest.approx(stamp, abs=1e-3)
        assert store.values_at(stamp + 0.5, ["TT-102"]).values[0] == 61.5
        assert source.status().connected and source.stats().malformed_total == 0


def test_bad_status_is_counted_and_shown_as_no_data(pump_server):
    store = TimeSeriesStore()
    with make_source(pump_server.endpoint, store) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 8)
        stamp = time.time()
        pump_server.write(pump_server.temperature, 70.0, stamp)
        wait_for(lambda: 70.0 in store.samples("TT-102")[1], what="good value")
        pump_server.write(pump_server.temperature, 71.0, stamp + 1, ua.StatusCodes.BadSensorFailure)
        wait_for(lambda: source.stats().malformed.get("bad_status"), what="bad status counted")
        wait_for(lambda: store.values_at(stamp + 1.5, ["TT-102"]).state[0] == 2,
                 what="no data after a bad value")
    pump_server.write(pump_server.temperature, 20.0, time.time())


def test_wrong_password_is_an_error_without_the_password(pump_server, monkeypatch):
    monkeypatch.setenv("TV_TEST_OPCUA_PASSWORD", "not-the-Password-9")
    with make_source(pump_server.endpoint, TimeSeriesStore()) as source:
        status = wait_for(lambda: (s := source.status()).state is SourceState.ERROR and s, what="error")
        assert "not-the-Password-9" not in status.summary() and status.last_error


def test_unknown_node_is_counted_and_the_rest_still_works(pump_server):
    store = TimeSeriesStore()
    nodes = [{"node": "ns=2;s=Pump.Temperature", "sensor": "TT-102"},
             {"node": "0:Objects/2:Pump/2:NoSuchThing", "sensor": "PT-101"}]
    with make_source(pump_server.endpoint, store, nodes=nodes) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 8)
        assert source.stats().malformed.get("unknown_node") == 1
        pump_server.write(pump_server.temperature, 33.0, time.time())
        wait_for(lambda: 33.0 in store.samples("TT-102")[1], what="value of the existing node")


def test_browse_returns_the_node_tree(pump_server):
    tree = browse(pump_server.endpoint, username=USER, password=PASSWORD, depth=2)
    pump = tree.find("2:Pump")
    assert pump is not None and pump.node_class == "Object" and pump.browse_path == "0:Objects/2:Pump"
    temperature = pump.find("2:Temperature")
    assert temperature.node_id == "ns=2;s=Pump.Temperature"
    assert temperature.data_type == "Double" and isinstance(temperature.value, float)
    assert temperature.browse_path == "0:Objects/2:Pump/2:Temperature"
    assert pump.find("2:Current").node_id == "ns=2;i=5001"


@pytest.mark.slow
def test_server_goes_away_and_comes_back():
    server = PumpServer()
    store = TimeSeriesStore()
    try:
        with make_source(server.endpoint, store) as source:
            assert source.wait_for_state(SourceState.CONNECTED, 8)
            server.write(server.temperature, 40.0, time.time())
            wait_for(lambda: 40.0 in store.samples("TT-102")[1], what="value before the outage")
            port = server.port
            server.stop()
            wait_for(lambda: source.status().state in (SourceState.DISCONNECTED, SourceState.ERROR),
                     what="loss seen")
            server = PumpServer(port)
            assert source.wait_for_state(SourceState.CONNECTED, 10), source.status()
            server.write(server.temperature, 41.0, time.time())
            wait_for(lambda: 41.0 in store.samples("TT-102")[1], what="value after the server came back")
            assert source.stats().reconnects == 1
    finally:
        server.stop()
