"""docs/ontology.md names the ontology version that ontology/mbt.ttl declares, and only releases
that exist."""

from __future__ import annotations

import re

import rdflib
from conftest import ROOT

OWL = rdflib.Namespace("http://www.w3.org/2002/07/owl#")


def _current_version() -> str:
    graph = rdflib.Graph().parse(ROOT / "ontology" / "mbt.ttl", format="turtle")
    versions = {str(v) for v in graph.objects(None, OWL.versionInfo)}
    assert len(versions) == 1, versions
    return versions.pop()


def _releases() -> set[str]:
    changelog = (ROOT / "ontology" / "CHANGELOG.md").read_text(encoding="utf-8")
    return set(re.findall(r"^## (\d+\.\d+\.\d+)\b", changelog, flags=re.M))


def test_the_ontology_page_states_the_current_version() -> None:
    page = (ROOT / "docs" / "ontology.md").read_text(encoding="utf-8")
    current = _current_version()
    stated = re.findall(r"This page describes ontology version (\S+?) \(", page)
    assert stated == [current]


def test_every_version_the_ontology_page_mentions_is_a_release() -> None:
    page = (ROOT / "docs" / "ontology.md").read_text(encoding="utf-8")
    mentioned = set(
        re.findall(r"(?:[Vv]ersion|[Rr]elease|release-|since|in) v?(\d+\.\d+(?:\.\d+)?)\b", page)
    )
    assert mentioned, "the page names no version at all"
    assert _current_version() in _releases()
    assert mentioned <= _releases(), mentioned - _releases()
