"""A PostgreSQL server of the tests' own: initdb + pg_ctl in a temp dir, once per session.

As root (how CI runs) the server runs as `nobody`: initdb refuses root. It listens on
127.0.0.1 on a free port with trust authentication, fsync off. Each test that asks for
`pg_url` gets a fresh database of its own. Skips with one line only where no PostgreSQL
binaries exist (`.ci/run` installs them).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def _bindir() -> Path | None:
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_server_user() -> tuple[Callable[[], None] | None, int | None]:
    if os.geteuid() != 0:
        return None, None
    nobody = pwd.getpwnam("nobody")

    def drop() -> None:
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    return drop, nobody.pw_uid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """The running cluster: `url(db)` names a database on it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="feedgen-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self._preexec, uid = _as_server_user()
        if uid is not None:
            os.chown(self.dir, uid, -1)
        self._run("initdb", "-D", str(self.data), "-U", "feedgen", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--locale=C")
        self.start()
        self._names = itertools.count()

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([str(self.bindir / tool), *args], preexec_fn=self._preexec,
                              capture_output=True, text=True, cwd=self.dir, check=False)
        if done.returncode:
            raise RuntimeError(f"{tool} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        """Start (or start again) the server; returns once it accepts connections."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c max_connections=300", "start")

    def stop(self) -> None:
        """Stop the server at once (connections are cut)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://feedgen@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# imported by test modules under these names; pytest knows them by `name`
@pytest.fixture(scope="session", name="pg_server")
def pg_server_fixture() -> Iterator[PgServer]:
    bindir = _bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl): apt-get install postgresql")
    server = PgServer(bindir)
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(name="pg_url")
def pg_url_fixture(pg_server: PgServer) -> str:
    """The URL of a fresh database of this test's own."""
    return pg_server.new_database()
