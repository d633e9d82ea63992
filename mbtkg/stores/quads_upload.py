"""Writing many graphs to a SPARQL server in few requests, when its Graph Store endpoint takes quads.

A load of one session used to cost three requests per graph (an upload to a staging graph, then
a ``MOVE`` that copies it onto its target), and ``MOVE`` made the server copy every quad again:
loading one session into ``oxigraph serve`` took seconds. A server whose Graph Store endpoint
accepts ``POST`` of N-Quads (the capability, probed once per store by
:func:`probe_quads_capability`; ``oxigraph serve`` has it, Virtuoso's endpoint does not) is
written to like this instead:

1. one query asks which of the target graphs already hold triples;
2. the graphs that do not exist yet are sent as N-Quads, straight to their names, in ``POST``
   requests of about :data:`BATCH_BYTES` each (a graph is never split over two requests);
3. the graphs that exist (a session loaded again, the ontology graph) are replaced by one
   SPARQL Update request: ``DROP SILENT GRAPH`` for each, then one ``INSERT DATA`` with their
   new triples.

If a request fails, the graphs the load created are dropped again, and the graphs it would have
replaced are untouched (the update in step 3 is the last request). On a server that applies each
request as one transaction (Oxigraph does), a failed load therefore leaves the store as it
was, with two limits said in docs/stores.md: a reader may see the new sessions of step 2 before
the load ends, and if the client itself dies between step 2 and the end, the new graphs written
so far stay (each whole).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence

import pyoxigraph as ox

from ..errors import StoreError

#: Media type of the batched uploads.
NQUADS = "application/n-quads"
#: A batched upload carries about this many bytes of N-Quads (one graph may exceed it alone).
BATCH_BYTES = 32 * 2**20
_PROBE = "urn:x-mbtkg:quads-probe"

#: ``send(body)`` posts N-Quads to the Graph Store endpoint; ``update(sparql, what)`` sends
#: one SPARQL Update request; ``ask(sparql)`` runs an ASK query. Each raises StoreError.
Send = Callable[[bytes], None]
Update = Callable[[str, str], None]
Ask = Callable[[str], bool]


def probe_quads_capability(send: Send, update: Update, ask: Ask, staging_prefix: str) -> bool:
    """Whether the Graph Store endpoint stores a POSTed quad in the graph it names.

    One quad goes to a fresh graph under ``staging_prefix``; the answer is whether an ASK then
    finds it there. The probe graph (and the quad, should the server have put it in its default
    graph) is removed again, whatever the answer.
    """
    token = secrets.token_hex(8)
    graph = f"{staging_prefix}{token}/quads-probe"
    triple = f'<{_PROBE}> <{_PROBE}> "{token}"'
    try:
        send(f"{triple} <{graph}> .\n".encode())
        found = ask(f"ASK {{ GRAPH <{graph}> {{ {triple} }} }}")
    except StoreError:
        found = False
    with contextlib.suppress(StoreError):
        update(
            f"DROP SILENT GRAPH <{graph}> ;\nDELETE DATA {{ {triple} }}", "removing the quads probe"
        )
    return found


def quads_text(graph: str, quads: Sequence[ox.Quad]) -> bytes:
    """The N-Quads of ``quads`` put in ``graph``, whatever graph they named."""
    name = ox.NamedNode(graph)
    text = ox.serialize(
        (ox.Quad(q.subject, q.predicate, q.object, name) for q in quads),
        format=ox.RdfFormat.N_QUADS,
    )
    return text or b""


def in_own_graph(graph: str, nquads: bytes) -> bytes:
    """``nquads`` with every quad in ``graph``: as given when each line already names it."""
    suffix = f" <{graph}> .\n".encode()
    if nquads.endswith(b"\n") and nquads.count(b"\n") == nquads.count(suffix):
        return nquads
    return quads_text(graph, list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS)))


def _triples_text(graph: str, nquads: bytes) -> str:
    """The triples of one graph's N-Quads as the body of a ``GRAPH <g> { }`` block."""
    suffix = f" <{graph}> .".encode()
    lines = nquads.splitlines()
    if all(line.endswith(suffix) for line in lines):
        cut = len(suffix)
        return "\n".join(line[:-cut].decode() + " ." for line in lines)
    return "\n".join(
        f"{q.subject} {q.predicate} {q.object} ."
        for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS)
    )


