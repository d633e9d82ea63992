"""Read, convert and validate session files in worker processes, ready for a store to write.

The expensive part of a load is Python work per file: parsing YAML, building the session's
quads and checking them against the shapes. Files are independent, so chunks of them go to
worker processes; each worker returns, per file, the session's quads as N-Quads bytes (cheap
to send between processes, and what Oxigraph parses fastest) and its violations. The parent
process only decides and writes (see :mod:`mbtkg.loading`).

Input errors travel as (message, location) pairs and are rebuilt in the parent: not every
error class pickles.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..concepts import ConceptIndex
from ..errors import InputError, Location
from ..process_pool import default_jobs, process_pool
from ..session_reasoning.compiled_tbox import compiled_tbox
from ..session_reasoning.fast import counted_inferred_graph
from ..sessions import read_session, session_to_rdf
from ..validation.fast_shacl.parallel import prepare_workers, use_workers, validate_batch
from ..validation.violations import Violation

#: Fewer files than this per worker are handled in-process: starting workers costs more.
MIN_FILES_PER_WORKER = 4
#: At most this many files go to a worker at once, so results stream back in small pieces.
MAX_CHUNK = 16
#: Chunks each worker may have finished or queued ahead of the caller.
WINDOW_PER_JOB = 3


@dataclass(frozen=True)
class CheckedSession:
    """One file read, converted and validated: its graph as N-Quads and its violations."""

    source: str
    session_id: str
    graph: str
    triples: int
    nquads: bytes
    violations: tuple[Violation, ...]
    #: The session's inferred graph as N-Quads (empty when not asked for, or not valid).
    inferred: bytes = b""
    #: The number of triples in ``inferred``.
    inferred_triples: int = 0


@dataclass(frozen=True)
class CheckedChunk:
    """The outcome of a chunk of files, in the order given: sessions and input errors."""

    sessions: tuple[CheckedSession, ...]
    errors: tuple[tuple[int, str, Location | None], ...]  # (position in chunk, message, where)
    order: tuple[int, ...]  # for each file of the chunk: index into sessions, or -1 if an error

    def input_errors(self) -> list[InputError]:
        """The chunk's input errors as exceptions."""
        out = []
        for _position, message, location in self.errors:
            error = InputError(message)
            error.location = location
            out.append(error)
        return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector: reading a file allocates thousands of small objects,
    none in a cycle, and the collector's passes over them cost a quarter of the reading time.
    Reference counting still frees everything; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_files(
    paths: Sequence[str], engine: str, index: ConceptIndex | None = None, infer: bool = False
) -> CheckedChunk:
    """Read, convert and validate files, and with ``infer`` reason over each valid session
    (its inferred graph, :mod:`mbtkg.session_reasoning.fast`); what a worker does with one chunk."""
    with _collector_paused():
        return _check_files(paths, engine, index, infer)


def _check_files(
    paths: Sequence[str], engine: str, index: ConceptIndex | None, infer: bool
) -> CheckedChunk:
    graphs = []
    errors: list[tuple[int, str, Location | None]] = []
    order: list[int] = []
    for position, path in enumerate(paths):
        try:
            graphs.append(session_to_rdf(read_session(path, index=index)))
            order.append(len(graphs) - 1)
        except InputError as exc:
            errors.append((position, str(exc), exc.location))
            order.append(-1)
    found = validate_batch(graphs, engine, index)
    sessions = tuple(
        CheckedSession(
            source=g.source,
            session_id=g.session_id,
            graph=g.graph,
            triples=len(g),
            nquads=g.nquads,
            violations=tuple(violations),
            inferred=inferred[0],
            inferred_triples=inferred[1],
        )
        for g, violations in zip(graphs, found, strict=True)
        for inferred in (
            counted_inferred_graph(g.session_id, g.triples, g.nquads)
            if infer and not violations
            else (b"", 0),
        )
    )
    return CheckedChunk(sessions, tuple(errors), tuple(order))


def guided_chunks(sources: list[str], jobs: int) -> list[list[str]]:
    """``sources`` cut into chunks that shrink towards the end (guided scheduling).

    Each chunk takes ``1 / (2 * jobs)`` of the files still left, at most :data:`MAX_CHUNK`
    and at least one. Every chunk costs a worker a fixed price (about 6 ms here: the batch
    SHACL queries are parsed and planned once per chunk), so few large chunks are cheapest;
    the small ones at the end keep the workers finishing together, and each chunk's sessions
    are written while the next ones are checked. Ten files on two workers: 3, 2, 2, 1, 1, 1
    (six chunks instead of ten single files).

    >>> [len(c) for c in guided_chunks([str(n) for n in range(10)], 2)]
    [3, 2, 2, 1, 1, 1]
    >>> [len(c) for c in guided_chunks([str(n) for n in range(100)], 2)][:8]
    [16, 16, 16, 13, 10, 8, 6, 4]
    """
    chunks: list[list[str]] = []
    start = 0
    while start < len(sources):
        left = len(sources) - start
        size = max(1, min(MAX_CHUNK, -(-left // (2 * jobs))))
        chunks.append(sources[start : start + size])
        start += size
    return chunks


def iter_checked(
    paths: Sequence[str | Path],
    *,
    engine: str,
    jobs: int | None = None,
    index: ConceptIndex | None = None,
    infer: bool = False,
) -> Iterator[tuple[Sequence[str], CheckedChunk]]:
    """(files, outcome) per chunk, in file order, checked in ``jobs`` worker processes (and
    with ``infer``, each valid session's inferred graph computed there too).

    Small inputs (fewer than ``2 * MIN_FILES_PER_WORKER`` files, or less than
    :data:`~mbtkg.validation.fast_shacl.parallel.SMALL_INPUT_BYTES` of them), or ``jobs=1``, are checked in
    this process. Otherwise what the workers need is built here first and inherited by them
    (:func:`~mbtkg.validation.fast_shacl.parallel.prepare_workers`). Chunks are produced while earlier
    ones are consumed, so the caller can write while workers read.
    """
    sources = [str(p) for p in paths]
    jobs = max(1, jobs or default_jobs())
    if infer:
        compiled_tbox()  # the ontology's closure, once, before the workers fork
    if not use_workers(sources, jobs, MIN_FILES_PER_WORKER * 2):
        size = MAX_CHUNK
        for start in range(0, len(sources), size):
            chunk = sources[start : start + size]
            yield chunk, check_files(chunk, engine, index, infer)
        return
    chunks = guided_chunks(sources, jobs)
    # A bounded window of chunks in flight: workers run ahead of the caller by at most
    # WINDOW_PER_JOB chunks each, so memory stays bounded however many files there are.
    window = jobs * WINDOW_PER_JOB
    prepare_workers(engine, index)
    with process_pool(jobs) as pool:
        pending: deque[tuple[Sequence[str], Future[CheckedChunk]]] = deque()
        for chunk in chunks:
            pending.append((chunk, pool.submit(check_files, chunk, engine, index, infer)))
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
