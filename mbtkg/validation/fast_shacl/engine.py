"""Run compiled shapes on session graphs with Oxigraph; fall back to pySHACL where needed.

:meth:`FastValidator.validate_many` puts a batch of session graphs, each in its own named
graph, into one fresh in-memory store with the precomputed ontology facts, and runs the batch
query once (see :mod:`mbtkg.validation.fast_shacl.batch_compiler`). The N-Quads text is loaded as the
loader loads it (``lenient``: IRIs are not checked again; ``session_to_rdf`` writes valid ones).

A session the batch form cannot take exactly is checked the general way instead: alone, in a
fresh store with the ontology as pySHACL mixes it in
(:func:`~mbtkg.validation.fast_shacl.ontology_facts.pyshacl_ontology_quads`), with the union of both as
the default graph. That is a session with quads outside its own named graph (see
:func:`batch_ready`), one asserting ``rdfs:subClassOf``, one with a focus node the ontology
says something about that a shape reads, and every session when the shapes rule the batch
form out (``CompiledShapes.batch_blocked``). Results become the same
:class:`~mbtkg.validation.validate.Violation` objects pySHACL's do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ... import vocab
from ...concepts import ConceptIndex, compact, default_index
from ...resources import ontology_files, shape_files
from ...sessions.to_rdf import SessionGraph
from ..violations import Violation
from .compiled import (
    GRAPH_VAR,
    GROUP_VAR,
    MASK_VAR,
    BatchPlan,
    Branch,
    CompiledRules,
    CompiledShapes,
    SparqlCheck,
)
from .ontology_facts import FACTS_GRAPH, SUBCLASS, default_facts, pyshacl_ontology_quads

if TYPE_CHECKING:
    import rdflib

# rdflib and pySHACL are imported where they are needed (compiling shapes, shapes left to
# pySHACL, describing a violation), so validating a clean session from cached rules needs
# neither.

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal
Found = set[tuple[Branch, OxTerm, OxTerm | None]]
_NQ = ox.RdfFormat.N_QUADS


#: The modules whose code decides the compiled rules (part of their cache key).
_RULES_CODE = tuple(
    f"validation/fast_shacl/{name}.py"
    for name in ("batch_compiler", "compiled", "compiler", "ontology_facts", "shapes",
                 "sparql_scope")
) + ("concepts.py", "validation/validate.py", "validation/violations.py", "vocab.py",
     "validation/axiom_checks.py", "validation/generated_shapes.py")  # fmt: skip


def compiled_rules(
    shapes: Sequence[Path] | None = None, *, directory: Path | None = None
) -> CompiledRules:
    """Shapes compiled against the bundled ontology, with the facts their batch form needs.

    Read from the cache of derived rules (:mod:`mbtkg.derived_cache`, or ``directory``) when
    the shape files, the ontology, the compiler's code and the libraries it uses are unchanged;
    else compiled and stored there. ``shapes`` defaults to the bundled shape files; the checks
    generated from the bundled ontology's axioms (:mod:`mbtkg.validation.generated_shapes`) join them.
    """
    from ...derived_cache import fingerprint, load_or_build

    files = list(shapes) if shapes is not None else shape_files()
    key = fingerprint(
        [*files, *ontology_files()],
        code=_RULES_CODE,
        libraries=("pyoxigraph", "rdflib", "pyshacl"),
    )
    return load_or_build(
        "compiled-shapes",
        key,
        lambda: _build_rules(files),
        CompiledRules,
        allowed=(CompiledShapes, Branch, SparqlCheck, BatchPlan),
        directory=directory,
    )


def _build_rules(files: Sequence[Path]) -> CompiledRules:
    import rdflib

    from ..generated_shapes import generated_shapes_turtle
    from .compiler import compile_shapes

    graph = rdflib.Graph()
    for path in files:
        graph.parse(str(path), format="turtle")
    graph.parse(data=generated_shapes_turtle(), format="turtle")
    compiled = compile_shapes(graph)
    facts = b""
    if compiled.batch is not None:
        quads = default_facts().fact_quads(compiled.batch.classes, compiled.batch.read_predicates)
        facts = ox.serialize(quads, format=_NQ) or b""
    return CompiledRules(compiled, facts)


@lru_cache(maxsize=1)
def default_rules() -> CompiledRules:
    """The bundled shapes' compiled rules, once per process (see :func:`compiled_rules`)."""
    return compiled_rules()


