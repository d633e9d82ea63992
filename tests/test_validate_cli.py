"""``mbtkg validate`` and ``mbtkg load`` as a researcher meets them: the default engine, progress
on a terminal, folders and globs, the SHACL and JSON reports, the in-memory store's warning and
``--skip-invalid``."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from pyshacl import validate as pyshacl_validate

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.concepts import default_ontology_quads
from mbtkg.loading import load, session_ids
from mbtkg.resources import example_sessions, shape_files
from mbtkg.sessions import read_session, session_to_rdf
from mbtkg.stores import open_store
from mbtkg.validation.validate import quads_to_rdflib

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
SH = rdflib.Namespace(vocab.SH)


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The fast engine caches results by default: keep that cache out of the user's home."""
    monkeypatch.setenv("MBTKG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MBTKG_STORE", raising=False)


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def examples(tmp_path: Path) -> Path:
    """A folder with copies of the example sessions and a file that is not a session."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    for path in example_sessions():
        shutil.copy(path, folder / path.name)
    (folder / "notes.txt").write_text("not a session\n", encoding="utf-8")
    return folder


# ------------------------------------------------------------------ the default engine


def test_validate_uses_the_fast_engine_unless_asked(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, susan_path: Path
) -> None:
    import mbtkg.validation.fast_shacl.parallel as parallel

    calls: list[str] = []
    real = parallel.validate_with_pyshacl

    def counting(*args: object, **kwargs: object) -> object:
        calls.append("pyshacl")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "validate_with_pyshacl", counting)
    fast = runner.invoke(main, ["validate", "--no-cache", str(susan_path)])
    assert fast.exit_code == 0, fast.output
    assert calls == []
    reference = runner.invoke(main, ["validate", "--engine", "pyshacl", str(susan_path)])
    assert reference.exit_code == 0, reference.output
    assert calls == ["pyshacl"]


# ------------------------------------------------------------------ progress on a terminal


def _run_with_stderr(args: list[str], *, terminal: bool) -> str:
    """Run the installed CLI with stderr on a pseudo-terminal or a pipe; return stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", "from mbtkg.cli import main; main()", *args]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        return done.stderr
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=follower, env=env, stdin=subprocess.DEVNULL
        )
        os.close(follower)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=300)
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_validate_shows_progress_on_a_terminal_only(examples: Path, tmp_path: Path) -> None:
    args = ["validate", "--no-cache", "--jobs", "1", str(examples)]
    on_terminal = _run_with_stderr(args, terminal=True)
    assert "validating" in on_terminal
    assert f"{len(example_sessions())}/{len(example_sessions())}" in on_terminal
    piped = _run_with_stderr(args, terminal=False)
    assert "validating" not in piped
    assert "[" not in piped


# ------------------------------------------------------------------ folders and globs


def test_validate_takes_a_folder_of_session_files(runner: CliRunner, examples: Path) -> None:
    result = runner.invoke(main, ["validate", str(examples)])
    assert result.exit_code == 0, result.output
    assert f"{len(example_sessions())} session(s) conform to the shapes" in result.stdout


def test_validate_takes_a_glob_pattern_no_shell_expanded(runner: CliRunner, examples: Path) -> None:
    result = runner.invoke(main, ["validate", str(examples / "jonas-*.yaml")])
    assert result.exit_code == 0, result.output
    assert "3 session(s) conform to the shapes" in result.stdout


