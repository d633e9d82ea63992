"""The batch form of compiled shapes: one query checks many sessions, each in its own graph.

A batch store holds several session graphs (each named by its session IRI) and the small
graph of ontology facts (:mod:`mbtkg.validation.fast_shacl.ontology_facts`). Every data pattern sits
inside ``GRAPH ?fast_shacl_graph { ... }`` and every focus node is found together with its
graph, so a constraint only ever sees the triples of the session its focus node came from
(plus the ontology, through the facts): nothing can mix two sessions, whatever it counts.

The query is written for how Oxigraph evaluates it: scanning all triples of one predicate and
joining by hash is several times cheaper than looking triples up node by node. So

* the counts of a focus node's values (``sh:minCount``, ``sh:maxCount``, qualified counts)
  come from one ``GROUP BY`` per path, joined to the focus nodes once per node shape;
* value checks (datatype, ranges, lengths, ``sh:lessThan``) scan the path's triples, keep the
  failing ones, and only those are joined to the focus nodes;
* class checks remove, with ``MINUS``, the values that are instances of the class;
* ``sh:sparql`` constraints run as subqueries, when that is exact
  (:mod:`mbtkg.validation.fast_shacl.sparql_scope`).

Each group returns only violations, with its number (``?fast_shacl_group``) and a bit mask
saying which of its constraints failed (``?fast_shacl_mask``). The groups are joined by
``UNION`` into a few queries (:data:`GROUPS_PER_QUERY` groups each), each run once per batch.

The ontology can take part in a check in ways the batch form does not follow: when it has
triples with a path a shape reads (``dcterms:creator``, say), a session whose focus node is the
subject of such an ontology triple is marked "general" by a group of its own, and the engine
validates that session the general way. Shapes that would need more (targets the ontology
itself satisfies, ``sh:targetNode``, SPARQL constraints the ontology can answer) block the batch
form altogether; :attr:`BatchBuilder.blocked` says why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import rdflib

from .compiled import GRAPH_VAR, GROUP_VAR, MASK_VAR, BatchPlan, Reports
from .ontology_facts import FACTS_GRAPH, INSTANCE_OF, SUBCLASS_OF, OntologyFacts
from .shapes import Shape
from .sparql_scope import graph_local

#: Groups per query: Oxigraph parses and plans one query of all ~30 groups in about 4 ms, two
#: halves in about 2.5 ms together, and the difference is paid once per batch.
GROUPS_PER_QUERY = 16
#: Constraints per bit mask, well inside Oxigraph's 64-bit integers.
_BITS = 30
_G = f"?{GRAPH_VAR}"
_FACTS = f"<{FACTS_GRAPH}>"


@dataclass(frozen=True)
class BatchForm:
    """How one constraint is checked in the batch query.

    ``kind`` is one of

    * ``"count"``: the number of distinct values of ``path`` (only those that are instances
      of ``qualified``, when given) compared as ``count op bound`` is a violation;
    * ``"value"``: ``condition``, a SPARQL expression over ``?this`` and one ``?value``, is
      true for a failing value;
    * ``"not_instance"``: the value (property shapes) or the focus node (node shapes) failing
      when it is an instance of none of ``classes``.
    """

    kind: str
    path: str | None = None
    op: str = ""
    bound: str = ""
    qualified: str | None = None
    condition: str = ""
    classes: tuple[str, ...] = ()
    #: Other predicates the check reads (``sh:lessThan``), for the "general" marker.
    reads: tuple[str, ...] = ()


@dataclass
class BatchBuilder:
    """Builds the batch query of one shapes graph against one ontology."""

    facts: OntologyFacts
    classes: set[str] = field(default_factory=set)
    read_predicates: set[str] = field(default_factory=set)
    blocked: list[str] = field(default_factory=list)
    _groups: list[str] = field(default_factory=list)
    _decode: list[tuple[tuple[int, Reports], ...]] = field(default_factory=list)
    _counts: dict[str, list[tuple[int, BatchForm]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _marked: set[tuple[str, str]] = field(default_factory=set)
    _targets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _fresh: int = 0

    def _var(self, stem: str) -> str:
        """A variable name used nowhere else in the query."""
        self._fresh += 1
        return f"?fs_{stem}{self._fresh}"

    # -- patterns ---------------------------------------------------------------------

    def _instance(self, node: str, cls: str) -> str:
        """A pattern matching when ``node`` is a SHACL instance of ``cls`` (session + ontology)."""
        self.classes.add(cls)
        t = self._var("type")
        own = (
            f"{{ GRAPH {_G} {{ {node} a {t} }} GRAPH {_FACTS} {{ {t} <{SUBCLASS_OF}> <{cls}> }} }}"
        )
        if not self.facts.instances(cls):
            return own
        return f"{{ {own} UNION {{ GRAPH {_FACTS} {{ {node} <{INSTANCE_OF}> <{cls}> }} }} }}"

    def focus(self, shape: Shape, by_node: dict[rdflib.term.Node, Shape]) -> str | None:
        """A subquery binding the graph and ``?this`` to every focus node of the shape.

        The same targets always give the same text, so shapes can share it.
        """
        targets = set(shape.targets)
        for parent in shape.parents:
            targets |= set(by_node[parent].targets)
        parts: list[str] = []
        for kind, iri in sorted(targets):
            if kind == "targetClass":
                if self.facts.instances(iri):
                    self.blocked.append(f"{shape.name}: the ontology has instances of {iri}")
                self.classes.add(iri)
                parts.append(
                    f"GRAPH {_G} {{ ?this a ?fs_tc }} "
                    f"GRAPH {_FACTS} {{ ?fs_tc <{SUBCLASS_OF}> <{iri}> }}"
                )
            elif kind in ("targetObjectsOf", "targetSubjectsOf"):
                if self.facts.has_triples_with(iri):
                    self.blocked.append(f"{shape.name}: the ontology has triples with {iri}")
                triple = (
                    f"?fs_t <{iri}> ?this" if kind == "targetObjectsOf" else f"?this <{iri}> ?fs_t"
                )
                parts.append(f"GRAPH {_G} {{ {triple} }}")
            else:
                self.blocked.append(f"{shape.name}: sh:targetNode")
        if not parts:
            return None
        union = " UNION ".join(f"{{ {p} }}" for p in parts)
        focus = f"{{ SELECT DISTINCT {_G} ?this WHERE {{ {union} }} }}"
        self._targets[focus] = tuple(parts)
        return focus

    # -- groups -----------------------------------------------------------------------

    def add_shape(
        self, shape: Shape, focus: str | None, forms: list[tuple[int, BatchForm]]
    ) -> None:
        """Add the checks of one shape's constraints, given as (branch index, form)."""
        if focus is None:
            return
        path = shape.path
        values: list[tuple[int, BatchForm]] = []
        for k, form in forms:
            for predicate in (*([path] if path else []), *form.reads):
                self._mark_general(focus, predicate)
            if form.kind == "count":
                self._counts[focus].append((k, form))
            elif form.kind == "value":
                values.append((k, form))
            elif shape.is_property:
                kept = f"GRAPH {_G} {{ ?this <{path}> ?value }} " + " ".join(
                    f"MINUS {self._instance('?value', c)}" for c in form.classes
                )
                self._add(
                    f"{{ SELECT {_G} ?this ?value WHERE {{ {kept} }} }} {focus}", ((k, "value"),)
                )
            else:
                kept = f"{focus} " + " ".join(
                    f"MINUS {self._instance('?this', c)}" for c in form.classes
                )
                self._add(
                    f"{{ SELECT {_G} ?this WHERE {{ {kept} }} }} BIND (?this AS ?value)",
                    ((k, "focus"),),
                )
        for start in range(0, len(values), _BITS):
            chunk = values[start : start + _BITS]
            mask = self._mask([f.condition for _k, f in chunk])
            failing = (
                f"SELECT {_G} ?this ?value ?{MASK_VAR} WHERE {{ GRAPH {_G} {{ ?this <{path}> ?value }} "
                f"BIND ({mask} AS ?{MASK_VAR}) FILTER (?{MASK_VAR} != 0) }}"
            )
            self._add(f"{{ {failing} }} {focus}", tuple((k, "value") for k, _f in chunk), mask=None)

    def _mark_general(self, focus: str, predicate: str) -> None:
        """Send a session to the general way when the ontology has triples about a focus node."""
        if not self.facts.has_triples_with(predicate) or (focus, predicate) in self._marked:
            return
        self._marked.add((focus, predicate))
        self.read_predicates.add(predicate)
        self._add(f"{focus} GRAPH {_FACTS} {{ ?this <{predicate}> ?fs_o }}", ((-1, "general"),))

    def _count_group(self, focus: str, forms: list[tuple[int, BatchForm]]) -> None:
        """One group for every count constraint on the focus nodes of one node shape.

        One aggregation over the union of the focus nodes (marked) and each counted path's
        triples gives every focus node all its counts at once, zero included. A plain path's
        triples are distinct within a graph, so ``COUNT`` needs no ``DISTINCT``; a qualified
        value may match several of its types, so that count does.
        """
        counted: dict[tuple[str, str | None], str] = {}
        branches = [f"{{ {t} BIND (1 AS ?fs_focus) }}" for t in self._targets[focus]]
        aggregates = ["(COUNT(?fs_focus) AS ?fs_foci)"]
        conditions: list[str] = []
        for _k, form in forms:
            key = (str(form.path), form.qualified)
            if key not in counted:
                c = counted[key] = self._var("count")
                v = self._var("v")
                pattern = f"GRAPH {_G} {{ ?this <{form.path}> {v} }}"
                if form.qualified is not None:
                    pattern += f" {self._instance(v, form.qualified)}"
                    aggregates.append(f"(COUNT(DISTINCT {v}) AS {c})")
                else:
                    aggregates.append(f"(COUNT({v}) AS {c})")
                branches.append(f"{{ {pattern} }}")
            conditions.append(f"{counted[key]} {form.op} {form.bound}")
        counts = (
            f"{{ SELECT {_G} ?this {' '.join(aggregates)} WHERE {{ {' UNION '.join(branches)} }} "
            f"GROUP BY {_G} ?this HAVING (COUNT(?fs_focus) > 0) }}"
        )
        mask = self._mask(conditions)
        self._add(
            f"{counts} BIND ({mask} AS ?{MASK_VAR}) FILTER (?{MASK_VAR} != 0)",
            tuple((k, "none") for k, _f in forms),
            mask=None,
        )

    def add_sparql(self, k: int, text: str, focus: str | None, shape: Shape) -> None:
        """Add a group for an ``sh:sparql`` constraint (``$this`` already written ``?this``)."""
        if focus is None:
            return
        group, reason = graph_local(text, self.facts, graph_var=GRAPH_VAR, focus=focus)
        if group is None:
            self.blocked.append(f"{shape.name}: its SPARQL constraint: {reason}")
            return
        self._add(group, ((k, "sparql"),))

    @staticmethod
    def _mask(conditions: list[str]) -> str:
        """An integer with bit i set when condition i holds (an error counts as false)."""
        return (
            "("
            + " + ".join(f"IF(COALESCE({c}, false), {1 << i}, 0)" for i, c in enumerate(conditions))
            + ")"
        )

    def _add(
        self, group: str, decode: tuple[tuple[int, Reports], ...], mask: str | None = "1"
    ) -> None:
        s = len(self._groups)
        bind_mask = f" BIND ({mask} AS ?{MASK_VAR})" if mask else ""
        self._groups.append(f"{{ {group}{bind_mask} BIND ({s} AS ?{GROUP_VAR}) }}")
        self._decode.append(decode)

    def plan(self) -> BatchPlan | None:
        """The batch plan, or None when :attr:`blocked` names a reason it would not be exact."""
        for focus, forms in self._counts.items():
            for start in range(0, len(forms), _BITS):
                self._count_group(focus, forms[start : start + _BITS])
        self._counts.clear()
        if self.blocked:
            return None
        head = f"SELECT ?{GROUP_VAR} ?{MASK_VAR} {_G} ?this ?value WHERE {{\n"
        queries = tuple(
            head + "\nUNION\n".join(self._groups[i : i + GROUPS_PER_QUERY]) + "\n}"
            for i in range(0, len(self._groups), GROUPS_PER_QUERY)
        )
        return BatchPlan(
            queries,
            tuple(self._decode),
            tuple(sorted(self.classes)),
            tuple(sorted(self.read_predicates)),
        )
