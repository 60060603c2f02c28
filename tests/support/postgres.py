"""A throwaway PostgreSQL 15 server for tests: a cluster in a temporary folder, on loopback,
started once per session (the `pg_server` fixture) with a database per test module.

Root may not run initdb, so as root the server runs as the `postgres` user (its folder is
handed to that user); as anyone else it runs as that user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_BIN = Path(os.environ.get("VALUEREVIEW_PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    return (PG_BIN / "initdb").is_file() and (PG_BIN / "pg_ctl").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """Start with `start()`, stop with `stop()`; `url(db)` gives the database's URL."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vr-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *cmd: str) -> subprocess.CompletedProcess:
        full = list(cmd)
        if self.as_root:
            full = ["runuser", "-u", "postgres", "--", *full]
        return subprocess.run(full, capture_output=True, text=True, timeout=120, check=True)

    def start(self) -> Server:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                  "postgres", "-E", "UTF8", "--no-instructions")
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                  str(self.dir / "server.log"), "-w", "-t", "60", "start")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not start: {self.log()}")

    def create_database(self, name: str) -> str:
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "postgres", name)
        return self.url(name)

    def url(self, db: str = "postgres") -> str:
        """The README's form, `postgresql://user@host:port/db`, without naming a driver."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def log(self) -> str:
        p = self.dir / "server.log"
        return p.read_text() if p.exists() else ""

    def stop(self) -> None:
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """A new server, stopped on exit; each user makes its own database on it (`create_database`),
    so one server serves a whole session. Skips the test where the server binaries are missing
    (fails in CI, which installs them)."""
    import pytest

    if not available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL 15 server binaries are required in CI (.ci/run installs)")
        pytest.skip("PostgreSQL 15 server binaries not installed")
    started = Server().start()
    try:
        yield started
    finally:
        started.stop()
