"""MQTT source against a real mosquitto: round trip, topic mapping, payload forms, bad payloads, TLS with a
password, broker restarts, and a persistent QoS 1 session that loses nothing while the viewer is away."""

from __future__ import annotations

import json
import time

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.mqtt_broker import TLS_PASSWORD, TLS_USER, MosquittoBroker
from tests.waiting import wait_for as wait_until
from twinviewer.core.project import MqttSource as MqttConfig
from twinviewer.core.store import TimeSeriesStore
from twinviewer.io.keyring_store import SystemKeyring
from twinviewer.sources import create_source
from twinviewer.sources.base import SourceState
from twinviewer.sources.mqtt import MqttSource, compile_route

pytestmark = pytest.mark.mqtt
SENSORS = {"TT-101": 1.0, "IT-101": 1.0, "FT-101": 1.0, "PT-101": 1.0, "PT-102": 1.0}



def wait_for(condition, timeout: float = 5.0, what: str = "condition"):
    return wait_until(condition, timeout, what)


class Publisher:
    """A plain paho client publishing test messages (QoS 1 publishes wait for the broker's PUBACK)."""

    def __init__(self, broker: MosquittoBroker, client_id: str = "", **tls):
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if tls:
            self.client.tls_set(ca_certs=tls["ca"], certfile=tls["cert"], keyfile=tls["key"])
            self.client.username_pw_set(TLS_USER, TLS_PASSWORD)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        wait_for(self.client.is_connected, what="publisher connected")

    def send(self, topic: str, payload: bytes | str | dict | list, qos: int = 0) -> None:
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        info = self.client.publish(topic, payload, qos=qos)
        if qos:
            info.wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def make_source(broker: MosquittoBroker, topics: list[dict], store: TimeSeriesStore, **config) -> MqttSource:
    settings = {"kind": "mqtt", "host": broker.host, "port": broker.port, "reconnect_min_s": 0.1,
                "reconnect_max_s": 0.5, "topics": topics, **config}
    return MqttSource(MqttConfig.model_validate(settings), store, SENSORS, flush_interval_s=0.01,
                      secret_store=SystemKeyring())


def value_now(store: TimeSeriesStore, sensor: str) -> float:
    return store.values_at(time.time() + 3600, [sensor]).values[0]


@pytest.fixture
def publisher(mqtt_broker):
    pub = Publisher(mqtt_broker)
    yield pub
    pub.close()


def test_round_trip_publish_to_store(mqtt_broker, publisher):
    store = TimeSeriesStore()
    with make_source(mqtt_broker, [{"topic": "twin/{sensor}", "payload": "json"}], store) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5), source.status()
        t = time.time()
        wait_for(lambda: publisher.send("twin/TT-101", {"t": t, "v": 91.5}) or store.has("TT-101")
                 and value_now(store, "TT-101") == 91.5, what="TT-101 in the store")
        snapshot = store.values_at(t + 0.1, ["TT-101"])
        assert snapshot.values[0] == 91.5 and snapshot.times[0] == pytest.approx(t) and snapshot.state[0] == 0
        status = source.status()
        assert status.connected and status.samples >= 1 and "connected" in status.summary()
    assert source.status().state is SourceState.STOPPED


def test_wildcards_and_templates_map_topics_to_sensors(mqtt_broker, publisher):
    store = TimeSeriesStore()
    topics = [{"topic": "plant/+/pump1/{sensor}"},
              {"topic": "site/+/flow", "sensor": "FT-101"},
              {"topic": "dev/{sensor}-raw"},
              {"topic": "hall/#", "sensor": "PT-102"}]
    with make_source(mqtt_broker, topics, store) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5)
        time.sleep(0.1)  # let the SUBACK arrive before publishing
        publisher.send("plant/line1/pump1/TT-101", "70")
        publisher.send("plant/line2/pump1/IT-101", "61.5")
        publisher.send("plant/line1/pump2/TT-101", "999")  # not subscribed: never arrives
        publisher.send("site/north/flow", "101")
        publisher.send("dev/PT-101-raw", "1.25")
        publisher.send("hall", "5.5")  # '#' also matches the parent level
        wait_for(lambda: store.has("PT-102") and value_now(store, "PT-102") == 5.5, what="hall → PT-102")
        wait_for(lambda: all(store.has(s) and store.samples(s)[0].size
                             for s in ("TT-101", "IT-101", "FT-101", "PT-101")),
                 what="all mapped sensors")
        assert value_now(store, "TT-101") == 70 and value_now(store, "IT-101") == 61.5
        assert value_now(store, "FT-101") == 101 and value_now(store, "PT-101") == 1.25
        assert source.stats().malformed_total == 0


