"""Validate many sessions: in batches, across worker processes, skipping unchanged files.

Sessions are independent (every shape looks inside one session graph), so they can be
validated in any order and in parallel. They go to the fast engine in tasks of
:data:`BATCH_SIZE` sessions, each checked by one
:meth:`~mbtkg.validation.fast_shacl.engine.FastValidator.validate_many` call (a few sessions per store
and query run); each worker gets whole tasks.
Graphs travel to workers as N-Quads (how :class:`~mbtkg.sessions.to_rdf.SessionGraph`
pickles); files travel as paths and are read in the worker, so reading also runs in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ...concepts import ConceptIndex, default_index
from ...errors import InputError, Location
from ...process_pool import default_jobs, process_pool
from ...sessions import read_session, session_to_rdf
from ...sessions.to_rdf import SessionGraph
from ..cache import CachedResult, ValidationCache
from ..violations import ValidationReport, Violation, check_engine, validate_with_pyshacl
from .engine import FastValidator

T = TypeVar("T")

_validator: FastValidator | None = None  # one per process, built on first use
#: Fewer sessions than this per worker are validated in-process: starting workers costs more.
_MIN_PER_WORKER = 4
#: Files smaller than this all together are read and validated in-process, however many: a
#: worker's start and the trip of its results back cost more than the work it would take over
#: (about four generated 200-turn sessions, or a dozen of the bundled examples).
SMALL_INPUT_BYTES = 128 * 1024
#: Sessions per task: a worker validates a task with one ``validate_many`` call (which puts
#: about six 5,000-quad sessions in each store); smaller tasks balance the workers better,
#: larger ones send fewer messages.
BATCH_SIZE = 12


def use_workers(paths: Sequence[str], jobs: int, min_files: int = _MIN_PER_WORKER * 2) -> bool:
    """Whether files are worth worker processes: ``jobs`` above 1, at least ``min_files``
    files and at least :data:`SMALL_INPUT_BYTES` of them (a file that cannot be read counts
    as empty; its reader reports it)."""
    if jobs <= 1 or len(paths) < min_files:
        return False
    size = 0
    for path in paths:
        try:
            size += os.stat(path).st_size
        except OSError:
            continue
        if size >= SMALL_INPUT_BYTES:
            return True
    return False


def _fast_validator() -> FastValidator:
    global _validator
    if _validator is None:
        _validator = FastValidator()
    return _validator


def prepare_workers(engine: str, index: ConceptIndex | None = None) -> None:
    """Build here what every worker needs (the concept index, the fast engine with its compiled
    shapes), before worker processes start: forked workers inherit it instead of each building
    it or reading it from the cache."""
    if index is None:
        default_index()
    if engine == "fast":
        _fast_validator()


def validate_batch(
    graphs: Sequence[SessionGraph], engine: str = "fast", index: ConceptIndex | None = None
) -> list[list[Violation]]:
    """The violations of each graph, in order: with the fast engine, as one batch."""
    index = index or default_index()
    if engine == "pyshacl":
        return [validate_with_pyshacl(g, index=index) for g in graphs]
    return _fast_validator().validate_many(graphs, index=index)


def _batches(items: Sequence[T], jobs: int) -> list[Sequence[T]]:
    """Consecutive batches of at most BATCH_SIZE, small enough that every worker gets some."""
    size = max(1, min(BATCH_SIZE, -(-len(items) // jobs)))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _validate_graph_batch(
    graphs: Sequence[SessionGraph], engine: str, index: ConceptIndex | None
) -> list[Violation]:
    return [v for found in validate_batch(graphs, engine, index) for v in found]


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
        batches = _batches(graphs, 1)
        found = [v for batch in batches for v in _validate_graph_batch(batch, engine, index)]
    else:
        batches = _batches(graphs, jobs)
        prepare_workers(engine, index)
        with process_pool(min(jobs, len(batches))) as pool:
            results = pool.map(
                _validate_graph_batch, batches, [engine] * len(batches), [index] * len(batches)
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


Outcome = tuple[str | None, list[Violation], tuple[str, Location | None] | None]


def _validate_files(paths: Sequence[str], engine: str, index: ConceptIndex | None) -> list[Outcome]:
    """Read and validate files as one batch: (session id, violations, input error) each."""
    outcomes: list[Outcome] = []
    graphs: list[SessionGraph] = []
    for path in paths:
        try:
            graphs.append(session_to_rdf(read_session(path, index=index)))
            outcomes.append((graphs[-1].session_id, [], None))
        except InputError as exc:  # errors are rebuilt in the parent: not every subclass pickles
            outcomes.append((None, [], (str(exc), exc.location)))
    found = iter(validate_batch(graphs, engine, index))
    return [(sid, next(found), None) if problem is None else (sid, v, problem)
            for sid, v, problem in outcomes]  # fmt: skip


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
    progress: Callable[[str, int, int], None] | None = None,
) -> FileValidation:
    """Read and validate session files, in parallel, reusing cached results of unchanged files.

    Files that cannot be read are returned as input errors (never cached); a session id used
    by two files is an input error for the second, as in :func:`mbtkg.loading.read_graphs`.
    ``progress`` is called as ``progress("validate", files done, files)`` as batches finish
    (the hook of :data:`mbtkg.loading.Progress`).
    """
    check_engine(engine)
    sources = [str(p) for p in paths]
    outcome: dict[str, Outcome] = {}
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
    done = len(sources) - len(todo)
    results: list[Outcome] = []

    def collect(part: list[Outcome]) -> None:
        nonlocal done
        results.extend(part)
        done += len(part)
        if progress is not None:
            progress("validate", done, len(sources))

    if progress is not None:
        progress("validate", done, len(sources))
    if not use_workers(todo, jobs):
        # pySHACL gains nothing from batches and takes seconds a session: one at a time, so
        # that progress moves with each file
        per_batch = [[t] for t in todo] if engine == "pyshacl" else _batches(todo, 1)
        for batch in per_batch:
            collect(_validate_files(batch, engine, index))
    else:
        batches = _batches(todo, jobs)
        prepare_workers(engine, index)
        with process_pool(min(jobs, len(batches))) as pool:
            parts = pool.map(
                _validate_files, batches, [engine] * len(batches), [index] * len(batches)
            )
            for part in parts:
                collect(part)
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
