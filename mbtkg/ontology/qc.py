"""Quality checks of the ontology: ROBOT-style SPARQL checks, three parsers and HermiT.

Each check is a file ``queries/qc/<check>-violation.rq`` whose header says what it checks and
the fix expected::

    # title: Missing definition
    # checks: every class ... has a definition (obo:IAO_0000115).
    # fix: add one definition ...
    # level: ERROR
    # robot: missing_definition

``level`` is ERROR, WARN or INFO, as in ROBOT's report profile; only ERROR findings fail the
check (WARN and INFO are reported). ``robot`` names the ROBOT report checks the file is our
equivalent of (``-`` for project rules ROBOT does not have). Checks named ``dl-*`` make up the
OWL 2 DL profile check.

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

from .. import vocab
from ..concepts import compact
from ..errors import QueryError, ResourceError
from ..resources import resource_dir
from .reasoning import ReasonerResult, owlready_class_count, run_hermit
from .source import OntologySource, check_rdflib_parses, read_ontology

_HEADER = re.compile(r"^#\s*(title|checks|fix|level|robot):\s*(.*)$")
#: Severity levels, most severe first (as in ROBOT's report).
LEVELS = ("ERROR", "WARN", "INFO")
#: Prefix of the checks that make up the OWL 2 DL profile check.
DL_PREFIX = "dl-"
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
    level: str = "ERROR"
    robot: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    """One failure: which check, which term (IRI, CURIE, label), what is wrong, the fix expected."""

    check: str
    title: str
    entity: str | None
    label: str | None
    detail: str
    fix: str
    level: str = "ERROR"

    @property
    def curie(self) -> str:
        """The term as a CURIE (``mbt:Rupture``), its IRI, or a note for anonymous terms."""
        return compact(self.entity) if self.entity else "(an anonymous class expression)"

    def __str__(self) -> str:
        who = f"{self.label!r} ({self.curie})" if self.label else self.curie
        return f"{self.level} [{self.check}] {who}: {self.detail}\n    fix: {self.fix}"


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
        """True when no ERROR-level check returned a row and the reasoner found nothing."""
        return not self.errors

    @property
    def errors(self) -> tuple[Violation, ...]:
        """The ERROR-level findings (the reasoner's findings are errors)."""
        return tuple(v for v in self.violations if v.level == "ERROR")

    def count(self, level: str) -> int:
        """How many findings have this level."""
        return sum(1 for v in self.violations if v.level == level)

    @property
    def dl_violations(self) -> tuple[Violation, ...]:
        """The findings of the OWL 2 DL profile checks (``dl-*``)."""
        return tuple(v for v in self.violations if v.check.startswith(DL_PREFIX))


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
    level = header.get("level", "ERROR").upper()
    if level not in LEVELS:
        raise QueryError(
            f"{path}: the header says '# level: {header['level']}'; expected one of "
            + ", ".join(LEVELS)
        )
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
        level=level,
        robot=tuple(
            r.strip() for r in header.get("robot", "").split(",") if r.strip() not in ("", "-")
        ),
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
                    level=check.level,
                )
            )
    return sorted(
        set(violations), key=lambda v: (LEVELS.index(v.level), v.check, v.entity or "", v.detail)
    )


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

    Imported modules (``imports/`` next to the ontology files) are merged before checking.
    The ontology must parse with pyoxigraph, rdflib and owlready2 alike; otherwise
    OntologyParseError (an InputError) names the parser, file and line. With ``reasoner``,
    HermiT checks consistency and satisfiability; without Java that step is skipped and the
    report's ``reasoner.status`` says ``skipped``.
    """
    source = read_ontology(location, with_imports=True)
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
    """The report as text for people: what was read, the counts, then every finding."""
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
    dl_run = sum(1 for n in sparql if n.startswith(DL_PREFIX))
    lines.append(
        f"OWL 2 DL profile: {len(report.dl_violations)} violation(s) ({dl_run} profile checks)"
    )
    lines.append("findings: " + ", ".join(f"{report.count(level)} {level}" for level in LEVELS))
    if report.violations:
        lines.append("")
        lines.extend(str(v) for v in report.violations)
        lines.append("")
    if report.errors:
        failed = sorted({v.check for v in report.errors})
        lines.append(
            f"FAILED: {len(report.errors)} ERROR finding(s) in {len(failed)} check(s): "
            + ", ".join(failed)
        )
    else:
        lines.append("PASSED: no ERROR-level finding")
    return "\n".join(lines)


#: Columns of the machine-readable report (as ROBOT's report: level, rule, subject, detail).
REPORT_COLUMNS = ("level", "check", "entity", "label", "detail", "fix")


def report_rows(report: QcReport) -> list[dict[str, str]]:
    """One dictionary per finding, with the :data:`REPORT_COLUMNS`."""
    return [
        {
            "level": v.level,
            "check": v.check,
            "entity": v.entity or "",
            "label": v.label or "",
            "detail": v.detail,
            "fix": v.fix,
        }
        for v in report.violations
    ]


def format_report_tsv(report: QcReport) -> str:
    """The findings as TSV with a header row; tabs and line breaks in values become spaces."""
    lines = ["\t".join(REPORT_COLUMNS)]
    for row in report_rows(report):
        lines.append("\t".join(" ".join(row[k].split()) for k in REPORT_COLUMNS))
    return "\n".join(lines) + "\n"


def format_report_json(report: QcReport) -> str:
    """The report as JSON: counts per level, the DL profile figure, the reasoner, each finding."""
    import json

    doc = {
        "passed": report.passed,
        "counts": {level: report.count(level) for level in LEVELS},
        "dl_profile_violations": len(report.dl_violations),
        "checks_run": list(report.checks_run),
        "reasoner": None
        if report.reasoner is None
        else {"status": report.reasoner.status, "message": report.reasoner.message},
        "terms": {
            "triples": report.counts.triples,
            "classes": report.counts.classes,
            "own_classes": report.counts.own_classes,
        },
        "findings": report_rows(report),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