def test_compiled_routes():
    route = compile_route(MqttConfig.model_validate(
        {"kind": "mqtt", "topics": [{"topic": "plant/+/pump1/{sensor}"}]}).topics[0])
    assert route.subscription == "plant/+/pump1/+"
    assert route.match("plant/a/pump1/TT-101") == "TT-101"
    assert route.match("plant/a/pump1/TT-101/x") is False


def test_every_payload_form(mqtt_broker, publisher):
    store = TimeSeriesStore()
    topics = [{"topic": "num/{sensor}", "payload": "number"},
              {"topic": "js/{sensor}", "payload": "json"},
              {"topic": "dict", "payload": "json_dict", "json_path": "data.values"}]
    base = time.time() - 10
    with make_source(mqtt_broker, topics, store) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5)
        time.sleep(0.1)
        publisher.send("num/TT-101", "88.25")
        publisher.send("js/IT-101", {"t": base * 1000, "v": 59.0})                     # epoch ms
        publisher.send("js/FT-101", [[base + i, 100.0 + i] for i in range(50)])        # batch of pairs
        # batch of objects
        publisher.send("js/PT-101", [{"t": base + i, "v": 1.0 + i / 10} for i in range(5)])
        publisher.send("dict", {"t": base + 1, "data": {"values": {"PT-102": 5.5, "TT-101": 89.0}}})
        wait_for(lambda: store.has("FT-101") and store.samples("FT-101")[0].size == 50, what="FT-101 batch")
        wait_for(lambda: store.has("PT-102") and store.samples("PT-102")[0].size == 1, what="json_dict")
        wait_for(lambda: store.has("PT-101") and store.samples("PT-101")[0].size == 5, what="PT-101 batch")
        assert store.samples("IT-101")[0][0] == pytest.approx(base, abs=1e-3)
        assert store.values_at(base + 49.5, ["FT-101"]).values[0] == 149.0
        times, values = store.samples("TT-101")
        assert sorted(values.tolist()) == [88.25, 89.0] and times.min() == pytest.approx(base + 1)
        assert source.stats().samples == 1 + 1 + 50 + 5 + 2


def test_malformed_payloads_are_counted_per_kind_and_the_source_keeps_working(mqtt_broker, publisher):
    store = TimeSeriesStore()
    topics = [{"topic": "num/{sensor}-v"}, {"topic": "js/{sensor}", "payload": "json"}]
    with make_source(mqtt_broker, topics, store, max_payload_bytes=65536) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5)
        time.sleep(0.1)
        publisher.send("num/TT-101-v", "warm")
        publisher.send("js/TT-101", '{"t": 1, "v": ')
        publisher.send("js/TT-101", '{"v": NaN}')
        publisher.send("num/TT-101-v", "inf")
        publisher.send("num/TT-101-v", b"1" * (1024 * 1024))
        # subscribed through num/+ but not the template: wrong topic
        publisher.send("num/TT-101", "5")
        publisher.send("num/XX-999-v", "5")        # a sensor the project does not have
        publisher.send("num/TT-101-v", "77")
        wait_for(lambda: store.has("TT-101") and value_now(store, "TT-101") == 77,
                 what="good value after bad ones")
        stats = wait_for(lambda: (s := source.stats()).malformed_total == 7 and s, what="7 problems")
        assert stats.malformed == {"not_a_number": 1, "bad_json": 1, "not_finite": 2, "too_large": 1,
                                   "unknown_topic": 1, "unknown_sensor": 1}
        assert {e.kind for e in stats.examples} == set(stats.malformed)
        assert any("1,048,576 bytes" in e.message for e in stats.examples)
        assert source.status().state is SourceState.CONNECTED and source.status().malformed == 7


