"""Bring the ontology's Turtle sources to the OBO annotation conventions, by surgical text edits.

The migration is deterministic and idempotent: run on files already in the target form it
changes nothing, so it can be run again after new terms are merged. It edits the text line by
line and keeps the layout, comments and order of everything it does not convert:

- ``skos:definition`` becomes ``obo:IAO_0000115`` (definition) and ``skos:editorialNote``
  becomes ``obo:IAO_0000116`` (editor note), also where an axiom annotation names it;
- the ``dcterms:source`` of a term moves from the term onto its definition, as an axiom
  annotation (``owl:Axiom`` with ``owl:annotatedSource``/``Property``/``Target``), with a
  ``mbt:sourceLocator`` naming page or chapter where :data:`SOURCE_LOCATORS` knows one;
- every term of our own (class, property, named individual) with a definition gets a curation
  status (``obo:IAO_0000114``) and a term editor (``obo:IAO_0000117``);
- structural terms (:data:`STRUCTURAL_TERMS`) are put in the ``mbt:structural_subset`` subset,
  which the missing-source check exempts, and lose citations that were decorative;
- bibliography entries get an ``rdfs:label``; ``xsd:gYear`` and ``xsd:date`` literals, which are
  outside the OWL 2 datatype map, become ``xsd:integer`` years and ``xsd:dateTime`` dates.

The library never writes files itself unless asked (:func:`migrate_directory` with ``write``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

OBO = "http://purl.obolibrary.org/obo/"
OBO_IN_OWL = "http://www.geneontology.org/formats/oboInOwl#"

#: The term editor recorded on every term (IAO:0000117); the project has no per-person ORCIDs.
TERM_EDITOR = "The mbtkg developers"

#: Curation status values (IAO:0000114): an IAO individual per status.
READY_FOR_RELEASE = "obo:IAO_0000122"
PENDING_FINAL_VETTING = "obo:IAO_0000125"

#: Structural terms: the frame of a session, not claims of the theory. They need no citation.
STRUCTURAL_TERMS = (
    "mbt:Session",
    "mbt:Turn",
    "mbt:TurnSelector",
    "mbt:Person",
    "mbt:ParticipantRole",
    "mbt:PatientRole",
    "mbt:TherapistRole",
    "mbt:Annotator",
    "mbt:SessionSetting",
)

#: Citations that were decorative (a structural definition resting on no work): dropped.
DECORATIVE_SOURCES = ("mbt:Session", "mbt:Turn", "mbt:TurnSelector")

#: A term's source list replaced by the right one (the instrument's own paper first).
SOURCE_FIXES = {
    "mbt:WorkingAllianceInventory": "mbtsrc:HorvathGreenberg1989 , mbtsrc:Bordin1979",
}

#: Where in a cited work the definition rests, as far as the domain reference says. It gives
#: only the page ranges of journal articles, never a passage; theorists add finer locators.
SOURCE_LOCATORS = {
    "mbtsrc:KarterudEtAl2013": "pp. 705-717",
    "mbtsrc:FertuckEtAl2012": "pp. 298-305",
    "mbtsrc:MBIValidation2022": "pp. 360-366",
    "mbtsrc:HorvathGreenberg1989": "pp. 223-233",
}

_TERM_TYPES = (
    "owl:Class",
    "owl:ObjectProperty",
    "owl:DatatypeProperty",
    "owl:AnnotationProperty",
    "owl:NamedIndividual",
)

#: Declarations that replace the old ``skos:definition`` declaration line.
DECLARATIONS = """\
obo:IAO_0000115 a owl:AnnotationProperty ;
    rdfs:label "definition" .
obo:IAO_0000116 a owl:AnnotationProperty ;
    rdfs:label "editor note" .
obo:IAO_0000114 a owl:AnnotationProperty ;
    rdfs:label "has curation status" .
obo:IAO_0000117 a owl:AnnotationProperty ;
    rdfs:label "term editor" .
obo:IAO_0100001 a owl:AnnotationProperty ;
    rdfs:label "term replaced by" .
obo:IAO_0000122 a owl:NamedIndividual ;
    rdfs:label "ready for release" .
obo:IAO_0000125 a owl:NamedIndividual ;
    rdfs:label "pending final vetting" .
oboInOwl:inSubset a owl:AnnotationProperty ;
    rdfs:label "in subset" .
oboInOwl:SubsetProperty a owl:AnnotationProperty ;
    rdfs:label "subset property" .
mbt:structural_subset a owl:AnnotationProperty ;
    rdfs:subPropertyOf oboInOwl:SubsetProperty ;
    rdfs:label "structural term subset" ;
    obo:IAO_0000115 "Terms that frame a session (session, turn, person, role, selector, setting) rather than state a claim of MBT; they need no literature source." ;
    obo:IAO_0000114 obo:IAO_0000122 ;
    obo:IAO_0000117 "The mbtkg developers" .
