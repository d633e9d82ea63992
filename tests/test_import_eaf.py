"""ELAN import: speaker tiers to timed turns, controlled-vocabulary child tiers to annotations."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from mbtkg.cli import main
from mbtkg.mapping import UnmappedCodesError, load_mapping
from mbtkg.sessions import session_to_rdf
from mbtkg.sessions.eaf_reader import EafProblems, read_eaf
from mbtkg.validation.validate import validate_graphs

EAF = FIXTURES / "eaf"
SPEACH = FIXTURES / "samples" / "eaf" / "speach-test.eaf"


def test_two_speakers_with_coded_child_tiers() -> None:
    result = read_eaf(EAF / "two-speakers.eaf", mapping=load_mapping(EAF / "map.yaml"))
    s = result.session
    assert s.id == "two-speakers"
    assert [(t.id, t.speaker, t.start_time, t.end_time) for t in s.turns] == [
        (1, "T01", 0.0, 3.2),
        (2, "P01", 3.5, 7.25),
        (3, "T01", 7.4, 11.0),
        (4, "P01", 11.1, 13.9),
    ]
    assert s.turns[1].text == "I had to clean the whole flat before I could breathe again."
    assert {p.id: p.role for p in s.participants} == {"T01": "therapist", "P01": "patient"}
    assert sorted((a.id, a.concept_name, a.start) for a in s.annotations) == [
        ("c1", "curious", 1),
        ("c2", "teleological", 2),
        ("c3", "validating", 3),
    ]
    assert [a.id for a in s.annotators] == ["A-1"]
    assert result.code_tiers == ("T01 MBT", "P01 MBT")
    assert result.ignored_tiers == ("notes",)
    assert validate_graphs([session_to_rdf(s)]).conforms


def test_named_annotator_and_roles() -> None:
    result = read_eaf(
        EAF / "two-speakers.eaf",
        mapping=load_mapping(EAF / "map.yaml"),
        annotator="A-elan",
        roles={"T01": "therapist", "P01": "patient"},
        session_id="s-77",
    )
    assert result.session.id == "s-77"
    assert {a.annotator for a in result.session.annotations} == {"A-elan"}


def test_speach_sample_counts() -> None:
    with pytest.raises(UnmappedCodesError) as info:
        read_eaf(SPEACH)
    assert info.value.unmapped == ("en", "jp")
    result = read_eaf(SPEACH, skip_unmapped=True)
    s = result.session
    assert len(s.turns) == 8
    assert [p.id for p in s.participants] == ["P001"]
    assert s.turns[0].text == "How do you read this?"
    assert (s.turns[0].start_time, s.turns[0].end_time) == (1.04, 2.33)
    assert s.turns[1].text == "このリンゴ、おいしいね！"
    assert s.turns[7].text == "Oh thanks"
    assert result.speaker_tiers == ("Person1 (Utterance)",)
    assert result.code_tiers == ("Person1 (ChunkLanguage)", "Person1 (Language)")
    assert result.ignored_tiers == ("marker", "Person1 (Chunk)")
    assert result.unmapped == ("en", "jp")
    assert s.annotations == ()


def test_speach_sample_language_values_mapped(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("codes:\n  en: affect focus\n  jp: null\n")
    result = read_eaf(SPEACH, mapping=load_mapping(mapping))
    # 'en' is 8 of the 12 chunk-level values and 7 of the 8 utterance-level ones (counted in
    # the file by hand); 'jp' is mapped to null and left out.
    assert len(result.session.annotations) == 15
    assert result.skipped == ("jp",)
    chunk = [a for a in result.session.annotations if a.id == "a38"]
    assert [(a.start, a.end) for a in chunk] == [(1, 1)]  # chunk a26 lies in utterance a1


def test_missing_participant_tiers_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.eaf"
    path.write_text(
        '<ANNOTATION_DOCUMENT><HEADER TIME_UNITS="milliseconds"/><TIME_ORDER/>'
        '<TIER TIER_ID="words" LINGUISTIC_TYPE_REF="u"/></ANNOTATION_DOCUMENT>'
    )
    with pytest.raises(EafProblems, match="no top-level tier has a PARTICIPANT.*tiers: words"):
        read_eaf(path)


def test_cli_eaf_dry_run() -> None:
    result = CliRunner().invoke(
        main,
        [
            "import",
            "eaf",
            str(EAF / "two-speakers.eaf"),
            "--mapping",
            str(EAF / "map.yaml"),
            "--dry-run",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 turn(s)" in result.output and "3 annotation(s)" in result.output


def test_suggest_mapping_for_coded_tiers(tmp_path: Path) -> None:
    out = tmp_path / "map.yaml"
    result = CliRunner().invoke(main, ["import", "eaf", str(SPEACH), "--suggest-mapping", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote a starting mapping for 2 code(s) without a concept" in result.output
    text = out.read_text()
    assert "  # en: ?  # no match found" in text and "  # jp: ?  # no match found" in text
    unmapped = CliRunner().invoke(main, ["import", "eaf", str(SPEACH), "--dry-run"])
    assert unmapped.exit_code == 2
    assert "`mbtkg import eaf FILE --suggest-mapping MAP.yaml`" in unmapped.output
