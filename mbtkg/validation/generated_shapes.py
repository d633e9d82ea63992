"""The shapes generated from the ontology's axioms (:mod:`mbtkg.validation.axiom_checks`) as Turtle text.

Kept in the cache of derived rules (:mod:`mbtkg.derived_cache`), keyed by the ontology files and
the generator's code, so that a process that only validates (the fast engine, the validation
cache's list of shape messages) knows them without importing rdflib or running the generator.
"""

from __future__ import annotations

from functools import lru_cache

from ..resources import ontology_files

#: The modules whose code decides the generated shapes (part of their cache key).
GENERATOR_CODE = (
    "validation/axiom_checks.py",
    "concepts.py",
    "vocab.py",
    "validation/generated_shapes.py",
)


@lru_cache(maxsize=1)
def generated_shapes_turtle() -> str:
    """The generated shapes of the bundled ontology, as Turtle (built once, then cached)."""
    from ..derived_cache import fingerprint, load_or_build

    def build() -> str:
        from .axiom_checks import axiom_shapes

        text: str = axiom_shapes().serialize(format="turtle")
        return text

    key = fingerprint(ontology_files(), code=GENERATOR_CODE, libraries=("rdflib", "pyoxigraph"))
    return load_or_build("generated-shapes", key, build, str)