mbt:sourceLocator a owl:AnnotationProperty ;
    rdfs:label "source locator" ;
    obo:IAO_0000115 "On a definition's axiom annotation: where in a cited work the definition rests, written as the work's CURIE, a space and the page or chapter (\\"mbtsrc:KarterudEtAl2013 pp. 705-717\\")." ;
    obo:IAO_0000114 obo:IAO_0000122 ;
    obo:IAO_0000117 "The mbtkg developers" ;
    rdfs:range xsd:string ."""

_PREFIXES = {
    "obo": f"@prefix obo:     <{OBO}> .",
    "oboInOwl": f"@prefix oboInOwl: <{OBO_IN_OWL}> .",
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_PRED_LINE = re.compile(r"^(\s+)(\S+) (.*) ([;.])\s*$")
_SOURCE_LINE = re.compile(r"^\s+dcterms:source ((?:mbtsrc:\S+)(?: , mbtsrc:\S+)*) ([;.])\s*$")
_DEFINITION_LINE = re.compile(
    r'^(\s+)(?:skos:definition|obo:IAO_0000115) ("(?:[^"\\]|\\.)*") ([;.])\s*$'
)


@dataclass(frozen=True)
class FileMigration:
    """One file before and after the migration."""

    path: Path
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def code_of(line: str) -> str:
    """The line with string literals blanked and a trailing comment cut off."""
    blank = _STRING.sub('""', line)
    return blank.split(" #", 1)[0].rstrip() if not blank.lstrip().startswith("#") else ""


def split_statements(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line indexes of each Turtle statement (a subject's triples up to ``.``)."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    depth = 0
    for i, line in enumerate(lines):
        code = code_of(line)
        if start is None:
            if not code or code.startswith("@prefix") or code.startswith("@base"):
                continue
            if line[0].isspace():
                continue
            start = i
        depth += code.count("[") + code.count("(") - code.count("]") - code.count(")")
        if depth <= 0 and code.endswith("."):
            spans.append((start, i))
            start, depth = None, 0
    return spans


def _set_terminator(line: str, term: str) -> str:
    stripped = line.rstrip()
    return stripped[:-1].rstrip() + " " + term if stripped[-1:] in ";." else stripped + " " + term


def _subject(line: str) -> str:
    return line.split(None, 1)[0] if line.strip() else ""


def _uncertain_subjects(text: str) -> set[str]:
    """Terms with an axiom annotation of curation status "uncertain" on one of their notes."""
    out: set[str] = set()
    lines = text.splitlines()
    for first, last in split_statements(lines):
        chunk = "\n".join(lines[first : last + 1])
        if 'mbt:curationStatus "uncertain"' in chunk:
            m = re.search(r"owl:annotatedSource (\S+) ;", chunk)
            if m:
                out.add(m.group(1))
    return out


def _bibliography_label(chunk: str, subject: str) -> str:
    creator = re.search(r'dcterms:creator "([^"]*)"', chunk)
    year = re.search(r'dcterms:issued "(\d{4})"', chunk)
    title = re.search(r'dcterms:title "([^"]*)"', chunk)
    if creator and year:
        names = [p.split(",")[0].strip() for p in creator.group(1).split(";") if p.strip()]
        names = [n for n in names if n and n.lower() != "et al."]
        who = (
            names[0]
            if len(names) == 1
            else f"{names[0]} & {names[1]}"
            if len(names) == 2
            else f"{names[0]} et al."
        )
        if "et al" in creator.group(1) and len(names) < 3:
            who = f"{names[0]} et al."
        label = f"{who} {year.group(1)}"
        return f"{label}: {title.group(1)}" if title else label
    citation = re.search(r'dcterms:bibliographicCitation "([^"]*)"', chunk)
    if citation:
        return citation.group(1)
    return subject.split(":", 1)[-1]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def migrate_text(text: str) -> str:
    """The Turtle text in the target form; unchanged if it is in that form already."""
    uncertain = _uncertain_subjects(text)
    declares = "\nskos:definition a owl:AnnotationProperty" in text
    lines = text.split("\n")
    out: list[str] = []
    spans = split_statements(lines)
    position = 0
    for first, last in spans:
        out.extend(lines[position:first])
        out.extend(_migrate_statement(lines[first : last + 1], uncertain, declares))
        position = last + 1
    out.extend(lines[position:])
    result = "\n".join(out)
    result = _fix_datatypes(result)
    return _ensure_prefixes(result)


def _fix_datatypes(text: str) -> str:
    text = re.sub(r'"(-?\d{4})"\^\^xsd:gYear', r'"\1"^^xsd:integer', text)
    return re.sub(r'"(\d{4}-\d{2}-\d{2})"\^\^xsd:date\b', r'"\1T00:00:00"^^xsd:dateTime', text)


def _ensure_prefixes(text: str) -> str:
    lines = text.split("\n")
    body = "\n".join(line for line in lines if not line.startswith("@prefix"))
    missing = [
        decl
        for name, decl in _PREFIXES.items()
        if re.search(rf"(^|[\s(\[,]){name}:", body, re.M)
        and not any(line.startswith(f"@prefix {name}:") for line in lines)
    ]
    if not missing:
        return text
    last = max((i for i, line in enumerate(lines) if line.startswith("@prefix")), default=-1)
    return "\n".join([*lines[: last + 1], *missing, *lines[last + 1 :]])


def _migrate_statement(block: list[str], uncertain: set[str], declares: bool) -> list[str]:
    subject = _subject(block[0])
    # Declarations of the old annotation properties.
    if block[0].startswith("skos:definition a owl:AnnotationProperty"):
        return DECLARATIONS.split("\n")
    if block[0].startswith("skos:editorialNote a owl:AnnotationProperty"):
        return [] if declares else ["obo:IAO_0000116 a owl:AnnotationProperty ."]
    lines = [_rename(line) for line in block]
    if subject.startswith("mbtsrc:"):
        return _label_bibliography(lines, subject)
    if subject == "[]" or subject.startswith("<") or subject.startswith("["):
        return lines
    head = code_of(lines[0])
    is_term = subject.startswith("mbt:") and any(t in head for t in _TERM_TYPES)
    sources: list[str] = []
    kept: list[str] = []
    for line in lines:
        m = _SOURCE_LINE.match(line)
        if m and not line.startswith(subject):
            sources.extend(s.strip() for s in m.group(1).split(","))
            if m.group(2) == "." and kept:
                kept[-1] = _set_terminator(kept[-1], ".")
            continue
        kept.append(line)
    if subject in SOURCE_FIXES and sources:
        sources = [s.strip() for s in SOURCE_FIXES[subject].split(",")]
    if subject in DECORATIVE_SOURCES:
        sources = []
    definition_index = next(
        (i for i, line in enumerate(kept) if _DEFINITION_LINE.match(line)), None
    )
    if definition_index is None:
        if sources:  # nothing to hang them on: leave them on the term
            return lines
        return kept
    definition = _DEFINITION_LINE.match(kept[definition_index])
    assert definition is not None
    indent, literal = definition.group(1), definition.group(2)
    if is_term:
        extra: list[str] = []
        if not any("obo:IAO_0000114 " in line for line in kept):
            status = PENDING_FINAL_VETTING if subject in uncertain else READY_FOR_RELEASE
            extra.append(f"{indent}obo:IAO_0000114 {status} ;")
        if not any("obo:IAO_0000117 " in line for line in kept):
            extra.append(f'{indent}obo:IAO_0000117 "{TERM_EDITOR}" ;')
        if subject in STRUCTURAL_TERMS and not any("oboInOwl:inSubset" in x for x in kept):
            extra.append(f"{indent}oboInOwl:inSubset mbt:structural_subset ;")
        if extra:
            last_line = kept[definition_index]
            if last_line.rstrip().endswith("."):
                kept[definition_index] = _set_terminator(last_line, ";")
                extra[-1] = _set_terminator(extra[-1], ".")
            kept[definition_index + 1 : definition_index + 1] = extra
    if not sources:
        return kept
    return [*kept, "", *definition_axiom(subject, literal, sources)]


def definition_axiom(subject: str, literal: str, sources: list[str]) -> list[str]:
    """The lines of the axiom annotation carrying a definition's sources (and locators)."""
    axiom = [
        "[] a owl:Axiom ;",
        f"    owl:annotatedSource {subject} ;",
        "    owl:annotatedProperty obo:IAO_0000115 ;",
        f"    owl:annotatedTarget {literal} ;",
        f"    dcterms:source {' , '.join(sources)} ;",
    ]
    locators = [f'"{s} {SOURCE_LOCATORS[s]}"' for s in sources if s in SOURCE_LOCATORS]
    if locators:
        axiom.append(f"    mbt:sourceLocator {' , '.join(locators)} ;")
    axiom[-1] = _set_terminator(axiom[-1], ".")
    return axiom


