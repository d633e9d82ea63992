"""Loading is all or nothing: a bad file leaves the store exactly as it was, in memory and on disk."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.errors import InputError, ValidationFailed
from mbtkg.loading import LoadInputError, load, prepare, session_ids
from mbtkg.stores import Store, open_store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD = FIXTURES / "valid" / "two-annotators.yaml"
OTHER_GOOD = FIXTURES / "valid" / "relations.yaml"
ALREADY_THERE = FIXTURES / "valid" / "one-turn.yaml"
SHACL_BAD = FIXTURES / "invalid" / "mbtsh-Turn-speaker.yaml"

Snapshot = Counter[tuple[object, ...]]


def snapshot(store: Store) -> Snapshot:
    """Every quad of every named graph, blank nodes written as ``_:`` (their labels are fresh)."""
    rows = store.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    out: Snapshot = Counter()
    for row in rows.rows:
        key: list[object] = []
        for term in row:
            assert term is not None
            blank = not term.is_iri and term.datatype is None
            key.append("_:" if blank else (term.value, term.is_iri, term.datatype))
        out[tuple(key)] += 1
    return out


@pytest.fixture()
def reader_bad(tmp_path: Path) -> Path:
    """A file the reader refuses (an unknown concept) before any validation."""
    path = tmp_path / "reader-bad.yaml"
    text = GOOD.read_text(encoding="utf-8").replace(
        "concept: clarification", "concept: clarifcation"
    )
    path.write_text(text.replace("valid-two-annotators", "reader-bad"), encoding="utf-8")
    return path


@pytest.fixture(params=["memory", "disk"])
def store_with_a_session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A memory store or an on-disk ``oxigraph:DIR`` store that already holds one session."""
    selector = "oxigraph:memory" if request.param == "memory" else f"oxigraph:{tmp_path / 'db'}"
    store = open_store(selector)
    load([ALREADY_THERE], store)
    yield store
    store.close()


def test_a_session_that_fails_validation_changes_nothing(store_with_a_session: Store) -> None:
    before = snapshot(store_with_a_session)
    assert session_ids(store_with_a_session) == ["valid-one-turn"]
    with pytest.raises(ValidationFailed) as info:
        load([GOOD, SHACL_BAD], store_with_a_session)
    assert snapshot(store_with_a_session) == before
    assert "nothing was loaded" in str(info.value)
    assert f"{SHACL_BAD}:12: turn 2: the turn's speaker must be" in str(info.value)


def test_a_file_the_reader_refuses_changes_nothing(
    store_with_a_session: Store, reader_bad: Path
) -> None:
    before = snapshot(store_with_a_session)
    with pytest.raises(LoadInputError) as info:
        load([GOOD, reader_bad], store_with_a_session)
    assert snapshot(store_with_a_session) == before
    (error,) = info.value.errors
    assert str(error).startswith(f"{reader_bad}:17: unknown concept 'clarifcation'")


def test_a_missing_file_changes_nothing(store_with_a_session: Store, tmp_path: Path) -> None:
    before = snapshot(store_with_a_session)
    with pytest.raises(InputError) as info:
        load([GOOD, tmp_path / "missing.yaml"], store_with_a_session)
    assert snapshot(store_with_a_session) == before
    assert "missing.yaml: no such file" in str(info.value)


def test_skip_invalid_loads_the_good_ones(store_with_a_session: Store, reader_bad: Path) -> None:
    summary = load(
        [GOOD, SHACL_BAD, OTHER_GOOD, reader_bad], store_with_a_session, skip_invalid=True
    )
    assert summary.sessions == ("valid-two-annotators", "valid-relations")
    assert set(summary.skipped) == {str(SHACL_BAD), str(reader_bad)}
    assert session_ids(store_with_a_session) == [
        "valid-one-turn",
        "valid-relations",
        "valid-two-annotators",
    ]
    assert summary.triples == store_with_a_session.graph_size(
        vocab.session_iri("valid-two-annotators")
    ) + store_with_a_session.graph_size(vocab.session_iri("valid-relations"))