def test_sequence_gaps_are_counted_per_publisher(mqtt_broker, publisher):
    store = TimeSeriesStore()
    with make_source(mqtt_broker, [{"topic": "js/{sensor}", "payload": "json"}], store) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5)
        time.sleep(0.1)
        for seq in (1, 2, 3, 7, 8):  # 4, 5, 6 lost
            publisher.send("js/TT-101", {"v": seq, "seq": seq}, qos=1)
        for seq in (1, 2):
            publisher.send("js/IT-101", {"v": seq, "seq": seq}, qos=1)
        wait_for(lambda: source.stats().samples == 7, what="7 samples")
        assert source.stats().seq_gaps == 3
        assert source.status().seq_gaps == 3 and "3 lost" in source.status().summary()


def test_tls_with_client_certificate_and_password(mqtt_tls_broker, monkeypatch, tmp_path):
    tls = mqtt_tls_broker.tls
    monkeypatch.setenv("TV_TEST_MQTT_PASSWORD", TLS_PASSWORD)
    store = TimeSeriesStore()
    config = {"tls": True, "ca_file": str(tls.ca_file), "cert_file": str(tls.client_cert),
              "key_file": str(tls.client_key),
              "username": TLS_USER, "password_env": "TV_TEST_MQTT_PASSWORD"}
    with make_source(mqtt_tls_broker, [{"topic": "twin/{sensor}"}], store, **config) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5), source.status()
        time.sleep(0.1)
        pub = Publisher(mqtt_tls_broker, ca=str(tls.ca_file), cert=str(tls.client_cert),
                        key=str(tls.client_key))
        pub.send("twin/PT-101", "1.5", qos=1)
        wait_for(lambda: store.has("PT-101") and value_now(store, "PT-101") == 1.5, what="value over TLS")
        pub.close()
    assert TLS_PASSWORD not in repr(source.status()) + repr(source._password)


def test_wrong_password_is_an_error_state_without_the_password(mqtt_tls_broker, monkeypatch):
    tls = mqtt_tls_broker.tls
    monkeypatch.setenv("TV_TEST_MQTT_PASSWORD", "wrong-password-123")
    config = {"tls": True, "ca_file": str(tls.ca_file), "cert_file": str(tls.client_cert),
              "key_file": str(tls.client_key),
              "username": TLS_USER, "password_env": "TV_TEST_MQTT_PASSWORD"}
    with make_source(mqtt_tls_broker, [{"topic": "twin/{sensor}"}], TimeSeriesStore(), **config) as source:
        status = wait_for(lambda: (s := source.status()).state is SourceState.ERROR and s, what="error state")
        assert "refused" in status.last_error and "wrong-password-123" not in status.summary()


def test_missing_password_variable_is_a_clear_error(mqtt_broker, monkeypatch):
    monkeypatch.delenv("TV_NOT_SET", raising=False)
    source = make_source(mqtt_broker, [{"topic": "a/{sensor}"}], TimeSeriesStore(), username="u",
                         password_env="TV_NOT_SET")
    with pytest.raises(Exception, match="TV_NOT_SET"):
        source.start()


