"""The spreadsheet review loop: the ontology's classes as rows theorists edit in Excel or LibreOffice.

:func:`export_sheet` writes one row per class of our own (``.xlsx`` or ``.csv``);
:func:`plan_import` reads an edited sheet, checks every row, and works out the edits of the
Turtle sources (:mod:`mbtkg.ontology.turtle_edit`): only statements whose values changed are touched,
so an unchanged sheet changes no byte. A bad row (malformed IRI, unknown parent or source,
empty definition, duplicate label ...) raises :class:`~mbtkg.errors.SheetError` listing every
problem as ``FILE:ROW:COLUMN``, and nothing is written.

Multi-valued text cells (synonyms, examples, scope notes, editor notes) hold one value a line;
parents and sources are separated by ``;``; a source may carry a locator after its CURIE
(``mbtsrc:KarterudEtAl2013 pp. 705-717``).
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from .. import vocab
from ..errors import InputError, MissingExtraError, SheetError
from ..resources import resource_dir
from .diff import OntologyDiff, diff_ontologies
from .migration import definition_axiom
from .qc import QcReport, check_ontology
from .source import read_ontology
from .term_annotations import (
    EDITOR_NOTE,
    compact_source,
    definition_sources,
    definitions,
    expand_source,
)
from .turtle_edit import TurtleText, quote

#: The columns of the sheet, in order.
COLUMNS = (
    "IRI",
    "label",
    "synonyms",
    "parent",
    "definition",
    "definition sources",
    "example",
    "scope note",
    "curation status",
    "editor note",
)
_CURATION = rdflib.URIRef(vocab.CURATION_STATUS)
_PREFIXES = {
    "mbt": vocab.MBT,
    "mbtsrc": vocab.ONTOLOGY_IRI + "/source/",
    "obo": vocab.OBO,
    "oa": vocab.OA,
    "owl": vocab.OWL,
}
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9]*):([A-Za-z_][A-Za-z0-9_.-]*)$")
_OWN_CURIE = re.compile(r"^mbt:[A-Za-z_][A-Za-z0-9_-]*$")
INSTALL_HINT = "pip install 'mbtkg[sheet]'"


def curie(iri: str) -> str:
    """``prefix:name`` for an IRI in a known namespace, else ``<IRI>``."""
    for prefix, ns in _PREFIXES.items():
        if iri.startswith(ns) and _CURIE.match(f"{prefix}:{iri[len(ns) :]}"):
            return f"{prefix}:{iri[len(ns) :]}"
    return f"<{iri}>"


def expand(name: str) -> str | None:
    """The IRI of a CURIE or ``<IRI>``, or None when it is neither."""
    name = name.strip()
    if name.startswith("<") and name.endswith(">") and " " not in name:
        return name[1:-1]
    match = _CURIE.match(name)
    if match and match.group(1) in _PREFIXES:
        return _PREFIXES[match.group(1)] + match.group(2)
    return None


@dataclass(frozen=True)
class TermRow:
    """One class as a sheet row (multi-valued cells already split)."""

    iri: str
    label: str
    synonyms: tuple[str, ...]
    parents: tuple[str, ...]
    definition: str
    sources: tuple[tuple[str, str], ...]  # (source IRI, locator or "")
    examples: tuple[str, ...]
    scope_notes: tuple[str, ...]
    curation_status: str
    editor_notes: tuple[str, ...]

    def cells(self) -> list[str]:
        return [
            curie(self.iri),
            self.label,
            "\n".join(self.synonyms),
            "; ".join(curie(p) for p in self.parents),
            self.definition,
            "; ".join(compact_source(s) + (f" {loc}" if loc else "") for s, loc in self.sources),
            "\n".join(self.examples),
            "\n".join(self.scope_notes),
            self.curation_status,
            "\n".join(self.editor_notes),
        ]


def _texts(graph: rdflib.Graph, node: rdflib.URIRef, pred: rdflib.URIRef) -> tuple[str, ...]:
    return tuple(sorted(str(o) for o in graph.objects(node, pred) if isinstance(o, rdflib.Literal)))


def term_rows(graph: rdflib.Graph) -> list[TermRow]:
    """A row for every class of our own, in IRI order."""
    rows = []
    own = sorted(
        s
        for s in graph.subjects(RDF.type, OWL.Class)
        if isinstance(s, rdflib.URIRef) and str(s).startswith(vocab.MBT)
    )
    for node in own:
        status = graph.value(node, _CURATION)
        status_label = graph.value(status, RDFS.label) if status is not None else None
        rows.append(
            TermRow(
                iri=str(node),
                label=str(graph.value(node, RDFS.label) or ""),
                synonyms=_texts(graph, node, SKOS.altLabel),
                parents=tuple(
                    sorted(
                        str(p)
                        for p in graph.objects(node, RDFS.subClassOf)
                        if isinstance(p, rdflib.URIRef)
                    )
                ),
                definition=(definitions(graph, node) or ("",))[0],
                sources=tuple((s.iri, s.locator or "") for s in definition_sources(graph, node)),
                examples=_texts(graph, node, SKOS.example),
                scope_notes=_texts(graph, node, SKOS.scopeNote),
                curation_status=str(status_label) if status_label is not None else "",
                editor_notes=_texts(graph, node, EDITOR_NOTE),
            )
        )
    return rows


def export_sheet(out: str | Path, *, location: str | Path | None = None) -> int:
    """Write the sheet as ``.xlsx`` or ``.csv``; return the number of rows."""
    path = Path(out)
    rows = term_rows(read_ontology(location).to_rdflib())
    table = [list(COLUMNS), *(r.cells() for r in rows)]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(table)
    elif suffix == ".xlsx":
        _write_xlsx(path, table)
    else:
        raise InputError(f"{path}: unknown sheet type {path.suffix!r}; expected .xlsx or .csv")
    return len(rows)


def _openpyxl():  # type: ignore[no-untyped-def]
    try:
        import openpyxl
    except ImportError:
        raise MissingExtraError(
            f".xlsx sheets need openpyxl, the optional 'sheet' extra: {INSTALL_HINT} "
            "(or use a .csv sheet)"
        ) from None
    return openpyxl


def _write_xlsx(path: Path, table: list[list[str]]) -> None:
    openpyxl = _openpyxl()
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "terms"
    for row in table:
        sheet.append(row)
    widths = {"IRI": 34, "label": 30, "definition": 70, "definition sources": 40, "example": 50}
    for index, name in enumerate(COLUMNS, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(name, 28)
        sheet.cell(row=1, column=index).font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    book.save(path)


def read_sheet(path: str | Path) -> list[list[str]]:
    """The sheet's cells as text (empty cells as ""), header row first."""
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source}: no such file; expected a sheet written by 'sheet export'")
    suffix = source.suffix.lower()
    if suffix == ".csv":
        text = source.read_text(encoding="utf-8-sig")
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    if suffix == ".xlsx":
        openpyxl = _openpyxl()
        try:
            book = openpyxl.load_workbook(source, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a broken file
            raise InputError(f"{source}: not a readable .xlsx workbook ({exc})") from None
        sheet = book.worksheets[0]
        rows = [
            ["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)
        ]
        book.close()
        return rows
    raise InputError(f"{source}: unknown sheet type {source.suffix!r}; expected .xlsx or .csv")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _lines(cell: str) -> tuple[str, ...]:
    return tuple(sorted(v.strip() for v in cell.replace("\r\n", "\n").split("\n") if v.strip()))


def _items(cell: str) -> list[str]:
    return [v.strip() for v in cell.split(";") if v.strip()]


@dataclass(frozen=True)
class FileEdit:
    """The new text of one source file."""

    path: Path
    before: str
    after: str


def parse_rows(path: str | Path, graph: rdflib.Graph) -> list[TermRow]:
    """Read and check the sheet against the ontology; raise SheetError listing every problem."""
    name = Path(path).name
    table = read_sheet(path)
    problems: list[str] = []
    if not table or [c.strip() for c in table[0][: len(COLUMNS)]] != list(COLUMNS):
        raise SheetError(
            f"{name}:1: the header row is not {', '.join(COLUMNS)}; export a fresh sheet with "
            "'mbtkg ontology sheet export'"
        )
    col = {c: i for i, c in enumerate(COLUMNS)}

    def where(row: int, column: str) -> str:
        return f"{name}:{row}:{_column_letter(col[column])} ({column})"

    classes = {str(s) for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, rdflib.URIRef)}
    classes.add(str(OWL.Thing))
    own = {c for c in classes if c.startswith(vocab.MBT)}
    works = {
        str(s)
        for s in graph.subjects(RDF.type, rdflib.URIRef(vocab.DCTERMS + "BibliographicResource"))
    }
    statuses = {
        str(graph.value(s, RDFS.label)): str(s)
        for s in graph.subjects(RDF.type, OWL.NamedIndividual)
        if str(s).startswith(vocab.IAO) and graph.value(s, RDFS.label) is not None
    }
    rows: list[TermRow] = []
    seen_iris: dict[str, int] = {}
    labels: dict[str, tuple[int, str]] = {}
    for number, raw in enumerate(table[1:], start=2):
        cells = [*raw, *[""] * len(COLUMNS)][: len(COLUMNS)]
        if not any(c.strip() for c in cells):
            continue
        cell = dict(zip(COLUMNS, cells, strict=True))
        iri_text = cell["IRI"].strip()
        iri = expand(iri_text) if _OWN_CURIE.match(iri_text) or iri_text.startswith("<") else None
        if iri is None or not iri.startswith(vocab.MBT):
            problems.append(
                f"{where(number, 'IRI')}: malformed IRI {iri_text!r}; expected mbt:Name "
                "(a letter or _, then letters, digits, _ or -)"
            )
            continue
        if iri not in own:
            problems.append(
                f"{where(number, 'IRI')}: {iri_text} is not a class of the ontology; new terms "
                "are added in the Turtle sources (ontology/README.md, 'Adding a class')"
            )
            continue
        if iri in seen_iris:
            problems.append(f"{where(number, 'IRI')}: {iri_text} is also on row {seen_iris[iri]}")
            continue
        seen_iris[iri] = number
        label = " ".join(cell["label"].split())
        if not label:
            problems.append(f"{where(number, 'label')}: the label is empty")
        elif label.lower() in labels:
            other_row, other = labels[label.lower()]
            for at, whose, row_of in ((other_row, iri_text, number), (number, other, other_row)):
                problems.append(
                    f"{where(at, 'label')}: duplicate label {label!r}, also the label of "
                    f"{whose} on row {row_of}"
                )
        else:
            labels[label.lower()] = (number, iri_text)
        definition = cell["definition"].strip()
        if not definition:
            problems.append(
                f"{where(number, 'definition')}: the definition is empty; every class needs "
                "one (genus and differentia: 'A <parent> that ...')"
            )
        parents: list[str] = []
        for item in _items(cell["parent"]):
            parent = expand(item)
            if parent is None or parent not in classes:
                problems.append(
                    f"{where(number, 'parent')}: unknown parent {item!r}; expected the CURIE of "
                    "a class of the ontology (mbt:SessionPhenomenon)"
                )
            else:
                parents.append(parent)
        sources: list[tuple[str, str]] = []
        for item in _items(cell["definition sources"]):
            work, _, locator = item.partition(" ")
            iri_work = expand_source(work)
            if iri_work not in works:
                problems.append(
                    f"{where(number, 'definition sources')}: unknown source {work!r}; expected "
                    "a work of ontology/sources.ttl (mbtsrc:BatemanFonagy2016), optionally "
                    "followed by a page or chapter"
                )
            else:
                sources.append((iri_work, " ".join(locator.split())))
        status = cell["curation status"].strip()
        if status and status not in statuses:
            problems.append(
                f"{where(number, 'curation status')}: unknown curation status {status!r}; "
                f"expected one of {', '.join(sorted(statuses))}"
            )
        rows.append(
            TermRow(
                iri=iri,
                label=label,
                synonyms=_lines(cell["synonyms"]),
                parents=tuple(sorted(parents)),
                definition=definition,
                sources=tuple(sorted(sources)),
                examples=_lines(cell["example"]),
                scope_notes=_lines(cell["scope note"]),
                curation_status=status,
                editor_notes=_lines(cell["editor note"]),
            )
        )
    # Labels of terms that are not rows (properties, individuals, classes left off the sheet).
    for s, o in graph.subject_objects(RDFS.label):
        if str(s) in seen_iris or not str(s).startswith(vocab.MBT):
            continue
        hit = labels.get(str(o).lower())
        if hit:
            problems.append(
                f"{where(hit[0], 'label')}: duplicate label {str(o)!r}, also the label of "
                f"{curie(str(s))}"
            )
    if problems:
        raise SheetError(f"{name}: {len(problems)} problem(s); nothing was changed", problems)
    return rows


def plan_import(path: str | Path, folder: str | Path) -> tuple[list[FileEdit], list[str]]:
    """The edits an edited sheet makes to the ``*.ttl`` sources in ``folder``.

    Returns the changed files and the CURIEs of the rows that changed. Raises SheetError for a
    bad row, or when an edit cannot be made surgically (say which row and what to do instead).
    """
    source = read_ontology(folder)
    graph = source.to_rdflib()
    rows = parse_rows(path, graph)
    current = {r.iri: r for r in term_rows(graph)}
    texts = {p: TurtleText.parse(p.read_text(encoding="utf-8")) for p in source.files}
    statuses = {
        str(graph.value(s, RDFS.label)): str(s)
        for s in graph.subjects(RDF.type, OWL.NamedIndividual)
        if str(s).startswith(vocab.IAO)
    }
    problems: list[str] = []
    changed: list[str] = []
    name = Path(path).name
    for row in rows:
        old = current[row.iri]
        if row == old:
            continue
        subject = curie(row.iri)
        home = next((t for t in texts.values() if t.subject_statements(subject)), None)
        if home is None:
            problems.append(f"{name}: {subject} is not written as {subject} in any source file")
            continue
        changed.append(subject)
        try:
            _apply(home, subject, old, row, statuses)
        except ValueError as exc:
            problems.append(f"{name}: row of {subject}: {exc}; make this change in the Turtle")
    if problems:
        raise SheetError(f"{name}: {len(problems)} problem(s); nothing was changed", problems)
    edits = [
        FileEdit(p, p.read_text(encoding="utf-8"), t.text()) for p, t in texts.items() if t.edits
    ]
    return [e for e in edits if e.before != e.after], changed


def _apply(
    text: TurtleText, subject: str, old: TermRow, new: TermRow, statuses: dict[str, str]
) -> None:
    after = ("obo:IAO_0000115", "rdfs:label")
    if new.label != old.label and not text.replace_literal(
        subject, "rdfs:label", old.label, new.label
    ):
        text.set_values(subject, "rdfs:label", [quote(new.label)], after=("rdfs:subClassOf",))
    if new.definition != old.definition and not (
        old.definition
        and text.replace_literal(subject, "obo:IAO_0000115", old.definition, new.definition)
    ):
        text.set_values(subject, "obo:IAO_0000115", [quote(new.definition)], after=("rdfs:label",))
    for prop, before, now in (
        ("skos:altLabel", old.synonyms, new.synonyms),
        ("skos:example", old.examples, new.examples),
        ("skos:scopeNote", old.scope_notes, new.scope_notes),
        ("obo:IAO_0000116", old.editor_notes, new.editor_notes),
    ):
        _set_texts(text, subject, prop, before, now, after)
    if new.parents != old.parents:
        text.set_values(subject, "rdfs:subClassOf", [curie(p) for p in new.parents], after=())
    if new.curation_status != old.curation_status:
        value = statuses.get(new.curation_status)
        values = [curie(value)] if value else []
        text.set_values(subject, "obo:IAO_0000114", values, after=("obo:IAO_0000115",))
    if new.sources != old.sources:
        _set_sources(text, subject, new)


def _set_texts(
    text: TurtleText,
    subject: str,
    prop: str,
    before: tuple[str, ...],
    now: tuple[str, ...],
    after: tuple[str, ...],
) -> None:
    if before == now:
        return
    removed = sorted(set(before) - set(now))
    added = sorted(set(now) - set(before))
    # One value reworded: change it where it is written.
    if (
        len(removed) == 1
        and len(added) == 1
        and text.replace_literal(subject, prop, removed[0], added[0])
    ):
        return
    if any(text.axiom_blocks(subject, prop)):
        raise ValueError(f"{prop} values carry axiom annotations and more than one changed")
    text.set_values(subject, prop, [quote(v) for v in now], after=after)


def _set_sources(text: TurtleText, subject: str, row: TermRow) -> None:
    blocks = text.axiom_blocks(subject, "obo:IAO_0000115")
    works = [compact_source(s) for s, _ in row.sources]
    if not blocks:
        if works:
            lines = definition_axiom(subject, quote(row.definition), works)
            locators = [f"{compact_source(s)} {loc}" for s, loc in row.sources if loc]
            lines = [ln for ln in lines if "mbt:sourceLocator" not in ln]
            if locators:
                lines[-1] = lines[-1][:-1].rstrip() + " ;"
                lines.append(f"    mbt:sourceLocator {' , '.join(quote(x) for x in locators)} .")
            text.insert_after_statement(subject, lines)
        return
    a, b = blocks[0]
    body = [
        line
        for line in text.lines[a : b + 1]
        if not line.strip().startswith(("dcterms:source ", "mbt:sourceLocator "))
    ]
    locators = [f"{compact_source(s)} {loc}" for s, loc in row.sources if loc]
    if works:
        body.append(f"    dcterms:source {' , '.join(works)} ;")
    if locators:
        body.append(f"    mbt:sourceLocator {' , '.join(quote(x) for x in locators)} ;")
    keeps_annotation = len(body) > 4  # more than the a/source/property/target lines
    if not keeps_annotation:
        text.remove_block(a, b)
        return
    body = [
        ln if not ln.rstrip().endswith(" .") else ln.rstrip()[:-1].rstrip() + " ;" for ln in body
    ]
    body[-1] = body[-1].rstrip()[:-1].rstrip() + " ."
    text.lines[a : b + 1] = body
    text.edits += 1


@dataclass(frozen=True)
class ImportResult:
    """What importing a sheet did: the rows and files changed, the diff, the checks."""

    changed_rows: tuple[str, ...]
    files: tuple[Path, ...]
    diff: OntologyDiff
    report: QcReport
    written: bool


def import_sheet(
    path: str | Path,
    folder: str | Path | None = None,
    *,
    reasoner: bool = True,
    java: str | None = None,
) -> ImportResult:
    """Apply an edited sheet to the Turtle sources in ``folder`` (the bundled ones by default).

    The edits are made on a copy first; the copy is compared with the sources
    (:func:`~mbtkg.ontology.diff.diff_ontologies`) and checked (:func:`~mbtkg.ontology.qc.check_ontology`,
    with HermiT unless ``reasoner`` is false). Only when no ERROR-level finding remains are the
    changed files written back, each replaced whole (never half-written).
    """
    target = Path(folder) if folder is not None else resource_dir("ontology")
    edits, changed = plan_import(path, target)
    with tempfile.TemporaryDirectory(prefix="mbtkg-sheet-") as tmp:
        stage = Path(tmp) / "ontology"
        shutil.copytree(target, stage)
        for edit in edits:
            (stage / edit.path.name).write_text(edit.after, encoding="utf-8")
        diff = diff_ontologies(target, stage)
        report = check_ontology(stage, reasoner=reasoner, java=java)
    written = bool(edits) and report.passed
    if written:
        for edit in edits:
            partial = edit.path.with_name(edit.path.name + ".sheet-import")
            partial.write_text(edit.after, encoding="utf-8")
            os.replace(partial, edit.path)
    return ImportResult(tuple(changed), tuple(e.path for e in edits), diff, report, written)
