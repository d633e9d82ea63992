"""Release hygiene: the header, both changelogs and the package version agree; IRIs never break;
release artefacts (base and full) in three formats."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.ontology.release import artefact_graph, write_release
from mbtkg.ontology.source import read_ontology

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ontology"
_ENTRY = re.compile(r"^## (\d+\.\d+\.\d+) — (\d{4}-\d{2}-\d{2})$", re.M)


def _header() -> tuple[str, str, str | None]:
    graph = read_ontology().to_rdflib()
    ont = rdflib.URIRef(vocab.ONTOLOGY_IRI)
    info = graph.value(ont, rdflib.OWL.versionInfo)
    iri = graph.value(ont, rdflib.OWL.versionIRI)
    prior = graph.value(ont, rdflib.OWL.priorVersion)
    assert info is not None and iri is not None
    return str(info), str(iri), str(prior) if prior is not None else None


def test_header_agrees_with_the_top_entry_of_the_ontology_changelog() -> None:
    text = (ROOT / "ontology" / "CHANGELOG.md").read_text(encoding="utf-8")
    (version, date), *_ = _ENTRY.findall(text)
    info, iri, _ = _header()
    assert info == version
    assert iri == f"{vocab.ONTOLOGY_IRI}/{date}/mbt.ttl"
    assert f"Version IRI `{iri}`" in text


def test_every_release_has_its_own_version_iri() -> None:
    text = (ROOT / "ontology" / "CHANGELOG.md").read_text(encoding="utf-8")
    entries = _ENTRY.findall(text)
    dates = [d for _, d in entries]
    # 0.1.0 and 1.0.0 were both released on 2026-11-28 and share a version IRI; released
    # versions are never edited, so that clash stays in history. No release since may repeat it.
    historic = [("0.1.0", "2026-11-28"), ("1.0.0", "2026-11-28")]
    later = [e for e in entries if e not in historic]
    assert dates[0] not in dates[1:], "the current release reuses an earlier version IRI"
    assert len({d for _, d in later}) == len(later)
    info, iri, prior = _header()
    if len(entries) > 1:  # the header names the release before as its prior version
        assert prior == f"{vocab.ONTOLOGY_IRI}/{entries[1][1]}/mbt.ttl"
        assert prior != iri


def test_package_version_agrees_with_the_package_changelog() -> None:
    # The package and the ontology are versioned apart: a package release names the ontology
    # release it bundles; the package version is the top entry of CHANGELOG.md.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    (version, _), *_ = _ENTRY.findall(text)
    assert project["project"]["version"] == version
    top = text.split("\n## ", 2)[1]
    assert f"**Ontology {_header()[0]}**" in top


def test_no_iri_of_release_1_0_0_disappears() -> None:
    lines = (FIXTURES / "released-iris-1.0.0.txt").read_text(encoding="utf-8").splitlines()
    released = {line for line in lines if line and not line.startswith("#")}
    assert len(released) == 340
    described = {
        t.subject.value for t in read_ontology().triples if isinstance(t.subject, ox.NamedNode)
    }
    assert sorted(released - described) == []


def test_release_writes_base_and_full_in_three_formats_that_read_back(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ontology", "release", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"mbt-{k}.{e}" for k in ("base", "full") for e in ("jsonld", "owl", "ttl")]
    base = artefact_graph("base")
    for ext, syntax in (("ttl", "turtle"), ("owl", "xml"), ("jsonld", "json-ld")):
        back = rdflib.Graph().parse(tmp_path / f"mbt-base.{ext}", format=syntax)
        assert len(back) == len(base), ext
    # SKOS consumers get a skos:definition generated from each IAO definition.
    trust = rdflib.URIRef(vocab.MBT + "EpistemicTrust")
    assert base.value(trust, rdflib.SKOS.definition) == base.value(
        trust, rdflib.URIRef(vocab.DEFINITION)
    )


def test_full_merges_imports_and_base_leaves_them_out(tmp_path: Path) -> None:
    folder = tmp_path / "onto"
    (folder / "imports").mkdir(parents=True)
    (folder / "mini.ttl").write_text(
        (FIXTURES / "mini.ttl")
        .read_text(encoding="utf-8")
        .replace(
            "owl:versionInfo", "owl:imports <http://example.org/upper.ttl> ;\n    owl:versionInfo"
        ),
        encoding="utf-8",
    )
    (folder / "imports" / "upper.ttl").write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "<http://example.org/upper#Process> a owl:Class .\n",
        encoding="utf-8",
    )
    process = rdflib.URIRef("http://example.org/upper#Process")
    base = artefact_graph("base", location=folder)
    full = artefact_graph("full", location=folder)
    assert (process, rdflib.RDF.type, rdflib.OWL.Class) not in base
    assert (process, rdflib.RDF.type, rdflib.OWL.Class) in full
    assert not list(full.triples((None, rdflib.OWL.imports, None)))
    assert not list(base.triples((None, rdflib.OWL.imports, None)))
    written = write_release(tmp_path / "out", location=folder)
    assert len(written) == 6


def test_an_unknown_artefact_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of base, full"):
        artefact_graph("mini")
