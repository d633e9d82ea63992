"""The YAML session reader: what it reads, the lines it keeps, and every input error it reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from mbtkg import vocab
from mbtkg.errors import InputError, MbtkgError, UnknownNameError
from mbtkg.loading import read_graphs
from mbtkg.sessions import SessionReadError, parse_yaml_session, read_session, session_to_rdf
from mbtkg.validation.validate import quads_to_rdflib, validate_graphs

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Line numbers:  1 session, 3-4 participants, 6 annotator, 8-9 turns, 11 annotation a1.
BASE = """\
session: {id: s1, date: 2025-03-01, number: 3, setting: individual}
participants:
  - {id: P-1, role: patient}
  - {id: T-1, role: therapist}
annotators:
  - {id: A-1}
turns:
  - {id: 1, speaker: T-1, text: "Hello."}
  - {id: 2, speaker: P-1, text: "Hi, it has been a strange week."}
annotations:
  - {id: a1, concept: epistemic trust, turns: 2, annotator: A-1}
"""


def write(tmp_path: Path, text: str, name: str = "session.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str, *, base: str = BASE) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


def read_error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        read_session(path)
    assert isinstance(info.value, MbtkgError)
    return info.value


# ------------------------------------------------------------------ what it reads


def test_base_reads_into_the_model(tmp_path: Path) -> None:
    session = read_session(write(tmp_path, BASE))
    assert session.id == "s1"
    assert session.date == dt.date(2025, 3, 1)
    assert session.number == 3
    assert session.setting == "individual"
    assert [(p.id, p.role, p.line) for p in session.participants] == [
        ("P-1", "patient", 3),
        ("T-1", "therapist", 4),
    ]
    assert [(a.id, a.line) for a in session.annotators] == [("A-1", 6)]
    assert [(t.id, t.speaker, t.line) for t in session.turns] == [(1, "T-1", 8), (2, "P-1", 9)]
    (ann,) = session.annotations
    assert (ann.id, ann.start, ann.end, ann.annotator, ann.line) == ("a1", 2, 2, "A-1", 11)
    assert ann.concept_iri == vocab.MBT + "EpistemicTrust"
    assert session.source == str(tmp_path / "session.yaml")


@pytest.mark.parametrize(
    "name",
    [
        "epistemic trust",
        "Epistemic Trust",
        "  EPISTEMIC TRUST ",
        "EpistemicTrust",
        "epistemictrust",
        "mbt:EpistemicTrust",
        "MBT:epistemictrust",
        "https://w3id.org/mbtkg/ontology#EpistemicTrust",
    ],
)
def test_a_concept_may_be_named_by_label_local_name_curie_or_iri(tmp_path: Path, name: str) -> None:
    text = edited("concept: epistemic trust", f'concept: "{name}"')
    (ann,) = read_session(write(tmp_path, text)).annotations
    assert ann.concept_iri == vocab.MBT + "EpistemicTrust"


def test_a_span_is_one_turn_or_first_and_last(tmp_path: Path) -> None:
    text = edited("turns: 2,", "turns: [1, 2],")
    (ann,) = read_session(write(tmp_path, text)).annotations
    assert (ann.start, ann.end) == (1, 2)


def test_block_style_and_string_dates_read_the_same(tmp_path: Path) -> None:
    block = read_session(FIXTURES / "valid" / "group-three-patients.yaml")
    assert block.date == dt.date(2025, 2, 11)
    assert block.turns[1].line == 24 and block.annotations[1].line == 46
    quoted = read_session(FIXTURES / "valid" / "two-annotators.yaml")
    assert quoted.date == dt.date(2025, 1, 20)


def test_relations_read_single_and_list_targets(tmp_path: Path) -> None:
    session = read_session(FIXTURES / "valid" / "relations.yaml")
    by_id = {a.id: a for a in session.annotations}
    assert [(r.name, r.target) for r in by_id["r4"].relations] == [
        ("respondsTo", "r2"),
        ("respondsTo", "r5"),
    ]
    assert [(r.property_iri, r.target) for r in by_id["r6"].relations] == [
        (vocab.MBT + "repairs", "r2")
    ]
    assert session.turns[1].start_time == 3.5 and session.turns[1].end_time == 7.25
    assert by_id["r1"].note == "a planned break, coded as a cancellation"


# ------------------------------------------------------------------ input errors

#: name -> (edited text, expected line, fragments the one message must contain).
READER_ERRORS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "unknown concept": (
        edited("concept: epistemic trust", "concept: epistemic trsut"),
        11,
        ("unknown concept 'epistemic trsut'", "did you mean 'epistemic trust'"),
    ),
    "unknown relation": (
        edited("annotator: A-1}", "annotator: A-1, relations: {repares: a1}}"),
        11,
        ("unknown relation 'repares'", "did you mean 'repairs'?", "respondsTo, triggeredBy"),
    ),
    "duplicate turn id": (
        edited("{id: 2, speaker: P-1", "{id: 1, speaker: P-1"),
        9,
        ("duplicate turn id '1'", "first given on line 8"),
    ),
    "duplicate annotation id": (
        BASE + "  - {id: a1, concept: repair, turns: 2, annotator: A-1}\n",
        12,
        ("duplicate annotation id 'a1'", "first given on line 11"),
    ),
    "duplicate participant id": (
        edited(
            "  - {id: T-1, role: therapist}\n", "  - {id: T-1, role: therapist}\n  - {id: P-1}\n"
        ),
        5,
        ("duplicate participant id 'P-1'", "first given on line 3"),
    ),
    "duplicate annotator id": (
        edited("  - {id: A-1}\n", "  - {id: A-1}\n  - {id: A-1}\n"),
        7,
        ("duplicate annotator id 'A-1'", "first given on line 6"),
    ),
    "span of three numbers": (
        edited("turns: 2,", "turns: [1, 2, 3],"),
        11,
        ("'turns' must be one turn id or [first, last]", "found [1, 2, 3]"),
    ),
    "span in words": (
        edited("turns: 2,", "turns: two,"),
        11,
        ("'turns' must be one turn id or [first, last]", "found 'two'"),
    ),
    "unknown annotation field": (
        edited("annotator: A-1}", "anotator: A-1}"),
        11,
        ("unknown field 'anotator' in an annotation", "did you mean 'annotator'?"),
    ),
    "unknown top-level field": (
        BASE + "anotations: []\n",
        12,
        ("unknown field 'anotations' in the file", "did you mean 'annotations'?"),
    ),
    "unknown setting": (
        edited("setting: individual", "setting: indivdual"),
        1,
        ("unknown setting 'indivdual'", "did you mean 'individual'?", "individual, group, family"),
    ),
    "unknown role": (
        edited("role: patient", "role: patiente"),
        3,
        ("unknown role 'patiente'", "did you mean 'patient'?"),
    ),
    "turn id zero": (
        edited("{id: 2, speaker", "{id: 0, speaker"),
        9,
        ("a turn id must be a whole number from 1 up, found 0",),
    ),
    "impossible date": (
        edited("2025-03-01", "2025-13-01"),
        1,
        ("session date must be a calendar date like 2024-10-14, found '2025-13-01'",),
    ),
    "confidence in words": (
        edited("annotator: A-1}", "annotator: A-1, confidence: high}"),
        11,
        ("confidence must be a number from 0 to 1, found 'high'",),
    ),
    "id with a space": (
        edited("{id: a1,", "{id: a 1,"),
        11,
        ("an annotation id ('a 1') may use only letters, digits",),
    ),
    # YAML 1.1 reads yes/no/on/off/true/false as booleans: never an id, a span or a time
    "boolean session id": (
        edited("{id: s1,", "{id: yes,"),
        1,
        ("session id must be text",),
    ),
    "boolean annotation id": (
        edited("{id: a1,", "{id: on,"),
        11,
        ("an annotation id must be text",),
    ),
    "boolean span": (
        edited("turns: 2,", "turns: true,"),
        11,
        ("'turns' must be one turn id or [first, last]",),
    ),
    "boolean start time": (
        edited('text: "Hello."}', 'text: "Hello.", start: yes}'),
        8,
        ("turn start time must be seconds",),
    ),
    "boolean id says why and how to quote it": (
        edited("{id: a1,", "{id: yes,"),
        11,
        ("found the yes/no value true", 'put the id in quotes (id: "yes")'),
    ),
    "id with a final newline": (
        edited("{id: s1,", '{id: "s1\\n",'),
        1,
        ("control character", "the pattern [A-Za-z0-9][A-Za-z0-9._-]*"),
    ),
    "id with a newline inside": (
        edited("{id: a1,", '{id: "a\\n1",'),
        11,
        ("control character", "may use only letters, digits"),
    ),
    "empty concept": (
        edited("concept: epistemic trust", "concept: null"),
        11,
        ("concept is empty at line 11; expected a concept name such as 'clarification'",),
    ),
    "concept as a list": (
        edited("concept: epistemic trust", "concept: [epistemic trust]"),
        11,
        ("concept must be a concept name such as 'clarification', found a list of 1 item",),
    ),
    "turn text as a mapping": (
        edited('text: "Hello."}', "text: {a: 1}}"),
        8,
        ("turn 1 text must be text, found a mapping with 1 key",),
    ),
    "date with a time of day": (
        edited("date: 2025-03-01", "date: 2025-03-01T10:00:00"),
        1,
        ("found a date with a time of day",),
    ),
    "turns not a list": (
        edited(
            """turns:
  - {id: 1, speaker: T-1, text: "Hello."}
  - {id: 2, speaker: P-1, text: "Hi, it has been a strange week."}
