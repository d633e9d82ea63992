"""Each session's inferred graph, computed fast enough to run on every load.

The reference engine is ``reasonable`` (:mod:`mbtkg.session_reasoning.reference`), a general OWL 2 RL reasoner:
about half a second per generated session of 200 turns, most of it spent on what every session
shares. This module runs the same OWL 2 RL rules over one session's triples, with the
ontology's closure (computed by ``reasonable``) compiled once per process into lookup tables
(:mod:`mbtkg.session_reasoning.compiled_tbox`):

- ``cax-sco``, ``cax-eqc1/2``, ``cls-int2``, ``cls-uni``: a type brings every class it entails;
- ``prp-spo1``, ``prp-eqp1/2``, ``prp-inv1/2``, ``prp-symp``: a link brings its
  super-properties, inverses and mirror image; ``prp-dom``, ``prp-rng``, ``cls-svf2``: a link
  types its ends;
- ``cls-int1``, ``cls-svf1``, ``cls-avf``, ``cls-hv1/2``, ``prp-trp``: the rules that join two
  facts, run on work lists until nothing new comes.

What would need a rule this module does not run makes it hand the session to ``reasonable``
(:class:`Unsupported`): ``owl:sameAs`` in the data, two values of a functional property (or
two subjects of an inverse-functional one), which would make nodes the same, and property
chains, keys or maximum cardinalities in the ontology. ``tests/test_fast_inference.py`` checks
that both engines write the same inferred graph for every example session and for generated
ones, and that the turn-order and closed-world rules agree with their SPARQL text.

The relations derived from turn order come from :mod:`mbtkg.session_reasoning.turn_order`; the closed-world rule
(``queries/rules/closed-world/unrepaired-rupture.rq``) is computed here. Terms are N-Triples
strings throughout (:mod:`mbtkg.nquads_text`): nothing is parsed into RDF objects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from .. import vocab
from ..nquads_text import Triple, join_nquads, split_nquads
from . import turn_order
from .compiled_tbox import TYPE, CompiledTBox, compiled_tbox

_SAME_AS = f"<{vocab.OWL}sameAs>"
_REPAIRS = f"<{vocab.MBT}repairs>"
_RUPTURE = f"<{vocab.MBT}Rupture>"
_UNREPAIRED = f"<{vocab.MBT}UnrepairedRupture>"


class Unsupported(Exception):
    """The session (or the ontology) needs a rule the fast engine does not run; the session
    is reasoned by ``reasonable`` instead. Never leaves this module."""


class _Engine:
    """The rules that join two facts, over the links of the properties they read.

    A node's types are a frozenset, shared by every node that got the same classes (most
    turns do) and replaced when one grows.
    """

    def __init__(self, box: CompiledTBox) -> None:
        self.box = box
        self.types: dict[str, frozenset[str]] = {}
        self.links: set[Triple] = set()
        self.outs: dict[str, dict[str, set[str]]] = {p: {} for p in box.joined}
        self.ins: dict[str, dict[str, set[str]]] = {p: {} for p in box.joined}
        self.new_links: list[Triple] = []
        self.new_types: list[tuple[str, str]] = []
        #: objects of someValuesFrom properties' links: only their new types can complete a
        #: restriction from the filler's side (a later link checks its object's types itself)
        self.link_objects: set[str] = set()
        self.seen_individuals: set[str] = set()
        #: (property, the types of a link's object) -> the classes cls-svf1 gives its subject:
        #: the union of what each someValuesFrom restriction the object fills entails
        self.some_classes: dict[tuple[str, frozenset[str]], frozenset[str]] = {}

    def add_types(self, node: str, classes: frozenset[str]) -> None:
        known = self.types.get(node)
        if known is None:
            self.types[node] = new = classes
        elif known is classes or classes <= known:
            return
        else:
            new = classes - known
            self.types[node] = known | new
        for cls in new & self.box.triggers:
            self.new_types.append((node, cls))
        if node in self.link_objects:
            for cls in new & self.box.fillers:
                self.new_types.append((node, cls))

    def add_type(self, node: str, cls: str) -> None:
        entailed = self.box.entailed.get(cls)
        self.add_types(node, entailed if entailed is not None else frozenset((cls,)))

    def add_link(self, s: str, p: str, o: str) -> None:
        box = self.box
        if (s, p, o) in self.links:
            return
        for q, inverted in box.link_closure.get(p, ((p, False),)):
            link = (o, q, s) if inverted else (s, q, o)
            if link in self.links:
                continue
            self.links.add(link)
            if q in box.joined:
                self._index(link)
        classes = box.subject_types.get(p)
        if classes:
            self.add_types(s, classes)
        classes = box.object_types.get(p)
        if classes:
            self.add_types(o, classes)

    def _index(self, link: Triple) -> None:
        s, q, o = link
        # a named individual of the ontology met in a link a rule joins: its types matter
        # (elsewhere they only type the individual, which is never written)
        for node in (s, o):
            if node in self.box.individual_types and node not in self.seen_individuals:
                self.seen_individuals.add(node)
                self.add_types(node, self.box.individual_types[node])
        self.outs[q].setdefault(s, set()).add(o)
        self.ins[q].setdefault(o, set()).add(s)
        self.new_links.append(link)
        if q in self.box.some_by_property and o not in self.link_objects:
            self.link_objects.add(o)
            for cls in self.types.get(o, frozenset()) & self.box.fillers:
                self.new_types.append((o, cls))

    def run(self) -> None:
        """Apply the joining rules until nothing new comes."""
        box = self.box
        while self.new_links or self.new_types:
            while self.new_types:
                node, cls = self.new_types.pop()
                known = self.types[node]
                for whole, parts in box.intersections.get(cls, ()):
                    if whole not in known and all(part in known for part in parts):
                        self.add_type(node, whole)
                for restriction, prop in box.some_by_filler.get(cls, ()):
                    for subject in list(self.ins[prop].get(node, ())):
                        self.add_type(subject, restriction)
                for prop, filler in box.all_by_restriction.get(cls, ()):
                    for obj in list(self.outs[prop].get(node, ())):
                        self.add_type(obj, filler)
                for prop, value in box.value_by_restriction.get(cls, ()):
                    self.add_link(node, prop, value)
            while self.new_links:
                self._link_rules(*self.new_links.pop())

    def _link_rules(self, s: str, p: str, o: str) -> None:
        box = self.box
        if p in box.transitive:
            for after in list(self.outs[p].get(o, ())):
                self.add_link(s, p, after)
            for before in list(self.ins[p].get(s, ())):
                self.add_link(before, p, o)
        if p in box.some_by_property:
            known = self.types.get(o)
            if known:
                classes = self.some_classes.get((p, known))
                if classes is None:
                    classes = self.some_classes[(p, known)] = frozenset().union(
                        *(
                            box.entailed.get(restriction, frozenset((restriction,)))
                            for restriction, filler in box.some_by_property[p]
                            if filler in known
                        )
                    )
                if classes:
                    self.add_types(s, classes)
        for restriction, filler in box.all_by_property.get(p, ()):
            if restriction in self.types.get(s, ()):
                self.add_type(o, filler)
        for restriction in box.value_by_link.get((p, o), ()):
            self.add_type(s, restriction)


def infer_triples(
    session_id: str, asserted: Iterable[Triple], *, box: CompiledTBox | None = None
) -> list[Triple]:
    """The triples of a session's inferred graph (what :func:`mbtkg.session_reasoning.reference.infer_session`
    gives), from its asserted triples, as term strings. Raises :class:`Unsupported` when a
    rule this engine does not run is needed."""
    box = box or compiled_tbox()
    if box.unsupported:
        raise Unsupported("the ontology uses " + ", ".join(box.unsupported))
    groups: dict[str, list[Triple]] = defaultdict(list)
    for triple in asserted:
        groups[triple[1]].append(triple)
    if _SAME_AS in groups:
        raise Unsupported("owl:sameAs in the data")
    # relations from turn order: data for the OWL rules, as in the reference
    derived = [
        t
        for t in turn_order.derive(*(groups.get(p, ()) for p in turn_order.PREDICATES))
        if t[1] not in groups or t not in set(groups[t[1]])
    ]
    for triple in derived:
        groups[triple[1]].append(triple)
    engine = _Engine(box)
    # one pass over the data: what types each node gets from its types and from the links of
    # properties no joining rule reads is gathered as the (shared) class sets, joined once per
    # distinct combination; the links those bring are kept aside; the rest goes to the engine
    gathered: dict[str, list[frozenset[str]]] = defaultdict(list)
    asserted_types: dict[str, set[str]] = defaultdict(set)
    brought: dict[str, list[Triple]] = defaultdict(list)
    to_engine: list[list[Triple]] = []
    for p, group in groups.items():
        if p == TYPE:
            entailed = box.entailed
            for s, _, o in group:
                asserted_types[s].add(o)
                classes = entailed.get(o)
                gathered[s].append(classes if classes is not None else frozenset((o,)))
        elif p in box.direct:
            subject, obj = box.subject_types[p], box.object_types[p]
            for s, _, o in group:
                if subject:
                    gathered[s].append(subject)
                if obj:
                    gathered[o].append(obj)
            for q, inverted in box.link_closure[p][1:]:
                brought[q].extend((o, q, s) if inverted else (s, q, o) for s, _, o in group)
        elif p in box.via_engine:
            to_engine.append(group)
    joined: dict[frozenset[frozenset[str]], frozenset[str]] = {}
    for node, parts in gathered.items():
        if len(parts) == 1:
            engine.add_types(node, parts[0])
            continue
        key = frozenset(parts)
        classes = joined.get(key)
        if classes is None:
            joined[key] = classes = frozenset().union(*parts)
        engine.add_types(node, classes)
    # the links the joining rules read, once every node has its joined types: most then
    # bring no type a node lacks
    for group in to_engine:
        for s, p, o in group:
            engine.add_link(s, p, o)
    engine.run()
    _refuse_merged_nodes(box, groups, brought, engine.links)
    return [*derived, *_new_about(session_id, box, engine, asserted_types, groups, brought)]


def _refuse_merged_nodes(
    box: CompiledTBox,
    groups: dict[str, list[Triple]],
    brought: dict[str, list[Triple]],
    links: set[Triple],
) -> None:
    """Raise Unsupported when a functional property has two values for a subject (or an
    inverse-functional one two subjects for a value): OWL 2 RL would make them the same."""
    watched = box.functional | box.inverse_functional
    if not watched:
        return
    inferred = [t for t in links if t[1] in watched]
    for props, key, value in ((box.functional, 0, 2), (box.inverse_functional, 2, 0)):
        for prop in props:
            found: dict[str, str] = {}
            for t in [*groups.get(prop, ()), *brought.get(prop, ()), *inferred]:
                if t[1] == prop and found.setdefault(t[key], t[value]) != t[value]:
                    raise Unsupported(f"{prop} makes two nodes the same")


def _new_about(
    session_id: str,
    box: CompiledTBox,
    engine: _Engine,
    asserted_types: dict[str, set[str]],
    groups: dict[str, list[Triple]],
    brought: dict[str, list[Triple]],
) -> list[Triple]:
    """What is new and about the session's own nodes: types (never a blank node, which means
    nothing outside the reasoner, nor owl:Thing), the closed-world rule, then links."""
    own = f"<{vocab.session_iri(session_id)}>"
    inside = own[:-1] + "/"
    out: list[Triple] = []
    repaired = {o for _, p, o in engine.links if p == _REPAIRS}
    repaired.update(o for _, _, o in groups.get(_REPAIRS, ()))
    repaired.update(o for _, _, o in brought.get(_REPAIRS, ()))
    #: (classes, the node's one asserted class) -> the classes to write; most nodes share one
    new_classes: dict[tuple[frozenset[str], str | None], list[str]] = {}
    for node, classes in engine.types.items():
        if node != own and not node.startswith(inside):
            continue
        mine = asserted_types.get(node)
        if mine is None or len(mine) == 1:
            key = (classes, None if mine is None else next(iter(mine)))
            write = new_classes.get(key)
            if write is None:
                new_classes[key] = write = [c for c in _visible(box, classes) if c != key[1]]
        else:
            write = [c for c in _visible(box, classes) if c not in mine]
        out += [(node, TYPE, c) for c in write]
        if _RUPTURE in classes and _UNREPAIRED not in classes and node not in repaired:
            out.append((node, TYPE, _UNREPAIRED))  # closed-world/unrepaired-rupture.rq
    given: dict[str, set[Triple]] = {}
    written: set[Triple] = set()
    for links in (engine.links, *brought.values()):
        for link in links:
            s, p, o = link
            if (s == own or s.startswith(inside)) and p != _SAME_AS and o[0] != "_":
                before = given.get(p)
                if before is None:
                    given[p] = before = set(groups.get(p, ()))
                if link not in before and link not in written:
                    written.add(link)
                    out.append(link)
    return out


def _visible(box: CompiledTBox, classes: frozenset[str]) -> list[str]:
    """The classes of ``classes`` an inferred graph shows: named, and not hidden."""
    return [c for c in classes - box.hidden_classes if c.startswith("<")]


def infer_nquads(session_id: str, nquads: bytes, *, box: CompiledTBox | None = None) -> bytes:
    """A session's inferred graph as N-Quads text, from its session graph's N-Quads."""
    return infer_graph(session_id, split_nquads(nquads), nquads, box=box)


def infer_graph(
    session_id: str, triples: Iterable[Triple], nquads: bytes, *, box: CompiledTBox | None = None
) -> bytes:
    """A session's inferred graph as N-Quads text, from its triples as term strings; by
    ``reasonable`` (given ``nquads``, the same graph as text) when this engine cannot run a
    rule the session needs."""
    try:
        found = infer_triples(session_id, triples, box=box)
    except Unsupported:
        from .reference import inferred_nquads  # the reference engine, for what rules cannot do

        return inferred_nquads([(session_id, nquads)])[0]
    return join_nquads(found, vocab.inferred_graph_iri(session_id))
