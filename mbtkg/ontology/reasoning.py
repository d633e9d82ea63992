"""OWL reasoning with HermiT through owlready2: consistency and unsatisfiable classes.

owlready2 reads RDF/XML, OWL/XML or N-Triples only, so the ontology is written to a temporary
N-Triples file first. HermiT accepts only the datatypes of the OWL 2 datatype map; literals of
other datatypes (the ontology header's ``xsd:date``, the bibliography's ``xsd:gYear``) are given
to it as plain strings. They only ever appear in annotations, which carry no logical meaning,
so the answer is the same.

The ontology's axioms place its classes under BFO 2020 (``ontology/imports/``). HermiT always
reasons over the ontology *with its imports merged* (:func:`import_triples`), so that a class
placed under two disjoint BFO categories is found unsatisfiable; pass ``imports=()`` to reason
over the given triples alone.

HermiT runs on Java. Without a Java runtime :func:`run_hermit` returns a result whose status is
``"skipped"`` and whose message says how to install one; it never raises for that.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pyoxigraph as ox

from .. import vocab
from ..errors import Location
from ..resources import import_files
from .source import OntologyParseError, parse_file

Status = Literal["consistent", "unsatisfiable", "inconsistent", "skipped", "failed"]

#: The message given when no Java runtime is found.
NO_JAVA = "HermiT needs a Java runtime (apt-get install default-jre-headless); skipped"

# Datatypes HermiT accepts (the OWL 2 datatype map, plus rdf:PlainLiteral and rdf:langString).
_OWL2_DATATYPES = frozenset(
    [vocab.RDF + n for n in ("PlainLiteral", "XMLLiteral", "langString")]
    + [vocab.RDFS + "Literal", vocab.OWL + "real", vocab.OWL + "rational"]
    + [
        vocab.XSD + n
        for n in [
            "decimal",
            "integer",
            "nonNegativeInteger",
            "nonPositiveInteger",
            "positiveInteger",
            "negativeInteger",
            "long",
            "int",
            "short",
            "byte",
            "unsignedLong",
            "unsignedInt",
            "unsignedShort",
            "unsignedByte",
            "double",
            "float",
            "string",
            "normalizedString",
            "token",
            "language",
            "Name",
            "NCName",
            "NMTOKEN",
            "boolean",
            "hexBinary",
            "base64Binary",
            "anyURI",
            "dateTime",
            "dateTimeStamp",
        ]
    ]
)


@dataclass(frozen=True)
class ReasonerResult:
    """What HermiT found.

    ``status`` is ``consistent`` (every class satisfiable), ``unsatisfiable`` (consistent, but
    the classes in ``unsatisfiable`` can have no member), ``inconsistent`` (no model at all),
    ``skipped`` (no Java runtime) or ``failed`` (HermiT stopped with an error, in ``message``).
    """

    status: Status
    unsatisfiable: tuple[str, ...] = ()
    message: str = ""

    @property
    def ran(self) -> bool:
        """Whether HermiT ran to an answer."""
        return self.status in ("consistent", "unsatisfiable", "inconsistent")

    @property
    def passed(self) -> bool:
        """True unless HermiT found a problem (a skipped run does not fail)."""
        return self.status in ("consistent", "skipped")


def find_java(java: str | None = None) -> str | None:
    """The path of the Java executable to use (``java`` on PATH unless one is given), or None."""
    return shutil.which(java or "java")


def owl_ntriples(triples: Sequence[ox.Triple]) -> bytes:
    """The triples as N-Triples a DL reasoner accepts (non-OWL-2 datatypes become strings)."""
    fixed: list[ox.Triple] = []
    for t in triples:
        obj = t.object
        if isinstance(obj, ox.Literal) and obj.datatype.value not in _OWL2_DATATYPES:
            obj = ox.Literal(obj.value)
        fixed.append(ox.Triple(t.subject, t.predicate, obj))
    return ox.serialize(fixed, format=ox.RdfFormat.N_TRIPLES) or b""


@contextmanager
def owlready_world(triples: Sequence[ox.Triple]) -> Iterator[Any]:
    """An owlready2 World holding the ontology, loaded from a temporary N-Triples file.

    Raises OntologyParseError when owlready2 cannot read it (this is the owlready2 parse check).
    """
    import owlready2

    handle, name = tempfile.mkstemp(prefix="mbtkg-ontology-", suffix=".nt")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(owl_ntriples(triples))
        world = owlready2.World()
        try:
            world.get_ontology(path.as_uri()).load(format="ntriples")
        except Exception as exc:  # owlready2 has no parse-error type of its own
            raise OntologyParseError(
                f"the ontology does not load in owlready2: {exc}",
                Location("(the ontology, as N-Triples)"),
                parser="owlready2",
            ) from None
        try:
            yield world
        finally:
            world.close()
    finally:
        path.unlink(missing_ok=True)


def owlready_class_count(triples: Sequence[ox.Triple]) -> int:
    """Load the ontology into owlready2 and return how many classes it sees."""
    with owlready_world(triples) as world:
        return len(list(world.classes()))


@cache
def import_triples() -> tuple[ox.Triple, ...]:
    """The triples of the bundled import modules (BFO 2020), read once per process."""
    triples: list[ox.Triple] = []
    for path in import_files():
        triples.extend(parse_file(path))
    return tuple(triples)


def with_imports(
    triples: Sequence[ox.Triple], imports: Sequence[ox.Triple] | None = None
) -> list[ox.Triple]:
    """The triples followed by the import triples (the bundled ones unless given), without duplicates."""
    merged = list(dict.fromkeys([*triples, *(import_triples() if imports is None else imports)]))
    return merged


def run_hermit(
    triples: Sequence[ox.Triple],
    *,
    java: str | None = None,
    imports: Sequence[ox.Triple] | None = None,
) -> ReasonerResult:
    """Classify the ontology with HermiT; report consistency and unsatisfiable classes.

    The bundled import modules (BFO 2020) are merged first unless ``imports`` gives other
    triples (``()`` for none). ``java`` names the Java executable (default: ``java`` on PATH).
    Returns status ``skipped`` when it is not found.
    """
    java_path = find_java(java)
    if java_path is None:
        return ReasonerResult("skipped", message=NO_JAVA)
    import owlready2

    merged = with_imports(triples, imports)
    added = len(merged) - len(set(triples))
    where = f" (with {added} import triples merged)" if added else ""

    previous = owlready2.JAVA_EXE
    owlready2.JAVA_EXE = java_path
    try:
        with owlready_world(merged) as world:
            try:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
            except owlready2.OwlReadyInconsistentOntologyError:
                return ReasonerResult(
                    "inconsistent",
                    message="the ontology is inconsistent: no interpretation satisfies all axioms"
                    + where,
                )
            except (owlready2.OwlReadyJavaError, OSError) as exc:
                return ReasonerResult("failed", message=_last_lines(str(exc)))
            nothing = vocab.OWL + "Nothing"
            bad = sorted(c.iri for c in world.inconsistent_classes() if c.iri != nothing)
    finally:
        owlready2.JAVA_EXE = previous
    if bad:
        return ReasonerResult(
            "unsatisfiable",
            unsatisfiable=tuple(bad),
            message=f"{len(bad)} unsatisfiable class(es){where}",
        )
    return ReasonerResult("consistent", message=f"consistent; every class is satisfiable{where}")


def _last_lines(text: str, n: int = 5) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-n:]) or "HermiT stopped without a message"


def _hermit_command(java_path: str, path: Path) -> list[str]:
    import owlready2
    from owlready2 import reasoning as owlready_reasoning

    classpath: str = owlready_reasoning._HERMIT_CLASSPATH
    return [
        java_path,
        f"-Xmx{owlready2.JAVA_MEMORY}M",
        # A short-lived run: the quick compiler and the simple collector start fastest.
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "-cp",
        classpath,
        "org.semanticweb.HermiT.cli.CommandLine",
        "-k",
        path.as_uri(),
    ]


def _one_ontology(triples: Sequence[ox.Triple], name: str) -> list[ox.Triple]:
    """The triples as one ontology named ``name``: other ontology headers are dropped."""
    rdf_type = ox.NamedNode(vocab.RDF + "type")
    ontology = ox.NamedNode(vocab.OWL + "Ontology")
    kept = [t for t in triples if not (t.predicate == rdf_type and t.object == ontology)]
    header = {t.subject for t in triples if t.predicate == rdf_type and t.object == ontology}
    kept = [t for t in kept if t.subject not in header]
    return [ox.Triple(ox.NamedNode(f"urn:mbtkg:case:{name}"), rdf_type, ontology), *kept]


def check_consistency_each(
    base: Sequence[ox.Triple],
    cases: Mapping[str, Sequence[ox.Triple]],
    *,
    java: str | None = None,
    imports: Sequence[ox.Triple] | None = None,
    jobs: int | None = None,
) -> dict[str, ReasonerResult]:
    """Ask HermiT, separately for each case, whether ``base`` + imports + that case is consistent.

    Each case is its own ontology and its own HermiT run (a consistency check only, no
    classification), so one inconsistent case never hides or causes the verdict on another;
    up to ``jobs`` runs (default: the CPUs this process may use) go in parallel. Status per case: ``consistent``, ``inconsistent``,
    ``skipped`` (no Java) or ``failed``.
    """
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    java_path = find_java(java)
    if java_path is None:
        return {name: ReasonerResult("skipped", message=NO_JAVA) for name in cases}
    merged = with_imports(base, imports)
    with tempfile.TemporaryDirectory(prefix="mbtkg-hermit-") as tmp:

        def run(item: tuple[int, str]) -> tuple[str, ReasonerResult]:
            number, name = item
            path = Path(tmp) / f"case-{number}.nt"
            path.write_bytes(owl_ntriples(_one_ontology([*merged, *cases[name]], str(number))))
            done = subprocess.run(
                _hermit_command(java_path, path), capture_output=True, text=True, check=False
            )
            output = done.stdout + done.stderr
            if "InconsistentOntologyException" in output:
                return name, ReasonerResult(
                    "inconsistent", message="no interpretation satisfies all axioms"
                )
            if done.returncode == 0 and "is satisfiable" in done.stdout:
                return name, ReasonerResult("consistent", message="consistent")
            return name, ReasonerResult("failed", message=_last_lines(output))

        from ..process_pool import default_jobs

        with ThreadPoolExecutor(max_workers=max(1, jobs or default_jobs())) as pool:
            return dict(pool.map(run, enumerate(cases)))
