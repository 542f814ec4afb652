"""Time to threshold: a ramp lands within its band; flat noise gives no estimate and says so."""

from __future__ import annotations

import numpy as np

from twinviewer.core.time_to_threshold import estimate_trend, format_duration

LIMITS = {"warning_high": 80.0, "alarm_high": 95.0}


def test_ramp_crossing_lands_in_the_band():
    hits = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        t = np.arange(0, 2 * 86400, 600.0)  # two days, every 10 min
        rate = 10.0 / 86400  # +10 °C a day
        v = 50 + rate * t + rng.normal(0, 0.8, t.size)
        estimate = estimate_trend(t, v, LIMITS)
        assert [c.level for c in estimate.crossings] == ["warning", "alarm"]
        alarm = estimate.crossings[1]
        true_eta = (95 - (50 + rate * t[-1])) / rate
        assert abs(alarm.eta_s - true_eta) < 0.15 * true_eta
        hits += alarm.early_s <= true_eta <= alarm.late_s
    assert hits >= 12  # an 80 % band: about 16 of 20


def test_flat_noise_gives_no_estimate_and_says_so():
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        t = np.arange(0, 86400, 60.0)
        v = 60 + rng.normal(0, 1.0, t.size)
        estimate = estimate_trend(t, v, LIMITS)
        assert estimate.crossings == []
        assert "no significant trend" in estimate.describe()


def test_wandering_noise_is_not_a_trend():
    rng = np.random.default_rng(7)
    t = np.arange(0, 86400, 60.0)
    ar = np.zeros(t.size)
    for i in range(1, t.size):
        ar[i] = 0.95 * ar[i - 1] + rng.normal(0, 0.3)
    assert estimate_trend(t, 60 + ar, LIMITS).crossings == []


def test_text_and_other_cases():
    t = np.arange(0, 86400 * 2, 600.0)
    v = 70 - 5.0 / 86400 * t  # cooling: away from the high limits
    assert "moves away" in estimate_trend(t, v, LIMITS).describe()
    assert "no warning or alarm limits" in estimate_trend(t, v, {}).describe()
    text = estimate_trend(t, 50 + 10 / 86400 * t, LIMITS).describe()
    assert text.startswith("warning in about ") and "alarm in about " in text and "80 % band" in text
    assert format_duration(3 * 86400 + 4 * 3600) == "3 d 4 h"
    assert format_duration(5400) == "1 h 30 min"
