"""Read, validate and load session files into a store, all or nothing.

The flow is: each file -> session model -> session graph -> SHACL validation -> one atomic
write of every session graph (and the ontology graph) to the store. When any file fails to
read or validate, nothing is written, unless the caller asks to skip invalid files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .. import vocab
from ..concepts import (
    ConceptIndex,
    default_index,
    default_ontology_nquads,
    default_ontology_quads,
)
from ..errors import InputError, Location, StoreError, UnknownNameError, ValidationFailed
from ..session_reasoning.fast import infer_graph
from ..sessions import Session, SessionGraph, read_session, session_to_rdf
from ..stores.base import GraphLoad, Store
from ..validation.validate import ValidationReport, Violation, validate_graphs


@dataclass(frozen=True)
class LoadSummary:
    """What a load wrote: the sessions, their triple count, what was skipped and how long it took."""

    sessions: tuple[str, ...]
    triples: int
    skipped: tuple[str, ...]
    seconds: float
    #: Triples written to the sessions' inferred graphs (0 when the load did not infer).
    inferred: int = 0
    #: One line per skipped file: where (file and line) and why, for ``--skip-invalid``.
    reasons: tuple[str, ...] = ()

    def __str__(self) -> str:
        more = f" (+{self.inferred} inferred)" if self.inferred else ""
        text = (
            f"loaded {len(self.sessions)} session(s), {self.triples} triples{more}, "
            f"in {self.seconds:.2f} s"
        )
        if self.skipped:
            text += f"; skipped {len(self.skipped)} file(s): {', '.join(self.skipped)}"
        return text

    def describe(self, selector: str) -> str:
        """One line for the end of a load: what went where, and how many files were skipped.

        >>> LoadSummary(("s-1",), 120, ("bad.yaml",), 0.5).describe("oxigraph:memory")
        'loaded 1 session(s) (120 triples) into oxigraph:memory in 0.50 s; skipped 1 file(s)'
        >>> LoadSummary(("s-1",), 120, (), 0.5, inferred=80).describe("oxigraph:./kg")
        'loaded 1 session(s) (120 triples, +80 inferred) into oxigraph:./kg in 0.50 s'
        """
        more = f", +{self.inferred} inferred" if self.inferred else ""
        text = (
            f"loaded {len(self.sessions)} session(s) ({self.triples} triples{more}) into "
            f"{selector} in {self.seconds:.2f} s"
        )
        return text + (f"; skipped {len(self.skipped)} file(s)" if self.skipped else "")


#: Called as ``progress(stage, done, total)`` while a load runs; stages are "check" (files read,
#: converted and validated) and "write" for ``load``, "read", "validate" and "write" for
#: ``prepare`` and ``write``. The CLI turns these calls into a progress bar; the library never prints.
Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    """The default progress hook: nothing."""


class LoadInputError(InputError):
    """One or more files could not be read; ``errors`` holds one error per file."""

    def __init__(self, errors: Sequence[InputError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in errors))


def read_graphs(
    paths: Iterable[str | Path],
    *,
    index: ConceptIndex | None = None,
    progress: Progress | None = None,
) -> tuple[list[SessionGraph], list[InputError]]:
    """Read every file into a session graph; return the graphs and the per-file input errors."""
    index = index or default_index()
    report = progress or _no_progress
    graphs: list[SessionGraph] = []
    errors: list[InputError] = []
    seen: dict[str, str] = {}
    paths = list(paths)
    for done, path in enumerate(paths):
        report("read", done, len(paths))
        try:
            graph = session_to_rdf(read_session(path, index=index))
        except InputError as exc:
            errors.append(exc)
            continue
        if graph.session_id in seen:
            errors.append(
                InputError(
                    f"session id {graph.session_id!r} is also used by {seen[graph.session_id]}; "
                    "each session needs its own id"
                )
            )
            continue
        seen[graph.session_id] = str(path)
        graphs.append(graph)
    report("read", len(paths), len(paths))
    return graphs, errors


def validate_files(
    paths: Iterable[str | Path], *, index: ConceptIndex | None = None
) -> tuple[ValidationReport, list[InputError]]:
    """Read and validate files without loading them anywhere."""
    graphs, errors = read_graphs(paths, index=index)
    return validate_graphs(graphs, index=index), errors


#: The SHACL engine loads use unless told otherwise (see ``mbtkg.validation.validate.ENGINES``).
DEFAULT_ENGINE = "fast"


def ontology_graph_quads() -> list[ox.Quad]:
    """The ontology as quads of the store's ontology graph."""
    return list(default_ontology_quads())


@dataclass(frozen=True)
class PreparedLoad:
    """Sessions read and validated, ready to write: the graphs by name, what was skipped."""

    graphs: dict[str, Sequence[ox.Quad]]
    sessions: tuple[str, ...]
    triples: int
    skipped: tuple[str, ...]
    started: float


