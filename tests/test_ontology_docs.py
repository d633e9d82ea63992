"""Documentation: pyLODE's HTML reference, the hierarchy picture, and a missing 'docs' extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.ontology.docs import MissingExtraError, build_docs, build_html, load_ontpub
from mbtkg.ontology.hierarchy_picture import columns, hierarchy_graph, hierarchy_rows

ONTO = Path(__file__).resolve().parent / "fixtures" / "ontology"


def _pylode_importable() -> bool:
    try:
        load_ontpub()  # imports pyLODE without letting it reconfigure logging
    except MissingExtraError:
        return False
    return True


needs_docs_extra = pytest.mark.skipif(
    not _pylode_importable(), reason="pyLODE (the 'docs' extra) is not installed"
)


@needs_docs_extra
def test_docs_build_the_html_reference_and_the_picture(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = build_docs(tmp_path / "docs")
    html = result.index_html.read_text(encoding="utf-8")
    assert result.index_html == tmp_path / "docs" / "index.html"
    assert "epistemic trust" in html
    assert "https://w3id.org/mbtkg/ontology#EpistemicTrust" in html
    assert result.hierarchy_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = result.hierarchy_svg.read_text(encoding="utf-8")
    assert "epistemic trust" in svg  # text stays text (svg.fonttype none)
    graph = rdflib.Graph()
    for path in sorted((Path(__file__).resolve().parent.parent / "ontology").glob("*.ttl")):
        graph.parse(path, format="turtle")
    named = {c for c in graph.subjects(rdflib.RDF.type, rdflib.OWL.Class)}
    assert result.classes == sum(1 for c in named if isinstance(c, rdflib.URIRef))


@needs_docs_extra
def test_cli_docs_writes_into_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(
        main, ["ontology", "docs", "--out", str(out), "--ontology", str(ONTO / "mini.ttl")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["hierarchy.png", "hierarchy.svg", "index.html"]
    assert "(5 classes)" in result.output
    assert "teleological mode" in (out / "index.html").read_text(encoding="utf-8")


def test_a_missing_docs_extra_is_one_clear_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pylode", None)  # makes `import pylode` raise ImportError
    with pytest.raises(
        MissingExtraError, match=r"optional 'docs' extra: pip install 'mbtkg\[docs\]'"
    ):
        build_html(tmp_path)
    result = CliRunner().invoke(main, ["ontology", "docs", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "pip install 'mbtkg[docs]'" in result.stderr


def test_hierarchy_rows_put_each_class_under_its_first_parent() -> None:
    graph = rdflib.Graph().parse(ONTO / "diff" / "new.ttl", format="turtle")
    rows = hierarchy_rows(hierarchy_graph(graph))
    got = [("  " * r.depth + r.label, r.other_parents) for r in rows]
    assert got == [
        ("person", ()),
        ("session phenomenon", ()),
        ("  epistemic mistrust", ()),
        ("  mentalizing", ()),
        ("    teleological mode", ()),
        ("  prementalizing mode", ()),
        ("    psychic equivalence mode", ()),
        ("  we-ness", ()),
    ]
    assert [r.deprecated for r in rows if r.label == "prementalizing mode"] == [True]


def test_a_class_with_two_parents_names_the_other_and_columns_repeat_ancestors() -> None:
    graph = rdflib.Graph().parse(ONTO / "broken" / "reasoner--unsatisfiable.ttl", format="turtle")
    # The fixture states the two parents as an intersection; the picture draws named parents.
    mbt = rdflib.Namespace("https://w3id.org/mbtkg/ontology#")
    for parent in (mbt.PsychicEquivalence, mbt.TeleologicalMode):
        graph.add((mbt.ConfusedMode, rdflib.RDFS.subClassOf, parent))
    rows = hierarchy_rows(hierarchy_graph(graph))
    confused = next(r for r in rows if r.label == "confused mode")
    assert confused.other_parents == ("teleological mode",)
    assert confused.depth == 3  # session phenomenon > prementalizing mode > psychic equivalence
    cols = columns(rows, per_column=3)
    assert sum(1 for c in cols for r in c if not r.continued) == len(rows)
    second = cols[1]
    assert second[0].continued and second[0].depth == 0
    for column in cols:
        depths = [r.depth for r in column]
        assert depths[0] == 0  # every column starts at a top class or a repeated one
        assert all(b <= a + 1 for a, b in zip(depths, depths[1:], strict=False))
