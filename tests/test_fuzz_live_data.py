"""Property-based fuzzing (hypothesis) of what arrives over the network and what the recorder writes:
payloads, sequence numbers and journals. Every case must end in a counted problem or a true sample —
never an exception other than PayloadError, a non-finite value, a time outside the valid range, or a
counter that lies.
"""

from __future__ import annotations

import json
import math
import random
import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinviewer.core.project import MqttSource as MqttConfig
from twinviewer.core.store import TimeSeriesStore
from twinviewer.core.timerange import TIME_MAX_S, TIME_MIN_S, time_ok
from twinviewer.io.journal import Journal, export_parquet, read_journal, recover
from twinviewer.sources.base import MAX_SEQ_GAP, StatsCollector
from twinviewer.sources.mqtt import MqttSource
from twinviewer.sources.payloads import PayloadError, parse_payload, parse_time

FAST = settings(max_examples=150, deadline=2000, database=None, suppress_health_check=[HealthCheck.too_slow])
NOW = 1_750_000_000.0

hostile_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([1e25, -1.0, 0, 2**63, 2**64 + 1, 9.3e18, 1e308, -0.0, 10**401, 1_700_000_000, 1.7e12]),
)
hostile_times = st.one_of(hostile_numbers, st.sampled_from([
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59", "1969-12-31T23:59:59Z", "2024-02-30T00:00:00Z",
    "2024-01-01T00:00:00+25:00", "nan", "inf", "-1", "", "2024-05-01T12:00:00Z", "1e25", "T", None]),
    st.text(max_size=30))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), hostile_numbers, st.text(max_size=10)),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(
        st.sampled_from(["t", "v", "seq", "pub", "samples", "value", "time", "x"]), children, max_size=6),
    max_leaves=30)


def _encode(document) -> bytes:
    # json.dumps writes NaN/Infinity, which Python's json (and so the recorder) accepts: the parser must too
    return json.dumps(document, allow_nan=True).encode()


def _check_result(result) -> None:
    assert len(result.times) == len(result.values)
    for t, v in zip(result.times, result.values, strict=True):
        assert time_ok(t), t
        assert math.isfinite(v), v


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_end_in_samples_or_a_counted_problem(payload):
    for form in ("number", "json", "json_dict"):
        try:
            _check_result(parse_payload(payload, form, NOW, max_bytes=1024))
        except PayloadError as problem:
            assert problem.kind


@FAST
@given(json_values, st.sampled_from(["json", "json_dict"]))
def test_any_json_ends_in_true_samples_or_a_counted_problem(document, form):
    try:
        result = parse_payload(_encode(document), form, NOW)
    except PayloadError as problem:
        assert problem.kind
        return
    _check_result(result)
    for problem in result.problems:
        assert problem.kind


@FAST
@given(hostile_times)
def test_every_time_form_follows_one_valid_range(raw):
    try:
        t = parse_time(raw, NOW)
    except PayloadError as problem:
        assert problem.kind == "bad_time"
        return
    assert TIME_MIN_S <= t <= TIME_MAX_S


@FAST
@given(st.lists(hostile_numbers, min_size=1, max_size=20))
def test_a_batch_keeps_every_good_item(values):
    batch = [[NOW + i, v] for i, v in enumerate(values)] + [[NOW + 100, 7.5]]
    good = sum(1 for v in values if not isinstance(v, bool) and _finite_number(v))
    result = parse_payload(_encode(batch), "json", NOW)
    assert len(result.times) == good + 1
    assert len(result.problems) == len(values) - good


def _finite_number(value) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def test_deep_nesting_and_huge_integers_are_problems_not_crashes():
    for payload in (b"[" * 50_000, b'{"v": ' + b"9" * 5000 + b"}", b'{"t": ' + b"9" * 401 + b', "v": 1}',
                    b'{"v": 1, "t": 1e25}', b'{"v": 1, "t": "0001-01-01T00:00:00Z"}'):
        try:
            parse_payload(payload, "json", NOW)
        except PayloadError as problem:
            assert problem.kind in ("bad_json", "bad_time", "not_finite")
        else:
            raise AssertionError(f"{payload[:40]!r} was accepted")


# -- sequence numbers -------------------------------------------------------------------------------------

def test_a_huge_sequence_jump_is_a_reset_not_a_loss():
    stats = StatsCollector()
    for seq in (1, 2, 3, 10**18, 10**18 + 1, 5, 6):
        stats.sequence("p", seq)
    snapshot = stats.snapshot()
    assert snapshot.seq_gaps == 0 and snapshot.seq_resets == 2