def batches(graphs: Mapping[str, bytes], limit: int = BATCH_BYTES) -> Iterator[list[str]]:
    """The graph names grouped into uploads of about ``limit`` bytes, whole graphs each."""
    group: list[str] = []
    size = 0
    for name, body in graphs.items():
        if group and size + len(body) > limit:
            yield group
            group, size = [], 0
        group.append(name)
        size += len(body)
    if group:
        yield group


class QuadsWriter:
    """Graphs handed over one by one, sent in batches as they come, replaced ones at the commit.

    ``existing(names)`` tells which of the names hold triples on the server (one query per
    batch). New graphs are posted as soon as about ``limit`` bytes are waiting, so the server
    writes while the caller is still reading and validating; graphs that exist wait for the
    one update of :meth:`commit`. :meth:`abort`, or any failed request, drops the graphs this
    writer created.
    """

    def __init__(
        self,
        *,
        send: Send,
        update: Update,
        existing: Callable[[Sequence[str]], set[str]],
        limit: int | None = None,
    ) -> None:
        self._send, self._update, self._existing = send, update, existing
        self._limit = BATCH_BYTES if limit is None else limit
        self._pending: dict[str, bytes] = {}
        self._pending_bytes = 0
        self._replaced: dict[str, bytes] = {}
        self.created: list[str] = []
        #: Requests sent that write (uploads and the final update).
        self.requests = 0

    def add(self, graph: str, nquads: bytes) -> None:
        """Take one graph's N-Quads (every line naming ``graph``)."""
        self._pending[graph] = nquads
        self._pending_bytes += len(nquads)
        if self._pending_bytes >= self._limit:
            self._guarded(self._flush)

    def _flush(self) -> None:
        pending, self._pending, self._pending_bytes = self._pending, {}, 0
        if not pending:
            return
        present = self._existing(list(pending))
        fresh = {}
        for graph, body in pending.items():
            if graph in present:
                self._replaced[graph] = body
            elif body:
                fresh[graph] = body
        for group in batches(fresh, self._limit):
            self.created.extend(group)  # a failed POST may have stored part of its body
            self._send(b"".join(fresh[g] for g in group))
            self.requests += 1

    def commit(self) -> None:
        """Send what is waiting and replace the graphs that existed; StoreError if refused."""
        self._guarded(self._flush)
        self._guarded(self._replace)

    def _replace(self) -> None:
        if not self._replaced:
            return
        steps = [f"DROP SILENT GRAPH <{g}>" for g in self._replaced]
        blocks = [
            f"GRAPH <{g}> {{\n{_triples_text(g, body)}\n}}"
            for g, body in self._replaced.items()
            if body
        ]
        if blocks:
            steps.append("INSERT DATA {\n" + "\n".join(blocks) + "\n}")
        self._update(" ;\n".join(steps), "replacing the graphs that already existed")
        self.requests += 1
        self._replaced = {}

    def abort(self) -> bool:
        """Drop the graphs this writer created; return whether that worked."""
        self._pending, self._replaced = {}, {}
        undone = _drop(self.created, self._update)
        if undone:
            self.created = []
        return undone

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except StoreError as exc:
            undone = self.abort()
            tail = (
                "nothing was changed"
                if undone
                else "the sessions added by this load could not all be removed; run `mbtkg "
                "sessions` to check the state and load again"
            )
            raise StoreError(f"{exc}; {tail}") from None


def write_graphs(
    graphs: Mapping[str, bytes],
    existing: set[str],
    *,
    send: Send,
    update: Update,
    limit: int | None = None,
) -> int:
    """Replace each graph by its N-Quads (which must name it); return the requests sent.

    ``existing`` names the graphs that already hold triples on the server. Raises StoreError,
    after removing the graphs this call created, when a request fails.
    """
    writer = QuadsWriter(
        send=send, update=update, existing=lambda names: existing & set(names), limit=limit
    )
    for graph, body in graphs.items():
        writer.add(graph, body)
    writer.commit()
    return writer.requests


def _drop(graphs: Sequence[str], update: Update) -> bool:
    if not graphs:
        return True
    try:
        update(
            " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs),
            "removing the graphs of a failed load",
        )
    except StoreError:
        return False
    return True