def _rename(line: str) -> str:
    if line.lstrip().startswith("#"):
        return line
    line = re.sub(r"^(\s+|\S+ )skos:definition ", r"\1obo:IAO_0000115 ", line)
    line = re.sub(r"^(\s+|\S+ )skos:editorialNote ", r"\1obo:IAO_0000116 ", line)
    return line.replace(
        "owl:annotatedProperty skos:editorialNote", "owl:annotatedProperty obo:IAO_0000116"
    )


def _label_bibliography(lines: list[str], subject: str) -> list[str]:
    chunk = "\n".join(lines)
    if "rdfs:label" in chunk or not re.search(r"dcterms:(bibliographicCitation|title) ", chunk):
        return lines
    label = _escape(_bibliography_label(chunk, subject))
    first = lines[0]
    if first.rstrip().endswith("."):
        return [_set_terminator(first, ";"), f'    rdfs:label "{label}" .', *lines[1:]]
    return [first, f'    rdfs:label "{label}" ;', *lines[1:]]


def migrate_directory(folder: Path, *, write: bool = False) -> list[FileMigration]:
    """Migrate every ``*.ttl`` directly in ``folder`` (not ``imports/``); write them if asked."""
    results: list[FileMigration] = []
    for path in sorted(folder.glob("*.ttl")):
        before = path.read_text(encoding="utf-8")
        after = migrate_text(before)
        results.append(FileMigration(path, before, after))
        if write and after != before:
            path.write_text(after, encoding="utf-8")
    return results
