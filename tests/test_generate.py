"""The corpus generator: deterministic, realistic in shape, clean unless told otherwise."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.concepts import default_index
from mbtkg.generate import ERROR_KINDS, MANIFEST, generate_corpus
from mbtkg.loading import read_graphs
from mbtkg.sessions import read_session
from mbtkg.validation.validate import validate_graphs


def _bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "a", sessions=4, seed=7, inject_errors=3, turns=40)
    generate_corpus(tmp_path / "b", sessions=4, seed=7, inject_errors=3, turns=40)
    generate_corpus(tmp_path / "c", sessions=4, seed=8, inject_errors=3, turns=40)
    a, b, c = (_bytes(tmp_path / x) for x in "abc")
    assert len(a) == 5  # four sessions and the manifest
    assert a == b
    assert a != c


def test_sessions_have_the_promised_shape(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path, sessions=12, seed=1)
    sessions = [read_session(p) for p in corpus.files]
    index = default_index()
    phenomenon = vocab.MBT + "SessionPhenomenon"
    rupture = vocab.MBT + "Rupture"
    for s in sessions:
        assert 185 <= len(s.turns) <= 215
        assert 90 <= len(s.annotations) <= 160
        by_id = {a.id: a for a in s.annotations}
        for a in s.annotations:
            assert a.concept_iri is not None
            assert phenomenon in index.ancestors(a.concept_iri)
            for rel in a.relations:
                if rel.name == "repairs":
                    target = by_id[rel.target].concept_iri
                    assert target is not None
                    assert rupture in index.ancestors(target) | {target}
                    assert a.start is not None and by_id[rel.target].end is not None
    repairs = sum(
        1 for s in sessions for a in s.annotations for r in a.relations if r.name == "repairs"
    )
    assert repairs >= 12  # ruptures are followed by repairs
    assert any(len(s.annotators) == 2 for s in sessions)
    patients = Counter(p.id for s in sessions for p in s.participants if p.role == "patient")
    assert max(patients.values()) >= 2  # patients are seen over several sessions
    numbers = sorted(s.number or 0 for s in sessions if "P-0001" in {p.id for p in s.participants})
    assert numbers == list(range(1, len(numbers) + 1))
    concepts = Counter(a.concept_name for s in sessions for a in s.annotations)
    assert concepts["empathic validation"] > concepts["reported self-harm"]  # plausible frequencies


def test_a_clean_corpus_conforms_for_pyshacl(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path, sessions=2, seed=5, turns=24)
    graphs, errors = read_graphs(corpus.files)
    assert errors == []
    report = validate_graphs(graphs)
    assert report.conforms, str(report)
    assert json.loads(corpus.manifest.read_text())["errors"] == []


def test_the_manifest_lists_every_planted_error(tmp_path: Path) -> None:
    """Each kind once, on its own line; that validation finds them is tested in
    test_fast_shacl_differential.py, with both engines."""
    count = len(ERROR_KINDS)
    corpus = generate_corpus(tmp_path, sessions=4, seed=11, inject_errors=count, turns=24)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert {e["kind"] for e in manifest["errors"]} == set(ERROR_KINDS)
    assert [e.as_json() for e in corpus.errors] == manifest["errors"]
    for error in corpus.errors:
        line = (tmp_path / error.file).read_text().splitlines()[error.line - 1]
        assert line.strip(), error
        assert error.expected == ERROR_KINDS[error.kind][1]


def test_too_short_sessions_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 12 turns"):
        generate_corpus(tmp_path, sessions=1, turns=5)


def test_cli_generate_writes_the_corpus(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    result = CliRunner().invoke(
        main,
        [
            "generate",
            "--sessions",
            "2",
            "--seed",
            "3",
            "--out",
            str(out),
            "--inject-errors",
            "1",
            "--turns",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 2 session(s)" in result.output
    assert "1 planted error(s)" in result.output
    assert len(list(out.glob("*.yaml"))) == 2
    assert len(json.loads((out / MANIFEST).read_text())["errors"]) == 1