def default_compiled() -> CompiledShapes:
    """The bundled shapes, compiled once per process (read from the cache when unchanged)."""
    return default_rules().compiled


def to_rdflib(term: OxTerm) -> rdflib.term.Node:
    """The rdflib term for an Oxigraph term."""
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


#: Quads per batch store, about six sessions of 5,000 quads. Smaller batches pay the query's
#: fixed cost (parsing and planning, about 2.5 ms) more often per session; larger ones make
#: every insert and join slower. Measured per session with one store for n sessions of 4,850
#: quads, one core: 13.0 ms for n = 1, 11.5 for 2, 10.9 for 4 to 8, 11.2 for 12, 12.6 for 30.
BATCH_QUADS = 30_000


def batch_ready(graph: SessionGraph, lines: int | None = None) -> bool:
    """Whether every quad of the session is in its own named graph (``graph.graph``).

    Checked on the N-Quads text (``lines`` is its number of lines, if already counted): every
    line must end with the graph's name. (A line that is a triple ending with that IRI as its
    object would land in the default graph; the engine checks the store's default graph is
    empty after loading.)
    """
    if graph.in_own_graph:
        return True
    data = graph.nquads
    if not data:
        return True
    if lines is None:
        lines = data.count(b"\n")
    suffix = f" <{graph.graph}> .\n".encode()
    return data.endswith(b"\n") and lines == data.count(suffix)


