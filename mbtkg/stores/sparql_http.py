"""Any SPARQL 1.1 server: queries by the SPARQL Protocol, loads by the Graph Store Protocol.

Selector: ``sparql+http://HOST/PATH`` or ``sparql+https://HOST/PATH``, where ``http(s)://HOST/PATH``
is the query endpoint. Queries go as GET (or a form POST when long); never as a direct
``application/sparql-query`` POST, which Virtuoso never answers.

A load of several graphs is made as all-or-nothing as the protocols allow: each graph is first
uploaded to a fresh staging graph (a Graph Store Protocol ``PUT``, or one ``INSERT DATA`` per graph
when the server has no Graph Store endpoint); if any upload fails, the staging graphs are deleted
and the store is unchanged. Then one SPARQL Update request moves every staging graph onto its
target (``DROP SILENT`` + ``MOVE``). Whether that last request is one transaction depends on the
server: Oxigraph runs an update request as one transaction; Virtuoso commits as it goes (see
docs/stores.md). That per-graph way is the fallback: a server whose Graph Store endpoint takes
N-Quads (probed once, see :mod:`mbtkg.stores.quads_upload`) gets every graph in a few requests.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from ..errors import QueryError, StoreError
from .base import GraphLoad, Rows, Term
from .http_client import HttpClient, Response
from .literal_values import python_value
from .quads_upload import (
    NQUADS,
    QuadsWriter,
    in_own_graph,
    probe_quads_capability,
    quads_text,
    write_graphs,
)
from .remote_url import check_endpoint, redact, redact_selector
from .settings import ENV, UPLOAD_FORMATS, RemoteSettings, settings_from_env

STAGING_PREFIX = "https://w3id.org/mbtkg/graph/staging/"
_MBTKG_GRAPHS = "https://w3id.org/mbtkg/"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_RESULTS_JSON = "application/sparql-results+json"
_GET_LIMIT = 1800  # longer queries go as a form POST
#: Makes Virtuoso join patterns in the order written; without it, its optimiser may start a
#: transitive path (``rdfs:subClassOf*``) from the data side and lose solutions.
VIRTUOSO_PRAGMA = 'DEFINE sql:select-option "order"\n'


class SparqlHttpStore:
    """A store on a SPARQL 1.1 server, reached over HTTP(S)."""

    #: Capabilities (see :data:`mbtkg.stores.base.CAPABILITIES`): a load goes through
    #: :meth:`bulk_load` (graphs sent in batches of N-Quads as they pass where the server takes
    #: them, else collected for one staged ``replace_graphs``); the server is already an
    #: endpoint, so ``mbtkg serve`` has nothing to serve; nothing to recover.
    can_bulk_load = True
    servable = False
    #: A server keeps its own storage: nothing for mbtkg to compact.
    compacts = False
    recovered: tuple[str, ...] = ()

    def __init__(self, selector: str, *, settings: RemoteSettings | None = None) -> None:
        if not selector.startswith(("sparql+http://", "sparql+https://")):
            raise StoreError(
                f"a remote store selector starts with sparql+http:// or sparql+https://, "
                f"found {redact_selector(selector)!r}"
            )
        self._query_url = check_endpoint(selector[len("sparql+") :], what="the --store URL")
        #: The selector fit to print: query values hidden (an ``?apikey=`` stays secret).
        self.selector = "sparql+" + redact(self._query_url)
        self.settings = (settings or settings_from_env()).resolved(self._query_url)
        for name, url in (
            ("update_url", self.settings.update_url),
            ("gsp_url", self.settings.gsp_url),
        ):
            if url:
                check_endpoint(url, what=ENV[name])
        urls = tuple(
            u for u in (self._query_url, self.settings.update_url, self.settings.gsp_url) if u
        )
        self._http = HttpClient(self.settings, urls)
        self._dialect = self.settings.dialect
        self._takes_quads: bool | None = None

    def __repr__(self) -> str:
        return f"SparqlHttpStore({self.selector!r})"

    # -- queries -------------------------------------------------------------------------------

    def dialect(self) -> str:
        """The server's dialect: from the settings, else detected from its ``Server`` header."""
        if self._dialect is None:
            answer = self._send_query("ASK {}")
            self._dialect = "virtuoso" if "virtuoso" in answer.server.lower() else "standard"
        return self._dialect

    def _query(self, sparql: str) -> dict[str, Any]:
        """The server's JSON answer to a query, as an object; StoreError if it is not one."""
        if self.dialect() == "virtuoso":
            try:
                answer = self._send_query(VIRTUOSO_PRAGMA + sparql)
            except StoreError as exc:
                if "transitive start not given" not in str(exc):
                    raise
                raise QueryError(
                    "Virtuoso cannot run this query: a property path (such as "
                    "rdfs:subClassOf*) has no bound end where it is written; bind one end "
                    "earlier in the query (see docs/stores.md, Virtuoso)"
                ) from None
        else:
            answer = self._send_query(sparql)
        try:
            parsed = json.loads(answer.body)
        except RecursionError:
            raise self._unexpected("JSON nested too deeply to be SPARQL results") from None
        except ValueError:
            raise StoreError(
                f"the server at {redact(self._query_url)} did not answer with SPARQL JSON "
                f"results (it sent {answer.content_type or 'no media type'}); is the --store URL "
                "its query endpoint?"
            ) from None
        if not isinstance(parsed, dict):
            raise self._unexpected(f"a JSON {type(parsed).__name__} instead of an object")
        return parsed

    def _unexpected(self, found: str) -> StoreError:
        return StoreError(
            f"the server at {redact(self._query_url)} sent an answer that is not SPARQL JSON "
            f"results ({found}); is the --store URL its query endpoint?"
        )

    def _send_query(self, sparql: str, accept: str = _RESULTS_JSON) -> Response:
        encoded = urlencode({"query": sparql})
        headers = {"Accept": accept}
        if len(encoded) < _GET_LIMIT:
            sep = "&" if "?" in self._query_url else "?"
            answer = self._http.send(
                "GET", f"{self._query_url}{sep}{encoded}", headers=headers, what="the query"
            )
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            answer = self._http.send(
                "POST", self._query_url, data=encoded.encode(), headers=headers, what="the query"
            )
        return answer

    def select(self, sparql: str) -> Rows:
        data = self._query(sparql)
        if "results" not in data:
            if "boolean" in data:
                raise QueryError("expected a SELECT query")
            raise self._unexpected("no 'results' member")
        head = data.get("head", {})
        columns = head.get("vars", []) if isinstance(head, dict) else None
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise self._unexpected("'head.vars' is not a list of names")
        results = data["results"]
        bindings = results.get("bindings") if isinstance(results, dict) else None
        if not isinstance(bindings, list) or not all(isinstance(b, dict) for b in bindings):
            raise self._unexpected("'results.bindings' is not a list of objects")
        try:
            rows = tuple(tuple(_term(binding.get(c)) for c in columns) for binding in bindings)
        except _BadTerm as exc:
            raise self._unexpected(str(exc)) from None
        return Rows(tuple(columns), rows)

    def ask(self, sparql: str) -> bool:
        data = self._query(sparql)
        if "boolean" not in data:
            if "results" in data:
                raise QueryError("expected an ASK query")
            raise self._unexpected("no 'boolean' member")
        if not isinstance(data["boolean"], bool):
            raise self._unexpected("'boolean' is not true or false")
        return data["boolean"]

    def construct(self, sparql: str) -> list[ox.Triple]:
        """Run a CONSTRUCT or DESCRIBE query; the server answers in N-Triples."""
        prefix = VIRTUOSO_PRAGMA if self.dialect() == "virtuoso" else ""
        answer = self._send_query(prefix + sparql, accept="application/n-triples")
        try:
            return [
                ox.Triple(q.subject, q.predicate, q.object)
                for q in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)
            ]
        except SyntaxError:
            raise self._unexpected(
                f"{answer.content_type or 'no media type'} instead of N-Triples"
            ) from None

    # -- graphs --------------------------------------------------------------------------------

    def graph_names(self) -> list[str]:
        """The mbtkg graphs on the server (other graphs, e.g. Virtuoso's system graphs, are left out)."""
        rows = self.select(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER (STRSTARTS(STR(?g), "{_MBTKG_GRAPHS}")) }}'
        )
        names = {str(r[0]) for r in rows.rows if r[0] is not None}
        return sorted(n for n in names if not n.startswith(STAGING_PREFIX))

    def graph_size(self, graph: str) -> int:
        _check_iri(graph)
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        cell = rows.rows[0][0] if rows.rows and rows.rows[0] else None
        if cell is None or cell.value is None:
            return 0
        if not isinstance(cell.value, int) or isinstance(cell.value, bool) or cell.value < 0:
            raise self._unexpected("a triple count that is not a whole number")
        return cell.value

    def _exists(self, graph: str) -> bool:
        return self.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")

    def _update(self, sparql: str, *, what: str) -> None:
        self._http.send(
            "POST",
            self.settings.update_url or self._query_url,
            data=urlencode({"update": sparql}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            what=what,
        )

    def drop_graph(self, graph: str) -> bool:
        _check_iri(graph)
        existed = self._exists(graph)
        if existed:
            self._update(f"DROP SILENT GRAPH <{graph}>", what=f"dropping graph {graph}")
        return existed

    def takes_quads(self) -> bool:
        """Whether the Graph Store endpoint takes a POST of N-Quads (probed once, then kept)."""
        if self._takes_quads is None:
            self._takes_quads = bool(self.settings.gsp_url) and probe_quads_capability(
                self._post_quads, self._update_as, self.ask, STAGING_PREFIX
            )
        return self._takes_quads

    def _post_quads(self, body: bytes) -> None:
        assert self.settings.gsp_url is not None
        self._http.send(
            "POST",
            self.settings.gsp_url,
            data=body,
            headers={"Content-Type": f"{NQUADS}; charset=utf-8"},
            what="the upload of the session graphs",
        )

    def _update_as(self, sparql: str, what: str) -> None:
        self._update(sparql, what=what)

    def existing_graphs(self, graphs: Sequence[str]) -> set[str]:
        """Which of these graphs hold at least one triple on the server."""
        out: set[str] = set()
        for start in range(0, len(graphs), 500):
            names = " ".join(f"<{g}>" for g in graphs[start : start + 500])
            rows = self.select(
                f"SELECT ?g WHERE {{ VALUES ?g {{ {names} }} "
                "FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }"
            )
            out.update(str(r[0]) for r in rows.rows if r[0] is not None)
        return out

    def write_nquads(self, graphs: Mapping[str, bytes]) -> None:
        """Replace each graph by its N-Quads text (every line naming that graph), all or nothing
        as far as the server allows; a few requests when the server takes quads."""
        if not graphs:
            return
        for g in graphs:
            _check_iri(g)
        if self.takes_quads():
            write_graphs(
                {g: in_own_graph(g, body) for g, body in graphs.items()},
                self.existing_graphs(list(graphs)),
                send=self._post_quads,
                update=self._update_as,
            )
            return
        self._replace_per_graph(
            {g: list(ox.parse(body, format=ox.RdfFormat.N_QUADS)) for g, body in graphs.items()}
        )

    def optimize(self) -> float | None:
        """Nothing to compact: the server keeps its own storage (None)."""
        return None

    def bulk_load(self) -> GraphLoad:
        """Collect graphs as N-Quads and write them all in :meth:`write_nquads` at the commit."""
        return RemoteGraphLoad(self)

    def replace_graphs(self, graphs: Mapping[str, Sequence[ox.Quad]]) -> None:
        if not graphs:
            return
        for g in graphs:
            _check_iri(g)
        if self.takes_quads():
            self.write_nquads({g: quads_text(g, quads) for g, quads in graphs.items()})
            return
        self._replace_per_graph(graphs)

    def _replace_per_graph(self, graphs: Mapping[str, Sequence[ox.Quad]]) -> None:
        token = secrets.token_hex(8)
        staging = {g: f"{STAGING_PREFIX}{token}/{i}" for i, g in enumerate(graphs)}
        try:
            for g, quads in graphs.items():
                if quads:
                    self._upload(staging[g], quads, target=g)
        except StoreError as exc:
            self._drop_quietly(staging.values())
            raise StoreError(f"{exc}; nothing was changed") from None
        steps: list[str] = []
        for g, quads in graphs.items():
            steps.append(f"DROP SILENT GRAPH <{g}>")
            if quads:
                steps.append(f"MOVE SILENT GRAPH <{staging[g]}> TO GRAPH <{g}>")
        try:
            self._update(" ;\n".join(steps), what="replacing the session graphs")
        except StoreError as exc:
            self._drop_quietly(staging.values())
            raise StoreError(
                f"{exc}; the staging graphs were removed; on a server that does not run an update "
                "request as one transaction, run `mbtkg sessions` to check the state and load again"
            ) from None

    def _upload(self, graph: str, quads: Sequence[ox.Quad], *, target: str) -> None:
        what = f"the upload of graph {target}"
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
        if self.settings.gsp_url:
            fmt_name, media = UPLOAD_FORMATS[self.settings.upload_format]
            body = ox.serialize(triples, format=getattr(ox.RdfFormat, fmt_name))
            sep = "&" if "?" in self.settings.gsp_url else "?"
            self._http.send(
                "PUT",
                f"{self.settings.gsp_url}{sep}graph={quote(graph, safe='')}",
                data=body,
                headers={"Content-Type": f"{media}; charset=utf-8"},
                what=what,
            )
            return
        body_text = " .\n".join(f"{t.subject} {t.predicate} {t.object}" for t in triples)
        self._update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{body_text} .\n}} }}", what=what)

    def _drop_quietly(self, graphs: Sequence[str] | Any) -> None:
        for g in graphs:
            with contextlib.suppress(StoreError):
                self._update(f"DROP SILENT GRAPH <{g}>", what="removing a staging graph")

    def close(self) -> None:
        """Nothing to release: every request is its own connection."""


