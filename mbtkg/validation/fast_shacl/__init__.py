"""Fast SHACL validation: SHACL Core shapes compiled to SPARQL and run by Oxigraph.

pySHACL stays the reference engine. The compiler handles the subset of SHACL Core that
mbtkg's shapes use; any shape outside it is validated by pySHACL (``CompiledShapes.fell_back``
names them), so nothing is skipped. Sessions are checked in batches, several in one store and
query run (:meth:`FastValidator.validate_many`), each in its own named graph, with what the
shapes need from the ontology precomputed; a session or shapes graph the batch form cannot
follow exactly is checked one session at a time instead. Results are
:class:`mbtkg.validation.validate.Violation` objects with the same (focus, path, component, shape) keys,
lines, values and messages as pySHACL's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .compiled import CompiledShapes
from .engine import FastValidator, default_compiled

if TYPE_CHECKING:
    from .compiler import compile_shapes

__all__ = ["CompiledShapes", "FastValidator", "compile_shapes", "default_compiled"]


def __getattr__(name: str) -> Any:
    if name == "compile_shapes":  # the compiler needs rdflib; running compiled shapes does not
        from .compiler import compile_shapes

        return compile_shapes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
