"""Read a SHACL shapes graph into shape records, and tell which ones the compiler can handle.

A record keeps what the compiler needs (targets, path, constraint parameters) and, when the
shape uses anything outside the supported subset of SHACL Core, the reason it cannot be
compiled. Such shapes are validated by pySHACL instead, never skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import rdflib
from rdflib.collection import Collection

from ... import vocab

SH = rdflib.Namespace(vocab.SH)
_RDF_TYPE = rdflib.RDF.type

#: Parameters that carry no constraint (labels, ordering, messages).
_NEUTRAL = {
    _RDF_TYPE, rdflib.RDFS.label, rdflib.RDFS.comment, SH.message, SH.name, SH.description,
    SH.order, SH.group, SH.defaultValue, SH.severity, SH.deactivated,
    # a shape that is also a class: its place in the hierarchy is read from the data graph
    rdflib.RDFS.subClassOf,
}  # fmt: skip
_TARGETS = {SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf, SH.targetNode}
_NODE_CONSTRAINTS = {SH["class"], SH["or"], SH.sparql, SH.property}
_PROPERTY_CONSTRAINTS = {
    SH.path, SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH["or"], SH.minInclusive,
    SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH.minLength, SH.maxLength,
    SH.lessThanOrEquals, SH.lessThan, SH.qualifiedValueShape, SH.qualifiedMinCount,
    SH.qualifiedMaxCount,
}  # fmt: skip
#: Datatypes whose lexical forms the compiled query checks by casting (like pySHACL does).
CASTABLE = {
    vocab.XSD + t
    for t in ("string", "integer", "decimal", "double", "float", "boolean", "date", "dateTime")
}


@dataclass
class Shape:
    """One node or property shape of the shapes graph, as the compiler sees it."""

    node: rdflib.term.Node
    is_property: bool
    targets: list[tuple[str, str]] = field(default_factory=list)  # (kind, IRI)
    path: str | None = None
    params: dict[str, list[rdflib.term.Node]] = field(default_factory=dict)  # local name -> values
    classes_in_or: list[str] | None = None
    qualified_class: str | None = None
    sparql: list[tuple[rdflib.term.Node, str, str | None]] = field(default_factory=list)
    message: str | None = None
    parents: list[rdflib.term.Node] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The shape as mbtkg names it in results (``mbtsh:Turn-speaker``)."""
        return shape_name(self.node)


def shape_name(node: object) -> str:
    """The short name of a shape IRI, as :mod:`mbtkg.validation.validate` reports it."""
    text = str(node)
    prefix = "https://w3id.org/mbtkg/shapes#"
    return f"mbtsh:{text[len(prefix) :]}" if text.startswith(prefix) else "(anonymous shape)"


def _class_only(g: rdflib.Graph, node: rdflib.term.Node) -> str | None:
    """The class of a shape that says nothing but ``sh:class C`` (and its type), else None."""
    preds = set(g.predicates(node, None)) - {_RDF_TYPE}
    classes = list(g.objects(node, SH["class"]))
    if preds == {SH["class"]} and len(classes) == 1 and isinstance(classes[0], rdflib.URIRef):
        return str(classes[0])
    return None


def read_shapes(g: rdflib.Graph) -> list[Shape]:
    """Every shape that can produce a result: node shapes with targets and their property shapes."""
    node_shapes = set(g.subjects(_RDF_TYPE, SH.NodeShape))
    for target in _TARGETS:
        node_shapes |= set(g.subjects(target, None))
    node_shapes |= {s for s in g.subjects(SH.property, None)}
    shapes: dict[rdflib.term.Node, Shape] = {}
    node_shapes |= {
        s for s in g.subjects(_RDF_TYPE, rdflib.RDFS.Class) if (s, _RDF_TYPE, SH.NodeShape) in g
    }
    for node in sorted(node_shapes, key=str):
        implicit = (node, _RDF_TYPE, rdflib.RDFS.Class) in g
        if (
            not implicit
            and not any(g.objects(node, t) for t in _TARGETS)
            and not any(g.objects(node, SH.property))
        ):
            continue
        shapes[node] = _read(g, node, is_property=False)
    for parent in list(shapes):
        for prop in g.objects(parent, SH.property):
            shape = shapes.get(prop)
            if shape is None:
                shape = shapes[prop] = _read(g, prop, is_property=True)
            shape.parents.append(parent)
    for shape in shapes.values():
        if shape.is_property and not shape.targets and not shape.parents:
            shape.unsupported.append("no targets")
        for parent in shape.parents:
            if shapes[parent].is_property:  # its focus nodes are the parent's values
                shape.unsupported.append("a property shape nested in a property shape")
            elif shapes[parent].unsupported and any(
                "target" in u for u in shapes[parent].unsupported
            ):
                shape.unsupported.append(
                    f"its node shape {shape_name(parent)} has unsupported targets"
                )
    return list(shapes.values())


