"""The ``mbtkg`` command line: output, formats and exit codes (0 ok, 1 check failed, 2 input)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.loading import load
from mbtkg.queries import list_queries
from mbtkg.resources import example_sessions
from mbtkg.stores import open_store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden" / "queries"
VALID = sorted((FIXTURES / "valid").glob("*.yaml"))
TITLES = (
    "Definition of a concept",
    "Interventions before the first epistemic-trust marker",
    "Prementalizing modes in a session",
    "Turns from rupture to repair",
    "When we-ness was reached and what preceded it",
)


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def susan_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An on-disk store holding only the Susan session, loaded once for the query tests."""
    selector = f"oxigraph:{tmp_path_factory.mktemp('cli') / 'db'}"
    store = open_store(selector)
    try:
        load([next(p for p in example_sessions() if p.stem == "susan-12")], store)
    finally:
        store.close()
    return selector


def test_version(runner: CliRunner) -> None:
    from mbtkg import __version__

    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"mbtkg, version {__version__}"


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "load", "query", "validate"):
        assert command in result.output


def test_validate_valid_files_exits_0(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", *map(str, VALID)])
    assert result.exit_code == 0, result.output
    assert f"{len(VALID)} session(s) conform to the shapes" in result.output


def test_validate_invalid_file_exits_1_with_located_messages(runner: CliRunner) -> None:
    bad = FIXTURES / "invalid" / "mbtsh-Occurrence-span.yaml"
    result = runner.invoke(main, ["validate", str(VALID[0]), str(bad)])
    assert result.exit_code == 1
    assert (
        f"{bad}:15: annotation 'a2': the annotation's span ends before it starts" in result.stderr
    )
    assert "1 violation(s) in 2 session(s)" in result.stderr
    assert result.stdout == ""


def test_validate_input_error_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("session: {id: x\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}:")
    assert "malformed YAML" in result.stderr


def test_validate_unknown_concept_exits_2_with_a_suggestion(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = (FIXTURES / "valid" / "two-annotators.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "typo.yaml"
    bad.write_text(text.replace("concept: clarification", "concept: clarifcation"), "utf-8")
    result = runner.invoke(main, ["validate", str(VALID[0]), str(bad)])
    assert result.exit_code == 2
    assert f"error: {bad}:17: unknown concept 'clarifcation'; did you mean 'clarification'" in (
        result.stderr
    )


def test_validate_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", str(tmp_path / "gone.yaml")])
    assert result.exit_code == 2
    assert "gone.yaml: no such file" in result.stderr


def test_validate_without_paths_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_query_list_names_every_query_and_its_parameters(runner: CliRunner) -> None:
    result = runner.invoke(main, ["query", "--list"])
    assert result.exit_code == 0
    for q in list_queries():
        assert q.name in result.output
        assert q.question in result.output
    assert "--param concept=… (concept, required)" in result.output
    assert "--param k=… (integer, default 3, a whole number from 1 to 10000)" in result.output


def test_query_json_matches_the_golden(runner: CliRunner, susan_store: str) -> None:
    golden = json.loads((GOLDEN / "rupture-repair-latency.json").read_text(encoding="utf-8"))
    result = runner.invoke(
        main,
        [
            "query",
            "rupture-repair-latency",
            "-p",
            "session=susan-12",
            "--format",
            "json",
            "--store",
            susan_store,
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == golden["rows"]


def test_query_csv_has_a_header_and_full_values(runner: CliRunner, susan_store: str) -> None:
    result = runner.invoke(
        main,
        [
            "query",
            "prementalizing-modes",
            "--param",
            "session=susan-12",
            "--format",
            "csv",
            "--store",
            susan_store,
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["session_id", "mode", "first_turn", "last_turn", "annotator", "quote"]
    assert rows[1] == [
        "susan-12",
        "teleological mode",
        "6",
        "8",
        "A-1",
        "Being sick gets it out. It's the only thing that works when it's like that.",
    ]
    assert len(rows) == 4


def test_query_table(runner: CliRunner, susan_store: str) -> None:
    args = ["query", "we-ness", "-p", "session=susan-12", "-p", "k=2", "--store", susan_store]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "session_id",
        "we_turn",
        "annotator",
        "preceding",
        "first_turn",
        "last_turn",
    ]
    assert lines[2].split() == ["susan-12", "48", "A-1", "epistemic", "trust", "46", "46"]
    assert lines[-1] == "(2 rows)"


def test_query_a_file_from_disk(runner: CliRunner, tmp_path: Path, susan_store: str) -> None:
    path = tmp_path / "count.rq"
    path.write_text(
        "# title: Turns\n# question: How many turns has each session?\n"
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/mbtkg/data/session/susan-12> "
        "{ ?t <https://w3id.org/mbtkg/ontology#turnIndex> ?i } }\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["query", str(path), "--format", "json", "--store", susan_store])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": 50}]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["query", "we-nes"], "did you mean 'we-ness'?"),
        (["query", "concept-definition"], "needs parameter 'concept'"),
        (["query", "we-ness", "-p", "sesion=susan-12"], "did you mean 'session'?"),
        (["query", "we-ness", "-p", "session=x> } ; DROP ALL #"], "must be a session id"),
        (["query", "we-ness", "-p", "session"], "--param takes NAME=VALUE, found 'session'"),
        (["query"], "give a query NAME or FILE, --sparql TEXT, or --list"),
        (["query", "we-ness", "--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_query_input_errors_exit_2(
    runner: CliRunner, susan_store: str, args: list[str], fragment: str
) -> None:
    result = runner.invoke(main, [*args, "--store", susan_store])
    assert result.exit_code == 2, result.output
    assert fragment in result.output


def test_query_with_load_of_an_invalid_file_exits_1(runner: CliRunner) -> None:
    bad = FIXTURES / "invalid" / "mbtsh-Turn-order.yaml"
    result = runner.invoke(main, ["query", "we-ness", "--load", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:11: turn 3: turns must be listed in increasing order" in result.stderr


def _entry_point() -> Path:
    script = Path(sys.executable).parent / ("mbtkg.exe" if os.name == "nt" else "mbtkg")
    if not script.is_file():
        pytest.skip(f"the mbtkg entry point is not installed beside {sys.executable}")
    return script


def test_installed_entry_point_runs_from_an_empty_directory(tmp_path: Path) -> None:
    """The real console script, in a fresh process, away from the checkout."""
    script = _entry_point()
    env = {k: v for k, v in os.environ.items() if k != "MBTKG_STORE"}
    version = subprocess.run(
        [str(script), "--version"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("mbtkg, version ")
    demo = subprocess.run(
        [str(script), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert demo.returncode == 0, demo.stderr
    for title in TITLES:
        assert title in demo.stdout
    assert "withdrawal rupture" in demo.stdout
    assert "susan-12" in demo.stdout
    assert list(tmp_path.iterdir()) == []  # the demo leaves nothing behind
