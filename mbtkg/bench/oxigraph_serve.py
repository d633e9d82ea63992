"""Start ``oxigraph serve`` on a free loopback port for the benchmark, and stop it after.

The binary comes from the ``oxigraph`` PyPI package (next to this Python, or on PATH). The
server binds to 127.0.0.1 only and keeps its data in a directory the caller owns.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreError


def oxigraph_binary() -> str | None:
    """The ``oxigraph`` server binary next to this Python, or on PATH; None if not installed."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def oxigraph_serve(directory: Path, *, timeout: float = 30.0) -> Iterator[str]:
    """Run ``oxigraph serve`` on ``directory``; yield its base URL (``http://127.0.0.1:PORT``).

    Raises StoreError when the binary is missing or the server does not answer in ``timeout``.
    """
    binary = oxigraph_binary()
    if binary is None:
        raise StoreError("the oxigraph server binary is not installed (pip install oxigraph)")
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with (directory / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, "serve", "--location", str(directory / "db"), "--bind", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise StoreError(f"oxigraph serve exited with code {process.returncode}")
            try:
                urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"oxigraph serve did not answer within {timeout:g} s"
                    ) from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
