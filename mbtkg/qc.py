"""Quality checks of the ontology: ROBOT-style SPARQL checks, three parsers and HermiT.

Each check is a file ``queries/qc/<check>-violation.rq`` whose header says what it checks and
the fix expected::

    # title: Missing definition
    # checks: every class ... has a skos:definition.
    # fix: add one skos:definition ...

Any row the query returns is a violation. The query selects ``?entity`` (the term at fault)
and optionally ``?detail`` (what exactly is wrong). Queries run on an in-memory pyoxigraph
store holding only the ontology, in the **default graph**: no ``GRAPH`` clause is needed, and
the files run unchanged in other tools (``robot verify``, any SPARQL engine loaded with the
ontology files).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from . import vocab
from .concepts import compact
from .errors import QueryError, ResourceError
from .ontology_source import OntologySource, check_rdflib_parses, read_ontology
from .reasoning import ReasonerResult, owlready_class_count, run_hermit
from .resources import resource_dir

_HEADER = re.compile(r"^#\s*(title|checks|fix):\s*(.*)$")
_SUFFIX = "-violation.rq"
_LABEL = vocab.RDFS + "label"
_TYPE = vocab.RDF + "type"

#: Name of the reasoner "check" in reports (it is not a query file).
REASONER_CHECK = "reasoner"


@dataclass(frozen=True)
class QcCheck:
    """One quality check read from a ``*-violation.rq`` file."""

    name: str
    title: str
    checks: str
    fix: str
    sparql: str
    path: Path


@dataclass(frozen=True)
class Violation:
    """One failure: which check, which term (IRI, CURIE, label), what is wrong, the fix expected."""

    check: str
    title: str
    entity: str | None
    label: str | None
    detail: str
    fix: str

    @property
    def curie(self) -> str:
        """The term as a CURIE (``mbt:Rupture``), its IRI, or a note for anonymous terms."""
        return compact(self.entity) if self.entity else "(an anonymous class expression)"

    def __str__(self) -> str:
        who = f"{self.label!r} ({self.curie})" if self.label else self.curie
        return f"[{self.check}] {who}: {self.detail}\n    fix: {self.fix}"


@dataclass(frozen=True)
class OntologyCounts:
    """How much the ontology holds (own = in the ``mbt:`` namespace)."""

    triples: int
    classes: int
    own_classes: int
    object_properties: int
    datatype_properties: int
    annotation_properties: int
    individuals: int


@dataclass(frozen=True)
class QcReport:
    """The outcome of :func:`check_ontology`."""

    files: tuple[Path, ...]
    counts: OntologyCounts
    parsers: tuple[str, ...]
    checks_run: tuple[str, ...]
    violations: tuple[Violation, ...]
    reasoner: ReasonerResult | None

    @property
    def passed(self) -> bool:
        """True when no check returned a row and the reasoner (if it ran) found nothing."""
        return not self.violations


def list_checks(directory: Path | None = None) -> list[QcCheck]:
    """The quality checks: every ``*-violation.rq`` of ``queries/qc/`` (or ``directory``).

    >>> "missing-definition" in [c.name for c in list_checks()]
    True
    """
    folder = directory or resource_dir("queries") / "qc"
    files = sorted(folder.glob(f"*{_SUFFIX}"))
    if not files:
        raise ResourceError(f"no quality checks (*{_SUFFIX}) in {folder}")
    return [parse_check_file(p) for p in files]


def parse_check_file(path: Path) -> QcCheck:
    """Read a check file and its header; raise QueryError naming the file when one is missing."""
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if match:
            header[match.group(1)] = match.group(2).strip()
    missing = [k for k in ("title", "checks", "fix") if not header.get(k)]
    if missing:
        raise QueryError(
            f"{path}: the header lacks {', '.join('# ' + k + ':' for k in missing)}; "
            "a check file starts with # title:, # checks: and # fix: lines"
        )
    return QcCheck(
        name=path.name[: -len(_SUFFIX)],
        title=header["title"],
        checks=header["checks"],
        fix=header["fix"],
        sparql=text,
        path=path,
    )


def run_checks(source: OntologySource, checks: Sequence[QcCheck] | None = None) -> list[Violation]:
    """Run the SPARQL checks on the ontology's triples; return every violation, sorted."""
    store = source.store()
    labels = _labels(source.triples)
    violations: list[Violation] = []
    for check in checks if checks is not None else list_checks():
        try:
            solutions = store.query(check.sparql)
        except SyntaxError as exc:
            raise QueryError(f"{check.path}: the check is not valid SPARQL: {exc}") from None
        if not isinstance(solutions, ox.QuerySolutions):
            raise QueryError(f"{check.path}: a check must be a SELECT query")
        for row in solutions:
            term = row["entity"]
            detail = row["detail"]
            entity = term.value if isinstance(term, ox.NamedNode) else None
            violations.append(
                Violation(
                    check=check.name,
                    title=check.title,
                    entity=entity,
                    label=labels.get(entity) if entity else None,
                    detail=detail.value if isinstance(detail, ox.Literal) else check.title.lower(),
                    fix=check.fix,
                )
            )
    return sorted(set(violations), key=lambda v: (v.check, v.entity or "", v.detail))


