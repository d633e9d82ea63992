"""Start ``mbtkg serve`` as a real subprocess on a free loopback port (for the serve tests)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_READY = re.compile(r"at http://127\.0\.0\.1:(\d+)/")


@contextmanager
def mbtkg_serve(*args: str, startup: float = 300.0) -> Iterator[str]:
    """Run ``mbtkg serve --port 0 ARGS``; yield its base URL once it listens; stop it after."""
    with mbtkg_serve_process(*args, startup=startup) as (url, _):
        yield url


@contextmanager
def mbtkg_serve_process(
    *args: str, startup: float = 300.0
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Like ``mbtkg_serve``, yielding the base URL and the server process."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from mbtkg.cli import main; main()", "serve", "--port", "0", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    found: dict[str, str] = {}

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            m = _READY.search(line)
            if m and "url" not in found:
                found["url"] = f"http://127.0.0.1:{m.group(1)}"

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + startup
        while "url" not in found:
            if process.poll() is not None:
                reader.join(timeout=5)
                raise RuntimeError(f"mbtkg serve exited early:\n{''.join(lines)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mbtkg serve did not start:\n{''.join(lines)}")
            time.sleep(0.1)
        yield found["url"], process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
