"""Spreadsheet (CSV) import: wide code columns, a long annotations sheet, row-numbered errors."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from mbtkg.bench.readers import write_csv_session
from mbtkg.cli import main
from mbtkg.mapping import UnmappedCodesError, load_mapping
from mbtkg.sessions import read_session, session_to_rdf
from mbtkg.sessions.csv_reader import CsvProblems, read_csv_sessions
from mbtkg.validation.validate import validate_graphs

CSV = FIXTURES / "csv"


def test_wide_layout_one_column_per_code() -> None:
    result = read_csv_sessions(CSV / "turns-wide.csv", mapping=load_mapping(CSV / "wide-map.yaml"))
    assert [s.id for s in result.sessions] == ["demo-1", "demo-2"]
    one, two = result.sessions
    assert len(one.turns) == 4 and len(two.turns) == 2
    assert {p.id: p.role for p in one.participants} == {"T-1": "therapist", "P-3": "patient"}
    assert [(a.id, a.concept_name, a.start) for a in one.annotations] == [
        ("teleological-mode-t2", "teleological mode", 2),
        ("not-knowing-t3", "Not knowing", 3),
        ("teleological-mode-t4", "teleological mode", 4),
    ]
    assert [a.id for a in one.annotators] == ["A-1"]
    assert len(two.annotations) == 1
    assert result.skipped == ("Admin",)
    assert one.turns[1].line == 3  # spreadsheet row (header is row 1)
    assert validate_graphs([session_to_rdf(s) for s in result.sessions]).conforms


def test_long_layout_with_quotes_times_and_semicolons() -> None:
    result = read_csv_sessions(
        CSV / "turns.csv",
        annotations_path=CSV / "annotations.csv",
        mapping=load_mapping(CSV / "long-map.yaml"),
    )
    (s,) = result.sessions
    assert [(t.start_time, t.end_time) for t in s.turns] == [(0.0, 2.5), (2.5, 5.0), (5.0, 9.25)]
    assert {p.id: p.role for p in s.participants} == {"T-1": "therapist", "P-5": "patient"}
    assert [(a.id, a.quote, a.start, a.end, a.annotator, a.confidence) for a in s.annotations] == [
        ("x1", "Forget it.", 2, 2, "A-7", 0.8),
        ("x2", "I think I rushed you there", 3, 3, "A-7", 0.9),
        ("x3", None, 1, 3, "A-8", None),
    ]
    assert (s.annotations[0].text_start, s.annotations[0].text_end) == (19, 29)
    assert [a.id for a in s.annotators] == ["A-7", "A-8"]
    assert validate_graphs([session_to_rdf(s)]).conforms


def test_bad_turn_rows_are_reported_with_row_and_column() -> None:
    with pytest.raises(CsvProblems) as info:
        read_csv_sessions(CSV / "bad-turns.csv")
    text = str(info.value)
    assert (
        "bad-turns.csv row 3, column 'turn': found 'two'; expected a whole number from 1 up" in text
    )
    assert "bad-turns.csv row 4, column 'speaker': found 'P 1'" in text
    assert (
        "bad-turns.csv row 5, column 'role': found 'nurse'; expected patient or therapist" in text
    )
    assert "bad-turns.csv row 6, column 'turn': turn 1 of session 'demo-9' is given twice" in text
    assert len(info.value.problems) == 4


def test_bad_annotation_rows_name_quote_span_and_session() -> None:
    with pytest.raises(CsvProblems) as info:
        read_csv_sessions(
            CSV / "turns.csv",
            annotations_path=CSV / "bad-annotations.csv",
            mapping=load_mapping(CSV / "long-map.yaml"),
        )
    text = str(info.value)
    assert (
        "bad-annotations.csv row 2, column 'quote': the quote (15 characters) is not in the "
        "text of turns 2-2" in text
    )
    assert "Forget about it" not in text  # the quote is session text: named, never shown
    assert "row 3, column 'last_turn': session 'demo-3' has no turn 7 (turns 1-3)" in text
    assert (
        "row 4, column 'session': no session 'demo-33' in the turns sheet; did you mean 'demo-3'?"
        in text
    )


def test_unmapped_code_column_is_listed() -> None:
    with pytest.raises(UnmappedCodesError) as info:
        read_csv_sessions(CSV / "turns-wide.csv")
    assert info.value.unmapped == ("Admin", "Not knowing")  # in the order first used


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("session,turn,who,text\ns,1,T,hi\n")
    with pytest.raises(Exception, match="missing column\\(s\\) speaker"):
        read_csv_sessions(path)


def test_shacl_messages_point_at_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("session,turn,speaker,text\ns-1,1,T-1,Hello.\ns-1,2,P-1,\n")
    report = validate_graphs([session_to_rdf(s) for s in read_csv_sessions(path).sessions])
    lines = [str(v) for v in report.violations]
    assert any(f"{path}:3: turn 2:" in line and "text" in line for line in lines), lines


def test_cli_imports_csv_and_read_session_accepts_csv(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "import",
            "csv",
            str(CSV / "turns.csv"),
            "--annotations",
            str(CSV / "annotations.csv"),
            "--mapping",
            str(CSV / "long-map.yaml"),
            "--dry-run",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "session 'demo-3': 3 turn(s), 3 annotation(s), 2 annotator(s)" in result.output
    assert "nothing loaded (--dry-run)" in result.output
    assert read_session(CSV / "turns.csv").id == "demo-3"


def test_suggest_mapping_for_code_columns(tmp_path: Path) -> None:
    out = tmp_path / "map.yaml"
    result = CliRunner().invoke(
        main, ["import", "csv", str(CSV / "turns-wide.csv"), "--suggest-mapping", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote a starting mapping for 2 code(s) without a concept" in result.output
    text = out.read_text()
    assert "  Not knowing: not-knowing stance  # close match, check it" in text
    assert "  # Admin: ?  # no match found; map it or set it to null" in text
    assert load_mapping(out).entries["not knowing"] is not None


def test_unmapped_advice_names_the_csv_import_command() -> None:
    for command in (["import", "csv"], ["validate"]):
        result = CliRunner().invoke(main, [*command, str(CSV / "turns-wide.csv")])
        assert result.exit_code == 2, result.output
        assert "`mbtkg import csv FILE --suggest-mapping MAP.yaml`" in result.output
        assert "import qdpx" not in result.output


def test_a_big_sheet_is_read_with_the_cycle_collector_paused(tmp_path: Path) -> None:
    """Reading 3,000 rows allocates enough to start the cycle collector about 30 times; with
    it running, the time per row grew with the sheet (1.4x from 10,000 to 100,000 rows). The
    reader pauses it: at most the one run its resumption starts, and it is running again."""
    turns, notes = write_csv_session(tmp_path, 3000)
    runs: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        result = read_csv_sessions(turns, annotations_path=notes)
    finally:
        gc.callbacks.remove(seen)
    assert len(result.sessions[0].turns) == 3000
    assert len(runs) <= 1
    assert gc.isenabled()