""",
            "turns: {id: 1}\n",
        ),
        7,
        ("'turns' must be a list, found a mapping with 1 key",),
    ),
}

#: What a message must never show: Python's names for values and classes.
PYTHON_INTERNALS = (
    "_Map",
    "_Seq",
    "datetime.",
    "True",
    "False",
    "None",
    "<class",
    "found dict",
    "found str",
    "found list",
)


@pytest.mark.parametrize("case", sorted(READER_ERRORS))
def test_reader_error_names_file_line_and_what_was_expected(tmp_path: Path, case: str) -> None:
    text, line, fragments = READER_ERRORS[case]
    path = write(tmp_path, text)
    error = read_error(path)
    assert isinstance(error, SessionReadError)
    assert error.location is not None and error.location.path == str(path)
    (problem,) = error.problems
    assert problem.location is not None
    assert (problem.location.path, problem.location.line) == (str(path), line)
    message = str(error)
    assert message.startswith(f"{path}:{line}: ")
    for fragment in fragments:
        assert fragment in message
    for internal in PYTHON_INTERNALS:
        assert internal not in message.removeprefix(f"{path}:"), (internal, message)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("session:\n\tid: s1\n", 2, 1),
        ("session:\n  id: s1\n  \tdate: 2025-03-01\n", 3, 3),
    ],
    ids=["at the start of a line", "after spaces"],
)
def test_a_tab_in_the_indentation_is_named_with_its_line_and_column(
    tmp_path: Path, text: str, line: int, column: int
) -> None:
    path = write(tmp_path, text)
    error = read_error(path)
    assert error.location is not None
    assert (error.location.line, error.location.column) == (line, column)
    assert f"a tab character at line {line}, column {column}" in str(error)
    assert "replace the tab with spaces" in str(error)


def test_unknown_concept_carries_suggestions(tmp_path: Path) -> None:
    text, _line, _ = READER_ERRORS["unknown concept"]
    (problem,) = read_error(write(tmp_path, text)).problems  # type: ignore[attr-defined]
    assert isinstance(problem, UnknownNameError)
    assert problem.suggestions[0] == "epistemic trust"


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = edited("role: patient", "role: patiente", base=READER_ERRORS["unknown concept"][0])
    path = write(tmp_path, text)
    error = read_error(path)
    assert isinstance(error, SessionReadError)
    assert [p.location.line for p in error.problems if p.location] == [3, 11]
    assert str(error).splitlines() == [
        f"2 problems in {path}:",
        f"  {path}:3: unknown role 'patiente'; did you mean 'patient'? "
        "(expected one of patient, therapist)",
        f"  {error.problems[1]}",
    ]


def test_malformed_yaml_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, edited('text: "Hello."}', 'text: "Hello.}'))
    error = read_error(path)
    assert error.location is not None
    assert error.location.line is not None and error.location.column is not None
    message = str(error)
    assert message.startswith(f"{path}:{error.location.line}:{error.location.column}: ")
    assert "malformed YAML" in message
    assert "from line 8, column" in message  # where the unclosed quote began


def test_malformed_indentation_points_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, edited("  - {id: 2, speaker", " - {id: 2, speaker"))
    error = read_error(path)
    assert error.location is not None
    assert (error.location.line, error.location.column) == (9, 2)
    assert str(error).startswith(f"{path}:9:2: malformed YAML")


def test_duplicate_yaml_key_names_both_lines(tmp_path: Path) -> None:
    text = edited(
        "session: {id: s1, date: 2025-03-01, number: 3, setting: individual}\n",
        "session: {id: s1, date: 2025-03-01, number: 3, setting: individual}\nsession: {id: s2}\n",
    )
    path = write(tmp_path, text)
    error = read_error(path)
    assert error.location is not None and (error.location.line, error.location.column) == (2, 1)
    assert "duplicate key 'session' (first given on line 1)" in str(error)


def test_duplicate_key_inside_a_turn(tmp_path: Path) -> None:
    path = write(tmp_path, edited("speaker: P-1,", "speaker: P-1, speaker: T-1,"))
    error = read_error(path)
    assert error.location is not None and error.location.line == 9
    assert "duplicate key 'speaker'" in str(error)


def test_a_list_used_as_a_key_is_a_malformed_yaml_error(tmp_path: Path) -> None:
    # Before: PyYAML's constructor let a TypeError escape, and the user saw a traceback.
    path = write(tmp_path, edited("speaker: P-1,", "[speaker]: P-1,"))
    error = read_error(path)
    assert error.location is not None and error.location.line == 9
    assert "malformed YAML" in str(error) and "found unhashable key" in str(error)


def test_an_anchor_used_inside_itself_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "session: &s {id: s1, again: *s}\n")
    error = read_error(path)
    assert error.location is not None and error.location.line == 1
    assert "recursive alias" in str(error)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(edited("Hello.", "H\u00e9llo.").encode("latin-1"))
    error = read_error(path)
    assert error.location is not None and error.location.line == 8
    assert str(error).startswith(f"{path}:8: not UTF-8 text")
    assert "save the file as UTF-8" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    error = read_error(path)
    assert str(error) == f"{path}: no such file"


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, BASE, name="session.txt")
    error = read_error(path)
    assert str(error).startswith(f"{path}: ")
    assert ".yaml, .yml" in str(error)


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "plain words\n"])
def test_a_file_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    error = read_error(path)
    assert str(error).startswith(f"{path}:1: a session file must be a YAML mapping")


def test_two_files_with_the_same_session_id(tmp_path: Path) -> None:
    first = write(tmp_path, BASE, name="one.yaml")
    second = write(tmp_path, BASE, name="two.yaml")
    graphs, errors = read_graphs([first, second])
    assert [g.source for g in graphs] == [str(first)]
    (error,) = errors
    assert f"session id 's1' is also used by {first}" in str(error)


# ------------------------------------------------------------------ left to SHACL, still located

#: name -> (edited text, shape, line, fragment). The reader accepts these; SHACL reports them.
SHACL_CASES: dict[str, tuple[str, str, int, str]] = {
    "span out of range": (
        edited("turns: 2,", "turns: [2, 5],"),
        "mbtsh:Occurrence-endTurn",
        11,
        "the annotation's span must end at a turn of this session (found turn 5)",
    ),
    "undeclared speaker": (
        edited("speaker: P-1,", "speaker: P-2,"),
        "mbtsh:Turn-speaker",
        9,
        "(found participant 'P-2'); did you mean 'P-1'?",
    ),
    "relation to a missing annotation": (
        edited(
            "annotator: A-1}",
            "annotator: A-1}\n  - {id: a2, concept: repair, turns: 2, annotator: A-1, "
            "relations: {repairs: a9}}",
        ),
        "mbtsh:Axiom-repairs-range",
        12,
        "(found annotation 'a9')",
    ),
    "undeclared annotator": (
        edited("annotator: A-1}", "annotator: A-7}"),
        "mbtsh:Annotation-creator",
        11,
        "(found annotator 'A-7'); did you mean 'A-1'?",
    ),
}


@pytest.mark.parametrize("case", sorted(SHACL_CASES))
def test_checks_left_to_shacl_are_reported_with_file_and_line(tmp_path: Path, case: str) -> None:
    text, shape, line, fragment = SHACL_CASES[case]
    path = write(tmp_path, text)
    graph = session_to_rdf(read_session(path))  # the reader accepts it
    (violation,) = validate_graphs([graph]).violations
    assert (violation.shape, violation.line) == (shape, line)
    assert str(violation).startswith(f"{path}:{line}: ")
    assert fragment in str(violation)


# ------------------------------------------------------------------ the documented examples

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _block(markdown: Path, language: str, nth: int = 0) -> str:
    parts = markdown.read_text(encoding="utf-8").split(f"```{language}\n")
    return parts[nth + 1].split("```", 1)[0]


def test_the_format_doc_example_reads_and_conforms() -> None:
    text = _block(DOCS / "session-format.md", "yaml")
    session = parse_yaml_session(text, "demo-3.yaml")
    assert (len(session.turns), len(session.annotations)) == (3, 2)
    assert validate_graphs([session_to_rdf(session)]).conforms


def test_the_data_model_doc_shows_exactly_what_the_writer_builds() -> None:
    """The Turtle in docs/data-model.md is the writer's output for the YAML shown above it."""
    doc = DOCS / "data-model.md"
    yaml_text = _block(doc, "yaml")
    assert yaml_text.strip() in _block(DOCS / "session-format.md", "yaml")
    graph = session_to_rdf(parse_yaml_session(yaml_text, "demo-3.yaml"))
    built = rdflib.Graph()
    built += quads_to_rdflib(graph.quads)
    shown = rdflib.Graph().parse(data=_block(doc, "turtle"), format="turtle")
    assert len(shown) == len(built) == len(graph.quads)
    assert isomorphic(shown, built)