def test_prepare_skips_an_unreadable_file_only_when_asked(reader_bad: Path) -> None:
    """``prepare`` (read and validate, nothing written: the path of importers and the remote
    batch load) leaves out a file the reader refuses with ``skip_invalid``, and names it;
    without it, nothing is prepared."""
    prepared = prepare([GOOD, SHACL_BAD, reader_bad], skip_invalid=True)
    assert prepared.sessions == ("valid-two-annotators",)
    assert set(prepared.skipped) == {str(SHACL_BAD), str(reader_bad)}
    assert vocab.session_iri("valid-two-annotators") in prepared.graphs
    with pytest.raises(LoadInputError) as info:
        prepare([GOOD, reader_bad])
    assert "reader-bad.yaml" in str(info.value)
    assert "clarifcation" in str(info.value)


def test_reloading_the_same_file_changes_nothing(store_with_a_session: Store) -> None:
    load([GOOD], store_with_a_session)
    once = snapshot(store_with_a_session)
    load([GOOD], store_with_a_session)
    assert snapshot(store_with_a_session) == once
    assert sum(once.values()) > 0


def test_a_reload_replaces_the_old_version_of_a_session(
    store_with_a_session: Store, tmp_path: Path
) -> None:
    load([GOOD], store_with_a_session)
    graph = vocab.session_iri("valid-two-annotators")
    old_size = store_with_a_session.graph_size(graph)
    shorter = tmp_path / "shorter.yaml"
    text = GOOD.read_text(encoding="utf-8")
    shorter.write_text(text[: text.index("  - {id: y1,")], encoding="utf-8")
    load([shorter], store_with_a_session)
    assert 0 < store_with_a_session.graph_size(graph) < old_size
    ask = f"ASK {{ GRAPH <{graph}> {{ ?a <{vocab.MBT}annotationId> 'y1' }} }}"
    assert not store_with_a_session.ask(ask)


def test_disk_store_unchanged_after_reopening(tmp_path: Path) -> None:
    selector = f"oxigraph:{tmp_path / 'db'}"
    store = open_store(selector)
    load([ALREADY_THERE], store)
    before = snapshot(store)
    with pytest.raises(ValidationFailed):
        load([GOOD, SHACL_BAD], store)
    store.close()
    reopened = open_store(selector)
    try:
        assert snapshot(reopened) == before
        assert session_ids(reopened) == ["valid-one-turn"]
    finally:
        reopened.close()


def _variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """GOOD with one edit, under its own session id."""
    text = GOOD.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace(old, new, 1).replace("valid-two-annotators", name), "utf-8")
    return path


