"""Start real SPARQL servers on free loopback ports for the tests: Oxigraph and Virtuoso 7.

Each launcher is a context manager that yields a ``RunningServer`` (its URLs and the settings
an mbtkg client needs) and stops the process on exit. The binaries come from the PyPI package
``oxigraph`` and the Debian package ``virtuoso-opensource``; ``which_*`` tells whether they are
installed so tests can skip with a clear reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mbtkg.stores.settings import RemoteSettings

VIRTUOSO_VSP = Path("/var/lib/virtuoso-opensource-7/vsp")


@dataclass(frozen=True)
class RunningServer:
    """A server process the tests started, with the selector and settings to reach it."""

    name: str
    selector: str
    settings: RemoteSettings
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def which_oxigraph() -> str | None:
    """The ``oxigraph`` server binary next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


def which_virtuoso() -> str | None:
    """The Virtuoso 7 server binary, ``virtuoso-t``."""
    return shutil.which("virtuoso-t")


def wait_http(url: str, *, timeout: float = 60.0, process: subprocess.Popen[bytes]) -> None:
    """Wait until ``url`` answers any HTTP status; raise if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no answer from {url} after {timeout} s")


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when the test process dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def oxigraph_server(workdir: Path) -> Iterator[RunningServer]:
    """``oxigraph serve`` on a fresh directory, bound to a free loopback port."""
    binary = which_oxigraph()
    if binary is None:
        raise RuntimeError("the oxigraph binary is not installed (pip install oxigraph)")
    port = free_port()
    log = workdir / "oxigraph.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "serve", "--location", str(workdir / "db"), "--bind", f"127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/query?query=ASK%7B%7D", timeout=20, process=process)
        yield RunningServer(
            name="oxigraph-server",
            selector=f"sparql+{base}/query",
            settings=RemoteSettings(update_url=f"{base}/update", gsp_url=f"{base}/store"),
            process=process,
            log=log,
        )
    finally:
        _stop(process)


VIRTUOSO_INI = """\
[Database]
DatabaseFile       = ./virtuoso.db
ErrorLogFile       = ./virtuoso.log
LockFile           = ./virtuoso.lck
TransactionFile    = ./virtuoso.trx
xa_persistent_file = ./virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = ./virtuoso-temp.db
TransactionFile    = ./virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort           = 127.0.0.1:{isql_port}
DisableUnixSocket    = 1
DisableTcpSocket     = 0
MaxClientConnections = 10
CheckpointInterval   = 60
CaseMode             = 2
DirsAllowed          = .
NumberOfBuffers      = 10000
MaxDirtyBuffers      = 6000
ThreadsPerQuery      = 2
AsyncQueueMaxThreads = 4
MaxQueryMem          = 512M

[HTTPServer]
ServerPort           = 127.0.0.1:{http_port}
ServerRoot           = {vsp}
MaxClientConnections = 10
ServerThreads        = 10
EnabledDavVSP        = 0
HTTPProxyEnabled     = 0
Charset              = UTF-8
EnabledGzipContent   = 0

[Client]
SQL_PREFETCH_ROWS  = 100
SQL_PREFETCH_BYTES = 16000

[SPARQL]
ResultSetMaxRows        = 100000
MaxQueryExecutionTime   = 120
MaxQueryCostEstimationTime = 400
"""


@contextmanager
def virtuoso_server(workdir: Path) -> Iterator[RunningServer]:
    """Virtuoso 7 from a private configuration: a fresh database, loopback-only HTTP and ISQL.

    The fresh database has the user ``dba`` with password ``dba``; writes go to the digest-
    protected ``/sparql-auth`` and ``/sparql-graph-crud-auth`` endpoints.
    """
    binary = which_virtuoso()
    if binary is None:
        raise RuntimeError("virtuoso-t is not installed (apt-get install virtuoso-opensource)")
    http_port, isql_port = free_port(), free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "virtuoso.ini").write_text(
        VIRTUOSO_INI.format(http_port=http_port, isql_port=isql_port, vsp=VIRTUOSO_VSP)
    )
    log = workdir / "virtuoso.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MBTKG_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "+foreground", "+configfile", "virtuoso.ini"],
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_die_with_parent,
        )
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_http(f"{base}/sparql?query=ASK%7B%7D", timeout=90, process=process)
        yield RunningServer(
            name="virtuoso",
            selector=f"sparql+{base}/sparql",
            settings=RemoteSettings(
                update_url=f"{base}/sparql-auth",
                gsp_url=f"{base}/sparql-graph-crud-auth",
                auth="digest",
                user="dba",
                password="dba",
            ),
            process=process,
            log=workdir / "virtuoso.log",
        )
    finally:
        _stop(process)
