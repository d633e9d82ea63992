"""The spreadsheet review loop: export, edit, import back into the Turtle sources."""

from __future__ import annotations

import csv
import difflib
import shutil
from pathlib import Path

import openpyxl
import pytest
import rdflib
from click.testing import CliRunner, Result

from mbtkg.cli import main
from mbtkg.errors import SheetError
from mbtkg.ontology.reasoning import find_java
from mbtkg.ontology.term_sheet import COLUMNS, export_sheet, plan_import
from mbtkg.resources import ontology_files, resource_dir


@pytest.fixture()
def sources(tmp_path: Path) -> Path:
    """A copy of the bundled ontology folder, to edit."""
    target = tmp_path / "ontology"
    shutil.copytree(resource_dir("ontology"), target)
    return target


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*.ttl"))}


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [list(r) for r in csv.reader(handle)]


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def _edit(rows: list[list[str]], iri: str, column: str, value: str) -> int:
    """Set one cell; return its 1-based row number in the sheet."""
    for number, row in enumerate(rows, start=1):
        if row[0] == iri:
            row[COLUMNS.index(column)] = value
            return number
    raise AssertionError(f"no row for {iri}")


def _import(sheet: Path, folder: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        main, ["ontology", "sheet", "import", str(sheet), "--ontology", str(folder), *extra]
    )


def _own_class_count() -> int:
    """Classes in the mbt: namespace declared in the bundled sources, counted by rdflib."""
    graph = rdflib.Graph()
    for path in ontology_files():
        graph.parse(path, format="turtle")
    return sum(
        1
        for c in graph.subjects(rdflib.RDF.type, rdflib.OWL.Class)
        if str(c).startswith("https://w3id.org/mbtkg/ontology#")
    )


