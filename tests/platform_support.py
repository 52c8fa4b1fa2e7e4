"""Shared set-up of the platform tests: principals, a clock in China time, and a real
PostgreSQL server (Debian's binaries, a throw-away cluster in a temp dir on a free port)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shudi.platform.auth import Principal

CHINA = ZoneInfo("Asia/Shanghai")


def at(s: str) -> datetime:
    """'2026-02-13 09:00' in China time."""
    return datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=CHINA)


def town(unit: str, county: str | None = None) -> Principal:
    return Principal(name=f"{unit}经办人", role="township", unit=unit, county=county)


def dept(unit: str, county: str | None = None) -> Principal:
    return Principal(name=f"{unit}经办人", role="department", unit=unit, county=county)


DISPATCHER = Principal(name="平台调度员", role="dispatcher")
SUPERVISOR = Principal(name="督查员", role="supervisor")


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a PostgreSQL cluster and yield its SQLAlchemy URL; stop and remove it afterwards.
    initdb refuses to run as root: as root the server runs as the `postgres` system user (the
    Debian package creates it)."""
    bindir = pg_bin()
    assert bindir is not None, "PostgreSQL binaries are missing: run `make postgres` (apt-get install postgresql)"
    tmp = Path(tempfile.mkdtemp(prefix="shudi-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for p in (tmp, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = lambda *args: subprocess.run([*prefix, *args], check=True, capture_output=True)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "-t", "60", "start",
        "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        time.sleep(0.2)
        shutil.rmtree(tmp, ignore_errors=True)
