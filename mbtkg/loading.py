"""Read, validate and load session files into a store, all or nothing.

The flow is: each file -> session model -> session graph -> SHACL validation -> one atomic
write of every session graph (and the ontology graph) to the store. When any file fails to
read or validate, nothing is written, unless the caller asks to skip invalid files.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from . import vocab
from .concepts import ConceptIndex, default_index, default_ontology_quads
from .errors import InputError, ValidationFailed
from .sessions import SessionGraph, read_session, session_to_rdf
from .stores.base import Store
from .validate import ValidationReport, validate_graphs


@dataclass(frozen=True)
class LoadSummary:
    """What a load wrote: the sessions, their triple count, what was skipped and how long it took."""

    sessions: tuple[str, ...]
    triples: int
    skipped: tuple[str, ...]
    seconds: float

    def __str__(self) -> str:
        text = f"loaded {len(self.sessions)} session(s), {self.triples} triples, in {self.seconds:.2f} s"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} invalid file(s): {', '.join(self.skipped)}"
        return text


class LoadInputError(InputError):
    """One or more files could not be read; ``errors`` holds one error per file."""

    def __init__(self, errors: Sequence[InputError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in errors))


def read_graphs(
    paths: Iterable[str | Path], *, index: ConceptIndex | None = None
) -> tuple[list[SessionGraph], list[InputError]]:
    """Read every file into a session graph; return the graphs and the per-file input errors."""
    index = index or default_index()
    graphs: list[SessionGraph] = []
    errors: list[InputError] = []
    seen: dict[str, str] = {}
    for path in paths:
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
    return graphs, errors


def validate_files(
    paths: Iterable[str | Path], *, index: ConceptIndex | None = None
) -> tuple[ValidationReport, list[InputError]]:
    """Read and validate files without loading them anywhere."""
    graphs, errors = read_graphs(paths, index=index)
    return validate_graphs(graphs, index=index), errors


def ontology_graph_quads() -> list[ox.Quad]:
    """The ontology as quads of the store's ontology graph."""
    return list(default_ontology_quads())


def load(
    paths: Iterable[str | Path],
    store: Store,
    *,
    skip_invalid: bool = False,
    index: ConceptIndex | None = None,
) -> LoadSummary:
    """Validate session files and write them, with the ontology, to a store in one operation.

    Raises LoadInputError when a file cannot be read and ValidationFailed when a session does
    not conform; the store is then unchanged. With ``skip_invalid``, such files are left out
    and named in the summary instead.
    """
    started = time.perf_counter()
    paths = list(paths)
    graphs, errors = read_graphs(paths, index=index)
    if errors and not skip_invalid:
        raise LoadInputError(errors)
    report = validate_graphs(graphs, index=index)
    invalid = {v.source for v in report.violations}
    if invalid and not skip_invalid:
        raise ValidationFailed(
            f"{len(invalid)} file(s) do not conform; nothing was loaded\n{report}", report
        )
    keep = [g for g in graphs if g.source not in invalid]
    skipped = tuple(
        sorted({str(e.location.path) if e.location else str(e) for e in errors} | invalid)
    )
    batch: dict[str, Sequence[ox.Quad]] = {vocab.ONTOLOGY_GRAPH: ontology_graph_quads()}
    for g in keep:
        batch[g.graph] = g.quads
    store.replace_graphs(batch)
    return LoadSummary(
        sessions=tuple(g.session_id for g in keep),
        triples=sum(len(g) for g in keep),
        skipped=skipped,
        seconds=time.perf_counter() - started,
    )


def session_ids(store: Store) -> list[str]:
    """The ids of the sessions a store holds."""
    ids = (vocab.session_id_from_graph(g) for g in store.graph_names())
    return sorted(i for i in ids if i is not None)
