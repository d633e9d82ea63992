"""A ``--store oxigraph:DIR`` naming no store: an error for every command that only reads (exit
2, the closest existing store named), never a new, empty store; ``load``, ``import`` and
``demo`` still create stores. Real CLI, real Oxigraph on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.loading import load, session_ids
from mbtkg.resources import example_sessions
from mbtkg.stores import open_store

SUSAN = next(p for p in example_sessions() if p.stem == "susan-12")

READING_COMMANDS = [
    ["query", "we-ness"],
    ["query", "--sparql", "ASK { ?s ?p ?o }"],
    ["analyze", "trajectory", "P-susan"],
    ["analyze", "ruptures"],
    ["sessions"],
    ["drop", "susan-12"],
    ["concept", "rupture"],
    ["export", "susan-12"],
    ["serve", "--port", "0"],
    ["plot", "timeline", "susan-12", "--out", "t.svg"],
    ["graph", "export", "session", "--session", "susan-12", "--out", "g.graphml"],
]


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding one store, ``graph``, made current."""
    store = open_store(f"oxigraph:{tmp_path / 'graph'}")
    try:
        load([SUSAN], store)
    finally:
        store.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MBTKG_STORE", raising=False)
    return tmp_path


@pytest.mark.parametrize("args", READING_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_misspelt_store_is_refused_by_every_reading_command(
    workdir: Path, args: list[str]
) -> None:
    result = CliRunner().invoke(main, [*args, "--store", "oxigraph:./grahp"])
    assert result.exit_code == 2, result.output
    assert "there is no folder grahp (did you mean --store oxigraph:graph?)" in result.stderr
    assert "does not create one" in result.stderr
    assert not (workdir / "grahp").exists()


def test_the_environment_variable_is_checked_too(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MBTKG_STORE", "oxigraph:./grap")
    result = CliRunner().invoke(main, ["sessions"])
    assert result.exit_code == 2
    assert "oxigraph:./grap: there is no folder grap (did you mean" in result.stderr
    assert not (workdir / "grap").exists()


def test_a_folder_without_a_store_is_refused(workdir: Path) -> None:
    (workdir / "papers").mkdir()
    (workdir / "papers" / "notes.txt").write_text("mine\n")
    result = CliRunner().invoke(main, ["sessions", "--store", "oxigraph:papers"])
    assert result.exit_code == 2
    assert "the folder papers holds no Oxigraph store" in result.stderr
    assert sorted(p.name for p in (workdir / "papers").iterdir()) == ["notes.txt"]


def test_an_existing_store_still_answers(workdir: Path) -> None:
    result = CliRunner().invoke(main, ["sessions", "--store", "oxigraph:graph"])
    assert result.exit_code == 0, result.output
    assert "susan-12" in result.stdout


def test_load_still_creates_a_store(workdir: Path) -> None:
    result = CliRunner().invoke(main, ["load", str(SUSAN), "--store", "oxigraph:fresh"])
    assert result.exit_code == 0, result.output
    store = open_store("oxigraph:fresh", create=False)
    try:
        assert session_ids(store) == ["susan-12"]
    finally:
        store.close()


def test_import_still_creates_a_store(workdir: Path) -> None:
    exported = workdir / "susan.jsonld"
    out = CliRunner().invoke(
        main, ["export", "susan-12", "--store", "oxigraph:graph", "--out", str(exported)]
    )
    assert out.exit_code == 0, out.output
    result = CliRunner().invoke(
        main, ["import", "jsonld", str(exported), "--store", "oxigraph:new"]
    )
    assert result.exit_code == 0, result.output
    assert (workdir / "new").is_dir()


def test_the_library_opens_with_create_false_only_existing_stores(workdir: Path) -> None:
    from mbtkg.errors import StoreError

    with pytest.raises(StoreError, match="no folder grahp"):
        open_store("oxigraph:grahp", create=False)
    assert not (workdir / "grahp").exists()