@pytest.mark.slow
def test_broker_restart_mid_stream_resumes(mqtt_broker):
    store = TimeSeriesStore()
    with make_source(mqtt_broker, [{"topic": "twin/{sensor}"}], store) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5)
        pub = Publisher(mqtt_broker)
        pub.send("twin/TT-101", "1", qos=1)
        wait_for(lambda: store.has("TT-101") and value_now(store, "TT-101") == 1, what="first value")
        pub.close()
        mqtt_broker.stop()
        wait_for(lambda: source.status().state in (SourceState.DISCONNECTED, SourceState.ERROR),
                 what="disconnect seen")
        assert value_now(store, "TT-101") == 1  # the last value stays while the broker is away
        mqtt_broker.start()
        assert source.wait_for_state(SourceState.CONNECTED, 5), source.status()
        time.sleep(0.1)
        pub = Publisher(mqtt_broker)
        pub.send("twin/TT-101", "2", qos=1)
        wait_for(lambda: value_now(store, "TT-101") == 2, what="value after the restart")
        pub.close()
        assert source.stats().reconnects == 1


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_persistent_qos1_session_loses_nothing_while_away(mqtt_broker, protocol):
    """Subscriber goes away, 100 QoS 1 messages are published, the broker restarts: all arrive on return."""
    store = TimeSeriesStore()
    settings = {"qos": 1, "clean_session": False, "client_id": f"tv-persistent-{protocol}",
                "protocol": protocol}
    topics = [{"topic": "twin/{sensor}", "payload": "json"}]
    base = time.time() - 100
    pub = Publisher(mqtt_broker, client_id="tv-test-publisher")
    source = make_source(mqtt_broker, topics, store, **settings)
    source.start()
    assert source.wait_for_state(SourceState.CONNECTED, 5)
    time.sleep(0.1)
    for seq in range(1, 51):
        pub.send("twin/TT-101", {"t": base + seq, "v": seq, "seq": seq}, qos=1)
    wait_for(lambda: store.has("TT-101") and store.samples("TT-101")[0].size == 50, what="first 50")
    source.stop()
    for seq in range(51, 151):  # the viewer is away: the broker queues these for its session
        pub.send("twin/TT-101", {"t": base + seq, "v": seq, "seq": seq}, qos=1)
    pub.close()
    mqtt_broker.restart()  # the queue survives through mosquitto's persistence
    source = make_source(mqtt_broker, topics, store, **settings)
    source.start()
    try:
        wait_for(lambda: store.samples("TT-101")[0].size == 150, timeout=8, what="all 150 after the outage")
        assert store.samples("TT-101")[1].tolist() == [float(i) for i in range(1, 151)]
        assert source.stats().seq_gaps == 0
    finally:
        source.stop()


def test_create_source_factory_uses_project_sensors(mqtt_broker):
    from twinviewer.core.project import parse_project

    project = parse_project(f"""
[asset]
name = "t"
[[models]]
file = "m.glb"
[[sensors]]
id = "TT-101"
quantity = "temperature"
part = "motor"
position = [0, 0, 0]
expected_period_s = 2.0
[[sources]]
kind = "mqtt"
host = "{mqtt_broker.host}"
port = {mqtt_broker.port}
[[sources.topics]]
topic = "twin/{{sensor}}"
""")
    store = TimeSeriesStore()
    source = create_source(project.sources[0], store, project)
    source.start()
    try:
        assert source.wait_for_state(SourceState.CONNECTED, 5)
        assert store.expected_period("TT-101") == 2.0
    finally:
        source.stop()


def test_secrets_never_print_and_come_from_env_keyring_or_prompt():
    from twinviewer.core.secrets import Secret, SecretError, redact, resolve_password

    secret = resolve_password(kind="mqtt", host="h", username="u", password_env="PW",
                              environ={"PW": "hunter22"})
    assert secret.reveal() == "hunter22" and "hunter22" not in f"{secret} {secret!r}"
    prompted = resolve_password(kind="mqtt", host="h", username="u", password_env=None, environ={},
                                prompt=lambda text: "typed-pw" if "u at h" in text else None)
    assert prompted == Secret("typed-pw", "prompt")
    assert resolve_password(kind="mqtt", host="h", username=None, password_env=None, environ={}) is None
    with pytest.raises(SecretError, match="PW"):
        resolve_password(kind="mqtt", host="h", username="u", password_env="PW", environ={})
    assert redact("login hunter22 failed", [secret]) == "login *** failed"


def test_password_from_the_keyring_opens_a_protected_broker(mqtt_tls_broker, monkeypatch, memory_keyring):
    from twinviewer.core.secrets import keyring_user

    tls = mqtt_tls_broker.tls
    monkeypatch.delenv("TV_TEST_MQTT_PASSWORD", raising=False)
    memory_keyring.set_password("twinviewer", keyring_user("mqtt", mqtt_tls_broker.host, TLS_USER),
                                TLS_PASSWORD)
    config = {"tls": True, "ca_file": str(tls.ca_file), "cert_file": str(tls.client_cert),
              "key_file": str(tls.client_key),
              "username": TLS_USER, "password_env": "TV_TEST_MQTT_PASSWORD"}
    with make_source(mqtt_tls_broker, [{"topic": "twin/{sensor}"}], TimeSeriesStore(), **config) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5), source.status()
        assert source._password.origin == "keyring"