#: The bad inputs the issue names: how to make each, the line and the words of its message.
BAD_INPUTS = {
    "malformed YAML": (
        lambda tmp: _variant(tmp, "malformed", 'diary."}', "diary.}"),
        ":15:61: malformed YAML: while parsing a flow mapping (from line 12, column 5)",
    ),
    "unknown concept": (
        lambda tmp: _variant(tmp, "unknown", "concept: clarification", "concept: clarifcation"),
        ":17: unknown concept 'clarifcation'; did you mean 'clarification'",
    ),
    "span out of range": (
        lambda tmp: FIXTURES / "invalid" / "mbtsh-Occurrence-endTurn.yaml",
        ":15: annotation 'a2': the annotation's span must end at a turn of this session",
    ),
    "undeclared speaker": (
        lambda tmp: FIXTURES / "invalid" / "mbtsh-Turn-speaker.yaml",
        ":12: turn 2: the turn's speaker must be one of the session's declared participants",
    ),
    "duplicate id": (
        lambda tmp: _variant(tmp, "duplicate", "{id: y2,", "{id: x2,"),
        ":17: duplicate annotation id 'x2' (first given on line 15)",
    ),
    "relation to a missing annotation": (
        lambda tmp: FIXTURES / "invalid" / "mbtsh-Axiom-repairs-range.yaml",
        ":15: annotation 'a2': 'repairs' must name an annotation of a rupture in this session; "
        "repairs links a repair to a rupture (ontology: repairs has range rupture) "
        "(found annotation 'a3')",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_each_bad_input_is_located_and_changes_nothing(
    store_with_a_session: Store, tmp_path: Path, case: str
) -> None:
    make, fragment = BAD_INPUTS[case]
    bad = make(tmp_path)
    before = snapshot(store_with_a_session)
    with pytest.raises((InputError, ValidationFailed)) as info:
        load([GOOD, bad], store_with_a_session)
    assert snapshot(store_with_a_session) == before
    assert f"{bad}{fragment}" in str(info.value)


# ------------------------------------------------------------------ the CLI


def _disk_store(tmp_path: Path) -> str:
    selector = f"oxigraph:{tmp_path / 'cli-db'}"
    store = open_store(selector)
    load([ALREADY_THERE], store)
    store.close()
    return selector


def _snapshot_of(selector: str) -> Snapshot:
    store = open_store(selector)
    try:
        return snapshot(store)
    finally:
        store.close()


def test_cli_load_ok_exits_0(tmp_path: Path) -> None:
    selector = _disk_store(tmp_path)
    result = CliRunner().invoke(main, ["load", str(GOOD), "--store", selector])
    assert result.exit_code == 0, result.output
    assert "loaded 1 session(s)" in result.output
    assert selector in result.output
    store = open_store(selector)
    try:
        assert session_ids(store) == ["valid-one-turn", "valid-two-annotators"]
    finally:
        store.close()


def test_cli_load_invalid_exits_1_and_changes_nothing(tmp_path: Path) -> None:
    selector = _disk_store(tmp_path)
    before = _snapshot_of(selector)
    result = CliRunner().invoke(main, ["load", str(GOOD), str(SHACL_BAD), "--store", selector])
    assert result.exit_code == 1, result.output
    assert "nothing was loaded" in result.output
    assert f"{SHACL_BAD}:13: turn 3:" in result.output
    assert _snapshot_of(selector) == before


def test_cli_load_input_error_exits_2_and_changes_nothing(tmp_path: Path, reader_bad: Path) -> None:
    selector = _disk_store(tmp_path)
    before = _snapshot_of(selector)
    result = CliRunner().invoke(main, ["load", str(GOOD), str(reader_bad), "--store", selector])
    assert result.exit_code == 2, result.output
    assert "error: nothing was loaded" in result.output
    assert "did you mean 'clarification'" in result.output
    assert _snapshot_of(selector) == before


def test_cli_load_skip_invalid_exits_0(tmp_path: Path, reader_bad: Path) -> None:
    selector = _disk_store(tmp_path)
    result = CliRunner().invoke(
        main,
        ["load", str(GOOD), str(SHACL_BAD), str(reader_bad), "--skip-invalid", "--store", selector],
    )
    assert result.exit_code == 0, result.output
    assert "loaded 1 session(s)" in result.output
    assert "skipped 2 file(s)" in result.output
    assert str(reader_bad) in result.output


def test_cli_load_unknown_store_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["load", str(GOOD), "--store", "nosuch:thing"])
    assert result.exit_code == 2
    assert "unknown store 'nosuch:thing'" in result.output


def test_two_files_with_one_session_id_are_refused(
    store_with_a_session: Store, tmp_path: Path
) -> None:
    twin = tmp_path / "twin.yaml"
    twin.write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    before = snapshot(store_with_a_session)
    with pytest.raises(LoadInputError) as info:
        load([GOOD, twin], store_with_a_session)
    assert len(info.value.errors) == 1
    message = str(info.value.errors[0])
    assert "session id 'valid-two-annotators' is also used by" in message
    assert str(GOOD) in message
    assert snapshot(store_with_a_session) == before


def test_reading_two_files_with_one_session_id_reports_the_second(tmp_path: Path) -> None:
    from mbtkg.loading import read_graphs

    twin = tmp_path / "twin.yaml"
    twin.write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    graphs, errors = read_graphs([GOOD, twin])
    assert [g.session_id for g in graphs] == ["valid-two-annotators"]
    assert len(errors) == 1 and f"also used by {GOOD}" in str(errors[0])
