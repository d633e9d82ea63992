"""``mbtkg demo --store DIR`` never mixes the fictional examples into a store of real sessions
unless asked (--force / --yes); an empty or example-only store is fine. Real CLI and Oxigraph."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.loading import load, session_ids
from mbtkg.resources import example_sessions
from mbtkg.stores import open_store

OTHER = Path(__file__).resolve().parent / "fixtures" / "valid" / "group-three-patients.yaml"
EXAMPLE_IDS = sorted(p.stem for p in example_sessions())


def _store_with(directory: Path, files: list[Path]) -> str:
    selector = f"oxigraph:{directory}"
    store = open_store(selector)
    try:
        load(files, store)
    finally:
        store.close()
    return selector


def _ids(selector: str) -> list[str]:
    store = open_store(selector, create=False)
    try:
        return session_ids(store)
    finally:
        store.close()


def test_a_store_with_other_sessions_is_refused_and_left_alone(tmp_path: Path) -> None:
    selector = _store_with(tmp_path / "real", [OTHER])
    result = CliRunner().invoke(main, ["demo", "--store", selector])
    assert result.exit_code == 2, result.output
    assert "holds 1 session(s) that are not the examples (valid-group-3)" in result.stderr
    assert "--force" in result.stderr
    assert _ids(selector) == ["valid-group-3"]


@pytest.mark.parametrize("flag", ["--force", "--yes"])
def test_force_adds_the_examples(tmp_path: Path, flag: str) -> None:
    selector = _store_with(tmp_path / "real", [OTHER])
    result = CliRunner().invoke(main, ["demo", "--store", selector, flag])
    assert result.exit_code == 0, result.output
    assert _ids(selector) == sorted(["valid-group-3", *EXAMPLE_IDS])


def test_an_example_only_store_is_fine(tmp_path: Path) -> None:
    susan = next(p for p in example_sessions() if p.stem == "susan-12")
    selector = _store_with(tmp_path / "demo", [susan])
    result = CliRunner().invoke(main, ["demo", "--store", selector])
    assert result.exit_code == 0, result.output
    assert "Definition of a concept" in result.stdout
    assert _ids(selector) == EXAMPLE_IDS
