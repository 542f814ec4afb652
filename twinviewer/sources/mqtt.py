"""Live samples from an MQTT broker (paho-mqtt 2.x) straight into the store, on paho's network thread.

Topic mapping: each ``[[sources.topics]]`` entry becomes one subscription. ``+``/``#`` wildcards work as in
MQTT, and one ``{sensor}`` placeholder (a whole level or part of one: ``plant/+/pump1/{sensor}``,
``dev/{sensor}-raw``) captures the sensor id from the topic; otherwise the entry's ``sensor`` names it (or
a ``json_dict`` payload names the sensors itself). The first entry that matches a topic wins.

Data path: the network thread parses the payload (:mod:`twinviewer.sources.payloads`), counts problems per
kind, checks sequence numbers for gaps, and puts the samples into a :class:`SampleSink` that hands them to
the store and the journal every 20 ms (or every 500 samples). Nothing here touches Qt.

Connection: paho's own loop thread reconnects with exponential backoff (``reconnect_min_s`` …
``reconnect_max_s``); every (re)connect re-subscribes. A persistent session (``clean_session = false``
with a ``client_id``; on MQTT 5 a session expiry) lets the broker keep QoS 1 messages while we are away.
While disconnected the store keeps the last values; they turn stale by the store's own staleness rule.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from twinviewer.core import project as project_model
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.secrets import PasswordPrompt, Secret, SecretStore, redact, resolve_password
from twinviewer.sources.base import LiveSource, SampleSink, SourceState, sensor_periods
from twinviewer.sources.payloads import PayloadError, parse_payload

_RESOLVE_CACHE_LIMIT = 50_000
# Without project sensors every sensor a topic names is taken, up to this many (the rest are unknown_sensor)
MAX_DISCOVERED_SENSORS = 10_000


class MqttConfigError(TwinViewerError):
    """An MQTT source that cannot be set up (TLS files, credentials)."""


@dataclass(frozen=True)
class TopicRoute:
    """One compiled ``[[sources.topics]]`` entry."""

    entry: project_model.MqttTopic
    subscription: str
    pattern: re.Pattern[str]
    captures_sensor: bool

    def match(self, topic: str) -> str | None | bool:
        """The captured sensor id, True for a match without capture, or False."""
        found = self.pattern.fullmatch(topic)
        if found is None:
            return False
        return found.group("sensor") if self.captures_sensor else True


def compile_route(entry: project_model.MqttTopic) -> TopicRoute:
    """``plant/+/pump1/{sensor}`` → subscription ``plant/+/pump1/+`` and a regular expression capturing the
    id."""
    levels = entry.topic.split("/")
    subscription: list[str] = []
    pieces: list[str] = []
    multi_level = False
    for level in levels:
        if "{sensor}" in level:
            before, after = level.split("{sensor}")
            subscription.append("+")
            pieces.append(re.escape(before) + "(?P<sensor>[^/]+?)" + re.escape(after))
        elif level == "+":
            subscription.append("+")
            pieces.append("[^/]*")
        elif level == "#":
            subscription.append("#")
            multi_level = True
        else:
            subscription.append(level)
            pieces.append(re.escape(level))
    regex = "/".join(pieces)
    if multi_level:
        regex = ".*" if not pieces else regex + "(?:/.*)?"
    return TopicRoute(entry, "/".join(subscription), re.compile(regex), "{sensor}" in entry.topic)


class _PahoClient(paho.Client):
    """paho's client, remembering why the last connection attempt failed (paho itself only retries)."""

    last_connect_error = ""
    certificate_rejected = False

    def reconnect(self) -> paho.MQTTErrorCode:
        try:
            return super().reconnect()
        except OSError as exc:
            self.last_connect_error = str(exc) or type(exc).__name__
            if isinstance(exc, ssl.SSLCertVerificationError):
                self.certificate_rejected = True
                self.last_connect_error = f"TLS verification of the broker failed: {exc}"
            raise


