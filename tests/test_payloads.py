"""Payload parsing: every form a broker may deliver, and every way a payload can be wrong."""

from __future__ import annotations

import json
import math

import pytest

from twinviewer.sources.payloads import PayloadError, parse_payload, parse_time

ARRIVAL = 1_790_000_000.0


def parse(payload: bytes | str, form: str = "json", **kwargs):
    raw = payload.encode() if isinstance(payload, str) else payload
    return parse_payload(raw, form, ARRIVAL, **kwargs)


def kind_of(payload: bytes | str, form: str = "json", **kwargs) -> str:
    with pytest.raises(PayloadError) as info:
        parse(payload, form, **kwargs)
    return info.value.kind


def test_plain_number_uses_arrival_time():
    result = parse(" 71.25\n", "number")
    assert result.times == [ARRIVAL] and result.values == [71.25]


@pytest.mark.parametrize(("raw_time", "expected"), [
    (1_790_000_123.5, 1_790_000_123.5),                 # epoch seconds
    (1_790_000_123_500, 1_790_000_123.5),               # epoch milliseconds
    (1_790_000_123_500_000, 1_790_000_123.5),           # microseconds
    ("2026-09-21T14:15:23.5Z", 1_790_000_123.5),        # ISO with Z
    ("2026-09-21T16:15:23.5+02:00", 1_790_000_123.5),   # ISO with an offset
    ("2026-09-21T14:15:23.5", 1_790_000_123.5),         # naive ISO is UTC
    (None, ARRIVAL),
])
def test_time_forms(raw_time, expected):
    assert parse_time(raw_time, ARRIVAL) == pytest.approx(expected, abs=1e-6)


def test_json_object_with_time_value_and_sequence():
    result = parse(json.dumps({"t": 1_790_000_001_000, "v": 55.5, "seq": 7, "pub": "plc-1"}))
    assert result.times == [1_790_000_001.0] and result.values == [55.5]
    assert result.seqs == [7] and result.publisher == "plc-1"


def test_json_object_without_time_gets_arrival_time():
    assert parse('{"value": 3}').times == [ARRIVAL]


def test_json_number_and_json_path():
    assert parse("12.5").values == [12.5]
    assert parse('{"data": {"reading": {"v": 4}}}', json_path="data.reading").values == [4.0]


def test_batch_of_pairs_and_of_objects():
    pairs = parse(json.dumps([[1_790_000_000, 1.0], [1_790_000_001, 2.0], [1_790_000_002, 3.0, 9]]))
    assert pairs.values == [1.0, 2.0, 3.0] and pairs.times[2] == 1_790_000_002 and pairs.seqs == [9]
    objects = parse(json.dumps([{"t": 1_790_000_000, "v": 1}, {"t": 1_790_000_001, "v": 2, "seq": 4}]))
    assert objects.values == [1.0, 2.0] and objects.seqs == [4]
    envelope = parse(json.dumps({"seq": 3, "samples": [[1_790_000_000, 5.0], [1_790_000_000.5, 6.0]]}))
    assert envelope.values == [5.0, 6.0] and envelope.seqs == [3]


def test_batch_keeps_good_items_and_reports_bad_ones():
    result = parse('[[1790000000, 1.0], [1790000001, "warm"], [1790000002, NaN], "x", [1790000003, 4.0]]')
    assert result.values == [1.0, 4.0]
    assert sorted(p.kind for p in result.problems) == ["bad_json", "not_a_number", "not_finite"]


def test_json_dict_several_sensors_under_a_path_with_shared_time():
    payload = {"t": "2026-09-21T14:15:23Z", "data": {"values": {"TT-101": 90.5, "IT-101": "60.1",
                                                                  "PT-101": {"t": 1_790_000_200, "v": 1.2}}}}
    result = parse(json.dumps(payload), "json_dict", json_path="data.values")
    by_sensor = dict(zip(result.sensors, zip(result.times, result.values, strict=True), strict=True))
    assert by_sensor["TT-101"] == (1_790_000_123.0, 90.5)
    assert by_sensor["IT-101"] == (1_790_000_123.0, 60.1)
    assert by_sensor["PT-101"] == (1_790_000_200.0, 1.2)


def test_json_dict_reports_one_bad_sensor_and_keeps_the_rest():
    result = parse('{"TT-101": 90, "VT-101": "loose", "ST-101": Infinity}', "json_dict")
    assert result.sensors == ["TT-101"]
    assert sorted(p.kind for p in result.problems) == ["not_a_number", "not_finite"]
    assert "VT-101" in str(result.problems[0]) or "VT-101" in str(result.problems[1])


@pytest.mark.parametrize(("payload", "form", "kind"), [
    ("hot", "number", "not_a_number"),
    (b"\xff\xfe", "number", "not_a_number"),
    ("nan", "number", "not_finite"),
    ("-inf", "number", "not_finite"),
    ('{"t": 1, "v": ', "json", "bad_json"),
    ('{"v": NaN}', "json", "not_finite"),
    ('{"v": Infinity}', "json", "not_finite"),
    ('{"v": "pump"}', "json", "not_a_number"),
    ('{"value_missing": 1}', "json", "bad_json"),
    ('{"t": "yesterday", "v": 1}', "json", "bad_time"),
    ('{"v": [1, 2]}', "json", "not_a_number"),
    ("[1, 2]", "json_dict", "bad_json"),
    ('{"a": {"b": 1}}', "json_dict", "bad_json"),
])
def test_malformed_payloads_have_a_kind(payload, form, kind):
    kwargs = {"json_path": "a.x"} if payload == '{"a": {"b": 1}}' else {}
    assert kind_of(payload, form, **kwargs) == kind


def test_oversized_payload_is_rejected_before_parsing():
    big = b"1" * (1024 * 1024)
    assert kind_of(big, "number", max_bytes=65536) == "too_large"
    assert parse(b"5", "number", max_bytes=65536).values == [5.0]


def test_booleans_are_zero_or_one():
    assert parse('{"v": true}').values == [1.0]
    assert not math.isnan(parse("false").values[0])