def reasoner_violations(result: ReasonerResult, source: OntologySource) -> list[Violation]:
    """The reasoner's findings as violations (one per unsatisfiable class)."""
    labels = _labels(source.triples)
    fix_unsat = (
        "look at the class's superclasses and the disjointness axioms among them: a class "
        "under two disjoint classes (or equivalent to a contradiction) can have no member; "
        "move it or relax the axiom"
    )
    if result.status == "unsatisfiable":
        return [
            Violation(
                REASONER_CHECK,
                "Unsatisfiable class",
                iri,
                labels.get(iri),
                "HermiT finds this class unsatisfiable (equivalent to owl:Nothing)",
                fix_unsat,
            )
            for iri in result.unsatisfiable
        ]
    if result.status in ("inconsistent", "failed"):
        return [
            Violation(
                REASONER_CHECK,
                "Inconsistent ontology" if result.status == "inconsistent" else "Reasoner error",
                vocab.ONTOLOGY_IRI,
                None,
                result.message,
                "look for a named individual typed with two disjoint classes, or an axiom "
                "that contradicts another; remove the contradiction"
                if result.status == "inconsistent"
                else "make the ontology OWL 2 DL (HermiT's message above names the construct)",
            )
        ]
    return []


def check_ontology(
    location: str | Path | None = None,
    *,
    reasoner: bool = True,
    java: str | None = None,
    checks: Sequence[QcCheck] | None = None,
) -> QcReport:
    """Run every quality check on an ontology (the bundled one by default).

    The ontology must parse with pyoxigraph, rdflib and owlready2 alike; otherwise
    OntologyParseError (an InputError) names the parser, file and line. With ``reasoner``,
    HermiT checks consistency and satisfiability; without Java that step is skipped and the
    report's ``reasoner.status`` says ``skipped``.
    """
    source = read_ontology(location)
    check_rdflib_parses(source.files)
    owlready_class_count(source.triples)
    parsers = ("pyoxigraph", "rdflib", "owlready2")
    selected = list(checks) if checks is not None else list_checks()
    violations = run_checks(source, selected)
    names = [c.name for c in selected]
    result: ReasonerResult | None = None
    if reasoner:
        result = run_hermit(source.triples, java=java)
        violations.extend(reasoner_violations(result, source))
        if result.ran or result.status == "failed":
            names.append(REASONER_CHECK)
    return QcReport(
        files=source.files,
        counts=count_terms(source),
        parsers=parsers,
        checks_run=tuple(names),
        violations=tuple(violations),
        reasoner=result,
    )


def count_terms(source: OntologySource) -> OntologyCounts:
    """Count the declared classes, properties and named individuals of an ontology."""
    typed: dict[str, set[str]] = {}
    for t in source.triples:
        if (
            t.predicate.value == _TYPE
            and isinstance(t.subject, ox.NamedNode)
            and isinstance(t.object, ox.NamedNode)
        ):
            typed.setdefault(t.object.value, set()).add(t.subject.value)

    def kind(local: str) -> set[str]:
        return typed.get(vocab.OWL + local, set())

    classes = kind("Class")
    return OntologyCounts(
        triples=len(set(source.triples)),
        classes=len(classes),
        own_classes=sum(1 for c in classes if c.startswith(vocab.MBT)),
        object_properties=len(kind("ObjectProperty")),
        datatype_properties=len(kind("DatatypeProperty")),
        annotation_properties=len(kind("AnnotationProperty")),
        individuals=len(kind("NamedIndividual")),
    )


def _labels(triples: Sequence[ox.Triple]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for t in triples:
        if (
            t.predicate.value == _LABEL
            and isinstance(t.subject, ox.NamedNode)
            and isinstance(t.object, ox.Literal)
        ):
            labels.setdefault(t.subject.value, t.object.value)
    return labels


def format_report(report: QcReport) -> str:
    """The report as text for people: what was read, the counts, then every violation."""
    c = report.counts
    lines = [
        f"ontology: {', '.join(str(p) for p in report.files)}",
        f"parsed by {', '.join(report.parsers)}: {c.triples} triples",
        f"classes: {c.classes} ({c.own_classes} own), object properties: {c.object_properties}, "
        f"datatype properties: {c.datatype_properties}, annotation properties: "
        f"{c.annotation_properties}, named individuals: {c.individuals}",
    ]
    sparql = [n for n in report.checks_run if n != REASONER_CHECK]
    reasoned = REASONER_CHECK in report.checks_run
    lines.append(
        f"checks run: {len(report.checks_run)} ({len(sparql)} SPARQL checks"
        + (" + HermiT)" if reasoned else ")")
    )
    if report.reasoner is None:
        lines.append("reasoner: not run (--no-reasoner)")
    else:
        prefix = "skipped: " if report.reasoner.status == "skipped" else "HermiT: "
        lines.append(f"reasoner: {prefix}{report.reasoner.message}")
    lines.append(f"violations: {len(report.violations)}")
    if report.violations:
        failed = sorted({v.check for v in report.violations})
        lines.append("")
        lines.extend(str(v) for v in report.violations)
        lines.append("")
        lines.append(
            f"FAILED: {len(report.violations)} violation(s) in {len(failed)} check(s): "
            + ", ".join(failed)
        )
    else:
        lines.append("PASSED: no check returned a violation")
    return "\n".join(lines)