class MqttSource(LiveSource):
    """An MQTT subscription feeding the store. ``start()`` returns at once; paho's thread does the rest."""

    kind = "mqtt"
    config_error = MqttConfigError

    def __init__(self, config: project_model.MqttSource, store: Any, project_sensors: Any = None,
                 journal: Any = None, *, password_prompt: PasswordPrompt | None = None,
                 secret_store: SecretStore | None = None,
                 base_dir: Path | None = None, flush_interval_s: float = 0.02, flush_max_samples: int = 500):
        super().__init__(config.name or f"mqtt {config.host}:{config.port}", f"{config.host}:{config.port}")
        self.config = config
        self.store = store
        self.journal = journal
        self.base_dir = base_dir or Path.cwd()
        self.password_prompt = password_prompt
        self.secret_store = secret_store
        self.routes = [compile_route(entry) for entry in config.topics]
        self._periods = sensor_periods(project_sensors)
        self._accept_any_sensor = not self._periods
        self._resolved: dict[str, tuple[TopicRoute, str | None] | None] = {}
        self.sink = SampleSink(store, journal, flush_interval_s=flush_interval_s,
                               flush_max_samples=flush_max_samples)
        self._client: _PahoClient | None = None
        self._password: Secret | None = None
        self._stopping = threading.Event()
        self._seen_sensors: set[str] = set()

    # -- lifecycle -----------------------------------------------------------------------------------------

    @property
    def subscriptions(self) -> list[tuple[str, int]]:
        unique: dict[str, int] = {}
        for route in self.routes:
            unique.setdefault(route.subscription, self.config.qos)
        return list(unique.items())

    def _make_client(self) -> _PahoClient:
        config = self.config
        v5 = config.protocol == "5"
        kwargs: dict[str, Any] = {
            "callback_api_version": CallbackAPIVersion.VERSION2,
            "client_id": config.client_id or f"twinviewer-{uuid.uuid4().hex[:12]}",
            "protocol": paho.MQTTv5 if v5 else paho.MQTTv311,
            "reconnect_on_failure": True,
        }
        if not v5:
            kwargs["clean_session"] = config.clean_session
        client = _PahoClient(**kwargs)
        if config.tls:
            try:
                client.tls_set(ca_certs=self._path(config.ca_file, "TLS file"),
                               certfile=self._path(config.cert_file, "TLS file"),
                               keyfile=self._path(config.key_file, "TLS file"), cert_reqs=ssl.CERT_REQUIRED,
                               tls_version=ssl.PROTOCOL_TLS_CLIENT)
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise MqttConfigError(f"mqtt source {self.name!r}: cannot use the TLS files: {exc}") from None
        if config.username:
            client.username_pw_set(config.username, self._password.reveal() if self._password else None)
        client.reconnect_delay_set(config.reconnect_min_s, config.reconnect_max_s)  # type: ignore[arg-type]
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def start(self) -> None:
        if self._client is not None:
            return
        config = self.config
        self._password = resolve_password(kind="mqtt", host=config.host, username=config.username,
                                          password_env=config.password_env, prompt=self.password_prompt,
                                          store=self.secret_store)
        for sensor, period in self._periods.items():
            self.store.add_sensor(sensor, expected_period_s=period)
            if self.journal is not None:
                self.journal.add_sensor(sensor, period)
        self._stopping.clear()
        client = self._make_client()
        connect_kwargs: dict[str, Any] = {}
        if config.protocol == "5":
            connect_kwargs["clean_start"] = config.clean_session
            if not config.clean_session:
                properties = Properties(PacketTypes.CONNECT)
                properties.SessionExpiryInterval = config.session_expiry_s
                connect_kwargs["properties"] = properties
        self._set_state(SourceState.CONNECTING, "")
        client.connect_async(config.host, config.port, keepalive=config.keepalive_s, **connect_kwargs)
        self.sink.start()
        self._client = client
        client.loop_start()

    def stop(self) -> None:
        client = self._client
        if client is None:
            return
        self._stopping.set()
        try:
            client.disconnect()
        finally:
            client.loop_stop()
            self._client = None
            self.sink.stop()
            self._set_state(SourceState.STOPPED)

    # -- paho callbacks (network thread) -------------------------------------------------------------------

    def _error_text(self, text: str) -> str:
        return redact(text, [self._password])

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        if reason_code.is_failure:
            text = self._error_text(f"broker refused the connection: {reason_code}")
            if any(word in str(reason_code).lower() for word in ("authori", "user name or password", "authentic")):
                self.fatal_error = text
            self._set_state(SourceState.ERROR, text)
            return
        self._stats.connected()
        self._set_state(SourceState.CONNECTED, "")
        client.subscribe(self.subscriptions)

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reason_codes: Any,
                      properties: Any) -> None:
        refused = [sub for (sub, _),
                   code in zip(self.subscriptions, reason_codes, strict=False) if code.is_failure]
        if refused:
            self._set_state(SourceState.ERROR, f"broker refused the subscription to {', '.join(refused)}")

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        if self._stopping.is_set() or self._state is SourceState.ERROR:
            return  # keep the refusal's reason on screen rather than a generic "connection lost"
        self._set_state(SourceState.DISCONNECTED,
                        self._error_text(f"connection lost ({reason_code}); reconnecting"))

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        cause = getattr(client, "last_connect_error", "") or "no answer"
        if getattr(client, "certificate_rejected", False):
            self.fatal_error = self._error_text(f"cannot connect to {self.endpoint}: {cause}")
        self._set_state(SourceState.ERROR,
                        self._error_text(f"cannot connect to {self.endpoint}: {cause}; retrying"))

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        arrival = time.time()
        try:
            self.handle_message(message.topic, bytes(message.payload), arrival)
        except Exception as exc:  # never let a bad message kill paho's network thread
            self._stats.problem("internal", message.topic, f"{type(exc).__name__}: {exc}")

    # -- message handling ----------------------------------------------------------------------------------

    def resolve(self, topic: str) -> tuple[TopicRoute, str | None] | None:
        """The route for a topic and the sensor it names (None for json_dict routes), cached per topic."""
        try:
            return self._resolved[topic]
        except KeyError:
            pass
        result: tuple[TopicRoute, str | None] | None = None
        for route in self.routes:
            matched = route.match(topic)
            if matched is False:
                continue
            result = (route, matched if isinstance(matched, str) else route.entry.sensor)
            break
        if len(self._resolved) >= _RESOLVE_CACHE_LIMIT:
            self._resolved.clear()
        self._resolved[topic] = result
        return result

    def _known(self, sensor: str) -> bool:
        if sensor in self._periods:
            return True
        if self._accept_any_sensor:
            if sensor not in self._seen_sensors:
                if len(self._seen_sensors) >= MAX_DISCOVERED_SENSORS or len(sensor) > 200:
                    return False  # a publisher inventing sensor names must not grow the store without end
                self._seen_sensors.add(sensor)
                self.store.add_sensor(sensor)
            return True
        return False

    def _fresh_items(self, parsed: Any, topic: str, arrival: float) -> bool:
        """Check the payload's sequence numbers; drop redelivered items (QoS 1 after a reconnect) in place.

        Returns False when nothing new is left."""
        publisher = parsed.publisher or topic
        times = parsed.times
        if len(parsed.seqs) == len(times):  # one number per sample: keep the new ones
            keep = [self._stats.sequence(publisher, seq, None if t == arrival else t)
                    for seq, t in zip(parsed.seqs, times, strict=True)]
            if all(keep):
                return True
            parsed.times = [t for t, k in zip(times, keep, strict=True) if k]
            parsed.values = [v for v, k in zip(parsed.values, keep, strict=True) if k]
            if parsed.sensors is not None:
                parsed.sensors = [n for n, k in zip(parsed.sensors, keep, strict=True) if k]
            return bool(parsed.times)
        first = times[0] if times else arrival
        verdicts = [self._stats.sequence(publisher, seq, None if first == arrival else first) for seq in parsed.seqs]
        return any(verdicts)

    def handle_message(self, topic: str, payload: bytes, arrival: float) -> int:
        """Parse one message and queue its samples; returns the number of samples accepted."""
        stats = self._stats
        resolved = self.resolve(topic)
        if resolved is None:
            stats.message(len(payload), 0, arrival)
            stats.problem("unknown_topic", topic, f"topic {topic!r} matches no configured topic")
            return 0
        route, sensor = resolved
        try:
            parsed = parse_payload(payload, route.entry.payload, arrival, json_path=route.entry.json_path,
                                   max_bytes=self.config.max_payload_bytes)
        except PayloadError as error:
            stats.message(len(payload), 0, arrival)
            stats.problem(error.kind, topic, str(error))
            return 0
        for problem in parsed.problems:
            stats.problem(problem.kind, topic, str(problem))
        if parsed.seqs and not self._fresh_items(parsed, topic, arrival):
            stats.message(len(payload), 0, arrival)
            return 0
        accepted = 0
        if parsed.sensors is None:
            if sensor is None or not self._known(sensor):
                stats.message(len(payload), 0, arrival)
                stats.problem("unknown_sensor", topic,
                              f"sensor {sensor!r} (from topic {topic!r}) is not in the project")
                return 0
            if len(parsed.times) == 1:
                self.sink.add(sensor, parsed.times[0], parsed.values[0])
            else:
                self.sink.add_many(sensor, parsed.times, parsed.values)
            accepted = len(parsed.times)
        else:
            for name, t, value in zip(parsed.sensors, parsed.times, parsed.values, strict=True):
                if self._known(name):
                    self.sink.add(name, t, value)
                    accepted += 1
                else:
                    stats.problem("unknown_sensor", topic,
                                  f"sensor {name!r} in the payload is not in the project")
        stats.message(len(payload), accepted, arrival)
        return accepted
