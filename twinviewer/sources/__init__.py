"""Data-source adapters (MQTT, OPC UA, recordings, simulator) that append samples to the store."""

from __future__ import annotations

from typing import Any

from twinviewer.core.errors import TwinViewerError

LIVE_KINDS = ("mqtt", "opcua")


def create_source(config: Any, store: Any, project: Any, journal: Any = None, password_prompt: Any = None,
                  secret_store: Any = None, **options: Any) -> Any:
    """A live source for one ``[[sources]]`` entry of kind ``mqtt`` or ``opcua`` (not started yet).

    ``project`` gives the sensors (ids and expected periods) and the folder relative paths are resolved
    against; ``journal`` (a :class:`twinviewer.io.journal.Journal`) records every sample;
    ``password_prompt(text) -> str | None`` is asked when neither the environment nor the keyring has the
    password; ``secret_store`` is that keyring (``io.keyring_store.SystemKeyring``; None: none). Extra
    ``options`` go to the source (e.g. ``flush_interval_s``).
    """
    sensors = list(project.sensors) if project is not None else []
    base_dir = project.base_dir if project is not None else None
    if config.kind == "mqtt":
        from twinviewer.sources.mqtt import MqttSource

        return MqttSource(config, store, sensors, journal, password_prompt=password_prompt,
                          secret_store=secret_store, base_dir=base_dir, **options)
    if config.kind == "opcua":
        from twinviewer.sources.opcua import OpcUaSource

        return OpcUaSource(config, store, sensors, journal, password_prompt=password_prompt,
                           secret_store=secret_store, base_dir=base_dir, **options)
    raise TwinViewerError(f"source kind {config.kind!r} is not a live source (live kinds: "
                          f"{', '.join(LIVE_KINDS)})")
