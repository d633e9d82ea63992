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
from ..nquads_text import Triple, split_nquads
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
        #: property -> new links (subject, object) the joining rules have not seen
        self.new_links: dict[str, list[tuple[str, str]]] = {}
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

    def start(self, types: dict[str, frozenset[str]]) -> None:
        """Take every node's types before any link is added (the engine then knows no node):
        queue the classes a joining rule reads, looked up once per distinct set."""
        self.types = types
        triggers = self.box.triggers
        triggered: dict[frozenset[str], frozenset[str]] = {}
        for node, classes in types.items():
            found = triggered.get(classes)
            if found is None:
                found = triggered[classes] = classes & triggers
            if found:
                self.new_types.extend([(node, cls) for cls in found])

    def add_type(self, node: str, cls: str) -> None:
        entailed = self.box.entailed.get(cls)
        self.add_types(node, entailed if entailed is not None else frozenset((cls,)))

    def add_links(self, p: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Add links of ``p`` (subject, object), with every link each brings and the types
        of their ends."""
        box, links = self.box, self.links
        fresh = [(s, o) for s, o in pairs if (s, p, o) not in links]
        if not fresh:
            return
        for q, inverted in box.link_closure.get(p, ((p, False),)):
            added = []
            for s, o in fresh:
                link = (o, q, s) if inverted else (s, q, o)
                if link not in links:
                    links.add(link)
                    added.append((link[0], link[2]))
            if added and q in box.joined:
                self._index(q, added)
        classes = box.subject_types.get(p)
        if classes:
            for s, _ in fresh:
                self.add_types(s, classes)
        classes = box.object_types.get(p)
        if classes:
            for _, o in fresh:
                self.add_types(o, classes)

    def _index(self, q: str, pairs: list[tuple[str, str]]) -> None:
        box = self.box
        individuals = box.individual_types
        outs, ins = self.outs[q], self.ins[q]
        for s, o in pairs:
            # a named individual of the ontology met in a link a rule joins: its types matter
            # (elsewhere they only type the individual, which is never written)
            for node in (s, o):
                if node in individuals and node not in self.seen_individuals:
                    self.seen_individuals.add(node)
                    self.add_types(node, individuals[node])
            outs.setdefault(s, set()).add(o)
            ins.setdefault(o, set()).add(s)
        waiting = self.new_links.get(q)
        if waiting is None:
            self.new_links[q] = list(pairs)
        else:
            waiting += pairs
        if q in box.some_by_property:
            # from now on a new filler class of the object is joined with its links (the
            # classes it has now are, when each link's turn comes in _link_rules)
            self.link_objects.update(o for _, o in pairs)

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
                    self.add_links(prop, ((node, value),))
            while self.new_links:
                self._link_rules(*self.new_links.popitem())

    def _link_rules(self, p: str, pairs: list[tuple[str, str]]) -> None:
        """The joining rules for new links of one property."""
        box, types = self.box, self.types
        if p in box.transitive:
            outs, ins = self.outs[p], self.ins[p]
            longer = [(s, after) for s, o in pairs for after in outs.get(o, ())]
            longer += [(before, o) for s, o in pairs for before in ins.get(s, ())]
            self.add_links(p, longer)
        some = box.some_by_property.get(p)
        if some:
            cache = self.some_classes
            for s, o in pairs:
                known = types.get(o)
                if not known:
                    continue
                classes = cache.get((p, known))
                if classes is None:
                    classes = cache[(p, known)] = frozenset().union(
                        *(
                            box.entailed.get(restriction, frozenset((restriction,)))
                            for restriction, filler in some
                            if filler in known
                        )
                    )
                if classes:
                    mine = types.get(s)
                    if mine is None or not (mine is classes or classes <= mine):
                        self.add_types(s, classes)
        for restriction, filler in box.all_by_property.get(p, ()):
            for s, o in pairs:
                if restriction in types.get(s, ()):
                    self.add_type(o, filler)
        if p in box.value_properties:
            for s, o in pairs:
                for restriction in box.value_by_link.get((p, o), ()):
                    self.add_type(s, restriction)


#: A session's inferred graph as the engine gives it: its new types, as (the classes written,
#: the nodes each of them is written for), and its other triples.
_Inferred = tuple[list[tuple[list[str], list[str]]], list[Triple]]


def infer_triples(
    session_id: str, asserted: Iterable[Triple], *, box: CompiledTBox | None = None
) -> list[Triple]:
    """The triples of a session's inferred graph (what :func:`mbtkg.session_reasoning.reference.infer_session`
    gives), from its asserted triples, as term strings. Raises :class:`Unsupported` when a
    rule this engine does not run is needed."""
    typed, other = _infer(session_id, asserted, box or compiled_tbox())
    return [(node, TYPE, c) for classes, nodes in typed for node in nodes for c in classes] + other


def _infer(session_id: str, asserted: Iterable[Triple], box: CompiledTBox) -> _Inferred:
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
    #: each node's asserted class, and all of them for the few nodes with more than one
    asserted_class: dict[str, str] = {}
    more_asserted: dict[str, set[str]] = {}
    brought: dict[str, list[Triple]] = defaultdict(list)
    to_engine: list[list[Triple]] = []
    for p, group in groups.items():
        if p == TYPE:
            entailed = box.entailed
            for s, _, o in group:
                first = asserted_class.setdefault(s, o)
                if first != o:
                    more_asserted.setdefault(s, {first}).add(o)
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
    types: dict[str, frozenset[str]] = {}
    for node, parts in gathered.items():
        if len(parts) == 1:
            types[node] = parts[0]
            continue
        key = frozenset(parts)
        classes = joined.get(key)
        if classes is None:
            joined[key] = classes = frozenset().union(*parts)
        types[node] = classes
    engine.start(types)
    # the links the joining rules read, once every node has its joined types: most then
    # bring no type a node lacks
    for group in to_engine:
        engine.add_links(group[0][1], [(s, o) for s, _, o in group])
    engine.run()
    _refuse_merged_nodes(box, groups, brought, engine.links)
    typed, other = _new_about(
        session_id, box, engine, (asserted_class, more_asserted), groups, brought
    )
    return typed, derived + other


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
    asserted_types: tuple[dict[str, str], dict[str, set[str]]],
    groups: dict[str, list[Triple]],
    brought: dict[str, list[Triple]],
) -> _Inferred:
    """What is new and about the session's own nodes: types (never a blank node, which means
    nothing outside the reasoner, nor owl:Thing), grouped by the classes written, then the
    closed-world rule and links."""
    own = f"<{vocab.session_iri(session_id)}>"
    inside = own[:-1] + "/"
    other: list[Triple] = []
    repaired = {o for _, p, o in engine.links if p == _REPAIRS}
    repaired.update(o for _, _, o in groups.get(_REPAIRS, ()))
    repaired.update(o for _, _, o in brought.get(_REPAIRS, ()))
    #: (classes, the node's one asserted class) -> the classes to write and the nodes they are
    #: written for; most nodes share one
    shared: dict[tuple[frozenset[str], str | None], tuple[list[str], list[str]]] = {}
    typed: list[tuple[list[str], list[str]]] = []
    asserted_class, more_asserted = asserted_types
    for node, classes in engine.types.items():
        if not node.startswith(inside) and node != own:
            continue
        mine = more_asserted.get(node)
        if mine is None:
            key = (classes, asserted_class.get(node))
            group = shared.get(key)
            if group is None:
                write = [c for c in _visible(box, classes) if c != key[1]]
                shared[key] = group = (write, [])
                if write:
                    typed.append(group)
            group[1].append(node)
        else:
            typed.append(([c for c in _visible(box, classes) if c not in mine], [node]))
        if _RUPTURE in classes and _UNREPAIRED not in classes and node not in repaired:
            other.append((node, TYPE, _UNREPAIRED))  # closed-world/unrepaired-rupture.rq
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
                    other.append(link)
    return typed, other


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
    return counted_inferred_graph(session_id, triples, nquads, box=box)[0]


def counted_inferred_graph(
    session_id: str, triples: Iterable[Triple], nquads: bytes, *, box: CompiledTBox | None = None
) -> tuple[bytes, int]:
    """:func:`infer_graph` and the number of its triples (what a load reports), counted
    without reading the text again."""
    try:
        typed, other = _infer(session_id, triples, box or compiled_tbox())
    except Unsupported:
        from .reference import inferred_nquads  # the reference engine, for what rules cannot do

        text = inferred_nquads([(session_id, nquads)])[0]
        return text, text.count(b"\n")
    end = f" <{vocab.inferred_graph_iri(session_id)}> .\n"
    # each group's lines but their subject are written once: ["", " <type> <C1> <g> .\n", ...]
    # joined by a node is that node's lines
    lines = [
        node.join(tails)
        for classes, nodes in typed
        for tails in (["", *(f" {TYPE} {c}{end}" for c in classes)],)
        for node in nodes
    ]
    lines += [f"{s} {p} {o}{end}" for s, p, o in other]
    count = sum(len(classes) * len(nodes) for classes, nodes in typed) + len(other)
    return "".join(lines).encode("utf-8"), count
