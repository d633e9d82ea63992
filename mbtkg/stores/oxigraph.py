"""The embedded store: Oxigraph in memory (the default) or on disk.

``replace_graphs`` is one transaction: either every graph is replaced or none is. Loads of many
sessions go through ``bulk_load`` (see :mod:`mbtkg.stores.oxigraph_bulk`): new graphs are
written with Oxigraph's fast loaders under a journal, and one transaction that also marks the
load committed ends it; opening a store undoes or finishes a load that was interrupted.
``select`` and ``ask`` run text built by mbtkg itself; user text goes through
``query_raw`` and ``update`` (or :func:`mbtkg.queries.run_query`), which refuse SERVICE and LOAD
on a parse before the engine sees the text (Oxigraph would otherwise fetch any URL a query
names); see :mod:`mbtkg.sparql_guard`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from ..errors import QueryError, StoreError
from ..sparql_guard import check_sparql
from .base import Rows
from .oxigraph_bulk import COMMIT_GRAPH, BulkGraphLoad, is_disk_full, journal_path, recover
from .oxigraph_lock import StoreLock
from .oxigraph_rows import converted_rows, rows_from_tsv


class OxigraphStore:
    """An Oxigraph store in memory (``path=None``) or in a directory on disk."""

    #: Capabilities (see :data:`mbtkg.stores.base.CAPABILITIES`): journaled bulk loads, and
    #: embedded in this process, so ``mbtkg serve`` can serve it.
    can_bulk_load = True
    servable = True
    #: A disk store can be compacted (:meth:`optimize`); in memory there is nothing to compact.
    compacts = True

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        selector: str | None = None,
        read_only: bool = False,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.selector = selector or ("oxigraph:memory" if path is None else f"oxigraph:{path}")
        #: Opened read-only (a disk store): takes no lock, so other processes may open the store
        #: too; it sees the store as it was when opened, and every write is refused.
        self.read_only = read_only and self.path is not None
        if self.read_only and self.path is not None and journal_path(self.path).exists():
            # an interrupted load must be undone or finished first, which needs a writer
            OxigraphStore(self.path, selector=self.selector).close()
        try:
            if self.path is None:
                self._store = ox.Store()
            elif self.read_only:
                self._store = ox.Store.read_only(str(self.path))
            else:
                self._store = ox.Store(str(self.path))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"the store at {self.path} is in use by another process (it holds the lock); "
                    "stop that process or choose another directory"
                ) from None
            full = "the disk is full, free some space: " if is_disk_full(exc) else ""
            raise StoreError(f"cannot open the store at {self.path}: {full}{exc}") from None
        #: The store's writer lock, held while open read-only (see keep_other_writers_out).
        self._writers_kept_out: StoreLock | None = None
        #: Graphs of an interrupted load that were dropped when the store was opened.
        self.recovered: tuple[str, ...] = ()
        #: True when opening the store finished an interrupted load that had committed.
        self.finished_load = False
        if self.path is not None and not self.read_only:
            try:
                recovery = recover(self._store, self.path)
            except OSError as exc:
                full = "the disk is full; free some space, then " if is_disk_full(exc) else ""
                raise StoreError(
                    f"cannot open the store at {self.path}: an interrupted load could not be "
                    f"undone or finished ({exc}); {full}open the store again"
                ) from None
            self.recovered, self.finished_load = recovery.dropped, recovery.finished

    @property
    def raw(self) -> ox.Store:
        """The underlying ``pyoxigraph.Store`` (for bulk writes; queries should use ``select``)."""
        return self._store

    def refuse_if_read_only(self) -> None:
        """Raise StoreError when this store was opened read-only."""
        if self.read_only:
            raise StoreError(
                f"{self.selector} was opened read-only; nothing was changed: open it for writing"
            )

    def bulk_load(self) -> BulkGraphLoad:
        """Start a load of many graphs: fast, bounded in memory, undone if it does not finish."""
        self.refuse_if_read_only()
        return BulkGraphLoad(self)

    def dialect(self) -> str:
        """Oxigraph speaks standard SPARQL 1.1."""
        return "standard"

    def replace_graphs(self, graphs: Mapping[str, Sequence[ox.Quad]]) -> None:
        """Replace each named graph by the given quads, all in one transaction.

        A graph that already holds exactly these quads is left alone (so reloading the same
        sessions, or the unchanged ontology, writes nothing). When none of the remaining graphs
        exists yet, the quads are added with one transactional ``extend``; otherwise one SPARQL
        Update drops and inserts them all.
        """
        self.refuse_if_read_only()
        changed = self.changed_graphs(graphs)
        if not changed:
            return
        try:
            self.replace_in_one_transaction(changed)
        except (OSError, SyntaxError, ValueError) as exc:
            full = "the disk is full; " if isinstance(exc, OSError) and is_disk_full(exc) else ""
            raise StoreError(
                f"the store {self.selector} refused the write, nothing was changed: {full}{exc}"
            ) from None
        if self.path is not None:
            try:
                self._store.flush()
            except OSError as exc:
                raise StoreError(
                    f"the write to {self.selector} was made, but the store could not flush it "
                    f"to its files ({exc}); it is replayed the next time the store is opened"
                ) from None

    def changed_graphs(
        self, graphs: Mapping[str, Sequence[ox.Quad]]
    ) -> dict[str, Sequence[ox.Quad]]:
        """The graphs that do not already hold exactly the given quads."""
        return {g: q for g, q in graphs.items() if not self._holds_exactly(g, q)}

    def replace_in_one_transaction(self, graphs: Mapping[str, Sequence[ox.Quad]]) -> None:
        """Replace each graph by its quads in one Oxigraph transaction (whole or not at all).

        When none of the graphs exists yet, one ``extend``; otherwise one SPARQL Update.
        Raises Oxigraph's own errors (OSError when the disk refuses the write).
        """
        if not any(self._store.contains_named_graph(ox.NamedNode(g)) for g in graphs):
            self._store.extend([q for quads in graphs.values() for q in quads])
        else:
            self._store.update(_replace_request(graphs))

    def _holds_exactly(self, graph: str, quads: Sequence[ox.Quad]) -> bool:
        node = ox.NamedNode(graph)
        if not self._store.contains_named_graph(node):
            return False
        if self.graph_size(graph) != len(set(quads)):
            return False
        return all(q in self._store for q in quads)

    def drop_graph(self, graph: str) -> bool:
        self.refuse_if_read_only()
        node = ox.NamedNode(graph)
        existed = self._store.contains_named_graph(node)
        if existed:
            self._store.update(f"DROP GRAPH <{graph}>")
            if self.path is not None:
                self._store.flush()
        return existed

    def graph_names(self) -> list[str]:
        """Every named graph, except the mark a load holds for a moment while it commits."""
        return sorted(
            g.value
            for g in self._store.named_graphs()
            if isinstance(g, ox.NamedNode) and g.value != COMMIT_GRAPH
        )

    def optimize(self) -> float | None:
        """Compact a disk store for reading (RocksDB's full compaction); return the seconds taken.

        A bulk load writes its data as new files beside the old ones, and each lookup then
        searches all of them: one session's answers on a freshly loaded 10,000-session store took
        up to 435 ms, and 1-13 ms once compacted (docs/performance.md). An in-memory store has
        nothing to compact (None). Raises StoreError for a store opened read-only, or when the
        disk fills up meanwhile (the data stays as it was).
        """
        self.refuse_if_read_only()
        if self.path is None:
            return None
        started = time.perf_counter()
        try:
            self._store.optimize()
        except OSError as exc:
            raise StoreError(
                f"compacting {self.selector} failed ({exc}); the data is as the load left it"
            ) from None
        return time.perf_counter() - started

    def graph_size(self, graph: str) -> int:
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))

    def select(self, sparql: str) -> Rows:
        result = self._solutions(sparql)
        columns = tuple(v.value for v in result.variables)
        # Oxigraph writes the answer as TSV faster than Python takes it as objects; the rare
        # answer the TSV reader does not read (a quoted triple) is asked for again as objects
        try:
            text = result.serialize(format=ox.QueryResultsFormat.TSV)
        except OSError as exc:
            raise QueryError(f"the query failed: {exc}") from None
        rows = rows_from_tsv(text or b"", len(columns))
        if rows is None:
            rows = converted_rows(self._solutions(sparql), len(columns))
        return Rows(columns, rows)

    def _solutions(self, sparql: str) -> ox.QuerySolutions:
        try:
            result = self._store.query(sparql)
        except SyntaxError as exc:
            raise QueryError(f"the query does not parse: {exc}") from None
        except OSError as exc:
            raise QueryError(f"the query failed: {exc}") from None
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        return result

    def ask(self, sparql: str) -> bool:
        try:
            result = self._store.query(sparql)
        except SyntaxError as exc:
            raise QueryError(f"the query does not parse: {exc}") from None
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def construct(self, sparql: str) -> list[ox.Triple]:
        """Run a CONSTRUCT or DESCRIBE query (text built or checked by mbtkg) and return its
        triples."""
        try:
            result = self._store.query(sparql)
            if not isinstance(result, ox.QueryTriples):
                raise QueryError("expected a CONSTRUCT or DESCRIBE query")
            return list(result)
        except SyntaxError as exc:
            raise QueryError(f"the query does not parse: {exc}") from None
        except OSError as exc:
            raise QueryError(f"the query failed: {exc}") from None

    def query_raw(self, sparql: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run any SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE) and return Oxigraph's answer.

        For user text (``mbtkg serve`` serialises the answer itself): checked on a parse first,
        SERVICE and updates refused (:func:`mbtkg.sparql_guard.check_sparql`).
        """
        check_sparql(sparql)
        try:
            return self._store.query(sparql)
        except SyntaxError as exc:
            raise QueryError(f"the query does not parse: {exc}") from None
        except OSError as exc:
            raise QueryError(f"the query failed: {exc}") from None

    def update(self, sparql: str) -> None:
        """Run a user's SPARQL Update request as one transaction, checked on a parse first:
        SERVICE and LOAD are refused (:func:`mbtkg.sparql_guard.check_sparql`)."""
        check_sparql(sparql, update=True)
        self.refuse_if_read_only()
        try:
            self._store.update(sparql)
        except SyntaxError as exc:
            raise QueryError(f"the update does not parse: {exc}") from None
        except OSError as exc:
            raise StoreError(f"the store refused the update, nothing was changed: {exc}") from None
        if self.path is not None:
            self._store.flush()

    def keep_other_writers_out(self) -> None:
        """Hold the store's writer lock while it is open read-only, so that no other process
        writes to it (``mbtkg serve --allow-update``); StoreError when one already does."""
        if self.path is None or not self.read_only:
            return
        if self._writers_kept_out is None:
            self._writers_kept_out = StoreLock(self.path, self.selector)
        self._writers_kept_out.take()

    def update_through_a_brief_writer(self, sparql: str) -> None:
        """Run a user's SPARQL Update on a disk store opened read-only, through a writer opened
        for this update alone; then open this store again, read-only, so it sees the update.

        This is how ``mbtkg serve`` writes to a disk store: its query workers are forked from
        the server, and a fork taken while a writer's background threads (flushes, compactions)
        hold one of the engine's locks leaves the worker waiting for that lock forever. Closing
        the writer waits for its background work, so between updates nothing in this process
        holds such a lock. The lock of :meth:`keep_other_writers_out`, if held, is handed to the
        writer and taken back. Raises StoreError when another process holds the store's lock."""
        if self.path is None or not self.read_only:
            self.update(sparql)
            return
        lock = self._writers_kept_out
        if lock is not None:
            lock.release()
        try:
            writer = OxigraphStore(self.path, selector=self.selector)
            try:
                writer.update(sparql)
            finally:
                writer.close()
                del writer  # the last reference: the engine closes, waiting for background work
        finally:
            if lock is not None:
                # should another process have taken the lock in between, the next update says
                # "in use" until it lets go, and takes the lock back then
                with contextlib.suppress(StoreError):
                    lock.take()
        self._store = ox.Store.read_only(str(self.path))

    def close(self) -> None:
        if self._writers_kept_out is not None:
            self._writers_kept_out.close()
        if self.path is not None and not self.read_only:
            # On a full disk the flush fails; every write was committed to the store's log
            # already (bulk writes as files of their own), and the next open replays the log.
            with contextlib.suppress(OSError):
                self._store.flush()
        del self._store


def _replace_request(graphs: Mapping[str, Sequence[ox.Quad]]) -> str:
    """One SPARQL Update that drops each graph and inserts its new quads."""
    parts = [f"DROP SILENT GRAPH <{g}>" for g in graphs]
    body: list[str] = []
    for g, quads in graphs.items():
        if quads:
            triples = " .\n".join(f"{q.subject} {q.predicate} {q.object}" for q in quads)
            body.append(f"GRAPH <{g}> {{\n{triples} .\n}}")
    if body:
        parts.append("INSERT DATA {\n" + "\n".join(body) + "\n}")
    return " ;\n".join(parts)