class FastValidator:
    """Validates session graphs against compiled shapes, many per store and query run.

    >>> from mbtkg.resources import example_sessions
    >>> from mbtkg.sessions import read_session, session_to_rdf
    >>> FastValidator().validate(session_to_rdf(read_session(example_sessions()[0])))
    []
    """

    def __init__(self, compiled: CompiledShapes | None = None) -> None:
        self._fallback: rdflib.Graph | None = None
        self._facts: tuple[ox.Quad, ...] = ()
        if compiled is None:
            rules = default_rules()
            self.compiled = rules.compiled
            if rules.fact_nquads:
                self._facts = tuple(ox.parse(rules.fact_nquads, format=_NQ))
        else:
            self.compiled = compiled
            plan = compiled.batch
            if plan is not None:
                facts = default_facts().fact_quads(plan.classes, plan.read_predicates)
                self._facts = tuple(facts)
        if self.compiled.fallback_turtle:
            import rdflib

            self._fallback = rdflib.Graph().parse(
                data=self.compiled.fallback_turtle, format="turtle"
            )
        #: How the last call validated its sessions: counts of "batch" and "general".
        self.last_run: dict[str, int] = {"batch": 0, "general": 0}

    def validate(
        self, graph: SessionGraph, *, index: ConceptIndex | None = None
    ) -> list[Violation]:
        """Every violation of one session graph, located in its source file."""
        return self.validate_many([graph], index=index)[0]

    def validate_many(
        self, graphs: Iterable[SessionGraph], *, index: ConceptIndex | None = None
    ) -> list[list[Violation]]:
        """The violations of each session graph, in the order given, located in its source.

        Sessions are checked together, about :data:`BATCH_QUADS` quads per store and query
        run (see the module's docstring). Each result list is exactly what :meth:`validate`
        gives for that graph alone, and what pySHACL reports for it.
        """
        graphs = list(graphs)
        index = index or default_index()
        found: list[Found] = [set() for _ in graphs]
        batches, general = self._batches(graphs)
        for batch in batches:
            general |= self._run_batch(graphs, batch, found)
        for position in sorted(general):
            found[position] = self._raw(graphs[position])
        self.last_run = {"batch": len(graphs) - len(general), "general": len(general)}
        out: list[list[Violation]] = []
        for graph, hits in zip(graphs, found, strict=True):
            violations = [self._violation(b, f, v, graph, index) for b, f, v in hits]
            if self._fallback is not None:
                violations.extend(self._pyshacl(graph, index))
            violations.sort(key=lambda v: (v.line or 0, v.shape, v.value or ""))
            out.append(violations)
        return out

    def _batches(self, graphs: Sequence[SessionGraph]) -> tuple[list[list[int]], set[int]]:
        """Positions grouped into batches, and the positions the batch form cannot take."""
        if self.compiled.batch is None:
            return [], set(range(len(graphs)))
        batches: list[list[int]] = []
        general: set[int] = set()
        names: set[str] = set()
        quads = 0
        for position, graph in enumerate(graphs):
            lines = len(graph)
            if graph.graph == FACTS_GRAPH or not batch_ready(graph, lines):
                general.add(position)  # quads outside its own graph
                continue
            if not batches or quads + lines > BATCH_QUADS or graph.graph in names:
                batches.append([])
                names, quads = set(), 0
            batches[-1].append(position)
            names.add(graph.graph)
            quads += lines
        return batches, general

    def _run_batch(
        self, graphs: Sequence[SessionGraph], batch: list[int], found: list[Found]
    ) -> set[int]:
        """Check a batch in one store and query run; return the positions to check generally."""
        plan = self.compiled.batch
        assert plan is not None
        store = ox.Store()
        store.extend(self._facts)
        by_graph: dict[str, int] = {}
        for position in batch:
            by_graph[graphs[position].graph] = position
            store.load(graphs[position].nquads, format=_NQ, lenient=True)
        if next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None):
            return set(batch)  # a line was a triple, not a quad: whose is unsure
        general: set[int] = set()
        # A session asserting rdfs:subClassOf changes the class hierarchy the facts hold.
        for quad in store.quads_for_pattern(None, ox.NamedNode(SUBCLASS), None):
            name = quad.graph_name
            if isinstance(name, ox.NamedNode) and name.value in by_graph:
                general.add(by_graph.pop(name.value))
        for query in plan.queries if by_graph else ():
            general |= self._read_rows(_select(store, query, union=False), by_graph, found)
        return general

    def _read_rows(
        self, rows: ox.QuerySolutions, by_graph: dict[str, int], found: list[Found]
    ) -> set[int]:
        """Put the batch query's violations into ``found``; return the sessions marked general."""
        plan = self.compiled.batch
        assert plan is not None
        branches, checks = self.compiled.branches, self.compiled.sparql
        general: set[int] = set()
        for sol in rows:
            graph_name = sol[GRAPH_VAR]
            position = by_graph.get(graph_name.value) if graph_name is not None else None
            if position is None:
                continue  # the facts graph, or a session checked the general way
            this, value = sol["this"], _get(sol, "value")
            mask = int(sol[MASK_VAR].value)
            for bit, (k, reports) in enumerate(plan.groups[int(sol[GROUP_VAR].value)]):
                if not mask >> bit & 1:
                    continue
                if reports == "general":
                    general.add(position)
                elif reports == "sparql":
                    found[position].add((checks[k].branch, this, value))
                else:
                    shown = {"value": value, "focus": this}.get(reports)
                    found[position].add((branches[k], this, shown))
        return general

    def _pyshacl(self, graph: SessionGraph, index: ConceptIndex) -> list[Violation]:
        """What pySHACL finds with the shapes the compiler could not handle."""
        from pyshacl import validate as pyshacl_validate

        from ..violations import ontology_graph, quads_to_rdflib, violations_from_results

        _conforms, results, _text_report = pyshacl_validate(
            quads_to_rdflib(graph.quads),
            shacl_graph=self._fallback,
            ont_graph=ontology_graph(),
            inference="none",
            abort_on_first=False,
            allow_warnings=True,
        )
        return violations_from_results(results, graph, index)

    def _raw(self, graph: SessionGraph) -> Found:
        # A fresh store each time: Oxigraph's in-memory store keeps removed quads around
        # (MVCC), and queries slowed from 0.17 s to 0.6 s over 20 sessions reusing one store.
        store = ox.Store()
        store.extend(pyshacl_ontology_quads())
        store.extend(graph.quads)
        try:
            return run_general(store, self.compiled)
        finally:
            del store

    @staticmethod
    def _violation(
        branch: Branch,
        focus: OxTerm,
        value: OxTerm | None,
        graph: SessionGraph,
        index: ConceptIndex,
    ) -> Violation:
        import rdflib

        from ..violations import declared_suggestion, node_text

        focus_iri = focus.value if not isinstance(focus, ox.BlankNode) else str(to_rdflib(focus))
        rdf_value = None if value is None else to_rdflib(value)
        path = None if branch.path is None else rdflib.URIRef(branch.path)
        return Violation(
            source=graph.source,
            line=graph.lines.get(focus_iri),
            focus=focus_iri,
            path=None if branch.path is None else compact(branch.path),
            component=branch.component,
            shape=branch.shape,
            message=branch.message or f"does not satisfy {branch.component}",
            value=None if rdf_value is None or value == focus else node_text(rdf_value, index),
            suggestion=declared_suggestion(path, rdf_value, graph),
        )


