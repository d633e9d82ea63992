"""Start ``mbtkg serve`` as a real subprocess on a free loopback port (for the serve tests)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from cli_process import listening_mbtkg

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
    with listening_mbtkg(["serve", "--port", "0", *args], _READY, startup=startup) as (m, process):
        yield f"http://127.0.0.1:{m.group(1)}", process
