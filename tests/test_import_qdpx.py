"""REFI-QDA import: the hand-written sample, NVivo-like and ATLAS.ti-like quirk fixtures, bad input."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from mbtkg.cli import main
from mbtkg.errors import InputError
from mbtkg.mapping import UnmappedCodesError, closest_concepts, load_mapping
from mbtkg.sessions import session_to_rdf
from mbtkg.sessions.qdpx_project import QdpxProblems
from mbtkg.sessions.qdpx_reader import read_qdpx
from mbtkg.stores import open_store
from mbtkg.validation.validate import validate_graphs

SAMPLES = FIXTURES / "samples"
ATLAS = FIXTURES / "qdpx" / "atlas-like"
BOM = "\ufeff"


def zip_members(out: Path, members: dict[str, bytes]) -> Path:
    """Write a .qdpx (a zip) with the given members."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out


def zip_folder(folder: Path, out: Path) -> Path:
    """Zip a folder's files (relative names) into a .qdpx."""
    files = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    return zip_members(out, files)


def u16(text: str) -> int:
    """Length in UTF-16 code units, as NVivo counts."""
    return len(text.encode("utf-16-le")) // 2


# ----------------------------------------------------------------------------- NVivo-like fixture
NVIVO_LINES = [
    "T: Hello \U0001f600 how was the week since we last met?",
    "P: Awful \U0001f621. I was so angry when you cancelled.",
    "T: So you were angry with me, and maybe still are.",
    "P: It doesn't matter, forget it.",
    "It was only one session.",
    "T: Let's go back to the anger \U0001f642 for a moment.",
]
NVIVO_RAW = "\r\n".join(NVIVO_LINES) + "\r\n"
#: (selection GUID suffix, quote as in the file, [(code GUID suffix, user GUID suffix)])
NVIVO_SELECTIONS = [
    ("01", "angry when you cancelled", [("01", "1"), ("02", "2")]),
    ("02", "So you were angry with me", [("03", "1")]),
    ("03", "forget it.\r\nIt was only one session", [("04", "2")]),
    ("04", "and maybe still are.\r\nP: It doesn't matter", [("05", "1")]),
]
NVIVO_CODES = {
    "01": "Anger at cancellation",
    "02": "Cancelled",
    "03": "Relational",
    "04": "Shutting down",
    "05": "Repair attempt",
}
NVIVO_MAPPING = """codes:
  Anger at cancellation: attachment activation
  Cancelled: cancelled session
  Relational: relational mentalizing
  Shutting down: withdrawal rupture
  Repair attempt: repair
"""


def nvivo_qde() -> str:
    """A project.qde shaped like an NVivo 12.6 export; offsets in UTF-16 units, CRLF = 2."""
    sels = []
    for sguid, quote, codings in NVIVO_SELECTIONS:
        k = NVIVO_RAW.index(quote)
        start = u16(NVIVO_RAW[:k])
        end = start + u16(quote)
        inner = "".join(
            f'<Coding guid="60000000-0000-4000-8000-00000000{sguid}{c}" '
            f'creatingUser="10000000-0000-4000-8000-00000000000{u}">'
            f'<CodeRef targetGUID="20000000-0000-4000-8000-0000000000{c}"/></Coding>'
            for c, u in codings
        )
        sels.append(
            f'<PlainTextSelection guid="50000000-0000-4000-8000-0000000000{sguid}" name="" '
            f'startPosition="{start}" endPosition="{end}"><Description />{inner}</PlainTextSelection>'
        )
    codes = "".join(
        f'<Code guid="20000000-0000-4000-8000-0000000000{g}" name="{n}" isCodable="true"/>'
        for g, n in NVIVO_CODES.items()
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\r\n'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="Untitled" basePath="" '
        'origin="NVivo-like fixture">\r\n'
        '<Users><User guid="10000000-0000-4000-8000-000000000001" name="Coder One"/>'
        '<User guid="10000000-0000-4000-8000-000000000002" name="Coder Two"/></Users>\r\n'
        f'<CodeBook><Codes><Code guid="20000000-0000-4000-8000-000000000000" name="Themes" '
        f'isCodable="false">{codes}</Code></Codes></CodeBook>\r\n'
        '<Sources><TextSource guid="40000000-0000-4000-8000-000000000001" name="Session 3" '
        'plainTextPath="internal://40000000-0000-4000-8000-000000000001.txt" '
        'richTextPath="internal://40000000-0000-4000-8000-000000000001.docx">'
        + "".join(sels)
        + "</TextSource></Sources>\r\n</Project>\r\n"
    )


