"""Round trips: YAML -> RDF -> YAML, QDPX -> RDF -> JSON-LD -> RDF, and export/import via a store."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib.compare import graph_diff, isomorphic
from test_import_qdpx import BOM, NVIVO_MAPPING, NVIVO_RAW, SPEAKERS, nvivo_qde, zip_members

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.errors import InputError
from mbtkg.export import export_session, session_to_jsonld, session_to_yaml
from mbtkg.loading import load
from mbtkg.mapping import load_mapping
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_yaml_session, session_to_rdf
from mbtkg.sessions.jsonld_reader import CONTEXT_IRI, read_rdf_sessions
from mbtkg.sessions.qdpx_reader import read_qdpx
from mbtkg.stores import Store, open_store
from mbtkg.validation.validate import quads_to_rdflib

SOURCE = vocab.DCTERMS + "source"


def graph(quads: Iterable[ox.Quad], *, keep_source: bool = True):  # type: ignore[no-untyped-def]
    """An rdflib graph of quads; without dcterms:source (which names the file read) if asked."""
    return quads_to_rdflib(q for q in quads if keep_source or q.predicate.value != SOURCE)


def assert_isomorphic(a, b) -> None:  # type: ignore[no-untyped-def]
    if not isomorphic(a, b):
        _, only_a, only_b = graph_diff(a, b)
        raise AssertionError(
            f"graphs differ:\nonly in first: {sorted(only_a)[:5]}\nonly in second: {sorted(only_b)[:5]}"
        )


@pytest.mark.parametrize("path", example_sessions(), ids=lambda p: p.stem)
def test_yaml_to_rdf_to_yaml_is_isomorphic(path: Path, tmp_path: Path) -> None:
    first = read_yaml_session(path)
    written = tmp_path / path.name
    written.write_text(session_to_yaml(first), encoding="utf-8")
    again = read_yaml_session(written)
    assert len(again.turns) == len(first.turns) and len(again.annotations) == len(first.annotations)
    assert_isomorphic(
        graph(session_to_rdf(first).quads, keep_source=False),
        graph(session_to_rdf(again).quads, keep_source=False),
    )


@pytest.fixture()
def nvivo_session(tmp_path: Path):  # type: ignore[no-untyped-def]
    qdpx = zip_members(
        tmp_path / "nvivo.qdpx",
        {
            "project.qde": nvivo_qde().encode("utf-8"),
            "Sources/40000000-0000-4000-8000-000000000001.txt": (BOM + NVIVO_RAW).encode("utf-8"),
        },
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(NVIVO_MAPPING, encoding="utf-8")
    return read_qdpx(qdpx, mapping=load_mapping(mapping), speakers=SPEAKERS).sessions[0]


def test_qdpx_to_rdf_to_jsonld_to_rdf_is_isomorphic(nvivo_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rdf = session_to_rdf(nvivo_session)
    document = session_to_jsonld(nvivo_session)
    text = json.dumps(document, ensure_ascii=False)
    parsed = list(ox.parse(text, format=ox.RdfFormat.JSON_LD))
    # the JSON-LD is one named graph, the session's
    assert {q.graph_name.value for q in parsed} == {vocab.session_iri(nvivo_session.id)}
    assert_isomorphic(graph(rdf.quads), graph(parsed))
    # and the text positions survive the trip
    positions = [q for q in parsed if q.predicate.value == vocab.OA + "start"]
    assert len(positions) == 5
    # reading it back through the importer gives the same session graph (source aside)
    path = tmp_path / "s.jsonld"
    path.write_text(text, encoding="utf-8")
    (back,) = read_rdf_sessions(path)
    assert back.annotations == tuple(sorted(back.annotations, key=lambda a: a.id))  # stable order
    assert_isomorphic(
        graph(rdf.quads, keep_source=False), graph(session_to_rdf(back).quads, keep_source=False)
    )


def test_context_iri_is_read_from_the_bundled_copy(nvivo_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    document = session_to_jsonld(nvivo_session)
    document["@context"] = CONTEXT_IRI  # as a producer would write it: no network needed
    path = tmp_path / "ref.jsonld"
    path.write_text(json.dumps(document), encoding="utf-8")
    (back,) = read_rdf_sessions(path)
    assert len(back.turns) == 5 and len(back.annotations) == 5
    assert back.annotations[0].quote == "angry when you cancelled"


def test_unknown_keys_are_not_dropped_in_silence(nvivo_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    document = session_to_jsonld(nvivo_session)
    document["graph"][0]["turns"][0]["speekr"] = "oops"
    path = tmp_path / "typo.jsonld"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(
        InputError, match=r"1 triple\(s\) are not part of the session format"
    ) as info:
        read_rdf_sessions(path)
    assert "speekr" in str(info.value)


SUSAN = next(p for p in example_sessions() if p.stem == "susan-12")


@pytest.fixture(scope="module")
def susan_store() -> Store:
    """An in-memory store with susan-12 loaded (validated once; read-only by convention)."""
    store = open_store("oxigraph:memory")
    load([SUSAN], store)
    return store


@pytest.mark.parametrize("fmt", ["jsonld", "ttl", "yaml"])
def test_export_from_store_reimports_isomorphic(
    fmt: str, susan_store: Store, tmp_path: Path
) -> None:
    text = export_session(susan_store, "susan-12", fmt)
    suffix = {"jsonld": ".jsonld", "ttl": ".ttl", "yaml": ".yaml"}[fmt]
    path = tmp_path / f"susan-12{suffix}"
    path.write_text(text, encoding="utf-8")
    session = read_yaml_session(path) if fmt == "yaml" else read_rdf_sessions(path)[0]
    original = read_yaml_session(SUSAN)
    assert_isomorphic(
        graph(session_to_rdf(original).quads, keep_source=False),
        graph(session_to_rdf(session).quads, keep_source=False),
    )


def test_cli_export_then_import_jsonld(tmp_path: Path) -> None:
    out = tmp_path / "susan.jsonld"
    store_dir = tmp_path / "store"
    runner = CliRunner()
    disk = open_store(f"oxigraph:{store_dir}")
    graph_ = session_to_rdf(read_yaml_session(SUSAN))
    disk.replace_graphs(
        {graph_.graph: graph_.quads}
    )  # set-up only: `mbtkg load` is tested elsewhere
    disk.close()
    exported = runner.invoke(
        main,
        [
            "export",
            "susan-12",
            "--format",
            "jsonld",
            "--store",
            f"oxigraph:{store_dir}",
            "--out",
            str(out),
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["graph"][0]["sessionId"] == "susan-12"
    other = tmp_path / "other"
    imported = runner.invoke(main, ["import", "jsonld", str(out), "--store", f"oxigraph:{other}"])
    assert imported.exit_code == 0, imported.output
    assert "loaded 1 session(s)" in imported.output
    missing = runner.invoke(main, ["export", "susan-21", "--store", f"oxigraph:{other}"])
    assert missing.exit_code == 2
    assert (
        "no session 'susan-21'" in missing.output and "did you mean 'susan-12'?" in missing.output
    )