def _read(g: rdflib.Graph, node: rdflib.term.Node, *, is_property: bool) -> Shape:
    shape = Shape(node=node, is_property=is_property or (node, SH.path, None) in g)
    allowed = (
        _NEUTRAL | _TARGETS | (_PROPERTY_CONSTRAINTS if shape.is_property else _NODE_CONSTRAINTS)
    )
    if (node, _RDF_TYPE, rdflib.RDFS.Class) in g and isinstance(node, rdflib.URIRef):
        shape.targets.append(("targetClass", str(node)))  # an implicit class target
    elif (node, _RDF_TYPE, rdflib.RDFS.Class) in g or (node, _RDF_TYPE, rdflib.OWL.Class) in g:
        shape.unsupported.append("implicit class target")
    for p, o in g.predicate_objects(node):
        if p not in allowed:
            shape.unsupported.append(f"{p.n3(g.namespace_manager)}")
            continue
        if p in _TARGETS:
            if not isinstance(o, rdflib.URIRef):
                shape.unsupported.append(f"a non-IRI {p.n3(g.namespace_manager)}")
            shape.targets.append((str(p)[len(vocab.SH) :], str(o)))
        elif p == SH.path:
            if isinstance(o, rdflib.URIRef):
                shape.path = str(o)
            else:
                shape.unsupported.append("a complex sh:path")
        elif p == SH.message:
            shape.message = str(o)
        elif p == SH.severity and o != SH.Violation:
            shape.unsupported.append("a severity other than sh:Violation")
        elif p == SH["or"]:
            members = list(Collection(g, o))
            classes = [_class_only(g, m) for m in members]
            if shape.classes_in_or is not None or None in classes:
                shape.unsupported.append("sh:or of anything but sh:class shapes")
            shape.classes_in_or = [c for c in classes if c is not None]
        elif p == SH.qualifiedValueShape:
            shape.qualified_class = _class_only(g, o)
            if shape.qualified_class is None or len(list(g.objects(node, p))) > 1:
                shape.unsupported.append("sh:qualifiedValueShape other than one sh:class")
        elif p == SH.sparql:
            _read_sparql(g, o, shape)
        elif p not in _NEUTRAL:
            shape.params.setdefault(str(p)[len(vocab.SH) :], []).append(o)
    if (node, SH.qualifiedValueShapesDisjoint, rdflib.Literal(True)) in g:
        shape.unsupported.append("sh:qualifiedValueShapesDisjoint")
    if (node, SH.deactivated, rdflib.Literal(True)) in g:
        shape.unsupported = []
        shape.targets = []
    for dt in shape.params.get("datatype", []):
        if str(dt) not in CASTABLE:
            shape.unsupported.append(f"sh:datatype {dt} (lexical check not compiled)")
    return shape


def _read_sparql(g: rdflib.Graph, constraint: rdflib.term.Node, shape: Shape) -> None:
    extra = set(g.predicates(constraint, None)) - {_RDF_TYPE, SH.select, SH.message, SH.deactivated}
    select = g.value(constraint, SH.select)
    if extra or select is None:
        shape.unsupported.append("a SPARQL constraint with prefixes or without sh:select")
        return
    if (constraint, SH.deactivated, rdflib.Literal(True)) in g:
        return
    text = str(select)
    upper = text.upper()
    if len(re.findall(r"\bSELECT\b", upper)) != 1 or any(
        v in text for v in ("$PATH", "$currentShape", "$shapesGraph")
    ):
        shape.unsupported.append("a SPARQL constraint with a subquery or special variables")
        return
    head = re.split(r"\bWHERE\b|\{", upper, maxsplit=1)[0]
    if "$THIS" not in head and "?THIS" not in head or "?PATH" in head or "?FAILURE" in head:
        shape.unsupported.append(
            "a SPARQL constraint that does not project $this, or projects ?path/?failure"
        )
        return
    message = g.value(constraint, SH.message)
    shape.sparql.append((constraint, text, None if message is None else str(message)))