@FAST
@given(st.integers(min_value=1, max_value=400), st.integers(0, 2**32), st.floats(0, 0.3), st.floats(0, 0.3))
def test_gaps_count_exactly_the_numbers_that_never_arrived(n, seed, lost_share, duplicate_share):
    """Shuffled locally (as a broker redelivers after a reconnect), some lost, some delivered twice."""
    rng = random.Random(seed)
    sent = [s for s in range(1, n + 1) if s == 1 or rng.random() >= lost_share]
    arrivals = sent + [s for s in sent if rng.random() < duplicate_share]
    arrivals.sort(key=lambda s: s + rng.uniform(-20, 20))  # late arrivals within a reconnect window
    arrivals.remove(1)
    arrivals.insert(0, 1)
    stats = StatsCollector()
    kept = [s for s in arrivals if stats.sequence("pub", s, float(s))]
    snapshot = stats.snapshot()
    assert sorted(kept) == sent, "a duplicate was kept or a first delivery dropped"
    assert snapshot.duplicates == len(arrivals) - len(sent)
    missing_below_last = len([s for s in range(1, max(sent) + 1) if s not in set(sent)])
    assert snapshot.seq_gaps == missing_below_last


def test_a_publisher_restart_is_not_counted_as_loss():
    stats = StatsCollector()
    for seq in range(1, 301):
        stats.sequence("p", seq, NOW + seq)
    for seq in range(1, 50):  # the publisher restarted: same numbers, new times
        assert stats.sequence("p", seq, NOW + 1000 + seq)
    snapshot = stats.snapshot()
    assert snapshot.seq_gaps == 0 and snapshot.duplicates == 0
    assert MAX_SEQ_GAP >= 1000


def test_redelivered_messages_are_not_stored_twice():
    store = TimeSeriesStore()
    config = MqttConfig.model_validate({"kind": "mqtt", "topics": [{"topic": "p/{sensor}", "payload": "json"}]})
    source = MqttSource(config, store, ["TT-101"])
    for seq in list(range(1, 11)) + [8, 9, 10] + list(range(11, 16)):
        source.handle_message("p/TT-101", json.dumps({"t": NOW + seq, "v": seq, "seq": seq}).encode(), time.time())
    source.sink.flush()
    stats = source.stats()
    assert store.samples("TT-101")[0].size == 15
    assert stats.duplicates == 3 and stats.seq_gaps == 0


# -- journals ------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=5000, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
    [1e25, -1e9, 2**63, 1_700_000_000.5])), st.floats(allow_nan=True, allow_infinity=True)), max_size=40))
def test_a_journal_exports_only_valid_times_and_finite_values(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("journal")
    path = folder / "fuzz.journal"
    with Journal.open(path) as journal:
        for t, v in rows:
            journal.append("TT-101", t, v)
        journal.append_many("TT-101", [t for t, _ in rows], [v for _, v in rows])  # one batch: one transaction
    assert not journal.error and journal.rejected_times == 2 * sum(1 for t, _ in rows if not time_ok(t))
    report = recover(path)
    assert report.ok
    data = read_journal(path)
    valid = [t for t, _ in rows if time_ok(t)]
    assert data.times.size == len(set(valid))
    assert report.samples == 2 * len(valid) and report.bad_times == 0
    assert np.all((data.times >= TIME_MIN_S) & (data.times <= TIME_MAX_S))
    assert not np.isinf(data.values).any()
    if data.times.size:
        out = folder / "fuzz.parquet"
        assert export_parquet(path, out) == data.times.size
        import pyarrow.parquet as pq

        stamps = pq.read_table(out).column("time").cast("int64").to_numpy()
        assert np.all(stamps >= 0) and np.all(stamps <= TIME_MAX_S * 1e6)


def test_a_publisher_inventing_sensor_names_cannot_grow_the_store_without_end():
    from twinviewer.sources.mqtt import MAX_DISCOVERED_SENSORS

    store = TimeSeriesStore()
    config = MqttConfig.model_validate({"kind": "mqtt", "topics": [{"topic": "p/{sensor}", "payload": "number"}]})
    source = MqttSource(config, store, None)  # no project sensors: names come from the topics
    for i in range(MAX_DISCOVERED_SENSORS + 50):
        source.handle_message(f"p/s{i}", b"1.5", time.time())
    source.sink.flush()
    assert len(store.sensor_ids) == MAX_DISCOVERED_SENSORS
    assert source.stats().malformed["unknown_sensor"] == 50
