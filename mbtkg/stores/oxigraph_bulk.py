"""Add many graphs to an Oxigraph store quickly, all or nothing, even if the process is killed.

A large load cannot be one transaction without holding everything in memory, and Oxigraph's
transactional writes to disk are several times slower than its bulk loader. So new graphs are
written as they arrive, with Oxigraph's fast loaders, and every graph is named in a journal
(with the load's random token) before any of its quads is written. A load then ends in one of
two ways:

- it commits: one transaction replaces the graphs that already existed and the ontology graph
  *and* writes a commit mark, a quad naming the load's token in the graph ``COMMIT_GRAPH``.
  That transaction is the commit point: Oxigraph applies it whole or not at all. Then the
  journal is deleted and, last, the mark is dropped;
- it aborts (bad input, an error, Ctrl-C, a full disk): the graphs it added are dropped, the
  graphs it would have replaced were never touched, and the journal is deleted.

A process killed at any moment leaves the journal behind, and the next process that opens the
store finishes the job (see :func:`recover`): if the store holds the commit mark of the
journal's token, the load had committed and is kept (only the journal and the mark are
removed); otherwise every graph the journal names is dropped. Each recovery step can itself be
interrupted and run again. So the store always ends exactly as it was before the load or
exactly as the load left it, never a mix.

While a load runs, a query on the same store (in the same process) may see some of the new
sessions; no reader ever sees them after a failed load. The journal is the file
``mbtkg-load-journal`` in the store's directory; in-memory stores keep no journal (a killed
process takes them with it).

``checkpoint`` is called with the name of each step once it is done; it does nothing, except
in ``tests/test_store_disk_crash.py``, which replaces it to kill the process at every step.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ..errors import StoreError

if TYPE_CHECKING:
    from .oxigraph import OxigraphStore

JOURNAL = "mbtkg-load-journal"
_HEADER = "# mbtkg load journal 2: graphs added by a load that has not finished\n"
_TOKEN = "token "
_IRI = re.compile(r"[a-z][a-z0-9+.-]*:[^\s<>\"{}|^`\\]+")
#: The graph that holds a load's commit mark between its commit and the journal's removal.
COMMIT_GRAPH = "https://w3id.org/mbtkg/graph/load-commit"
_COMMITTED = ox.NamedNode(f"{COMMIT_GRAPH}#committed")
#: New graphs are handed to an on-disk store in pieces of about this many bytes of N-Quads:
#: each bulk load there writes files of its own, so few large pieces are faster.
FLUSH_BYTES = 64 * 1024 * 1024
#: An in-memory store is given each graph as it arrives: its loader costs the same in small
#: pieces, and the loading process would otherwise wait idle for the workers, then write all
#: at the end (a tenth of a second of a ten-session load).
MEMORY_FLUSH_BYTES = 0


def _no_checkpoint(step: str) -> None:
    """The default step hook: nothing."""


#: Called as ``checkpoint(step)`` after each durable step of a load or a recovery (a test hook).
checkpoint: Callable[[str], None] = _no_checkpoint


def journal_path(directory: Path) -> Path:
    """Where the journal of a store in ``directory`` lives."""
    return directory / JOURNAL


def commit_mark(token: str) -> ox.Quad:
    """The quad whose presence says that the load with this token committed."""
    graph = ox.NamedNode(COMMIT_GRAPH)
    return ox.Quad(graph, _COMMITTED, ox.Literal(token), graph)


class Recovery:
    """What opening a store did about a load that had not finished."""

    def __init__(self, dropped: tuple[str, ...] = (), finished: bool = False) -> None:
        #: Graphs of an uncommitted load that were dropped (the load was undone).
        self.dropped = dropped
        #: True when the load had committed and only its journal and mark were cleared.
        self.finished = finished


def recover(raw: ox.Store, directory: Path) -> Recovery:
    """Undo or finish an interrupted load, if its journal is there (see the module's doc)."""
    path = journal_path(directory)
    graph = ox.NamedNode(COMMIT_GRAPH)
    remove_stray_bulk_files(directory)
    if not path.exists():
        if raw.contains_named_graph(graph):  # killed after the journal went, before the mark
            raw.update(f"DROP SILENT GRAPH <{COMMIT_GRAPH}>")
        return Recovery()
    token, names = _read_journal(path)
    if token is not None and commit_mark(token) in raw:
        _remove_journal(path)
        checkpoint("recovery: journal removed")
        raw.update(f"DROP SILENT GRAPH <{COMMIT_GRAPH}>")
        return Recovery(finished=True)
    _drop(raw, names)
    raw.flush()
    checkpoint("recovery: graphs dropped")
    _remove_journal(path)
    if raw.contains_named_graph(graph):
        raw.update(f"DROP SILENT GRAPH <{COMMIT_GRAPH}>")
    return Recovery(dropped=names)


def _read_journal(path: Path) -> tuple[str | None, tuple[str, ...]]:
    """The token (None in a journal written before tokens existed) and the graph names."""
    token = None
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith(_TOKEN):
            token = line[len(_TOKEN) :]
        elif line and not line.startswith("#") and _IRI.fullmatch(line):
            names.append(line)  # a line cut short by a kill names a graph never written
    return token, tuple(names)


def _remove_journal(path: Path) -> None:
    """Delete the journal and make its deletion durable before anything that depends on it."""
    path.unlink()
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stray_bulk_files(directory: Path) -> None:
    """Delete the temporary files of a bulk write that failed or was killed: Oxigraph writes
    ``bulk-*.sst`` files next to its own and moves them in when a piece is written, but leaves
    them behind when the write fails (on a full disk they hold the space an undo needs)."""
    for stray in directory.glob("bulk-*.sst"):
        stray.unlink(missing_ok=True)


def _drop(raw: ox.Store, names: Sequence[str]) -> None:
    for start in range(0, len(names), 500):
        part = names[start : start + 500]
        raw.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in part))


