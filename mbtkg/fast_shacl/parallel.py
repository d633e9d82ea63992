"""Validate many sessions: each on its own, across worker processes, skipping unchanged files.

Sessions are independent (every shape looks inside one session graph), so they can be
validated in any order and in parallel. Graphs travel to workers as N-Quads; files travel as
paths and are read in the worker, so reading also runs in parallel.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..concepts import ConceptIndex, default_index
from ..errors import InputError, Location
from ..sessions import read_session, session_to_rdf
from ..sessions.to_rdf import SessionGraph
from ..validate import ValidationReport, Violation, check_engine, validate_with_pyshacl
from ..validation_cache import CachedResult, ValidationCache

_validator: object | None = None  # one FastValidator per process, built on first use
#: Fewer sessions than this per worker are validated in-process: starting workers costs more.
_MIN_PER_WORKER = 4


def default_jobs() -> int:
    """The number of worker processes used when none is given: the number of CPUs."""
    return os.cpu_count() or 1


def _validate_one(graph: SessionGraph, engine: str, index: ConceptIndex | None) -> list[Violation]:
    global _validator
    index = index or default_index()
    if engine == "pyshacl":
        return validate_with_pyshacl(graph, index=index)
    if _validator is None:
        from .engine import FastValidator

        _validator = FastValidator()
    return _validator.validate(graph, index=index)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Packed:
    """A session graph in a form that pickles quickly."""

    session_id: str
    graph: str
    source: str
    nquads: bytes
    lines: dict[str, int]
    declared: dict[str, tuple[str, ...]]


def _pack(g: SessionGraph) -> _Packed:
    data = ox.serialize(g.quads, format=ox.RdfFormat.N_QUADS) or b""
    return _Packed(g.session_id, g.graph, g.source, data, g.lines, g.declared)


def _unpack(p: _Packed) -> SessionGraph:
    quads = tuple(ox.parse(p.nquads, format=ox.RdfFormat.N_QUADS))
    return SessionGraph(p.session_id, p.graph, p.source, quads, p.lines, p.declared)


def _validate_packed(p: _Packed, engine: str, index: ConceptIndex | None) -> list[Violation]:
    return _validate_one(_unpack(p), engine, index)


def _pool(jobs: int) -> Executor:
    method = "fork" if sys.platform.startswith("linux") else None
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method))


def validate_graphs_with(
    graphs: Iterable[SessionGraph],
    *,
    engine: str = "fast",
    jobs: int | None = None,
    index: ConceptIndex | None = None,
) -> ValidationReport:
    """Validate session graphs with an engine, in ``jobs`` processes (default: one per CPU)."""
    check_engine(engine)
    graphs = list(graphs)
    jobs = max(1, jobs or default_jobs())
    if jobs == 1 or len(graphs) < _MIN_PER_WORKER * 2:
        found = [v for g in graphs for v in _validate_one(g, engine, index)]
    else:
        chunk = max(1, len(graphs) // (jobs * 4))
        with _pool(min(jobs, len(graphs))) as pool:
            packed = [_pack(g) for g in graphs]
            results = pool.map(
                _validate_packed,
                packed,
                [engine] * len(packed),
                [index] * len(packed),
                chunksize=chunk,
            )
            found = [v for part in results for v in part]
    return ValidationReport(len(graphs), tuple(found))


@dataclass(frozen=True)
class FileValidation:
    """The outcome of :func:`validate_paths`: the report, input errors and cache use."""

    report: ValidationReport
    errors: tuple[InputError, ...]
    validated: int
    from_cache: int


def _validate_file(
    path: str, engine: str, index: ConceptIndex | None
) -> tuple[str | None, list[Violation], tuple[str, Location | None] | None]:
    try:
        graph = session_to_rdf(read_session(path, index=index))
    except InputError as exc:  # errors are rebuilt in the parent: not every subclass pickles
        return None, [], (str(exc), exc.location)
    return graph.session_id, _validate_one(graph, engine, index), None


def _error(message: str, location: Location | None) -> InputError:
    error = InputError(message)
    error.location = location
    return error


def validate_paths(
    paths: Sequence[str | Path],
    *,
    engine: str = "fast",
    jobs: int | None = None,
    cache: ValidationCache | None = None,
    index: ConceptIndex | None = None,
) -> FileValidation:
    """Read and validate session files, in parallel, reusing cached results of unchanged files.

    Files that cannot be read are returned as input errors (never cached); a session id used
    by two files is an input error for the second, as in :func:`mbtkg.loading.read_graphs`.
    """
    check_engine(engine)
    sources = [str(p) for p in paths]
    outcome: dict[str, tuple[str | None, list[Violation], tuple[str, Location | None] | None]] = {}
    keys: dict[str, str] = {}
    todo: list[str] = []
    for source in sources:
        if cache is not None:
            try:
                keys[source] = cache.key(Path(source).read_bytes(), engine=engine)
            except OSError:
                todo.append(source)  # the reader reports the problem
                continue
            hit = cache.get(keys[source], source=source)
            if hit is not None:
                outcome[source] = (hit.session_id, list(hit.violations), None)
                continue
        todo.append(source)
    jobs = max(1, jobs or default_jobs())
    if jobs == 1 or len(todo) < 2:
        results = [_validate_file(s, engine, index) for s in todo]
    else:
        with _pool(min(jobs, len(todo))) as pool:
            chunk = max(1, len(todo) // (jobs * 4))
            results = list(
                pool.map(
                    _validate_file, todo, [engine] * len(todo), [index] * len(todo), chunksize=chunk
                )
            )
    for source, result in zip(todo, results, strict=True):
        outcome[source] = result
        session_id, violations, problem = result
        if cache is not None and problem is None and session_id is not None and source in keys:
            cache.put(keys[source], CachedResult(session_id, tuple(violations)))
    found: list[Violation] = []
    errors: list[InputError] = []
    seen: dict[str, str] = {}
    sessions = 0
    for source in sources:
        session_id, violations, problem = outcome[source]
        if problem is not None or session_id is None:
            errors.append(_error(*(problem or ("cannot be read", None))))
            continue
        if session_id in seen:
            errors.append(
                InputError(
                    f"session id {session_id!r} is also used by {seen[session_id]}; "
                    "each session needs its own id",
                    Location(source),
                )
            )
            continue
        seen[session_id] = source
        sessions += 1
        found.extend(violations)
    report = ValidationReport(sessions, tuple(found))
    return FileValidation(report, tuple(errors), len(todo), len(sources) - len(todo))