@pytest.fixture()
def nvivo_qdpx(tmp_path: Path) -> Path:
    return zip_members(
        tmp_path / "nvivo.qdpx",
        {
            "project.qde": nvivo_qde().encode("utf-8"),
            "Sources/40000000-0000-4000-8000-000000000001.txt": (BOM + NVIVO_RAW).encode("utf-8"),
        },
    )


@pytest.fixture()
def nvivo_mapping(tmp_path: Path) -> Path:
    path = tmp_path / "nvivo-map.yaml"
    path.write_text(NVIVO_MAPPING, encoding="utf-8")
    return path


SPEAKERS = "T=T-1:therapist,P=P-7:patient"


def test_nvivo_like_offsets_are_utf16_crlf2_and_quotes_exact(
    nvivo_qdpx: Path, nvivo_mapping: Path
) -> None:
    result = read_qdpx(nvivo_qdpx, mapping=load_mapping(nvivo_mapping), speakers=SPEAKERS)
    assert len(result.sessions) == 1
    s = result.sessions[0]
    assert s.id == "Session-3"
    assert [t.speaker for t in s.turns] == ["T-1", "P-7", "T-1", "P-7", "T-1"]
    assert s.turns[3].text == "It doesn't matter, forget it.\nIt was only one session."
    assert len(s.annotations) == 5
    assert [a.id for a in s.annotations][:2] == [
        "50000000-0000-4000-8000-000000000001-1",
        "50000000-0000-4000-8000-000000000001-2",
    ]
    assert {a.annotator for a in s.annotations} == {"A-1", "A-2"}
    assert [a.id for a in s.annotators] == ["A-1", "A-2"]
    quotes = [(a.quote, a.start, a.end) for a in s.annotations]
    assert quotes == [
        ("angry when you cancelled", 2, 2),
        ("angry when you cancelled", 2, 2),
        ("So you were angry with me", 3, 3),
        ("forget it.\nIt was only one session", 4, 4),
        ("and maybe still are.", 3, 4),  # spans two turns: the quote is the part in the first
    ]
    for a in s.annotations:
        assert a.start is not None
        turn = s.turns[a.start - 1]
        assert turn.text is not None and a.text_start is not None and a.text_end is not None
        assert turn.text[a.text_start : a.text_end] == a.quote
    report = result.reports[0]
    assert "UTF-16 code units, CRLF counted as 2" in report.reading
    assert "byte-order mark counted" not in report.reading.split(":")[0]
    assert any("spans turns 3-4" in n for n in report.notes)
    assert result.annotators == {"Coder One": "A-1", "Coder Two": "A-2"}
    assert validate_graphs([session_to_rdf(s)]).conforms


