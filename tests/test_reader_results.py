"""The readers give back one result type and raise one aggregate error type, located."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from test_import_qdpx import SAMPLES, zip_folder
from test_yaml_reader import READER_ERRORS, edited, write

from mbtkg.errors import InputError, LocatedProblem, ReaderProblems
from mbtkg.export import session_to_turtle
from mbtkg.mapping import load_mapping
from mbtkg.resources import example_sessions
from mbtkg.sessions import ReadResult, read_session, read_sessions, read_yaml_session
from mbtkg.sessions.csv_reader import CsvImport, CsvProblems, read_csv_sessions
from mbtkg.sessions.eaf_reader import EafImport, EafProblems, read_eaf
from mbtkg.sessions.qdpx_project import QdpxProblems
from mbtkg.sessions.qdpx_reader import QdpxImport, read_qdpx
from mbtkg.sessions.yaml_reader import SessionReadError

CSV, EAF = FIXTURES / "csv", FIXTURES / "eaf"


def test_every_format_reads_into_a_read_result(tmp_path: Path) -> None:
    susan = next(p for p in example_sessions() if p.stem == "susan-12")
    yaml_result = read_sessions(susan)
    assert type(yaml_result) is ReadResult
    assert [s.id for s in yaml_result.sessions] == ["susan-12"]

    turtle = tmp_path / "susan-12.ttl"
    turtle.write_text(session_to_turtle(read_yaml_session(susan)), encoding="utf-8")
    rdf_result = read_sessions(turtle)
    assert type(rdf_result) is ReadResult and [s.id for s in rdf_result.sessions] == ["susan-12"]

    csv_result = read_csv_sessions(
        CSV / "turns-wide.csv", mapping=load_mapping(CSV / "wide-map.yaml")
    )
    eaf_result = read_eaf(EAF / "two-speakers.eaf", mapping=load_mapping(EAF / "map.yaml"))
    hand = zip_folder(SAMPLES / "qdpx-hand-authored", tmp_path / "hand.qdpx")
    qdpx_result = read_qdpx(hand, mapping=None, default_speaker="P", skip_unmapped=True)
    for result, kind in (
        (csv_result, CsvImport),
        (eaf_result, EafImport),
        (qdpx_result, QdpxImport),
    ):
        assert isinstance(result, ReadResult) and isinstance(result, kind)
        assert result.sessions and all(s.turns for s in result.sessions)
    assert eaf_result.session is eaf_result.sessions[0]
    assert yaml_result.describe() == (
        f"{susan}: session 'susan-12': {len(yaml_result.sessions[0].turns)} turn(s), "
        f"{len(yaml_result.sessions[0].annotations)} annotation(s)"
    )


def test_csv_problems_are_reader_problems_located_by_row_and_column() -> None:
    with pytest.raises(CsvProblems) as info:
        read_csv_sessions(CSV / "bad-turns.csv")
    error = info.value
    assert isinstance(error, ReaderProblems)
    assert [(Path(p.file).name, p.line, p.field) for p in error.located] == [
        ("bad-turns.csv", 3, "turn"),
        ("bad-turns.csv", 4, "speaker"),
        ("bad-turns.csv", 5, "role"),
        ("bad-turns.csv", 6, "turn"),
    ]
    assert [p.message for p in error.located] == [str(p) for p in error.problems]


def test_yaml_problems_carry_line_and_closest_value(tmp_path: Path) -> None:
    text = edited("role: patient", "role: patiente", base=READER_ERRORS["unknown concept"][0])
    path = write(tmp_path, text)
    with pytest.raises(SessionReadError) as info:
        read_session(path)
    error = info.value
    assert isinstance(error, ReaderProblems)
    assert [(p.file, p.line, p.closest) for p in error.located] == [
        (str(path), 3, "patient"),
        (str(path), 11, "epistemic trust"),
    ]


def test_eaf_and_qdpx_problems_are_reader_problems_naming_the_file(tmp_path: Path) -> None:
    eaf = tmp_path / "x.eaf"
    eaf.write_text(
        '<ANNOTATION_DOCUMENT><HEADER TIME_UNITS="milliseconds"/><TIME_ORDER/>'
        '<TIER TIER_ID="words" LINGUISTIC_TYPE_REF="u"/></ANNOTATION_DOCUMENT>'
    )
    with pytest.raises(EafProblems) as eaf_info:
        read_eaf(eaf)
    assert isinstance(eaf_info.value, ReaderProblems)
    assert [p.file for p in eaf_info.value.located] == [str(eaf)] * len(eaf_info.value.problems)
    assert "no top-level tier has a PARTICIPANT" in eaf_info.value.located[0].message

    hand = zip_folder(SAMPLES / "qdpx-hand-authored", tmp_path / "hand.qdpx")
    with pytest.raises(QdpxProblems) as qdpx_info:
        read_qdpx(hand, mapping=None, skip_unmapped=True)
    located = qdpx_info.value.located
    assert isinstance(qdpx_info.value, ReaderProblems) and located
    assert all(p.file for p in located)
    assert any(p.line == 1 and "--default-speaker" in p.message for p in located)


def test_read_sessions_raises_one_aggregate_type_even_for_a_lone_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "session: [unclosed\n")
    with pytest.raises(InputError) as alone:
        read_session(path)
    assert not isinstance(alone.value, ReaderProblems)  # the reader's own single error
    with pytest.raises(ReaderProblems) as info:
        read_sessions(path)
    assert str(info.value) == str(alone.value)
    assert info.value.location == alone.value.location
    assert info.value.located == (LocatedProblem.of(alone.value, str(path)),)
    assert info.value.located[0].line == alone.value.location.line  # type: ignore[union-attr]

    unknown = tmp_path / "notes.txt"
    unknown.write_text("x")
    with pytest.raises(ReaderProblems, match=r"cannot read '\.txt' files as sessions"):
        read_sessions(unknown)