def test_export_has_one_row_per_class_with_definition_and_sources(tmp_path: Path) -> None:
    out = tmp_path / "terms.xlsx"
    result = CliRunner().invoke(main, ["ontology", "sheet", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    own_classes = _own_class_count()
    assert f"({own_classes} rows)" in result.output
    sheet = openpyxl.load_workbook(out).worksheets[0]
    rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == own_classes + 1
    wai = next(r for r in rows if r[0] == "mbt:WorkingAllianceInventory")
    assert wai[5] == "mbtsrc:Bordin1979; mbtsrc:HorvathGreenberg1989 pp. 223-233"
    assert wai[3] == "mbt:ObserverRatingSystem" or wai[3].startswith("mbt:")
    turn = next(r for r in rows if r[0] == "mbt:Turn")
    assert turn[5] == ""  # a structural term cites nothing
    assert turn[8] == "ready for release"


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_unchanged_sheet_leaves_the_turtle_byte_identical(
    suffix: str, sources: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / f"terms{suffix}"
    export_sheet(sheet, location=sources)
    before = _snapshot(sources)
    result = _import(sheet, sources, "--no-reasoner")
    assert result.exit_code == 0, result.output
    assert "no changes: the sheet matches the ontology" in result.output
    assert _snapshot(sources) == before


def test_a_changed_definition_changes_exactly_that_statement(sources: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "terms.csv"
    export_sheet(sheet, location=sources)
    rows = _read_csv(sheet)
    old = next(r for r in rows if r[0] == "mbt:EpistemicTrust")[COLUMNS.index("definition")]
    new = old.replace("reliable", "trustworthy")
    assert new != old
    _edit(rows, "mbt:EpistemicTrust", "definition", new)
    _write_csv(sheet, rows)
    before = _snapshot(sources)
    result = _import(sheet, sources, *([] if find_java() else ["--no-reasoner"]))
    assert result.exit_code == 0, result.output
    assert "changed definitions (1):" in result.output
    assert "  epistemic trust (mbt:EpistemicTrust):" in result.output
    after = _snapshot(sources)
    assert [n for n in after if after[n] != before[n]] == ["mbt.ttl"]
    lines = difflib.unified_diff(
        before["mbt.ttl"].decode().splitlines(), after["mbt.ttl"].decode().splitlines(), n=0
    )
    changed = [ln for ln in lines if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    # The definition and the target of the axiom annotation carrying its sources: one statement.
    assert changed == [
        f'-    obo:IAO_0000115 "{old}" ;',
        f'+    obo:IAO_0000115 "{new}" ;',
        f'-    owl:annotatedTarget "{old}" ;',
        f'+    owl:annotatedTarget "{new}" ;',
    ]


def _bad(rows: list[list[str]], tmp_path: Path, sources: Path) -> tuple[object, Path]:
    sheet = tmp_path / "terms.csv"
    _write_csv(sheet, rows)
    return _import(sheet, sources, "--no-reasoner"), sheet


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("parent", "mbt:NoSuchClass", "D (parent): unknown parent 'mbt:NoSuchClass'"),
        ("definition", "  ", "E (definition): the definition is empty"),
        ("label", "psychic equivalence", "B (label): duplicate label 'psychic equivalence'"),
        ("IRI", "mbt:Epistemic Trust", "A (IRI): malformed IRI 'mbt:Epistemic Trust'"),
        ("definition sources", "mbtsrc:Nobody1900", "F (definition sources): unknown source"),
        ("curation status", "done", "I (curation status): unknown curation status 'done'"),
    ],
)
def test_a_bad_row_is_named_by_row_and_column_and_changes_nothing(
    column: str, value: str, expected: str, sources: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    export_sheet(export, location=sources)
    rows = _read_csv(export)
    # A good edit on another row must not be applied either: all or nothing.
    _edit(rows, "mbt:Rupture", "example", "A fictional example added in the sheet.")
    number = _edit(rows, "mbt:EpistemicTrust", column, value)
    before = _snapshot(sources)
    result, _ = _bad(rows, tmp_path, sources)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert f"terms.csv:{number}:{expected}" in result.stderr  # type: ignore[attr-defined]
    assert "nothing was changed" in result.stderr  # type: ignore[attr-defined]
    assert _snapshot(sources) == before


def test_an_edit_that_fails_the_checks_is_not_written(sources: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "terms.csv"
    export_sheet(sheet, location=sources)
    rows = _read_csv(sheet)
    same = next(r for r in rows if r[0] == "mbt:PsychicEquivalence")[COLUMNS.index("definition")]
    _edit(rows, "mbt:TeleologicalMode", "definition", same)  # a duplicate definition: ERROR
    _write_csv(sheet, rows)
    before = _snapshot(sources)
    result = _import(sheet, sources, "--no-reasoner")
    assert result.exit_code == 1, result.output
    assert "[duplicate-definition]" in result.output
    assert "nothing written" in result.stderr
    assert _snapshot(sources) == before


def test_new_sources_with_a_locator_and_a_second_example(sources: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "terms.csv"
    export_sheet(sheet, location=sources)
    rows = _read_csv(sheet)
    _edit(rows, "mbt:Rupture", "definition sources", "mbtsrc:SafranMuran2000 pp. 12-15")
    row = next(r for r in rows if r[0] == "mbt:Rupture")
    _edit(rows, "mbt:Rupture", "example", row[COLUMNS.index("example")] + "\nA second one.")
    _write_csv(sheet, rows)
    edits, changed = plan_import(sheet, sources)
    assert changed == ["mbt:Rupture"]
    (edit,) = edits
    assert 'skos:example "A second one." ;' in edit.after
    assert "    dcterms:source mbtsrc:SafranMuran2000 ;\n" in edit.after
    assert '    mbt:sourceLocator "mbtsrc:SafranMuran2000 pp. 12-15" .\n' in edit.after
    export_again = tmp_path / "again.csv"
    for e in edits:
        e.path.write_text(e.after, encoding="utf-8")
    export_sheet(export_again, location=sources)
    again = next(r for r in _read_csv(export_again) if r[0] == "mbt:Rupture")
    assert again[COLUMNS.index("definition sources")] == "mbtsrc:SafranMuran2000 pp. 12-15"


def test_a_sheet_with_a_wrong_header_is_refused(sources: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "terms.csv"
    _write_csv(sheet, [["iri", "name"], ["mbt:Turn", "turn"]])
    with pytest.raises(SheetError, match=r"terms\.csv:1: the header row is not IRI, label"):
        plan_import(sheet, sources)
