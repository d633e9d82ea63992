"""Compile SHACL Core shapes into SPARQL queries that return exactly the violating nodes.

Two forms are compiled from the same constraints:

* the **batch** form (:class:`~mbtkg.validation.fast_shacl.batch_compiler.BatchPlan`), used whenever it
  is exact: one query checks every session of a batch, each in its own named graph, with what
  it needs from the ontology precomputed (:mod:`mbtkg.validation.fast_shacl.ontology_facts`);
* the **general** form, run on one session at a time in a store that also holds the
  ontology (as pySHACL mixes it in): every supported constraint becomes one branch
  ``{ ... BIND(k AS ?k) }`` that binds ``?this`` (the focus node) and, where SHACL reports
  one, ``?value``; all branches are joined by ``UNION`` into one query. ``sh:sparql`` constraints run as their own queries. The engine
  uses it for a session the batch form cannot take (one that asserts ``rdfs:subClassOf``, say)
  and for every session when the shapes or the ontology rule the batch form out.

Shapes the compiler cannot handle at all are cut out into a smaller shapes graph for pySHACL
(see :func:`fallback_shapes`).

The data graph is the session's triples plus the ontology, as pySHACL sees it with
``ont_graph``: ``sh:class`` and ``sh:targetClass`` follow ``rdfs:subClassOf*`` there.
"""

from __future__ import annotations

import re

import rdflib

from ... import vocab
from .batch_compiler import GRAPH_VAR, BatchBuilder, BatchForm
from .compiled import Branch, CompiledShapes, SparqlCheck
from .ontology_facts import OntologyFacts, default_facts
from .shapes import SH, Shape, read_shapes, shape_name

_TYPE_PATH = f"<{vocab.RDF}type>/<{vocab.RDFS}subClassOf>*"
_PATHLESS = {"ClassConstraintComponent", "OrConstraintComponent"}


def _iri_or_none(node: rdflib.term.Node) -> str | None:
    return str(node) if isinstance(node, rdflib.URIRef) else None


def _term(node: rdflib.term.Node) -> str:
    return node.n3()


def _focus(shape: Shape, by_node: dict[rdflib.term.Node, Shape]) -> str:
    targets = list(shape.targets)
    for parent in shape.parents:
        targets += by_node[parent].targets
    parts: list[str] = []
    for kind, iri in sorted(set(targets)):
        if kind == "targetClass":
            parts.append(f"{{ ?this {_TYPE_PATH} <{iri}> }}")
        elif kind == "targetObjectsOf":
            parts.append(f"{{ ?t_s <{iri}> ?this }}")
        elif kind == "targetSubjectsOf":
            parts.append(f"{{ ?this <{iri}> ?t_o }}")
        else:
            parts.append(f"{{ VALUES ?this {{ <{iri}> }} }}")
    if not parts:
        return "FILTER (false)"
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(parts) + " } }"


def _not_instance(var: str, cls: str) -> str:
    return f"NOT EXISTS {{ {var} {_TYPE_PATH} <{cls}> }}"


#: (component, general-form group, batch form) of one constraint.
Constraint = tuple[str, str, BatchForm]


