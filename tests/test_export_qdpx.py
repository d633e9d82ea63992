"""REFI-QDA export: projects (.qdpx) and code books (.qdc) that QDA tools and our importer read.

The schema is the REFI-QDA Project.xsd copied into tests/fixtures/samples (licence there); the
originals compared against are the example YAML files read by the YAML reader, not the store the
export reads from.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from lxml import etree

from mbtkg.cli import main
from mbtkg.concepts import default_index
from mbtkg.errors import InputError
from mbtkg.export import export_sessions_qdpx, stored_session
from mbtkg.qda_export import codebook_tree, codebook_xml, export_qdpx
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session
from mbtkg.sessions.model import Annotation, Participant, Relation, Session, Turn
from mbtkg.sessions.qdpx_reader import read_qdpx
from mbtkg.stores import Store, open_store

XSD = FIXTURES / "samples" / "refi-qda" / "Project.xsd"
P = "{urn:QDA-XML:project:1.0}"
C = "{urn:QDA-XML:codebook:1.0}"
WHEN = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
EXAMPLE_IDS = sorted(p.stem for p in example_sessions())
#: Computed here, not imported: the GUID scheme is a promise to users of earlier exports.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://w3id.org/mbtkg/qda")
USER = "0A0A0A0A-1111-4222-8333-444444444444"


def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _originals() -> dict[str, Session]:
    return {p.stem: read_session(p) for p in example_sessions()}


@pytest.fixture(scope="module")
def project(example_store: Store) -> bytes:
    return export_sessions_qdpx(example_store, EXAMPLE_IDS, created=WHEN).data


def test_project_document_is_valid_against_the_refi_schema(project: bytes) -> None:
    qde = etree.fromstring(_members(project)["project.qde"])
    schema = _schema()
    assert schema.validate(qde), schema.error_log
    assert len(qde.findall(f"{P}Sources/{P}TextSource")) == 6


def test_a_broken_project_document_fails_the_schema(project: bytes) -> None:
    """The schema check can fail: a selection without its end position is refused."""
    qde = etree.fromstring(_members(project)["project.qde"])
    selection = qde.find(f".//{P}PlainTextSelection")
    assert selection is not None
    del selection.attrib["endPosition"]
    assert not _schema().validate(qde)


def test_what_qualcoder_needs_to_read_the_project(project: bytes) -> None:
    """QualCoder's REFI import: project.qde at the root, namespaced elements, each text in
    sources/ named by an internal:// plainTextPath and read as UTF-8, offsets as indices of that
    text, a creation time on every selection, CodeRef as a coding's first child."""
    members = _members(project)
    qde = etree.fromstring(members["project.qde"])
    assert qde.tag == f"{P}Project"
    users = {u.get("guid") for u in qde.iter(f"{P}User")}
    codes = {c.get("guid") for c in qde.iter(f"{P}Code")}
    for source in qde.iter(f"{P}TextSource"):
        ref = source.get("plainTextPath")
        assert ref is not None and ref.startswith("internal://")
        raw = members["sources/" + ref.removeprefix("internal://")]
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
        text = raw.decode("utf-8")
        for sel in source.iter(f"{P}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert 0 <= start < end <= len(text)
            assert text[start:end] == sel.get("name")
            assert sel.get("creationDateTime") and sel.get("creatingUser") in users
            coding = sel.find(f"{P}Coding")
            assert coding is not None and coding[0].tag == f"{P}CodeRef"
            assert coding[0].get("targetGUID") in codes


def test_code_guids_are_uuid5_of_the_concept_iri_and_stable(example_store: Store) -> None:
    index = default_index()
    one = export_sessions_qdpx(example_store, ["susan-12"], created=WHEN).data
    two = export_sessions_qdpx(
        example_store, ["noor-02", "susan-12"], created=WHEN + dt.timedelta(days=3)
    ).data
    guids = []
    for data in (one, two):
        qde = etree.fromstring(_members(data)["project.qde"])
        guids.append({c.get("name"): c.get("guid") for c in qde.iter(f"{P}Code")})
    assert guids[0] == guids[1]
    iri = index.resolve("withdrawal rupture")
    assert guids[0]["withdrawal rupture"] == str(uuid.uuid5(NAMESPACE, iri)).upper()
    qdc = etree.fromstring(codebook_xml())
    assert {c.get("name"): c.get("guid") for c in qdc.iter(f"{C}Code")} == guids[0]


def test_same_sessions_and_time_give_the_same_bytes(example_store: Store, project: bytes) -> None:
    again = export_sessions_qdpx(example_store, EXAMPLE_IDS, created=WHEN).data
    assert again == project


def test_round_trip_of_the_six_examples_through_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    kg, back = f"oxigraph:{tmp_path / 'kg'}", f"oxigraph:{tmp_path / 'back'}"
    paths = [str(p) for p in example_sessions()]
    assert runner.invoke(main, ["load", *paths, "--store", kg]).exit_code == 0
    out = tmp_path / "all.qdpx"
    result = runner.invoke(
        main, ["export", "--format", "qdpx", *EXAMPLE_IDS, "-o", str(out), "--store", kg]
    )
    assert result.exit_code == 0, result.output
    assert "6 session(s)" in result.output
    command = re.search(r"to import it back: mbtkg (import qdpx .*)$", result.output, re.M)
    assert command is not None
    speakers = re.search(r"--speakers '([^']*)'", command.group(1))
    annotators = re.search(r"--annotators '([^']*)'", command.group(1))
    assert speakers is not None and annotators is not None
    imported = runner.invoke(
        main,
        [
            "import",
            "qdpx",
            str(out),
            "--speakers",
            speakers.group(1),
            "--annotators",
            annotators.group(1),
            "--store",
            back,
        ],
    )
    assert imported.exit_code == 0, imported.output
    assert "loaded 6 session(s)" in imported.output
    store = open_store(back)
    try:
        for sid, original in _originals().items():
            again = stored_session(store, sid)
            assert [(t.id, t.speaker, t.text) for t in again.turns] == [
                (t.id, t.speaker, t.text) for t in original.turns
            ], sid
            assert Counter(
                (a.concept_iri, a.start, a.end, a.annotator) for a in again.annotations
            ) == Counter(
                (a.concept_iri, a.start, a.end, a.annotator) for a in original.annotations
            ), sid
            # a quote on one turn is selected exactly, so it comes back unchanged
            quotes = Counter(a.quote for a in original.annotations if a.quote and a.start == a.end)
            assert quotes <= Counter(a.quote for a in again.annotations), sid
    finally:
        store.close()


def _session(turns: list[str], annotations: list[Annotation]) -> Session:
    return Session(
        id="s-1",
        source="test",
        participants=(Participant("T-1", "therapist"), Participant("P-1", "patient")),
        turns=tuple(
            Turn(k, "T-1" if k % 2 else "P-1", text) for k, text in enumerate(turns, start=1)
        ),
        annotations=tuple(annotations),
    )


def test_what_refi_qda_cannot_hold_is_named_in_the_notes() -> None:
    index = default_index()
    repair = index.resolve("repair")
    rupture = index.resolve("withdrawal rupture")
    session = _session(
        ["Fine.\nWhatever: it does not matter.", "Let us go back."],
        [
            Annotation("a1", rupture, "withdrawal rupture", 1, 1, None, confidence=0.5),
            Annotation(
                "a2",
                repair,
                "repair",
                2,
                2,
                None,
                relations=(Relation(index.resolve_relation("repairs"), "repairs", "a1"),),
            ),
        ],
    )
    result = export_qdpx([session], created=WHEN)
    notes = "\n".join(result.notes)
    assert "1 relation(s) between annotations" in notes
    assert "1 confidence value(s)" in notes
    assert "s-1 turn 1: a line of its text starts like a speaker prefix" in notes
    assert result.selections == 2


def test_no_session_and_twice_the_same_session_are_refused() -> None:
    with pytest.raises(InputError, match="no session to export"):
        export_qdpx([])
    session = _session(["Hello."], [])
    with pytest.raises(InputError, match="named twice: s-1"):
        export_qdpx([session, session])


# ----------------------------------------------------------------------------- command line
def test_export_without_a_store_names_the_empty_default_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MBTKG_STORE", raising=False)
    result = CliRunner().invoke(main, ["export", "susan-12"])
    assert result.exit_code == 2
    assert (
        "the default store oxigraph:memory is empty in a new process; name the store you "
        "loaded into, e.g. --store oxigraph:./kg" in result.output
    )


def test_export_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    kg = f"oxigraph:{tmp_path / 'kg'}"
    assert runner.invoke(main, ["load", str(example_sessions()[0]), "--store", kg]).exit_code == 0
    sid = example_sessions()[0].stem
    no_out = runner.invoke(main, ["export", "--format", "qdpx", sid, "--store", kg])
    assert no_out.exit_code == 2 and "give --out FILE.qdpx" in no_out.output
    two = runner.invoke(main, ["export", "--format", "yaml", sid, sid + "x", "--store", kg])
    assert two.exit_code == 2 and "--format yaml writes one session" in two.output
    nothing = runner.invoke(main, ["export"])
    assert nothing.exit_code == 2 and "name a session id" in nothing.output
    out = tmp_path / "x.qdpx"
    unknown = runner.invoke(
        main, ["export", "--format", "qdpx", sid, "nobody-1", "-o", str(out), "--store", kg]
    )
    assert unknown.exit_code == 2 and "no session 'nobody-1'" in unknown.output
    assert not out.exists()


# ----------------------------------------------------------------------------- code book
def _as_project(qdc: bytes) -> etree._Element:
    """The code book's codes inside a minimal project: Codebook 1.0 shares Project 1.0's
    CodeBook/Codes/Code types, and no clean Codebook.xsd is among the samples."""
    book = etree.fromstring(qdc)
    text = (
        etree.tostring(book)
        .decode("utf-8")
        .replace("urn:QDA-XML:codebook:1.0", "urn:QDA-XML:project:1.0")
    )
    inner = etree.fromstring(text.encode("utf-8"))
    inner.attrib.pop("origin", None)
    project = etree.Element(f"{P}Project", name="codebook", nsmap={None: P[1:-1]})
    project.append(inner)
    return project


def test_codebook_file_is_valid_and_holds_every_codable_concept(tmp_path: Path) -> None:
    out = tmp_path / "mbt.qdc"
    result = CliRunner().invoke(main, ["export", "--codebook", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    root = etree.fromstring(data)
    assert root.tag == f"{C}CodeBook"
    schema = _schema()
    assert schema.validate(_as_project(data)), schema.error_log
    index = default_index()
    names = [c.get("name") for c in root.iter(f"{C}Code")]
    assert len(names) == len(set(names)) == 72
    assert f"({len(names)} codes in 8 ontology branches)" in result.output
    for code in root.iter(f"{C}Code"):  # each name resolves to the concept its GUID was made of
        iri = index.resolve(code.get("name"))
        assert code.get("guid") == str(uuid.uuid5(NAMESPACE, iri)).upper()
        assert code.get("isCodable") == "true"
        assert code.findtext(f"{C}Description")


def test_codebook_groups_concepts_by_ontology_branch() -> None:
    tops = {node.name: node for node in codebook_tree()}
    assert set(tops) >= {"mental-state occurrence", "intervention", "relational phenomenon"}
    relational = tops["relational phenomenon"]
    rupture = next(c for c in relational.children if c.name == "rupture")
    assert {c.name for c in rupture.children} == {"withdrawal rupture", "confrontation rupture"}
    paths = {}
    for top in tops.values():
        stack = [(top, top.name)]
        while stack:
            node, path = stack.pop()
            paths[node.name] = path
            stack.extend((c, f"{path}/{c.name}") for c in node.children)
    assert paths["teleological mode"] == (
        "mental-state occurrence/non-mentalizing/prementalizing mode/teleological mode"
    )
    assert "withdrawal rupture" not in tops


def test_a_project_coded_with_the_codebook_imports_without_a_mapping(tmp_path: Path) -> None:
    """A QDA user codes with the .qdc codes (nested ones too) and comes back: no mapping."""
    qdc = etree.fromstring(codebook_xml())
    by_name = {c.get("name"): c.get("guid") for c in qdc.iter(f"{C}Code")}
    text = "T: How was the week?\nP: Forget it. It does not matter.\nT: Let us slow down.\n"
    codes = etree.tostring(qdc.find(f"{C}Codes")).decode("utf-8")
    codes = codes.replace("urn:QDA-XML:codebook:1.0", "urn:QDA-XML:project:1.0")
    forget, slow = text.index("Forget it."), text.index("Let us slow down.")
    selections = [
        (by_name["withdrawal rupture"], forget, text.index("\nT:")),
        (by_name["teleological mode"], forget, forget + len("Forget it.")),
        (by_name["stop-rewind-explore"], slow, slow + len("Let us slow down.")),
    ]
    body = "".join(
        f'<PlainTextSelection guid="{uuid.uuid4()}" startPosition="{s}" endPosition="{e}">'
        f'<Coding guid="{uuid.uuid4()}" creatingUser="{USER}"><CodeRef targetGUID="{g}"/></Coding></PlainTextSelection>'
        for g, s, e in selections
    )
    qde = (
        '<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" '
        f'name="coded elsewhere"><Users><User guid="{USER}" name="Coder"/></Users><CodeBook>{codes}</CodeBook><Sources>'
        '<TextSource guid="11111111-2222-3333-4444-555555555555" name="coded-1" '
        f'plainTextPath="internal://t.txt">{body}</TextSource></Sources></Project>'
    )
    assert _schema().validate(etree.fromstring(qde.encode("utf-8")))
    path = tmp_path / "coded.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/t.txt", text)
    result = read_qdpx(path, mapping=None, speakers="T=T-1:therapist,P=P-1:patient")
    index = default_index()
    got = {(a.concept_iri, a.start, a.end) for a in result.sessions[0].annotations}
    assert got == {
        (index.resolve("withdrawal rupture"), 2, 2),
        (index.resolve("teleological mode"), 2, 2),
        (index.resolve("stop-rewind-explore"), 3, 3),
    }
    cli = CliRunner().invoke(
        main,
        ["import", "qdpx", str(path), "--speakers", "T=T-1:therapist,P=P-1:patient", "--dry-run"],
    )
    assert cli.exit_code == 0, cli.output
    assert "1 session(s) conform" in cli.output


def test_a_file_that_cannot_be_written_is_an_input_error(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "mbt.qdc"
    result = CliRunner().invoke(main, ["export", "--codebook", str(target)])
    assert result.exit_code == 2, result.output
    assert f"cannot write {target}: No such file or directory" in result.output


def test_text_outside_the_bmp_keeps_its_offsets_through_an_import(tmp_path: Path) -> None:
    """Offsets are code points; with emoji in the text the importer must pick that reading
    (UTF-16 units would differ), and it does, helped by selection names equal to the text."""
    index = default_index()
    turns = ["How are you 🙂 today?", "Fine 😀😀 I guess. Forget it.", "Let us slow down 🐢."]
    session = _session(
        turns,
        [
            Annotation("a1", index.resolve("withdrawal rupture"), None, 2, 2, None, "Forget it."),
            Annotation("a2", index.resolve("stop-rewind-explore"), None, 2, 3, None),
        ],
    )
    path = tmp_path / "emoji.qdpx"
    path.write_bytes(export_qdpx([session], created=WHEN).data)
    result = read_qdpx(path, mapping=None, speakers="T-1=T-1:therapist,P-1=P-1:patient")
    assert "code points" in result.reports[0].reading
    again = result.sessions[0]
    assert [t.text for t in again.turns] == turns
    assert sorted((a.start, a.end, a.quote) for a in again.annotations) == [
        (2, 2, "Forget it."),
        (2, 3, turns[1]),
    ]


def test_the_project_names_no_folder_of_this_machine(tmp_path: Path, susan_path: Path) -> None:
    from mbtkg.loading import load

    folder = tmp_path / "Jane-Client-Folder"
    folder.mkdir()
    copy = folder / susan_path.name
    copy.write_bytes(susan_path.read_bytes())
    store = open_store("oxigraph:memory")
    try:
        load([copy], store)
        data = export_sessions_qdpx(store, ["susan-12"], created=WHEN).data
    finally:
        store.close()
    for name, member in _members(data).items():
        assert b"Jane-Client-Folder" not in member and str(tmp_path).encode() not in member, name
