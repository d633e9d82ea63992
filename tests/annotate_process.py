"""Start ``mbtkg annotate DIR`` as a real subprocess on a free loopback port (for its tests)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_READY = re.compile(r"open (http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+))")


@dataclass(frozen=True)
class Running:
    """A running workbench: the URL it printed, its port and token."""

    url: str
    port: int
    token: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def mbtkg_annotate(folder: Path, *args: str, startup: float = 300.0) -> Iterator[Running]:
    """Run ``mbtkg annotate FOLDER --port 0 ARGS``; yield once it listens; stop it after."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from mbtkg.cli import main; main()", "annotate", str(folder)]
        + ["--port", "0", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    found: dict[str, Running] = {}

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            m = _READY.search(line)
            if m and "app" not in found:
                found["app"] = Running(m.group(1), int(m.group(2)), m.group(3))

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + startup
        while "app" not in found:
            if process.poll() is not None:
                raise RuntimeError(f"mbtkg annotate exited early:\n{''.join(lines)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mbtkg annotate did not start:\n{''.join(lines)}")
            time.sleep(0.1)
        yield found["app"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
