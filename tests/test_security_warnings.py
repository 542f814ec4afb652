"""Secrets: a password that would cross the network in clear text is warned about (validate, the window,
record — the last in tests/test_record_faults.py), and a password put into ``password_env`` by mistake is
never echoed."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_PROJECT
from twinviewer.cli import main
from twinviewer.core.secrets import SecretError, resolve_password

SOURCES = {
    "mqtt": '[[sources]]\nkind = "mqtt"\nname = "plant"\nhost = "10.0.0.5"\nusername = "tech"\n'
            'password_env = "PLANT_PW"\n[[sources.topics]]\ntopic = "p/{sensor}"\n',
    "opcua": '[[sources]]\nkind = "opcua"\nname = "plc"\nendpoint = "opc.tcp://10.0.0.6:4840"\nusername = "tech"\n'
             '[[sources.nodes]]\nnode = "ns=2;i=5"\nsensor = "TT-101"\n',
}


def _project(tmp_path, source: str):
    text = DEMO_PROJECT.read_text(encoding="utf-8")
    text = text[:text.index("# ===== Hand-edited")]  # parts and sensors, without recordings and scenarios
    model = (DEMO_PROJECT.parent / "pump_skid.glb").as_posix()
    path = tmp_path / "p.twin.toml"
    path.write_text(text.replace('file = "pump_skid.glb"', f'file = "{model}"') + "\n" + source)
    return path


@pytest.mark.parametrize("kind, words", [("mqtt", "clear text (tls = false)"),
                                         ("opcua", 'security_policy = "None"')])
def test_validate_warns_when_a_password_would_travel_unencrypted(tmp_path, capsys, kind, words):
    assert main(["validate", str(_project(tmp_path, SOURCES[kind]))]) == 0
    out = capsys.readouterr().out
    assert "warning:" in out and words in out and "'tech'" in out


def test_no_warning_with_tls(tmp_path, capsys):
    source = SOURCES["mqtt"].replace('username = "tech"', 'username = "tech"\ntls = true')
    assert main(["validate", str(_project(tmp_path, source))]) == 0
    assert "warning:" not in capsys.readouterr().out


def test_a_password_in_password_env_is_never_echoed(tmp_path, capsys):
    password = "Hunter2 pump!"
    source = SOURCES["mqtt"].replace('password_env = "PLANT_PW"', f'password_env = "{password}"')
    assert main(["validate", str(_project(tmp_path, source))]) == 1
    out = capsys.readouterr().out
    assert "password_env" in out and password not in out


def test_a_missing_variable_is_named_only_when_it_looks_like_a_name():
    with pytest.raises(SecretError) as named:
        resolve_password(kind="mqtt", host="h", username="u", password_env="PLANT_PW", environ={})
    assert "PLANT_PW" in str(named.value)
    with pytest.raises(SecretError) as hidden:
        resolve_password(kind="mqtt", host="h", username="u", password_env="Hunter2pump", environ={})
    assert "Hunter2pump" not in str(hidden.value) and "not shown" in str(hidden.value)


@pytest.mark.gui
def test_the_window_warns_when_connecting_a_clear_text_source(qtbot, tmp_path, mqtt_broker, monkeypatch):
    from tests.gui import new_window, open_and_wait

    monkeypatch.setenv("TV_CLEAR_PW", "pw")
    source = (f'[[sources]]\nkind = "mqtt"\nname = "test-broker"\nhost = "127.0.0.1"\nport = {mqtt_broker.port}\n'
              'username = "tech"\npassword_env = "TV_CLEAR_PW"\n[[sources.topics]]\ntopic = "t/{sensor}"\n'
              'payload = "number"\n')
    window = new_window(qtbot, tmp_path, settings_values={"live/recordings_dir": str(tmp_path / "rec")})
    try:
        open_and_wait(qtbot, window, _project(tmp_path, source))
        window.panels["live_panel"].connect_all()
        qtbot.waitUntil(lambda: "clear text" in window.status_label.text(), timeout=5000)
        text = window.status_label.text()
        assert text.startswith("Warning:") and "'tech'" in text and "pw" not in text.split()
    finally:
        window.close()
