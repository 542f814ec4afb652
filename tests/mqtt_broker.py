"""Pytest fixtures that run a real mosquitto broker on a free port (plain, and TLS with a password file).

``mqtt_broker`` gives a :class:`MosquittoBroker` with anonymous access and persistence; ``mqtt_tls_broker``
one that requires TLS (a CA, server and client certificates generated with ``cryptography``) and a
username/password from a password file made with ``mosquitto_passwd``. Both can be stopped and started
again on the same port (``restart()``) to test reconnects; persistence keeps queued QoS 1 messages of
persistent sessions across a restart.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
TLS_USER = "twin"
TLS_PASSWORD = "s3cret-Pump-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class TlsFiles:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


class MosquittoBroker:
    """One mosquitto process with a generated config in ``workdir``."""

    host = "127.0.0.1"

    def __init__(self, workdir: Path, *, tls: TlsFiles | None = None, password_file: Path | None = None):
        self.workdir = workdir
        self.port = free_port()
        self.tls = tls
        self.password_file = password_file
        self.log_file = workdir / "mosquitto.log"
        self.config_file = workdir / "mosquitto.conf"
        self.process: subprocess.Popen[bytes] | None = None
        self._write_config()

    def _write_config(self) -> None:
        lines = [f"listener {self.port} {self.host}",
                 "persistence true", f"persistence_location {self.workdir}/",
                 "max_queued_messages 200000", "max_inflight_messages 100",
                 f"log_dest file {self.log_file}", "log_type error", "log_type warning", "log_type notice"]
        if os.geteuid() == 0:  # mosquitto drops root for the 'mosquitto' user, who cannot read tmp_path
            lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
        if self.password_file:
            lines += ["allow_anonymous false", f"password_file {self.password_file}"]
        else:
            lines.append("allow_anonymous true")
        if self.tls:
            lines += [f"cafile {self.tls.ca_file}", f"certfile {self.tls.server_cert}",
                      f"keyfile {self.tls.server_key}", "require_certificate true"]
        self.config_file.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 5.0) -> None:
        if not Path(MOSQUITTO).is_file():
            pytest.fail(f"mosquitto not found at {MOSQUITTO}: install it (`make test` does: apt-get install "
                        "mosquitto)")
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config_file)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
                pytest.fail(f"mosquitto exited at start (code {self.process.returncode}): {error} {log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        pytest.fail(f"mosquitto did not accept connections on port {self.port} within {timeout} s")

    def stop(self) -> None:
        """Stop gracefully (mosquitto writes its persistence file on SIGTERM)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def make_tls_files(folder: Path) -> TlsFiles:
    """A CA and server/client certificates (EC P-256) signed by it; the server is valid for
    127.0.0.1/localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("TwinViewer test CA")
    valid_from, valid_to = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2)
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(valid_from).not_valid_after(valid_to)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False,
                                            key_agreement=False, encipher_only=False, decipher_only=False),
                              critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))

    def leaf(common: str, usage: x509.ObjectIdentifier,
             san: list[x509.GeneralName] | None) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(ca_cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(valid_from).not_valid_after(valid_to)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM), key

    files = TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key",
                     folder / "client.crt", folder / "client.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    server_pem, server_key = leaf("localhost", ExtendedKeyUsageOID.SERVER_AUTH,
                                  [x509.DNSName("localhost"),
                                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    files.server_cert.write_bytes(server_pem)
    write_key(server_key, files.server_key)
    client_pem, client_key = leaf("twinviewer-client", ExtendedKeyUsageOID.CLIENT_AUTH, None)
    files.client_cert.write_bytes(client_pem)
    write_key(client_key, files.client_key)
    return files


def make_password_file(folder: Path, username: str, password: str) -> Path:
    path = folder / "passwords"
    if not Path(MOSQUITTO_PASSWD).is_file():
        pytest.fail(f"mosquitto_passwd not found at {MOSQUITTO_PASSWD}: install mosquitto")
    subprocess.run([MOSQUITTO_PASSWD, "-c", "-b", str(path), username, password], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path.chmod(0o600)
    return path


@pytest.fixture
def mqtt_broker(tmp_path: Path):
    """A running anonymous mosquitto on a free port on 127.0.0.1 (with persistence)."""
    folder = tmp_path / "broker"
    folder.mkdir()
    broker = MosquittoBroker(folder)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def mqtt_tls_broker(tmp_path: Path):
    """A mosquitto that requires TLS with a client certificate and TLS_USER / TLS_PASSWORD."""
    folder = tmp_path / "tls-broker"
    folder.mkdir()
    tls = make_tls_files(folder)
    broker = MosquittoBroker(folder, tls=tls,
                             password_file=make_password_file(folder, TLS_USER, TLS_PASSWORD))
    broker.start()
    yield broker
    broker.stop()
