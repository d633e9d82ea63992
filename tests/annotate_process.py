"""Start ``mbtkg annotate DIR`` as a real subprocess on a free loopback port (for its tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cli_process import listening_mbtkg

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
    command = ["annotate", str(folder), "--port", "0", *args]
    with listening_mbtkg(command, _READY, startup=startup) as (m, _):
        yield Running(m.group(1), int(m.group(2)), m.group(3))
