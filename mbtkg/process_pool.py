"""Worker processes: how many to start, and the one way mbtkg starts a pool of them.

Loading (:mod:`mbtkg.loading.workers`) and validating many files (:mod:`mbtkg.validation.fast_shacl.parallel`)
hand whole files or sessions to worker processes. Both start their pool here, so both use the
same start method: ``fork`` on Linux, where workers inherit the parent's already-parsed
ontology, shapes and compiled queries instead of building them again, and the platform's
default elsewhere (``spawn`` on macOS and Windows, where ``fork`` is unsafe or absent).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor


def default_jobs() -> int:
    """Worker processes used when none is given: one per CPU this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def start_method() -> str | None:
    """The start method of mbtkg's worker processes: ``fork`` on Linux, else the default.

    >>> start_method() == ("fork" if sys.platform.startswith("linux") else None)
    True
    """
    return "fork" if sys.platform.startswith("linux") else None


def process_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of ``jobs`` worker processes, started with :func:`start_method`."""
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context(start_method())
    )
