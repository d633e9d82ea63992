"""Run an ``mbtkg`` command that listens (``serve``, ``annotate``) as a real subprocess.

The command prints a line with its address on stderr once it listens; the helper waits for that
line, yields the match and the process, and stops the process afterwards.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def listening_mbtkg(
    args: list[str], ready: re.Pattern[str], *, startup: float = 300.0
) -> Iterator[tuple[re.Match[str], subprocess.Popen[str]]]:
    """Run ``mbtkg ARGS``; yield the first stderr match of ``ready`` and the process."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from mbtkg.cli import main; main()", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    found: list[re.Match[str]] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            m = ready.search(line)
            if m and not found:
                found.append(m)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + startup
        while not found:
            if process.poll() is not None:
                reader.join(timeout=5)
                raise RuntimeError(f"mbtkg {args[0]} exited early:\n{''.join(lines)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mbtkg {args[0]} did not start:\n{''.join(lines)}")
            time.sleep(0.1)
        yield found[0], process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
