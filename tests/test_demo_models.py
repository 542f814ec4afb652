"""The learned models shipped with the demo load with the current readers (a detector change that alters
the model format must retrain them: see assets/build_recordings.py)."""

from __future__ import annotations

from tests.conftest import DEMO_PROJECT
from twinviewer.io.anomaly_model import load_model, model_path


def test_the_demo_anomaly_model_loads_and_covers_the_demo_sensors():
    model = load_model(model_path(DEMO_PROJECT))
    assert len(model.sensors) == 12
    assert model.limit > 0