def run_general(store: ox.Store, compiled: CompiledShapes) -> Found:
    """What the general form of the compiled shapes finds in a store (union of its graphs)."""
    found: Found = set()
    if compiled.query is not None:
        for sol in _select(store, compiled.query):
            branch = compiled.branches[int(sol["k"].value)]
            found.add((branch, sol["this"], _get(sol, "value")))
    for check in compiled.sparql:
        focus = {s["this"] for s in _select(store, check.focus_query)}
        for sol in _select(store, check.query):
            this = sol["this"]
            if this in focus:
                found.add((check.branch, this, _get(sol, "value")))
    return found


@dataclass(frozen=True)
class GraphResult:
    """One validation result on a plain data graph, in the terms of a SHACL validation report."""

    focus: rdflib.term.Node
    path: rdflib.term.Node | None
    value: rdflib.term.Node | None
    component: rdflib.URIRef
    shape: rdflib.term.Node | None  # None: a blank node shape, or not known
    severity: rdflib.term.Node
    engine: str  # "fast" (compiled) or "pyshacl" (a shape the compiler left to pySHACL)


def validate_data_graph(data: rdflib.Graph, compiled: CompiledShapes) -> list[GraphResult]:
    """Validate any data graph (no session, no ontology mixed in) with compiled shapes.

    The general form runs on the data graph alone; the shapes the compiler could not handle
    (``compiled.fell_back``) are validated by pySHACL on the same graph. This is how the W3C
    SHACL test suite is run against the engine (tests/test_w3c_shacl.py).
    """
    import rdflib
    from pyshacl import validate as pyshacl_validate

    store = ox.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    out: list[GraphResult] = []
    for branch, focus, value in run_general(store, compiled):
        out.append(
            GraphResult(
                focus=to_rdflib(focus),
                path=None if branch.path is None else rdflib.URIRef(branch.path),
                value=None if value is None else to_rdflib(value),
                component=rdflib.URIRef(vocab.SH + branch.component.removeprefix("sh:")),
                shape=None if branch.source is None else rdflib.URIRef(branch.source),
                severity=rdflib.URIRef(vocab.SH + "Violation"),
                engine="fast",
            )
        )
    if compiled.fallback_turtle:
        shapes = rdflib.Graph().parse(data=compiled.fallback_turtle, format="turtle")
        _conforms, report, _text_report = pyshacl_validate(
            data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=True
        )
        sh = rdflib.Namespace(vocab.SH)
        for result in report.objects(None, sh.result):  # not the nested sh:detail results
            shape = report.value(result, sh.sourceShape)
            component = report.value(result, sh.sourceConstraintComponent)
            out.append(
                GraphResult(
                    focus=report.value(result, sh.focusNode),
                    path=report.value(result, sh.resultPath),
                    value=report.value(result, sh.value),
                    component=rdflib.URIRef(str(component)),
                    shape=shape if isinstance(shape, rdflib.URIRef) else None,
                    severity=report.value(result, sh.resultSeverity),
                    engine="pyshacl",
                )
            )
    return out


def _select(store: ox.Store, query: str, *, union: bool = True) -> ox.QuerySolutions:
    """The solutions of a SELECT query, by default over the union of the store's graphs."""
    result = store.query(query, use_default_graph_as_union=union)
    if not isinstance(result, ox.QuerySolutions):  # pragma: no cover - compiled queries are SELECTs
        raise TypeError("expected a SELECT query")
    return result


def _get(solution: ox.QuerySolution, name: str) -> OxTerm | None:
    """A variable's value in a solution, or None when it is unbound or not projected."""
    try:
        return solution[name]
    except KeyError:
        return None