def prepare(
    paths: Iterable[str | Path],
    *,
    skip_invalid: bool = False,
    index: ConceptIndex | None = None,
    progress: Progress | None = None,
    engine: str = DEFAULT_ENGINE,
    infer: bool = True,
) -> PreparedLoad:
    """Read and validate session files; nothing is written yet (see ``write`` and ``load``).

    Raises LoadInputError when a file cannot be read and ValidationFailed when a session does
    not conform, unless ``skip_invalid``, which leaves such files out and names them instead.
    """
    started = time.perf_counter()
    report = progress or _no_progress
    graphs, errors = read_graphs(list(paths), index=index, progress=report)
    return prepare_graphs(
        graphs,
        errors,
        skip_invalid=skip_invalid,
        index=index,
        progress=report,
        started=started,
        engine=engine,
        infer=infer,
    )


def prepare_sessions(
    sessions: Iterable[Session],
    *,
    index: ConceptIndex | None = None,
    progress: Progress | None = None,
    engine: str = DEFAULT_ENGINE,
    infer: bool = True,
) -> PreparedLoad:
    """Validate sessions already read into the model (by an importer); nothing is written yet.

    Raises InputError when there is no session and ValidationFailed when one does not conform.
    """
    started = time.perf_counter()
    graphs = [session_to_rdf(s) for s in sessions]
    if not graphs:
        raise InputError("no sessions to load")
    return prepare_graphs(
        graphs,
        [],
        index=index,
        progress=progress,
        started=started,
        engine=engine,
        infer=infer,
    )


def prepare_graphs(
    graphs: Sequence[SessionGraph],
    errors: Sequence[InputError],
    *,
    skip_invalid: bool = False,
    index: ConceptIndex | None = None,
    progress: Progress | None = None,
    started: float | None = None,
    engine: str = DEFAULT_ENGINE,
    infer: bool = True,
) -> PreparedLoad:
    """Validate session graphs and assemble the one write that loads them with the ontology.

    ``engine`` is the SHACL engine: ``"fast"`` (the default; shapes compiled to SPARQL, checked
    against the reference by a differential test) or ``"pyshacl"`` (the reference itself).
    """
    started = time.perf_counter() if started is None else started
    report = progress or _no_progress
    if errors and not skip_invalid:
        raise LoadInputError(errors)
    report("validate", 0, 1)
    validation = validate_graphs(graphs, index=index, engine=engine)
    report("validate", 1, 1)
    invalid = {v.source for v in validation.violations}
    if invalid and not skip_invalid:
        raise ValidationFailed(
            f"{len(invalid)} file(s) do not conform; nothing was loaded\n{validation}", validation
        )
    keep = [g for g in graphs if g.source not in invalid]
    skipped = tuple(
        sorted({str(e.location.path) if e.location else str(e) for e in errors} | invalid)
    )
    batch: dict[str, Sequence[ox.Quad]] = {vocab.ONTOLOGY_GRAPH: ontology_graph_quads()}
    for g in keep:
        batch[g.graph] = g.quads
    for g in keep:
        extra = infer_graph(g.session_id, g.triples, g.nquads) if infer else b""
        batch[vocab.inferred_graph_iri(g.session_id)] = list(
            ox.parse(extra, format=ox.RdfFormat.N_QUADS)
        )
    return PreparedLoad(
        graphs=batch,
        sessions=tuple(g.session_id for g in keep),
        triples=sum(len(g) for g in keep),
        skipped=skipped,
        started=started,
    )


def write(prepared: PreparedLoad, store: Store, *, progress: Progress | None = None) -> LoadSummary:
    """Write prepared sessions (and the ontology) to a store in one atomic operation.

    Each session graph is replaced whole, so writing the same sessions again changes nothing.
    Raises StoreError when the store refuses the write; the store is then unchanged.
    """
    report = progress or _no_progress
    report("write", 0, 1)
    store.replace_graphs(prepared.graphs)
    report("write", 1, 1)
    return LoadSummary(
        sessions=prepared.sessions,
        triples=prepared.triples,
        skipped=prepared.skipped,
        seconds=time.perf_counter() - prepared.started,
    )