def _property_branches(shape: Shape, focus: str) -> list[Constraint]:
    """The constraints of one property shape, in both forms."""
    p = f"<{shape.path}>"
    path = str(shape.path)
    values = f"{focus} ?this {p} ?value ."
    out: list[Constraint] = []
    for n in shape.params.get("minCount", []):
        out.append((
            "MinCountConstraintComponent",
            f"{{ SELECT ?this (COUNT(DISTINCT ?v) AS ?c) WHERE {{ {focus} OPTIONAL {{ ?this {p} ?v }} }} GROUP BY ?this }} FILTER (?c < {_term(n)})",
            BatchForm("count", path=path, op="<", bound=_term(n)),
        ))  # fmt: skip
    for n in shape.params.get("maxCount", []):
        out.append((
            "MaxCountConstraintComponent",
            f"{{ SELECT ?this WHERE {{ {focus} ?this {p} ?v }} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {_term(n)}) }}",
            BatchForm("count", path=path, op=">", bound=_term(n)),
        ))  # fmt: skip
    for dt in shape.params.get("datatype", []):
        d = f"<{dt}>"
        valid = (
            "true"
            if str(dt) == vocab.XSD + "string"
            else f"COALESCE(isLiteral({d}(STR(?value))), false)"
        )
        test = f"!(isLiteral(?value) && datatype(?value) = {d} && {valid})"
        out.append(
            (
                "DatatypeConstraintComponent",
                f"{values} FILTER ({test})",
                BatchForm("value", condition=test),
            )
        )
    for cls in shape.params.get("class", []):
        out.append((
            "ClassConstraintComponent",
            f"{values} FILTER ({_not_instance('?value', str(cls))})",
            BatchForm("not_instance", classes=(str(cls),)),
        ))  # fmt: skip
    comparisons = {
        "minInclusive": ">=",
        "maxInclusive": "<=",
        "minExclusive": ">",
        "maxExclusive": "<",
    }
    for name, op in comparisons.items():
        for bound in shape.params.get(name, []):
            component = name[0].upper() + name[1:] + "ConstraintComponent"
            test = f"!COALESCE(?value {op} {_term(bound)}, false)"
            out.append((component, f"{values} FILTER ({test})", BatchForm("value", condition=test)))
    for name, op in (("minLength", "<"), ("maxLength", ">")):
        for n in shape.params.get(name, []):
            component = name[0].upper() + name[1:] + "ConstraintComponent"
            test = f"(isBlank(?value) || STRLEN(STR(?value)) {op} {_term(n)})"
            out.append((component, f"{values} FILTER {test}", BatchForm("value", condition=test)))
    for name, op in (("lessThanOrEquals", "<="), ("lessThan", "<")):
        for other in shape.params.get(name, []):
            component = name[0].upper() + name[1:] + "ConstraintComponent"
            failing = (
                f"EXISTS {{ GRAPH ?{GRAPH_VAR} {{ ?this <{other}> ?fs_other }} "
                f"FILTER (!COALESCE(?value {op} ?fs_other, false)) }}"
            )
            out.append((
                component,
                f"{values} ?this <{other}> ?o FILTER (!COALESCE(?value {op} ?o, false))",
                BatchForm("value", condition=failing, reads=(str(other),)),
            ))  # fmt: skip
    if shape.qualified_class is not None:
        q = f"?this {p} ?q . ?q {_TYPE_PATH} <{shape.qualified_class}>"
        count = f"{{ SELECT ?this (COUNT(DISTINCT ?q) AS ?c) WHERE {{ {focus} OPTIONAL {{ {q} }} }} GROUP BY ?this }}"
        for name, op in (("qualifiedMinCount", "<"), ("qualifiedMaxCount", ">")):
            for n in shape.params.get(name, []):
                component = name[0].upper() + name[1:] + "ConstraintComponent"
                form = BatchForm(
                    "count", path=path, op=op, bound=_term(n), qualified=shape.qualified_class
                )
                out.append((component, f"{count} FILTER (?c {op} {_term(n)})", form))
    if shape.classes_in_or is not None:
        none = " && ".join(_not_instance("?value", c) for c in shape.classes_in_or) or "true"
        out.append((
            "OrConstraintComponent",
            f"{values} FILTER ({none})",
            BatchForm("not_instance", classes=tuple(shape.classes_in_or)),
        ))  # fmt: skip
    return out


def _node_branches(shape: Shape, focus: str) -> list[Constraint]:
    out: list[Constraint] = []
    for cls in shape.params.get("class", []):
        out.append((
            "ClassConstraintComponent",
            f"{focus} FILTER ({_not_instance('?this', str(cls))}) BIND (?this AS ?value)",
            BatchForm("not_instance", classes=(str(cls),)),
        ))  # fmt: skip
    if shape.classes_in_or is not None:
        none = " && ".join(_not_instance("?this", c) for c in shape.classes_in_or) or "true"
        out.append((
            "OrConstraintComponent",
            f"{focus} FILTER ({none}) BIND (?this AS ?value)",
            BatchForm("not_instance", classes=tuple(shape.classes_in_or)),
        ))  # fmt: skip
    return out


def compile_shapes(g: rdflib.Graph, ontology: OntologyFacts | None = None) -> CompiledShapes:
    """Compile a shapes graph; shapes outside the supported subset go to the fallback graph.

    ``ontology`` is what the data graph mixes in (default: the bundled ontology as pySHACL
    mixes it in); the batch form depends on it.

    >>> from mbtkg.validation.violations import shapes_graph
    >>> compiled = compile_shapes(shapes_graph())
    >>> compiled.fell_back, compiled.batch_blocked
    ((), None)
    """
    shapes = read_shapes(g)
    by_node = {s.node: s for s in shapes}
    builder = BatchBuilder(ontology or default_facts())
    branches: list[Branch] = []
    groups: list[str] = []
    checks: list[SparqlCheck] = []
    fell_back: list[tuple[str, str]] = []
    for shape in shapes:
        if shape.unsupported:
            fell_back.append((shape.name, "; ".join(sorted(set(shape.unsupported)))))
            continue
        focus = _focus(shape, by_node)
        focus_b = builder.focus(shape, by_node)
        if shape.is_property:
            path = shape.path
            compiled = _property_branches(shape, focus)
        else:
            path = None
            compiled = _node_branches(shape, focus)
        forms: list[tuple[int, BatchForm]] = []
        for component, group, form in compiled:
            k = len(branches)
            branches.append(
                Branch(
                    shape=shape.name,
                    component=f"sh:{component}",
                    path=path if component not in _PATHLESS or shape.is_property else None,
                    message=shape.message,
                    value_is_focus=not shape.is_property and component in _PATHLESS,
                    source=_iri_or_none(shape.node),
                    constraint=k,
                )
            )
            groups.append(f"{{ {group} BIND ({k} AS ?k) }}")
            forms.append((k, form))
        builder.add_shape(shape, focus_b, forms)
        for constraint, text, message in shape.sparql:
            named = isinstance(constraint, rdflib.URIRef)
            branch = Branch(
                shape=shape_name(constraint) if named else shape.name,
                component="sh:SPARQLConstraintComponent",
                path=path,
                message=message or shape.message,
                source=_iri_or_none(shape.node),
                constraint=-1 - len(checks),
            )
            focus_query = f"SELECT DISTINCT ?this WHERE {{ {focus} }}"
            query_text = without_not_exists(text.replace("$this", "?this"))
            checks.append(SparqlCheck(focus_query, query_text, branch))
            builder.add_sparql(len(checks) - 1, query_text, focus_b, shape)
    query = None
    if groups:
        query = "SELECT DISTINCT ?k ?this ?value WHERE {\n" + "\nUNION\n".join(groups) + "\n}"
    fallback = fallback_shapes(g, [s for s in shapes if s.unsupported], by_node)
    plan = builder.plan()
    return CompiledShapes(
        query,
        tuple(branches),
        tuple(checks),
        fallback,
        tuple(fell_back),
        batch=plan,
        batch_blocked=None if plan is not None else "; ".join(builder.blocked),
    )