def test_nvivo_like_loads_through_cli_and_reports_the_reading(
    nvivo_qdpx: Path, nvivo_mapping: Path, tmp_path: Path
) -> None:
    store_dir = tmp_path / "store"
    result = CliRunner().invoke(
        main,
        [
            "import",
            "qdpx",
            str(nvivo_qdpx),
            "--mapping",
            str(nvivo_mapping),
            "--speakers",
            SPEAKERS,
            "--store",
            f"oxigraph:{store_dir}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "offsets read as UTF-16 code units, CRLF counted as 2" in result.output
    assert "loaded 1 session(s)" in result.output
    store = open_store(f"oxigraph:{store_dir}")
    try:
        rows = store.select(
            "SELECT (COUNT(?a) AS ?n) WHERE { GRAPH ?g { ?a a <http://www.w3.org/ns/oa#Annotation> } }"
        )
        assert rows.values() == [{"n": 5}]
    finally:
        store.close()


# ----------------------------------------------------------------------------- ATLAS.ti-like
def test_atlas_like_trial_qde_braced_guids_zero_length(tmp_path: Path) -> None:
    qdpx = zip_folder(ATLAS, tmp_path / "trial.qdpx")
    result = read_qdpx(qdpx, mapping=load_mapping(ATLAS / "mapping.yaml"))
    s = result.sessions[0]
    assert s.id == "Trial-interview"
    assert [(t.speaker, t.text) for t in s.turns] == [
        ("T", "What do you make of it?"),
        ("P", "I don't know. Nothing, really."),
        ("T", "I'm not sure I understand it either. Could you tell me more?"),
    ]
    assert {p.id: p.role for p in s.participants} == {"T": "therapist", "P": "patient"}
    assert [(a.id, a.concept_name, a.start, a.quote) for a in s.annotations] == [
        (
            "e0000000-0000-4000-8000-000000000001",
            "not-knowing stance",
            3,
            "I'm not sure I understand it either",
        ),
        ("e0000000-0000-4000-8000-000000000002", "Shut down", 2, None),
    ]
    assert [a.annotator for a in s.annotations] == ["A-1", "A-1"]
    assert any("zero length" in n for n in result.reports[0].notes)
    assert validate_graphs([session_to_rdf(s)]).conforms


def test_fixture_projects_are_schema_valid() -> None:
    etree = pytest.importorskip("lxml.etree", reason="lxml validates against the REFI schema")
    xsd = SAMPLES / "refi-qda" / "Project.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    for doc in (
        etree.parse(str(ATLAS / "Trial.qde")),
        etree.fromstring(nvivo_qde().encode("utf-8")).getroottree(),
        etree.parse(str(SAMPLES / "qdpx-hand-authored" / "project.qde")),
    ):
        assert schema.validate(doc), schema.error_log


# ----------------------------------------------------------------------------- hand-authored sample
@pytest.fixture()
def hand_qdpx(tmp_path: Path) -> Path:
    folder = SAMPLES / "qdpx-hand-authored"
    return zip_folder(folder, tmp_path / "hand.qdpx")


def test_hand_authored_sample_quotes(hand_qdpx: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("codes:\n  Health: affect focus\n  Topics/Health/Diet: clarification\n")
    result = read_qdpx(
        hand_qdpx,
        mapping=load_mapping(mapping),
        speakers="P=P-1:patient,T=T-1:therapist",
        default_speaker="P",
    )
    assert len(result.sessions) == 1
    s = result.sessions[0]
    assert len(s.turns) == 1 and s.turns[0].speaker == "P-1"
    assert [a.quote for a in s.annotations] == ["Diet and health", "health are clo"]
    assert [(a.text_start, a.text_end) for a in s.annotations] == [(0, 15), (9, 23)]
    assert [a.id for a in s.annotators] == ["A-1"]
    assert result.other_sources == 4
    assert "all readings agree" in result.reports[0].reading
    assert validate_graphs([session_to_rdf(s)]).conforms


def test_hand_authored_without_prefixes_needs_a_default_speaker(hand_qdpx: Path) -> None:
    with pytest.raises(QdpxProblems) as info:
        read_qdpx(hand_qdpx, mapping=None, skip_unmapped=True)
    assert "[Interview 1.txt]:1" in str(info.value)
    assert "--default-speaker" in str(info.value)


def test_unmapped_codes_are_listed_not_dropped(hand_qdpx: Path) -> None:
    with pytest.raises(UnmappedCodesError) as info:
        read_qdpx(hand_qdpx, mapping=None, default_speaker="P")
    assert info.value.unmapped == ("Topics/Health", "Topics/Health/Diet")
    result = read_qdpx(hand_qdpx, mapping=None, default_speaker="P", skip_unmapped=True)
    assert result.unmapped == ("Topics/Health", "Topics/Health/Diet")
    assert result.sessions[0].annotations == ()
    assert "left out, no mapping" in result.describe()


def test_suggest_mapping_writes_exact_matches(tmp_path: Path) -> None:
    qdpx = zip_folder(ATLAS, tmp_path / "trial.qdpx")
    out = tmp_path / "suggested.yaml"
    result = CliRunner().invoke(main, ["import", "qdpx", str(qdpx), "--suggest-mapping", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "  not-knowing stance: not-knowing stance  # exact match" in text
    assert "Shut down" in text
    mapping = load_mapping(out)  # a suggested file loads as it is
    entry = mapping.entries["not-knowing stance"]
    assert entry is not None and entry.endswith("#NotKnowingStance")


# ----------------------------------------------------------------------------- bad input
def _nvivo_with(tmp_path: Path, qde: str, text: str = NVIVO_RAW) -> Path:
    return zip_members(
        tmp_path / "bad.qdpx",
        {
            "project.qde": qde.encode(),
            "sources/40000000-0000-4000-8000-000000000001.txt": text.encode(),
        },
    )


def test_selection_outside_the_text_names_its_guid(tmp_path: Path, nvivo_mapping: Path) -> None:
    qde = nvivo_qde().replace('endPosition="', 'endPosition="9', 1)
    with pytest.raises(QdpxProblems) as info:
        read_qdpx(
            _nvivo_with(tmp_path, qde), mapping=load_mapping(nvivo_mapping), speakers=SPEAKERS
        )
    text = str(info.value)
    assert "selection 50000000-0000-4000-8000-000000000001" in text
    assert "[Session 3]" in text and "expected 0 <= start <= end <=" in text


def test_unknown_speaker_prefix_is_reported_with_line(tmp_path: Path, nvivo_mapping: Path) -> None:
    with pytest.raises(QdpxProblems) as info:
        read_qdpx(
            _nvivo_with(tmp_path, nvivo_qde()),
            mapping=load_mapping(nvivo_mapping),
            speakers="T=T-1:therapist,Q=P-7:patient",
        )
    text = str(info.value)
    assert "[Session 3]:2: unknown speaker prefix 'P'" in text
    assert "expected one of T, Q" in text


def test_mapping_with_an_unknown_concept_fails_early(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("codes:\n  Anger: attachmnet activation\n")
    with pytest.raises(InputError) as info:
        load_mapping(path)
    assert "m.yaml:2" in str(info.value) and "did you mean 'attachment activation'" in str(
        info.value
    )


def test_no_qde_and_two_qdes_are_refused(tmp_path: Path) -> None:
    none = zip_members(tmp_path / "none.qdpx", {"sources/a.txt": b"x"})
    with pytest.raises(InputError, match=r"expected one \*\.qde"):
        read_qdpx(none, mapping=None)
    two = zip_members(tmp_path / "two.qdpx", {"a.qde": b"<Project/>", "b.qde": b"<Project/>"})
    with pytest.raises(InputError, match="several project documents"):
        read_qdpx(two, mapping=None)


def test_failed_import_loads_nothing(tmp_path: Path, nvivo_mapping: Path) -> None:
    store_dir = tmp_path / "store"
    qdpx = _nvivo_with(tmp_path, nvivo_qde())
    result = CliRunner().invoke(
        main,
        [
            "import",
            "qdpx",
            str(qdpx),
            "--mapping",
            str(nvivo_mapping),
            "--speakers",
            "T=T-1:therapist",
            "--store",
            f"oxigraph:{store_dir}",
        ],
    )
    assert result.exit_code == 2
    assert "unknown speaker prefix 'P'" in result.output
    # A session that reads but does not conform (everything said by T-1, no patient) is not loaded.
    result = CliRunner().invoke(
        main,
        [
            "import",
            "qdpx",
            str(qdpx),
            "--mapping",
            str(nvivo_mapping),
            "--speakers",
            "T=T-1:therapist,P=T-1",
            "--store",
            f"oxigraph:{store_dir}",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "nothing was loaded" in result.output
    store = open_store(f"oxigraph:{store_dir}")
    try:
        assert store.graph_names() == []
    finally:
        store.close()


def test_codings_of_a_whole_source_are_reported_not_dropped(tmp_path: Path) -> None:
    qde = (
        (ATLAS / "Trial.qde")
        .read_text()
        .replace(
            "</TextSource>",
            '<Coding guid="{F0000000-0000-4000-8000-000000000009}">'
            '<CodeRef targetGUID="{C0000000-0000-4000-8000-000000000001}"/></Coding></TextSource>',
        )
    )
    text = next((ATLAS / "sources").iterdir())
    qdpx = zip_members(
        tmp_path / "w.qdpx", {"Trial.qde": qde.encode(), f"sources/{text.name}": text.read_bytes()}
    )
    result = read_qdpx(qdpx, mapping=load_mapping(ATLAS / "mapping.yaml"))
    assert len(result.sessions[0].annotations) == 2
    assert "1 coding(s) of the whole source (not of a selection) were not imported" in (
        result.describe()
    )


# ----------------------------------------------------------------------------- codes not applied
def test_a_code_never_applied_is_reported(hand_qdpx: Path) -> None:
    """docs/importing.md promises that no code is dropped in silence: a code of the code book
    with no selection is named (Wellbeing here; the non-codable Topics is a heading)."""
    result = read_qdpx(hand_qdpx, mapping=None, default_speaker="P", skip_unmapped=True)
    assert result.unused == ("Topics/Wellbeing",)
    assert (
        "1 code(s) of the code book never applied to a text selection, so nothing to import: "
        "Topics/Wellbeing" in result.describe()
    )


def test_atlas_walkthrough_names_the_unapplied_code(tmp_path: Path) -> None:
    qdpx = zip_folder(ATLAS, tmp_path / "trial.qdpx")
    result = CliRunner().invoke(
        main,
        ["import", "qdpx", str(qdpx), "--mapping", str(ATLAS / "mapping.yaml"), "--dry-run"],
    )
    assert result.exit_code == 0, result.output
    assert "never applied to a text selection, so nothing to import: Memo-ish" in result.output


# ----------------------------------------------------------------------------- close names
def _atlas_with_code(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "atlas"
    for path in ATLAS.rglob("*"):
        if path.is_file():
            target = folder / path.relative_to(ATLAS)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    qde = folder / "Trial.qde"
    qde.write_text(qde.read_text(encoding="utf-8").replace("Shut down", name), encoding="utf-8")
    (folder / "mapping.yaml").unlink()
    return zip_folder(folder, tmp_path / "trial.qdpx")


@pytest.mark.parametrize("name", ["Withdrawal (rupture)", "Rupture (withdrawal)"])
def test_a_concept_plus_a_qualifier_gets_the_concept_as_suggestion(
    tmp_path: Path, name: str
) -> None:
    qdpx = _atlas_with_code(tmp_path, name)
    with pytest.raises(UnmappedCodesError) as info:
        read_qdpx(qdpx, mapping=None, skip_unmapped=False)
    assert f"  {name} (closest concept: 'withdrawal rupture')" in str(info.value)
    out = tmp_path / "suggested.yaml"
    result = CliRunner().invoke(main, ["import", "qdpx", str(qdpx), "--suggest-mapping", str(out)])
    assert result.exit_code == 0, result.output
    assert f"  {name}: withdrawal rupture  # close match, check it" in out.read_text()


def test_closest_concepts_rank_the_named_concept_first() -> None:
    assert closest_concepts("Withdrawal (rupture)")[:2] == ["withdrawal rupture", "rupture"]
    assert closest_concepts("Teleological (mode)")[0] == "teleological mode"
    assert closest_concepts("Not knowing (T)")[0] == "not-knowing stance"
    assert closest_concepts("psychic equivalance")[0] == "psychic equivalence"
    assert closest_concepts("Admin") == []


def test_validate_of_a_qdpx_points_to_the_import_command(tmp_path: Path) -> None:
    """`mbtkg validate` has no mapping options: the advice names `mbtkg import qdpx`."""
    qdpx = _atlas_with_code(tmp_path, "Withdrawal (rupture)")
    result = CliRunner().invoke(main, ["validate", str(qdpx)])
    assert result.exit_code == 2
    assert "`mbtkg import qdpx FILE --suggest-mapping MAP.yaml`" in result.output
    assert "--skip-unmapped to `mbtkg import qdpx`" in result.output


def test_a_given_annotator_id_is_not_reused_for_another_user(
    tmp_path: Path, susan_path: Path
) -> None:
    """Users without a given id got A-1, A-2 ... by position, even when --annotators had
    given that id to another user: two coders became one annotator."""
    from mbtkg.qda_export import export_qdpx
    from mbtkg.sessions import read_session

    path = tmp_path / "susan.qdpx"
    path.write_bytes(export_qdpx([read_session(susan_path)]).data)
    result = read_qdpx(
        path,
        mapping=None,
        speakers="T-1=T-1:therapist,P-susan=P-susan:patient",
        annotator_ids={"A-2": "A-1"},
    )
    assert result.annotators == {"A-1": "A-2", "A-2": "A-1"}
