"""Add many new graphs to an Oxigraph store quickly, and undo them if the load does not finish.

A large load cannot be one transaction without holding everything in memory, and Oxigraph's
transactional writes to disk are several times slower than its bulk loader. So new graphs are
written as they arrive, with Oxigraph's fast loaders, and every graph is named in a journal
before any of its quads is written:

- a load that finishes commits: graphs that already existed (replaced or unchanged) and the
  ontology graph go through the store's transactional ``replace_graphs``, then the journal is
  deleted;
- a load that fails (bad input, an error, Ctrl-C) aborts: the graphs it added are dropped and
  the store is as it was;
- a process killed in the middle leaves the journal on disk, and the next process that opens
  the store drops the graphs it names first (see :func:`recover`).

While a load runs, a query on the same store (in the same process) may see some of the new
sessions; no reader ever sees them after a failed load. The journal is the file
``mbtkg-load-journal`` in the store's directory; in-memory stores keep it in memory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ..errors import StoreError

if TYPE_CHECKING:
    from .oxigraph import OxigraphStore

JOURNAL = "mbtkg-load-journal"
_HEADER = "# mbtkg load journal 1: graphs added by a load that has not finished\n"
#: New graphs are handed to Oxigraph in pieces of about this many bytes of N-Quads.
FLUSH_BYTES = 64 * 1024 * 1024


def journal_path(directory: Path) -> Path:
    """Where the journal of a store in ``directory`` lives."""
    return directory / JOURNAL


def recover(raw: ox.Store, directory: Path) -> tuple[str, ...]:
    """Drop the graphs an interrupted load added, if its journal is there; return their names."""
    path = journal_path(directory)
    if not path.exists():
        return ()
    names = tuple(
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    _drop(raw, names)
    raw.flush()
    path.unlink()
    return names


def _drop(raw: ox.Store, names: Sequence[str]) -> None:
    for start in range(0, len(names), 500):
        part = names[start : start + 500]
        raw.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in part))


class BulkGraphLoad:
    """One load into an Oxigraph store: ``add`` graphs, then ``commit`` or ``abort``."""

    def __init__(self, store: OxigraphStore, *, flush_bytes: int | None = None) -> None:
        self._store = store  # never keep store.raw: close() must be able to release it
        self._disk = store.path is not None
        self._flush_bytes = FLUSH_BYTES if flush_bytes is None else flush_bytes
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._added: list[str] = []  # graphs named in the journal (written or about to be)
        self._pending: list[str] = []  # graphs in the buffer, not yet in the journal
        self._existing: dict[str, bytes] = {}  # graphs the store held before: replaced at commit
        self._names: set[str] = set()
        self._journal = None if store.path is None else journal_path(store.path)

    def add(self, graph: str, nquads: bytes) -> None:
        """Queue one graph (its quads as N-Quads, all in that graph) to be written."""
        if graph in self._names:
            raise StoreError(f"the graph <{graph}> was given twice in one load")
        self._names.add(graph)
        if self._store.raw.contains_named_graph(ox.NamedNode(graph)):
            self._existing[graph] = nquads
            return
        self._buffer.append(nquads)
        self._buffered += len(nquads)
        self._pending.append(graph)
        if self._buffered >= self._flush_bytes:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        self._note(self._pending)
        data = b"".join(self._buffer)
        self._buffer, self._buffered, self._pending = [], 0, []
        try:
            if self._disk:
                self._store.raw.bulk_load(data, format=ox.RdfFormat.N_QUADS, lenient=True)
            else:
                self._store.raw.load(data, format=ox.RdfFormat.N_QUADS, lenient=True)
        except (OSError, SyntaxError, ValueError) as exc:
            raise StoreError(f"the store refused the write: {exc}") from None

    def _note(self, graphs: Sequence[str]) -> None:
        """Name graphs in the journal, durably, before any of their quads is written."""
        self._added.extend(graphs)
        if self._journal is None:
            return
        new = not self._journal.exists()
        with self._journal.open("a", encoding="utf-8") as f:
            if new:
                f.write(_HEADER)
            f.write("".join(f"{g}\n" for g in graphs))
            f.flush()
            os.fsync(f.fileno())

    def commit(self, extra: Mapping[str, Sequence[ox.Quad]] | None = None) -> None:
        """Write what is left, replace existing graphs and ``extra`` ones atomically, and finish."""
        self._flush()
        replace: dict[str, Sequence[ox.Quad]] = dict(extra or {})
        for graph, data in self._existing.items():
            replace[graph] = list(ox.parse(data, format=ox.RdfFormat.N_QUADS))
        if replace:
            self._store.replace_graphs(replace)
        if self._disk:
            self._store.raw.flush()
        self._finish()

    def abort(self) -> None:
        """Drop every graph this load added; the store is as it was before the load."""
        self._buffer, self._buffered, self._pending = [], 0, []
        _drop(self._store.raw, self._added)
        if self._disk:
            self._store.raw.flush()
        self._finish()

    def _finish(self) -> None:
        self._added = []
        if self._journal is not None and self._journal.exists():
            self._journal.unlink()
