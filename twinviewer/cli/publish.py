"""``twinviewer publish RECORDING --broker HOST:PORT``: replay a recording onto an MQTT broker as if live.

Each sample goes to ``{prefix}/{sensor}`` as JSON ``{"t": .., "v": .., "seq": ..}``; ``t`` is shifted so the
recording starts now (and compressed by ``--speed``), ``seq`` counts per topic so a subscriber can see lost
messages. Publishing is paced by the recording's times and, for both QoS levels, by a window of messages
not yet handed to the broker (QoS 1: not yet acknowledged), so a fast replay never piles up in memory.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from twinviewer.core.errors import TwinViewerError

HELP = "Replay a recording (Parquet, CSV or journal) onto an MQTT broker as if it were live."
DEFAULT_PASSWORD_ENV = "TWINVIEWER_MQTT_PASSWORD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", type=Path,
                        help="native Parquet recording, a CSV the importer reads, or a journal")
    parser.add_argument("--broker", default="localhost:1883",
                        help="HOST:PORT of the broker (default localhost:1883)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="replay speed factor (default 1 = real time)")
    parser.add_argument("--topic-prefix", default="twinviewer/demo",
                        help="topics are PREFIX/SENSOR (default twinviewer/demo)")
    parser.add_argument("--qos", type=int, choices=(0, 1), default=0)
    parser.add_argument("--tls", action="store_true", help="connect with TLS")
    parser.add_argument("--ca-file", help="CA certificate that signed the broker's certificate")
    parser.add_argument("--cert-file", help="client certificate (with --key-file)")
    parser.add_argument("--key-file", help="client certificate's private key")
    parser.add_argument("--username")
    parser.add_argument("--password-env", default=DEFAULT_PASSWORD_ENV,
                        help=f"environment variable holding the password (default {DEFAULT_PASSWORD_ENV}); "
                             "asked for on the terminal if unset")
    parser.add_argument("--client-id", default="", help="MQTT client id (default: random)")
    parser.add_argument("--loop", action="store_true", help="start over at the end, forever (Ctrl-C stops)")
    parser.add_argument("--window", type=int, default=200, help="messages in flight at most (default 200)")
    parser.add_argument("--limit", type=int, help="publish only the first N samples of the recording")
    parser.add_argument("--quiet", action="store_true", help="print only the final count")


def load_samples(path: Path):
    """(times, sensor_index, sensor_names, values) sorted by time, from any recording TwinViewer reads."""
    import numpy as np

    if not path.is_file():
        raise TwinViewerError(f"{path}: no such recording")
    suffix = path.suffix.lower()
    if suffix in (".journal", ".sqlite", ".db"):
        from twinviewer.io.journal import read_journal

        data = read_journal(path)
        return data.times, data.sensor_index, data.sensor_names, data.values
    if suffix == ".parquet":
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path, columns=["time", "sensor", "value"])
        except Exception as exc:
            raise TwinViewerError(
                f"{path}: not a TwinViewer Parquet recording (time, sensor, value): {exc}"
            ) from None
        sensor = table.column("sensor").combine_chunks()
        if not hasattr(sensor, "dictionary"):
            sensor = pc.dictionary_encode(sensor)
        micros = table.column("time").cast("int64").to_numpy()
        times = micros.astype(np.float64) / 1e6
        index = sensor.indices.to_numpy(zero_copy_only=False).astype(np.int32)
        names = [str(s) for s in sensor.dictionary.to_pylist()]
        values = table.column("value").to_numpy().astype(np.float64)
    else:
        from twinviewer.io.recording import read_recording

        result = read_recording(path)
        store = result[0] if isinstance(result, tuple) else result
        names = list(store.sensor_ids)
        parts = [store.samples(name) for name in names]
        times = np.concatenate([p[0] for p in parts]) if parts else np.empty(0)
        values = np.concatenate([p[1] for p in parts]) if parts else np.empty(0)
        index = np.concatenate([np.full(p[0].size, i, dtype=np.int32) for i,
                                p in enumerate(parts)]) if parts else np.empty(0, np.int32)
    order = np.argsort(times, kind="stable")
    return times[order], index[order], names, values[order]


def _parse_broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host:
        return text, 1883
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise TwinViewerError(f"--broker {text!r}: expected HOST:PORT")
    return host, int(port)


def run(args: argparse.Namespace) -> int:
    import math

    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from twinviewer.core.secrets import SecretError, resolve_password
    from twinviewer.io.keyring_store import SystemKeyring

    if not args.speed > 0:
        raise TwinViewerError(f"--speed must be positive, got {args.speed}")
    host, port = _parse_broker(args.broker)
    times, index, names, values = load_samples(args.recording)
    if args.limit is not None:
        if args.limit < 1:
            raise TwinViewerError(f"--limit must be at least 1, got {args.limit}")
        times, index, values = times[:args.limit], index[:args.limit], values[:args.limit]
    if times.size == 0:
        raise TwinViewerError(f"{args.recording}: the recording holds no samples")
    topics = [f"{args.topic_prefix.rstrip('/')}/{name}" for name in names]

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=args.client_id)
    if args.tls or args.ca_file:
        try:
            client.tls_set(ca_certs=args.ca_file, certfile=args.cert_file, keyfile=args.key_file)
        except (OSError, ValueError) as exc:
            raise TwinViewerError(f"cannot use the TLS files: {exc}") from None
    if args.username:
        def prompt(text: str) -> str | None:
            if not sys.stdin.isatty():
                return None
            import getpass

            return getpass.getpass(f"{text}: ")

        try:
            password = resolve_password(kind="mqtt", host=host, username=args.username,
                                        password_env=args.password_env, prompt=prompt,
                                        store=SystemKeyring())
        except SecretError:
            password = None  # a user without a password is allowed by MQTT; the broker decides
        client.username_pw_set(args.username, password.reveal() if password else None)

    # Messages handed to paho but not yet written (QoS 0) or acknowledged (QoS 1). Counted rather than
    # tracked by mid, and never incremented while calling publish(): paho runs on_publish under its own
    # locks, so holding our lock across publish() would deadlock.
    in_flight = [0]
    window = threading.Condition()
    connected = threading.Event()
    refusal: list[str] = []

    def on_connect(client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            refusal.append(str(reason_code))
        connected.set()

    def on_publish(client, userdata, mid, reason_code, properties):
        with window:
            in_flight[0] -= 1
            window.notify_all()

    client.on_connect = on_connect
    client.on_publish = on_publish
    client.max_inflight_messages_set(max(args.window, 20))
    client.max_queued_messages_set(0)
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        raise TwinViewerError(f"cannot connect to the MQTT broker at {host}:{port}: {exc}") from None
    client.loop_start()
    try:
        if not connected.wait(10):
            raise TwinViewerError(f"the MQTT broker at {host}:{port} did not answer within 10 s")
        if refusal:
            raise TwinViewerError(f"the MQTT broker at {host}:{port} refused the connection: {refusal[0]}")
        seq = [0] * len(names)
        published = skipped = dropped = 0
        started = time.time()
        last_report = started
        span = (times[-1] - times[0]) / args.speed
        period = float(min(1.0, span / max(times.size, 1))) if times.size > 1 else 1.0
        epoch = started
        t_list, i_list, v_list = times.tolist(), index.tolist(), values.tolist()
        t0 = t_list[0]
        while True:
            for t, i, v in zip(t_list, i_list, v_list, strict=True):
                if not math.isfinite(v):
                    skipped += 1
                    continue
                target = epoch + (t - t0) / args.speed
                delay = target - time.time()
                if delay > 0.001:
                    time.sleep(delay)
                seq[i] += 1
                payload = f'{{"t":{target:.6f},"v":{v!r},"seq":{seq[i]}}}'
                with window:
                    while in_flight[0] >= args.window:
                        window.wait(1.0)
                    in_flight[0] += 1
                info = client.publish(topics[i], payload, qos=args.qos)
                if info.rc != paho.MQTT_ERR_SUCCESS and args.qos == 0:
                    with window:  # dropped while disconnected: no on_publish will come
                        in_flight[0] -= 1
                    dropped += 1
                    continue
                published += 1
                now = time.time()
                if not args.quiet and now - last_report >= 2.0:
                    rate = published / (now - started)
                    print(f"published {published:,} samples ({rate:,.0f}/s)", flush=True)
                    last_report = now
            if not args.loop:
                break
            epoch += span + period
        with window:
            deadline = time.time() + 30
            while in_flight[0] > 0 and time.time() < deadline:
                window.wait(0.5)
        elapsed = time.time() - started
        lost = in_flight[0] + dropped
        confirmed = ", every one confirmed by the broker (PUBACK)" if args.qos == 1 and not lost else ""
        print(f"published {published:,} samples of {len(names)} sensors to {host}:{port} "
              f"under {args.topic_prefix.rstrip('/')}/ in {elapsed:.1f} s{confirmed}"
              + (f", skipped {skipped:,} NaN values" if skipped else "")
              + (f", {lost:,} not delivered (connection lost)" if lost else ""), flush=True)
        return 0 if not lost else 1
    finally:
        client.disconnect()
        client.loop_stop()
