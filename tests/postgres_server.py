"""A real PostgreSQL server for tests: ``initdb`` and ``pg_ctl`` on a temporary folder and a free port.

Needs Debian's ``postgresql`` package (``make test`` installs it). As root the server runs as the
``postgres`` user (PostgreSQL refuses to run as root). The cluster requires a password (scram) for the
user ``twin``; ``stop()`` and ``start()`` take the server away and bring it back on the same port.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.mqtt_broker import free_port

USER = "twin"
PASSWORD = "hist-0ry-Pump"
DATABASE = "plant"


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


class PostgresServer:
    def __init__(self):
        self.bin = _bin_dir()
        if self.bin is None:
            pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="twinviewer-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            uid = pwd.getpwnam("postgres")
            os.chown(self.root, uid.pw_uid, uid.pw_gid)
        password_file = self.root / "pw"
        password_file.write_text(PASSWORD)
        if self.as_postgres:
            os.chown(password_file, pwd.getpwnam("postgres").pw_uid, -1)
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=scram-sha-256", f"--pwfile={password_file}",
                  "-E", "UTF8", "--locale=C")
        self.start()
        self.psql(f"CREATE DATABASE {DATABASE}", database="postgres")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=60)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "30",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    def psql(self, sql: str, database: str = DATABASE) -> str:
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        out = subprocess.run([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER,
                              "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                             capture_output=True, text=True, env=env, timeout=60)
        if out.returncode:
            raise RuntimeError(out.stderr)
        return out.stdout

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_server():
    server = PostgresServer()
    yield server
    server.close()