def fallback_shapes(
    g: rdflib.Graph, shapes: list[Shape], by_node: dict[rdflib.term.Node, Shape]
) -> str | None:
    """The shapes graph (Turtle) pySHACL checks: ``g`` with the compiled shapes made inert.

    The whole graph is kept, so that what a fallen-back shape refers to (``sh:node`` and
    ``sh:and`` members, the property shapes ``sh:closed`` reads) is all there. A compiled
    shape loses its targets; a compiled node shape one of whose property shapes fell back
    keeps its targets but loses its compiled constraints and its compiled property shapes;
    a compiled property shape of a node shape that fell back is deactivated there (the node
    shape's ``sh:closed`` still reads its path).
    """
    if not shapes:
        return None
    out = rdflib.Graph()
    for prefix, namespace in g.namespaces():
        out.bind(prefix, namespace)
    for triple in g:
        out.add(triple)
    for shape in by_node.values():
        if shape.unsupported:
            continue
        children = [c for c in g.objects(shape.node, SH.property) if c in by_node]
        if any(by_node[p].unsupported for p in shape.parents):
            out.add((shape.node, SH.deactivated, rdflib.Literal(True)))
        if shape.is_property or not any(by_node[c].unsupported for c in children):
            for p in (*_TARGET_PREDICATES, None):
                if p is None:
                    out.remove((shape.node, rdflib.RDF.type, rdflib.RDFS.Class))
                else:
                    out.remove((shape.node, p, None))
            continue
        for child in children:
            if not by_node[child].unsupported:
                out.remove((shape.node, SH.property, child))
        for p in (SH["class"], SH["or"], SH.sparql):
            out.remove((shape.node, p, None))
    return out.serialize(format="turtle")


_TARGET_PREDICATES = (SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf, SH.targetNode)


_NOT_EXISTS = re.compile(r"FILTER\s+NOT\s+EXISTS\s*\{", re.IGNORECASE)
_VAR = re.compile(r"[?$]([A-Za-z_][A-Za-z0-9_]*)")


def without_not_exists(query: str) -> str:
    """Rewrite one top-level ``FILTER NOT EXISTS { P }`` as ``OPTIONAL { P } FILTER (!BOUND(?v))``.

    Oxigraph evaluates ``NOT EXISTS`` once per row and slowly (0.5-1 s for the quote check of
    one 200-turn session, against 9 ms for the left join). The two mean the same when ``P`` is
    a plain group of triple patterns and filters, and ``?v`` is a variable of one of its triple
    patterns that appears nowhere else in the query; otherwise the query is returned unchanged.

    >>> without_not_exists("SELECT ?x WHERE { ?x a ?c FILTER NOT EXISTS { ?x <p> ?y } }")
    'SELECT ?x WHERE { ?x a ?c OPTIONAL { ?x <p> ?y } FILTER (!BOUND(?y)) }'
    """
    matches = list(_NOT_EXISTS.finditer(query))
    bare = re.sub(r"<[^<>\s]*>", "", query)
    if len(matches) != 1 or any(c in bare for c in "\"'#"):
        return query
    m = matches[0]
    depth = query[: m.start()].count("{") - query[: m.start()].count("}")
    if depth != 1:
        return query
    close = m.end()
    level = 1
    while close < len(query) and level:
        level += {"{": 1, "}": -1}.get(query[close], 0)
        close += 1
    inner = query[m.end() : close - 1]
    if (
        level
        or "{" in inner
        or re.search(r"\b(OPTIONAL|BIND|VALUES|UNION|MINUS|GRAPH|SERVICE)\b", inner, re.IGNORECASE)
    ):
        return query
    patterns = re.split(r"\bFILTER\b", inner, flags=re.IGNORECASE)[0]
    outside = set(_VAR.findall(query[: m.start()] + query[close:]))
    fresh = [v for v in _VAR.findall(patterns) if v not in outside]
    if not fresh:
        return query
    return f"{query[: m.start()]}OPTIONAL {{{inner}}} FILTER (!BOUND(?{fresh[0]})){query[close:]}"
