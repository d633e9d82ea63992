"""The loads the benchmark times, each run in a fresh process so its memory can be measured.

``python -m mbtkg.bench.child mbtkg STORE LIST [JOBS [infer|no-infer]]`` loads the session
files named in LIST (one path per line) with ``mbtkg.loading.load``, with the inferred graphs
unless told ``no-infer``; ``python -m mbtkg.bench.child raw STORE
NQUADS`` bulk-loads an N-Quads file with pyoxigraph alone, the limit the load is compared with.
STORE is ``memory`` or a directory. Each prints one JSON line: the seconds the load itself took
(process start-up and imports excluded), the processor seconds the load used in this process
and its finished worker processes (``cpu_seconds``: steadier than wall time on a shared machine),
the number of quads in the store afterwards, and the process's own peak memory
(``peak_rss_mb``; the benchmark samples its workers from outside).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from .process_memory import own_peak_mb


def _cpu_seconds() -> float:
    """Processor time (user and system) of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _raw(store_arg: str, nquads: str) -> dict[str, float | int]:
    import pyoxigraph as ox

    store = ox.Store() if store_arg == "memory" else ox.Store(store_arg)
    started, cpu = time.perf_counter(), _cpu_seconds()
    store.bulk_load(path=nquads, format=ox.RdfFormat.N_QUADS)
    if store_arg != "memory":
        store.flush()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_seconds": _cpu_seconds() - cpu, "quads": len(store)}


def _mbtkg(
    store_arg: str, listing: str, jobs: int | None, infer: bool = True
) -> dict[str, float | int]:
    from ..loading import (
        load,
        workers,  # noqa: F401 - imported by the load's first call; imports are not timed
    )
    from ..stores.oxigraph import OxigraphStore

    paths = [line for line in Path(listing).read_text(encoding="utf-8").splitlines() if line]
    store = OxigraphStore(None if store_arg == "memory" else store_arg)
    started, cpu = time.perf_counter(), _cpu_seconds()
    summary = load(paths, store, jobs=jobs, infer=infer)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    quads = len(store.raw)
    store.close()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "quads": quads,
        "sessions": len(summary.sessions),
    }


def main(argv: list[str]) -> int:
    """Run one load as asked by ``argv``; print its JSON line."""
    if len(argv) >= 3 and argv[0] == "raw":
        result = _raw(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "mbtkg":
        infer = len(argv) <= 4 or argv[4] != "no-infer"
        result = _mbtkg(argv[1], argv[2], int(argv[3]) if len(argv) > 3 else None, infer)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    result["peak_rss_mb"] = round(own_peak_mb(), 1)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