def test_a_folder_without_session_files_and_an_empty_pattern_are_input_errors(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("x\n", encoding="utf-8")
    empty = runner.invoke(main, ["validate", str(tmp_path)])
    assert empty.exit_code == 2
    assert f"error: {tmp_path}: the folder holds no session files" in empty.stderr
    assert ".yaml" in empty.stderr
    nothing = runner.invoke(main, ["load", str(tmp_path / "*.yaml")])
    assert nothing.exit_code == 2
    assert f"the pattern '{tmp_path / '*.yaml'}' matches no file" in nothing.stderr
    wrong_kind = runner.invoke(main, ["validate", str(tmp_path / "*.txt")])
    assert wrong_kind.exit_code == 2
    assert "matches 1 file(s), none of them a session file" in wrong_kind.stderr


def test_load_takes_a_folder(runner: CliRunner, examples: Path, tmp_path: Path) -> None:
    selector = f"oxigraph:{tmp_path / 'kg'}"
    result = runner.invoke(main, ["load", str(examples), "--store", selector])
    assert result.exit_code == 0, result.output
    store = open_store(selector)
    try:
        assert session_ids(store) == sorted(p.stem for p in example_sessions())
    finally:
        store.close()


# ------------------------------------------------------------------ reports for machines


def _pyshacl_keys(paths: list[Path]) -> set[tuple[str, str | None, str]]:
    """(focus, path, source shape) of every top-level result pySHACL reports, file by file, with
    the bundled shapes and those generated from the ontology's axioms."""
    from mbtkg.validation.generated_shapes import generated_shapes_turtle

    shapes = rdflib.Graph()
    for shape_file in shape_files():
        shapes.parse(str(shape_file), format="turtle")
    shapes.parse(data=generated_shapes_turtle(), format="turtle")
    ontology = quads_to_rdflib(default_ontology_quads())
    keys: set[tuple[str, str | None, str]] = set()
    for path in paths:
        data = quads_to_rdflib(session_to_rdf(read_session(path)).quads)
        _conforms, results, _text = pyshacl_validate(
            data, shacl_graph=shapes, ont_graph=ontology, inference="none", allow_warnings=True
        )
        keys |= _report_keys(results)
    return keys


def _report_keys(graph: rdflib.Graph) -> set[tuple[str, str | None, str]]:
    keys = set()
    for report in graph.subjects(rdflib.RDF.type, SH.ValidationReport):
        for result in graph.objects(report, SH.result):
            path = graph.value(result, SH.resultPath)
            keys.add(
                (
                    str(graph.value(result, SH.focusNode)),
                    None if path is None else str(path),
                    str(graph.value(result, SH.sourceShape)),
                )
            )
    return keys


def _conforms(graph: rdflib.Graph) -> bool:
    report = next(graph.subjects(rdflib.RDF.type, SH.ValidationReport))
    value = graph.value(report, SH.conforms)
    assert isinstance(value, rdflib.Literal)
    return bool(value.toPython())


def test_the_shacl_report_says_what_pyshacl_says(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "report.ttl"
    result = runner.invoke(main, ["validate", "--report", str(out), *map(str, INVALID)])
    assert result.exit_code == 1, result.output
    ours = rdflib.Graph().parse(out, format="turtle")
    assert _conforms(ours) is False
    expected = _pyshacl_keys(INVALID)
    assert len(expected) >= len(INVALID)
    assert _report_keys(ours) == expected
    for result_node in ours.subjects(rdflib.RDF.type, SH.ValidationResult):
        assert ours.value(result_node, SH.resultSeverity) == SH.Violation
        assert str(ours.value(result_node, SH.resultMessage))
        assert ours.value(result_node, SH.sourceConstraintComponent) is not None
    text = out.read_text(encoding="utf-8")
    for path in INVALID:  # no turn text of the sessions in the report
        for turn in read_session(path).turns:
            if turn.text and len(turn.text) > 3:
                assert turn.text not in text, (path, turn.id)


def test_a_conforming_session_gets_a_conforming_report(
    runner: CliRunner, tmp_path: Path, susan_path: Path
) -> None:
    out = tmp_path / "report.ttl"
    result = runner.invoke(main, ["validate", "--report", str(out), str(susan_path)])
    assert result.exit_code == 0, result.output
    ours = rdflib.Graph().parse(out, format="turtle")
    assert _conforms(ours) is True
    assert _report_keys(ours) == set()


def test_validate_json_lists_violations_and_unreadable_files(
    runner: CliRunner, tmp_path: Path, susan_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("session: {id: x\n", encoding="utf-8")
    bad = FIXTURES / "invalid" / "mbtsh-Occurrence-span.yaml"
    out = tmp_path / "report.ttl"
    result = runner.invoke(
        main,
        [
            "validate",
            "--format",
            "json",
            "--report",
            str(out),
            str(susan_path),
            str(bad),
            str(broken),
        ],
    )
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["conforms"] is False
    assert data["sessions"] == 2
    [violation] = data["violations"]
    assert (violation["file"], violation["line"], violation["shape"]) == (
        str(bad),
        15,
        "mbtsh:Occurrence-span",
    )
    assert violation["node"] == "annotation 'a2'"
    [error] = data["errors"]
    assert error["file"] == str(broken)
    assert error["line"] == 2
    assert "malformed YAML" in error["message"]
    assert not out.exists()  # a report of only the readable files would mislead
    assert "no report written" in result.stderr


def test_validate_json_of_conforming_files(runner: CliRunner, susan_path: Path) -> None:
    result = runner.invoke(main, ["validate", "--format", "json", str(susan_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "conforms": True,
        "sessions": 1,
        "violations": [],
        "errors": [],
    }


# ------------------------------------------------------------------ load


def test_a_load_into_memory_says_nothing_is_kept(runner: CliRunner, susan_path: Path) -> None:
    result = runner.invoke(main, ["load", str(susan_path)])
    assert result.exit_code == 0, result.output
    assert "into oxigraph:memory" in result.stdout
    assert "nothing was kept" in result.stderr
    assert "--store oxigraph:./kg" in result.stderr


def test_a_load_into_a_folder_keeps_quiet_about_it(
    runner: CliRunner, susan_path: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        main, ["load", str(susan_path), "--store", f"oxigraph:{tmp_path / 'kg'}"]
    )
    assert result.exit_code == 0, result.output
    assert "nothing was kept" not in result.stderr


def _with_id(source: Path, target: Path, session_id: str) -> Path:
    text = source.read_text(encoding="utf-8")
    old = read_session(source).id
    target.write_text(text.replace(f"id: {old}", f"id: {session_id}", 1), encoding="utf-8")
    assert read_session(target).id == session_id
    return target


def test_skip_invalid_keeps_a_valid_file_whose_id_an_invalid_one_took_first(
    runner: CliRunner, susan_path: Path, tmp_path: Path
) -> None:
    invalid = _with_id(
        FIXTURES / "invalid" / "mbtsh-Turn-order.yaml", tmp_path / "a-invalid.yaml", "susan-12"
    )
    broken = tmp_path / "b-broken.yaml"
    broken.write_text("session: {id: x\n", encoding="utf-8")
    selector = f"oxigraph:{tmp_path / 'kg'}"
    result = runner.invoke(
        main,
        ["load", "--skip-invalid", "--store", selector, str(invalid), str(broken), str(susan_path)],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("loaded 1 session(s) (")
    assert result.stdout.rstrip().endswith("; skipped 2 file(s)")
    assert f"skipped {invalid}: does not conform: line 11: turn 3: turns must be listed" in (
        result.stderr
    )
    assert f"skipped {broken}: cannot be read: line 2, column 1: malformed YAML" in result.stderr
    store = open_store(selector)
    try:
        assert session_ids(store) == ["susan-12"]
        [row] = store.select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{vocab.session_iri('susan-12')}> "
            "{ ?s ?p ?o } }"
        ).rows
        assert row[0] is not None
        assert int(str(row[0].value)) == len(session_to_rdf(read_session(susan_path)))
    finally:
        store.close()


def test_skip_invalid_in_the_library_keeps_the_valid_one_in_either_order(
    susan_path: Path, tmp_path: Path
) -> None:
    invalid = _with_id(
        FIXTURES / "invalid" / "mbtsh-Turn-order.yaml", tmp_path / "invalid.yaml", "susan-12"
    )
    for order in ([invalid, susan_path], [susan_path, invalid]):
        store = open_store("oxigraph:memory")
        try:
            summary = load(order, store, skip_invalid=True, jobs=1)
            assert summary.sessions == ("susan-12",)
            assert summary.skipped == (str(invalid),)
        finally:
            store.close()


def test_two_valid_files_with_one_id_are_an_error_naming_both(
    runner: CliRunner, susan_path: Path, tmp_path: Path
) -> None:
    twin = tmp_path / "twin.yaml"
    shutil.copy(susan_path, twin)
    selector = f"oxigraph:{tmp_path / 'kg'}"
    result = runner.invoke(
        main, ["load", "--skip-invalid", "--store", selector, str(susan_path), str(twin)]
    )
    assert result.exit_code == 2
    assert "nothing was loaded" in result.stderr
    assert f"{twin}: session id 'susan-12' is also used by {susan_path}" in result.stderr
    store = open_store(selector)
    try:
        assert session_ids(store) == []
    finally:
        store.close()