class RemoteGraphLoad:
    """``load``'s way of writing to a remote store.

    Where the server takes N-Quads, graphs are sent in batches while the load still reads and
    validates (:class:`~mbtkg.stores.quads_upload.QuadsWriter`), and ``abort`` drops them
    again; elsewhere they are kept and written in one ``replace_graphs`` at the commit.
    """

    def __init__(self, store: SparqlHttpStore) -> None:
        self._store = store
        self._graphs: dict[str, bytes] = {}
        self._writer: QuadsWriter | None = None
        self._decided = False  # the server is asked on the first graph, not before

    def _quads_writer(self) -> QuadsWriter | None:
        if not self._decided:
            store = self._store
            if store.takes_quads():
                self._writer = QuadsWriter(
                    send=store._post_quads, update=store._update_as, existing=store.existing_graphs
                )
            self._decided = True
        return self._writer

    def add(self, graph: str, nquads: bytes) -> None:
        _check_iri(graph)
        writer = self._quads_writer()
        if writer is not None:
            writer.add(graph, in_own_graph(graph, nquads))
        else:
            self._graphs[graph] = nquads

    def commit(self, extra: Mapping[str, Sequence[ox.Quad]] | None = None) -> None:
        if self._quads_writer() is not None:
            assert self._writer is not None
            for graph, quads in (extra or {}).items():
                _check_iri(graph)
                self._writer.add(graph, quads_text(graph, quads))
            self._writer.commit()
            return
        graphs = {g: quads_text(g, quads) for g, quads in (extra or {}).items()}
        graphs.update(self._graphs)
        self._graphs = {}
        self._store.write_nquads(graphs)

    def abort(self) -> None:
        self._graphs = {}
        if self._writer is not None:
            self._writer.abort()


def _check_iri(iri: str) -> None:
    if any(c in iri for c in '<>"{}|^`\\ \n'):
        raise StoreError(f"not a valid graph IRI: {iri!r}")


class _BadTerm(Exception):
    """A result binding that is not a SPARQL JSON term."""


def _term(binding: object) -> Term | None:
    """A SPARQL JSON result binding as a Term, typed the same way as the embedded store's."""
    if binding is None:
        return None
    if not isinstance(binding, dict):
        raise _BadTerm("a bound value is not an object")
    kind = binding.get("type")
    value = binding.get("value", "")
    if not isinstance(value, str):
        raise _BadTerm("a bound value's 'value' is not a string")
    if "datatype" in binding and not isinstance(binding["datatype"], str):
        raise _BadTerm("a literal's 'datatype' is not a string")
    if kind == "uri":
        return Term(value, is_iri=True)
    if kind == "bnode":
        return Term(f"_:{value}")
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in binding:
            return Term(value, datatype=_LANG_STRING)
        datatype = binding.get("datatype") or _XSD_STRING
        return Term(python_value(value, datatype), datatype=datatype)
    return Term(value)


__all__ = ["STAGING_PREFIX", "SparqlHttpStore"]