class _CollectedLoad:
    """For stores without a bulk path: keep every graph and write them in one ``replace_graphs``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._graphs: dict[str, Sequence[ox.Quad]] = {}

    def add(self, graph: str, nquads: bytes) -> None:
        self._graphs[graph] = list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))

    def commit(self, extra: Mapping[str, Sequence[ox.Quad]] | None = None) -> None:
        self._store.replace_graphs({**(extra or {}), **self._graphs})

    def abort(self) -> None:
        self._graphs = {}


def _graph_load(store: Store) -> GraphLoad:
    return store.bulk_load() if store.can_bulk_load else _CollectedLoad(store)


def load(
    paths: Iterable[str | Path],
    store: Store,
    *,
    skip_invalid: bool = False,
    index: ConceptIndex | None = None,
    progress: Progress | None = None,
    engine: str = DEFAULT_ENGINE,
    jobs: int | None = None,
    infer: bool = True,
) -> LoadSummary:
    """Validate session files and write them, with the ontology, to a store, all or nothing.

    Files are read, converted and validated in ``jobs`` worker processes (default: one per
    CPU) while this process writes the sessions that passed (see :mod:`mbtkg.loading.workers`);
    memory stays bounded however many files there are. Raises LoadInputError when a file
    cannot be read and ValidationFailed when a session does not conform; whatever had been
    written is then removed and the store is as it was. With ``skip_invalid``, such files are
    left out and named in the summary instead. ``progress`` is called as files are checked
    (stage ``"check"``) and as the load is committed (``"write"``). Loading the same files
    again leaves the store as it was. On an on-disk Oxigraph store, a process killed at any
    moment of the load leaves the store, once opened again, exactly as it was before the load
    or exactly as the load left it (see :mod:`mbtkg.stores.oxigraph_bulk`); a full disk ends
    the load with a StoreError that says so. With ``infer`` (the default), each session's
    OWL 2 RL entailments are written to its inferred graph (:mod:`mbtkg.session_reasoning.reference`) in the same
    load; without it, an inferred graph left by an earlier load of the session is emptied.
    """
    from .workers import iter_checked

    started = time.perf_counter()
    report = progress or _no_progress
    sources = [str(p) for p in paths]
    errors: list[InputError] = []
    duplicates: list[InputError] = []  # two conforming files with one id: never skipped
    violations: list[Violation] = []
    seen: dict[str, str] = {}  # session id -> the conforming file that has it
    kept: list[str] = []
    triples = 0
    inferred = 0
    checked = 0
    read = 0
    target = _graph_load(store)
    try:
        report("check", 0, len(sources))
        checked_chunks = iter_checked(sources, engine=engine, jobs=jobs, index=index, infer=infer)
        ontology_written = False
        for chunk, outcome in checked_chunks:
            if not ontology_written:
                # the ontology graph goes in with the sessions, as N-Quads, once the worker
                # processes have started (they fork when the first chunk is asked for): its
                # write then overlaps their checking instead of waiting for the commit
                target.add(vocab.ONTOLOGY_GRAPH, default_ontology_nquads())
                ontology_written = True
            chunk_errors = iter(outcome.input_errors())
            ready = []
            for slot in outcome.order:
                if slot < 0:
                    errors.append(next(chunk_errors))
                    continue
                session = outcome.sessions[slot]
                read += 1
                if session.violations:
                    # A file that does not conform claims no id: with skip_invalid, a
                    # conforming file with the same id still loads.
                    violations.extend(session.violations)
                    continue
                if session.session_id in seen:
                    duplicates.append(
                        InputError(
                            f"session id {session.session_id!r} is also used by "
                            f"{seen[session.session_id]}; each session needs its own id "
                            "(both files conform, so neither is skipped)",
                            Location(session.source),
                        )
                    )
                    continue
                seen[session.session_id] = session.source
                if duplicates or ((errors or violations) and not skip_invalid):
                    continue  # this load will fail: write nothing more
                ready.append(session)
                kept.append(session.session_id)
                triples += session.triples
            # the workers reasoned over each session; its inferred graph goes into the same
            # journal and commit as the session, and an empty one (--no-infer) replaces what
            # an earlier load inferred
            for session in ready:
                target.add(session.graph, session.nquads)
                target.add(vocab.inferred_graph_iri(session.session_id), session.inferred)
                inferred += session.inferred_triples
            checked += len(chunk)
            report("check", checked, len(sources))
        if duplicates or (errors and not skip_invalid):
            raise LoadInputError([*([] if skip_invalid else errors), *duplicates])
        invalid = {v.source for v in violations}
        if invalid and not skip_invalid:
            validation = ValidationReport(read, tuple(violations))
            raise ValidationFailed(
                f"{len(invalid)} file(s) do not conform; nothing was loaded\n{validation}",
                validation,
            )
        report("write", 0, 1)
        if not ontology_written:
            target.add(vocab.ONTOLOGY_GRAPH, default_ontology_nquads())
        target.commit()
        report("write", 1, 1)
    except BaseException:
        target.abort()
        raise
    skipped = tuple(
        sorted({str(e.location.path) if e.location else str(e) for e in errors} | invalid)
    )
    return LoadSummary(
        sessions=tuple(kept),
        triples=triples,
        skipped=skipped,
        seconds=time.perf_counter() - started,
        inferred=inferred,
        reasons=_skip_reasons(errors, violations),
    )


def _at(text: str) -> str:
    """``12:3: what`` as ``line 12, column 3: what`` (and ``12: what`` as ``line 12: what``)."""
    head, sep, rest = text.partition(": ")
    numbers = head.split(":")
    if not sep or not all(n.isdigit() for n in numbers) or len(numbers) > 2:
        return text
    where = f"line {numbers[0]}" + (f", column {numbers[1]}" if len(numbers) == 2 else "")
    return f"{where}: {rest}"


def _skip_reasons(errors: Sequence[InputError], violations: Sequence[Violation]) -> tuple[str, ...]:
    """One line per skipped file, ``FILE: cannot be read|does not conform: line N: why``: the
    first problem found in it (messages never quote session text).

    >>> _at("7:2: a tab")
    'line 7, column 2: a tab'
    """
    lines: dict[str, str] = {}
    for error in errors:
        text = str(error).splitlines() or [type(error).__name__]
        line = text[0]
        more = ""
        if len(text) > 1 and line.endswith(":"):  # "N problems in FILE:" then one per line
            rest = [t.strip() for t in text[1:] if t.strip()]
            line = rest[0]
            more = f" (and {len(rest) - 1} more problem(s))" if len(rest) > 1 else ""
        path = str(error.location.path) if error.location else ""
        if path and line.startswith(f"{path}:"):
            line = _at(line[len(path) + 1 :].lstrip())
        lines.setdefault(path or line, f"{path or '?'}: cannot be read: {line}{more}")
    counts: dict[str, int] = {}
    for v in violations:
        counts[v.source] = counts.get(v.source, 0) + 1
    for v in violations:  # the first violation says why (str(v) never quotes session text)
        others = counts[v.source] - 1
        why = _at(str(v)[len(v.source) + 1 :])
        lines.setdefault(
            v.source,
            f"{v.source}: does not conform: {why}"
            + (f" (and {others} more violation(s))" if others else ""),
        )
    return tuple(lines[k] for k in sorted(lines))


def session_ids(store: Store) -> list[str]:
    """The ids of the sessions a store holds."""
    ids = (vocab.session_id_from_graph(g) for g in store.graph_names())
    return sorted(i for i in ids if i is not None)


@dataclass(frozen=True)
class SessionInfo:
    """One session a store holds: its id, graph, and how many triples, turns and annotations."""

    session_id: str
    graph: str
    triples: int
    turns: int
    annotations: int


def _counts(store: Store, pattern: str) -> dict[str, int]:
    rows = store.select(
        f"SELECT ?g (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH ?g {{ {pattern} }} "
        f'FILTER (STRSTARTS(STR(?g), "{vocab.DATA}session/")) }} GROUP BY ?g'
    )
    return {str(r[0]): int(r[1].value or 0) for r in rows.rows if r[0] is not None and r[1]}


def session_overview(store: Store) -> list[SessionInfo]:
    """What a store holds: one SessionInfo per session graph, sorted by id."""
    triples = {
        str(r[0]): int(r[1].value or 0)
        for r in store.select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER (STRSTARTS(STR(?g), "{vocab.DATA}session/")) }} GROUP BY ?g'
        ).rows
        if r[0] is not None and r[1] is not None
    }
    turns = _counts(store, f"?x a <{vocab.MBT}Turn>")
    annotations = _counts(store, f"?x a <{vocab.OA}Annotation>")
    out = []
    for graph, n in triples.items():
        sid = vocab.session_id_from_graph(graph)
        if sid is not None:
            out.append(SessionInfo(sid, graph, n, turns.get(graph, 0), annotations.get(graph, 0)))
    return sorted(out, key=lambda s: s.session_id)


def drop_session(store: Store, session_id: str) -> None:
    """Remove one session's graph. Raises UnknownNameError (with suggestions) for an unknown id."""
    known = session_ids(store)
    if session_id not in known:
        hits = ConceptIndex.suggest(session_id, known)
        hint = f"did you mean {hits[0]!r}? " if hits else ""
        listing = ", ".join(known) if known else "none"
        raise UnknownNameError(
            f"the store {store.selector} holds no session {session_id!r}; {hint}"
            f"sessions there: {listing}",
            suggestions=tuple(hits),
        )
    # the inferred graph first: a drop cut short leaves the session as a --no-infer load would
    store.drop_graph(vocab.inferred_graph_iri(session_id))
    if not store.drop_graph(vocab.session_iri(session_id)):
        raise StoreError(f"session {session_id!r} vanished from {store.selector} while dropping it")