def is_disk_full(exc: OSError) -> bool:
    """Whether a write failed because the disk (or the process's file size limit) is full."""
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left on device" in text or "File too large" in text or "quota" in text


class BulkGraphLoad:
    """One load into an Oxigraph store: ``add`` graphs, then ``commit`` or ``abort``."""

    def __init__(self, store: OxigraphStore, *, flush_bytes: int | None = None) -> None:
        self._store = store  # never keep store.raw: close() must be able to release it
        self._disk = store.path is not None
        if flush_bytes is None:
            flush_bytes = FLUSH_BYTES if self._disk else MEMORY_FLUSH_BYTES
        self._flush_bytes = flush_bytes
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._added: list[str] = []  # graphs named in the journal (written or about to be)
        self._pending: list[str] = []  # graphs in the buffer, not yet in the journal
        self._existing: dict[str, bytes] = {}  # graphs the store held before: replaced at commit
        self._names: set[str] = set()
        self._journal = None if store.path is None else journal_path(store.path)
        self._token = secrets.token_hex(16)
        self._ended = False
        if store.path is not None and journal_path(store.path).exists():
            # An earlier load in this process could not tidy up (a full disk): settle it first,
            # so that this load's journal starts fresh, with this load's token.
            try:
                recover(store.raw, store.path)
            except OSError as exc:
                raise _write_failure(store.selector, exc, undone=False) from None

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
            self._guarded(self._flush)

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
        except (SyntaxError, ValueError) as exc:
            raise StoreError(f"the store refused the write: {exc}") from None
        checkpoint("bulk write")

    def _note(self, graphs: Sequence[str]) -> None:
        """Name graphs in the journal, durably, before any of their quads is written."""
        self._added.extend(graphs)
        if self._journal is None:
            return
        new = not self._journal.exists()
        with self._journal.open("a", encoding="utf-8") as f:
            if new:
                f.write(f"{_HEADER}{_TOKEN}{self._token}\n")
            f.write("".join(f"{g}\n" for g in graphs))
            f.flush()
            os.fsync(f.fileno())
        if new:
            _sync_directory(self._journal.parent)
        checkpoint("journal")

    def commit(self, extra: Mapping[str, Sequence[ox.Quad]] | None = None) -> None:
        """Write what is left, then replace existing graphs and ``extra`` ones and mark the
        load committed in one transaction, and finish."""
        self._guarded(lambda: self._commit(extra))

    def _commit(self, extra: Mapping[str, Sequence[ox.Quad]] | None) -> None:
        self._flush()
        replace: dict[str, Sequence[ox.Quad]] = dict(extra or {})
        for graph, data in self._existing.items():
            replace[graph] = list(ox.parse(data, format=ox.RdfFormat.N_QUADS))
        changed = self._store.changed_graphs(replace)
        if self._journal is not None and self._journal.exists():
            changed[COMMIT_GRAPH] = [commit_mark(self._token)]
        checkpoint("ready")
        if changed:
            try:  # the commit point: one transaction, applied whole or not at all
                self._store.replace_in_one_transaction(changed)
            except (SyntaxError, ValueError) as exc:
                raise StoreError(f"the store refused the write: {exc}") from None
        self._ended = True
        checkpoint("committed")
        if self._disk:
            self._store.raw.flush()
        if self._journal is not None and self._journal.exists():
            _remove_journal(self._journal)
            checkpoint("journal removed")
            self._store.raw.update(f"DROP SILENT GRAPH <{COMMIT_GRAPH}>")
        self._added = []
        checkpoint("finished")

    def _guarded(self, step: Callable[[], None]) -> None:
        """Run a writing step; an OSError (a full disk, a failing device) aborts the load and
        becomes a StoreError that names the store and says what became of it."""
        try:
            step()
        except OSError as exc:
            if self._ended:  # committed: only the clean-up failed, the next open finishes it
                raise StoreError(
                    f"the load into {self._store.selector} was saved, but tidying up after it "
                    f"failed ({exc}); the next open of the store finishes that"
                ) from None
            undone = self._try_abort()
            raise _write_failure(self._store.selector, exc, undone) from None

    def abort(self) -> None:
        """Drop every graph this load added; the store is as it was before the load.

        Raises StoreError when that cannot be done now; the journal then stays, and the next
        open of the store drops the graphs.
        """
        if self._ended:
            return
        try:
            self._abort()
        except OSError as exc:
            raise StoreError(
                f"the load into {self._store.selector} failed and could not be undone now "
                f"({exc}); the sessions it wrote are dropped the next time the store is opened"
            ) from None

    def _try_abort(self) -> bool:
        try:
            self._abort()
        except OSError:
            return False
        return True

    def _abort(self) -> None:
        self._ended = True
        self._buffer, self._buffered, self._pending = [], 0, []
        if self._store.path is not None:
            remove_stray_bulk_files(self._store.path)
        _drop(self._store.raw, self._added)
        if self._disk:
            self._store.raw.flush()
        checkpoint("undone")
        self._added = []
        if self._journal is not None and self._journal.exists():
            _remove_journal(self._journal)


def _write_failure(selector: str, exc: OSError, undone: bool) -> StoreError:
    """The message for a write that failed part-way: what happened, and the store's state."""
    if undone:
        state = "nothing was loaded and the store is as it was"
    else:
        state = (
            "nothing was loaded; the sessions written so far could not be removed now and are "
            "dropped the next time the store is opened (no query sees them before)"
        )
    if is_disk_full(exc):
        return StoreError(
            f"the store {selector} ran out of disk space ({exc}); {state}; "
            "free some space and load again"
        )
    return StoreError(f"the store {selector} refused the write ({exc}); {state}")
