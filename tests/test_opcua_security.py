"""OPC UA with security: a real asyncua server that offers only Basic256Sha256 / SignAndEncrypt with its
own certificate, and the source connecting with a client certificate, a pinned server certificate and a
user name; with security switched off, or pinned to the wrong certificate, it is refused."""

from __future__ import annotations

import asyncio
import time

import pytest
from asyncua import Server, ua
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.test_opcua import PASSWORD, SENSORS, USER, PumpServer, _Users
from tests.waiting import wait_for
from twinviewer.core.project import OpcUaSource as OpcUaConfig
from twinviewer.core.store import TimeSeriesStore
from twinviewer.sources.base import SourceState
from twinviewer.sources.opcua import OpcUaSource


def make_certificate(folder, name: str, uri: str, usage) -> tuple[str, str]:
    key, cert = folder / f"{name}.pem", folder / f"{name}.der"
    asyncio.run(setup_self_signed_certificate(key, cert, uri, "localhost", [usage], {"commonName": name}))
    return str(cert), str(key)


class SecureServer(PumpServer):
    """The test pump server, offering only Basic256Sha256 / SignAndEncrypt with its own certificate."""

    def __init__(self, folder):
        self.cert, self.key = make_certificate(folder, "plc", "urn:twinviewer:test:plc",
                                               ExtendedKeyUsageOID.SERVER_AUTH)
        super().__init__()

    async def _start(self) -> None:
        self.server = Server(user_manager=_Users())
        await self.server.init()
        self.server.set_endpoint(self.endpoint)
        await self.server.set_application_uri("urn:twinviewer:test:plc")
        self.server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        self.server.set_identity_tokens([ua.UserNameIdentityToken])
        await self.server.load_certificate(self.cert)
        await self.server.load_private_key(self.key)
        idx = await self.server.register_namespace("urn:twinviewer:test:pump")
        pump = await self.server.nodes.objects.add_object(idx, "Pump")
        self.temperature = await pump.add_variable(ua.NodeId("Pump.Temperature", idx),
                                                   ua.QualifiedName("Temperature", idx), 20.0)
        await self.server.start()


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory):
    server = SecureServer(tmp_path_factory.mktemp("plc"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client_certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("viewer"), "viewer", "urn:twinviewer:client",
                            ExtendedKeyUsageOID.CLIENT_AUTH)


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("TV_TEST_OPCUA_PASSWORD", PASSWORD)


def secure_source(endpoint, store, **config) -> OpcUaSource:
    settings = {"kind": "opcua", "endpoint": endpoint, "username": USER,
                "password_env": "TV_TEST_OPCUA_PASSWORD",
                "publishing_interval_ms": 20, "reconnect_min_s": 0.2, "reconnect_max_s": 0.5, "timeout_s": 4,
                "nodes": [{"node": "ns=2;s=Pump.Temperature", "sensor": "TT-102"}], **config}
    return OpcUaSource(OpcUaConfig.model_validate(settings), store, SENSORS, flush_interval_s=0.01,
                       watchdog_interval_s=0.3)


def test_sign_and_encrypt_with_certificates_delivers_values(secure_server, client_certificate):
    cert, key = client_certificate
    store = TimeSeriesStore()
    with secure_source(secure_server.endpoint, store, security_policy="Basic256Sha256",
                       security_mode="SignAndEncrypt", cert_file=cert, key_file=key,
                       server_cert_file=secure_server.cert) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 15), source.status()
        secure_server.write(secure_server.temperature, 71.25)
        wait_for(lambda: 71.25 in store.samples("TT-102")[1], 10, "a value over the encrypted channel")


def test_without_security_the_secured_server_refuses_and_the_error_says_why(secure_server):
    store = TimeSeriesStore()
    with secure_source(secure_server.endpoint, store) as source:
        status = wait_for(lambda: (s := source.status()).last_error and s, 15, "an error")
        assert not status.connected and PASSWORD not in status.summary()
        assert "no endpoint with security None None" in status.last_error
        assert "it offers Basic256Sha256 SignAndEncrypt" in status.last_error
        time.sleep(0.5)
        assert not store.has("TT-102") or store.samples("TT-102")[0].size == 0


def test_a_pinned_certificate_that_is_not_the_servers_is_refused(secure_server, client_certificate, tmp_path):
    cert, key = client_certificate
    other, _ = make_certificate(tmp_path, "impostor", "urn:twinviewer:test:impostor",
                                ExtendedKeyUsageOID.SERVER_AUTH)
    store = TimeSeriesStore()
    with secure_source(secure_server.endpoint, store, security_policy="Basic256Sha256",
                       security_mode="SignAndEncrypt", cert_file=cert, key_file=key,
                       server_cert_file=other) as source:
        status = wait_for(lambda: (s := source.status()).last_error and s, 15, "an error")
        assert not status.connected and "not the one pinned in server_cert_file" in status.last_error
