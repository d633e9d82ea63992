"""Small measuring tools for the benchmark: medians of repeated runs, peak memory, the machine."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

T = TypeVar("T")


def median_time(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """The median wall time of ``repeat`` calls (at least one), and the last call's result."""
    times: list[float] = []
    result: Any = None
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def peak_rss_mb() -> dict[str, float]:
    """Peak resident memory so far (``ru_maxrss``) of this process and of its finished children."""
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / divisor
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / divisor
    return {"self_mb": round(own, 1), "children_mb": round(children, 1)}


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    ram_gb: float | None = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        ram_gb = round(pages / 1024**3, 1)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        pass
    load: list[float] | None = None
    with contextlib.suppress(OSError):
        load = [round(x, 2) for x in os.getloadavg()]
    return {
        "nproc": os.cpu_count(),
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": load,
        "versions": {
            name: _version(name) for name in ("mbtkg", "pyoxigraph", "pyshacl", "rdflib", "PyYAML")
        },
    }
