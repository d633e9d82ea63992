"""Edits of session files by ``mbtkg annotate``: nothing else changes, conflicts are refused.

The writer is ruamel.yaml round-trip; these tests compare whole files line by line, so a
reformatting anywhere (quotes, wrapping, comments, key order) fails them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from mbtkg import vocab
from mbtkg.annotate.workspace import OutsideFolder, Workspace, version_of
from mbtkg.annotate.yaml_edit import EditConflict, EditRefused, FileWriter, apply_edit
from mbtkg.resources import example_sessions
from mbtkg.sessions.to_rdf import session_to_rdf
from mbtkg.sessions.yaml_reader import SessionReadError, parse_yaml_session
from mbtkg.validation.validate import validate_graphs

SUSAN = next(Path(p) for p in example_sessions() if Path(p).name == "susan-12.yaml")


def lines_changed(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines removed and added, when the rest of the file is identical byte for byte."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return a[head : len(a) - tail], b[head : len(b) - tail]


@pytest.mark.parametrize("path", example_sessions(), ids=lambda p: Path(p).name)
def test_every_example_round_trips_unchanged(path: str) -> None:
    """Updating a field to its own value rewrites the file byte for byte."""
    text = Path(path).read_text()
    first = parse_yaml_session(text, path).annotations[0]
    after, _ = apply_edit(
        text, path, {"op": "update", "id": first.id, "fields": {"annotator": first.annotator}}
    )
    assert after == text


def test_adding_an_annotation_adds_one_line_and_keeps_comments() -> None:
    text = SUSAN.read_text()
    fields = {
        "concept": "mentalizing",
        "turns": [3, 4],
        "annotator": "A-2",
        "quote": "I don't know",
    }
    after, new_id = apply_edit(text, "s.yaml", {"op": "add", "fields": fields})
    removed, added = lines_changed(text, after)
    assert removed == []
    assert added == [
        f'  - {{id: {new_id}, concept: mentalizing, turns: [3, 4], quote: "I don\'t know", annotator: A-2}}\n'
    ]
    assert new_id == "b12"  # the next id of A-2's own numbering
    assert after.count("# ---") == text.count("# ---") == 2
    session = parse_yaml_session(after, "s.yaml")
    assert session.annotations[-1].start == 3 and session.annotations[-1].end == 4


def test_updating_changes_only_that_annotation_line() -> None:
    text = SUSAN.read_text()
    edit = {
        "op": "update",
        "id": "a2",
        "fields": {"confidence": 0.5, "quote": None, "note": "check: later"},
    }
    after, _ = apply_edit(text, "s.yaml", edit)
    removed, added = lines_changed(text, after)
    assert [line.split(",")[0] for line in removed] == ["  - {id: a2"]
    assert added == [
        '  - {id: a2, concept: not-knowing stance, turns: 3, annotator: A-1, confidence: 0.5, note: "check: later"}\n'
    ]


@pytest.mark.parametrize("target", ["a1", "a32", "b1", "b11"])
def test_removing_keeps_the_comments_above_it(target: str) -> None:
    text = SUSAN.read_text()
    after, _ = apply_edit(text, "s.yaml", {"op": "remove", "id": target})
    removed, added = lines_changed(text, after)
    assert added == [] and len(removed) == 1 and removed[0].startswith(f"  - {{id: {target},")
    assert [line for line in after.splitlines() if "#" in line and "---" in line] == [
        line for line in text.splitlines() if "#" in line and "---" in line
    ]


def test_a_file_the_writer_would_reformat_is_refused() -> None:
    text = SUSAN.read_text().replace("annotations:\n", "annotations:   # spaced comment\n", 1)
    text = text.replace("  - {id: 1, speaker", "  -   {id: 1, speaker", 1)
    with pytest.raises(EditRefused, match="would change parts of this file"):
        apply_edit(text, "s.yaml", {"op": "remove", "id": "a1"})


def test_unknown_fields_and_bad_values_are_refused() -> None:
    text = SUSAN.read_text()
    for fields in (
        {"concept": "mentalizing", "turns": 3, "annotator": "A-1", "colour": "red"},
        {"concept": "mentalizing", "turns": [1, 2, 3], "annotator": "A-1"},
        {"concept": "mentalizing", "turns": 3, "annotator": "A-1", "confidence": 2},
        {"concept": "mentalizing", "turns": 3, "annotator": "A 1"},
    ):
        with pytest.raises(EditRefused):
            apply_edit(text, "s.yaml", {"op": "add", "fields": fields})


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    shutil.copy(SUSAN, tmp_path / SUSAN.name)
    return tmp_path


def test_the_writer_refuses_a_stale_version_and_writes_nothing(folder: Path) -> None:
    path = folder / SUSAN.name
    writer = FileWriter(Workspace(folder))
    seen = version_of(path.read_bytes())
    path.write_text(path.read_text() + "# edited elsewhere\n")
    changed = path.read_bytes()
    with pytest.raises(EditConflict, match="changed on disk"):
        writer.edit(SUSAN.name, seen, {"op": "remove", "id": "a1"})
    assert path.read_bytes() == changed
    assert sorted(p.name for p in folder.iterdir()) == [SUSAN.name]


def test_the_writer_replaces_the_file_atomically(folder: Path) -> None:
    path = folder / SUSAN.name
    path.chmod(0o640)
    writer = FileWriter(Workspace(folder))
    version, _ = writer.edit(
        SUSAN.name, version_of(path.read_bytes()), {"op": "remove", "id": "a1"}
    )
    assert version == version_of(path.read_bytes())
    assert "id: a1," not in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in folder.iterdir()) == [SUSAN.name]  # no temporary file left


def test_an_edit_that_breaks_the_reader_is_refused(folder: Path) -> None:
    path = folder / SUSAN.name
    before = path.read_bytes()
    writer = FileWriter(Workspace(folder))
    edit = {"op": "add", "fields": {"concept": "no such concept", "turns": 3, "annotator": "A-1"}}
    with pytest.raises(EditRefused, match="unreadable"):
        writer.edit(SUSAN.name, version_of(before), edit)
    assert path.read_bytes() == before


def test_a_symlink_inside_the_folder_is_not_followed(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "x.yaml"
    shutil.copy(SUSAN, outside)
    (folder / "x.yaml").symlink_to(outside)
    space = Workspace(folder)
    assert space.files() == [SUSAN.name]
    with pytest.raises(OutsideFolder):
        space.path("x.yaml")


def test_an_accepted_suggestion_is_recorded_as_prov() -> None:
    text = SUSAN.read_text()
    fields = {
        "concept": "mentalizing",
        "turns": 3,
        "annotator": "A-2",
        "suggested": "mbtkg-lexical",
    }
    after, new_id = apply_edit(text, "s.yaml", {"op": "add", "fields": fields})
    assert "suggested: mbtkg-lexical}" in after
    session = parse_yaml_session(after, "s.yaml")
    assert session.annotations[-1].suggested == "mbtkg-lexical"
    store = ox.Store()
    store.extend(session_to_rdf(session).quads)
    ann = vocab.annotation_iri(session.id, new_id)
    solutions = store.query(
        f"""PREFIX prov: <{vocab.PROV}>
            SELECT ?label ?creator WHERE {{ GRAPH ?g {{
              <{ann}> prov:wasGeneratedBy ?activity ; <{vocab.DCTERMS}creator> ?creator .
              ?activity a prov:Activity ; prov:wasAssociatedWith ?agent .
              ?agent a prov:SoftwareAgent ; <{vocab.RDFS}label> ?label }} }}"""
    )
    assert isinstance(solutions, ox.QuerySolutions)
    rows = list(solutions)
    assert [(r["label"].value, r["creator"].value) for r in rows] == [
        ("mbtkg-lexical", vocab.annotator_iri("A-2"))
    ]
    others = store.query(
        f"ASK {{ GRAPH ?g {{ ?a <{vocab.PROV}wasGeneratedBy> ?x FILTER (?a != <{ann}>) }} }}"
    )
    assert not bool(others)  # annotations made unaided carry no suggestion
    graph = session_to_rdf(session)
    assert validate_graphs([graph]).conforms  # pySHACL, with mbtsh:Annotation-suggestion
    assert validate_graphs([graph], engine="fast").conforms


def test_a_malformed_suggested_value_is_named() -> None:
    text = SUSAN.read_text().replace(
        "confidence: 0.75, relations: {respondsTo: b10}}", "suggested: [x]}"
    )
    with pytest.raises(SessionReadError, match="'suggested' must name the software"):
        parse_yaml_session(text, "s.yaml")


def test_saving_an_annotation_unchanged_keeps_its_quoting() -> None:
    """The page sends every field on save; values that did not change are not rewritten."""
    text = SUSAN.read_text().replace(
        'quote: "Nobody actually wants me around."', "quote: 'Nobody actually wants me around.'"
    )
    b2 = next(a for a in parse_yaml_session(text, "s.yaml").annotations if a.id == "b2")
    fields = {
        "concept": b2.concept_name,
        "turns": b2.start,
        "annotator": b2.annotator,
        "confidence": b2.confidence,
        "quote": b2.quote,
        "note": None,
        "relations": None,
    }
    after, _ = apply_edit(text, "s.yaml", {"op": "update", "id": "b2", "fields": fields})
    assert after == text
    edit = {
        "op": "update",
        "id": "a15",
        "fields": {"turns": [21, 27], "relations": {"repairs": ["a13"]}},
    }
    assert apply_edit(text, "s.yaml", edit)[0] == text
