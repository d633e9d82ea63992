"""The compiled form of a shapes graph, as plain data: what the engine runs and what is cached.

Nothing here imports rdflib: a process that only runs compiled shapes (read from the cache of
derived rules, :mod:`mbtkg.derived_cache`) does without it. The compiler
(:mod:`mbtkg.validation.fast_shacl.compiler`, :mod:`mbtkg.validation.fast_shacl.batch_compiler`) builds these.
"""

from __future__ import annotations

from dataclasses import dataclass

GRAPH_VAR = "fast_shacl_graph"
MASK_VAR = "fast_shacl_mask"
GROUP_VAR = "fast_shacl_group"

#: What a result reports as its ``sh:value``: the value node, the focus node, or nothing.
#: "sparql" marks a SPARQL constraint (its index is into ``CompiledShapes.sparql``; it
#: reports the value); "general" marks a session to validate the general way.
Reports = str  # "value" | "focus" | "none" | "sparql" | "general"


@dataclass(frozen=True)
class BatchPlan:
    """The batch queries and how to read their rows; plain data, so it crosses processes."""

    #: Each a UNION of up to GROUPS_PER_QUERY groups; together they check every constraint.
    queries: tuple[str, ...]
    #: For group number s: per bit of the mask, (branch index, what the result reports);
    #: the index is into ``CompiledShapes.sparql`` when it reports "sparql".
    groups: tuple[tuple[tuple[int, Reports], ...], ...]
    #: Classes whose ontology closure and instances go into the facts graph.
    classes: tuple[str, ...]
    #: Predicates whose ontology triples go into the facts graph.
    read_predicates: tuple[str, ...]


@dataclass(frozen=True)
class Branch:
    """What one compiled constraint reports: shape, component, path, message."""

    shape: str
    component: str
    path: str | None
    message: str | None
    value_is_focus: bool = False
    #: The IRI of the shape as written in the shapes graph (None for a blank node).
    source: str | None = None
    #: Which constraint of the shapes graph this is: two constraints of one shape with the
    #: same component (two sh:class values, say) report a value twice, as SHACL says.
    constraint: int = 0


@dataclass(frozen=True)
class SparqlCheck:
    """An ``sh:sparql`` constraint: its focus query, its own query, and what it reports."""

    focus_query: str
    query: str
    branch: Branch


@dataclass(frozen=True)
class CompiledShapes:
    """The compiled form of a shapes graph; plain strings, so it crosses process boundaries."""

    query: str | None
    branches: tuple[Branch, ...]
    sparql: tuple[SparqlCheck, ...]
    fallback_turtle: str | None
    fell_back: tuple[tuple[str, str], ...]  # (shape, reason)
    #: The batch form, or None when it would not be exact (``batch_blocked`` says why).
    batch: BatchPlan | None = None
    batch_blocked: str | None = None


@dataclass(frozen=True)
class CompiledRules:
    """Compiled shapes with the ontology facts their batch form needs (N-Quads of the facts
    graph; empty without a batch form): the entry the cache of derived rules keeps."""

    compiled: CompiledShapes
    fact_nquads: bytes
