"""The JSON Schema of the session format (for editors) agrees with the files mbtkg accepts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mbtkg import vocab
from mbtkg.concepts import default_index
from mbtkg.resources import example_sessions, resource_dir

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMA_PATH = resource_dir("shapes") / "session.schema.json"
VALID = sorted((FIXTURES / "valid").glob("*.yaml"))
EXAMPLES = example_sessions()


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def as_json(value: Any) -> Any:
    """YAML data as JSON data: PyYAML reads ``2024-10-14`` as a date; JSON has only strings."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def load_yaml(path: Path) -> Any:
    return as_json(yaml.safe_load(path.read_text(encoding="utf-8")))


def errors(data: Any) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(data)
    )


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    s = schema()
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(s)
    assert s["title"] and s["description"]


def test_every_field_has_a_description_for_editors() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                assert "description" in sub or "$ref" in sub, f"{where}/{name} has no description"
            for key, sub in node.items():
                walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}/{i}")

    walk(schema(), "")


def test_the_schema_examples_validate_against_their_own_definitions() -> None:
    s = schema()
    checked = 0
    for name, definition in s["$defs"].items():
        sub = {**definition, "$defs": s["$defs"]}
        for example in definition.get("examples", []):
            jsonschema.Draft202012Validator(sub).validate(example)
            checked += 1
        assert definition.get("description") or name == "annotationRef", name
    assert checked >= 7


@pytest.mark.parametrize("path", VALID + EXAMPLES, ids=[p.stem for p in VALID + EXAMPLES])
def test_valid_fixtures_and_examples_pass_the_schema(path: Path) -> None:
    assert errors(load_yaml(path)) == []


def test_the_concept_suggestions_are_codable_ontology_labels() -> None:
    index = default_index()
    concept = schema()["$defs"]["annotation"]["properties"]["concept"]
    (labels,) = [branch["enum"] for branch in concept["anyOf"] if "enum" in branch]
    phenomenon = vocab.MBT + "SessionPhenomenon"
    assert labels == sorted(labels) and len(labels) >= 30
    for label in labels:
        iri = index.resolve(label)
        assert index.labels[iri] == label
        assert phenomenon in index.ancestors(iri), label


def test_the_relations_are_ontology_relations() -> None:
    relations = schema()["$defs"]["annotation"]["properties"]["relations"]["properties"]
    known = set(default_index().relation_labels.values())
    assert set(relations) <= known
    assert {"repairs", "respondsTo", "triggeredBy"} <= set(relations)


BASE: dict[str, Any] = {
    "session": {"id": "s1", "date": "2025-03-01", "number": 3, "setting": "individual"},
    "participants": [{"id": "P-1", "role": "patient"}, {"id": "T-1", "role": "therapist"}],
    "annotators": [{"id": "A-1"}],
    "turns": [
        {"id": 1, "speaker": "T-1", "text": "Hello."},
        {"id": 2, "speaker": "P-1", "text": "Hi."},
    ],
    "annotations": [
        {"id": "a1", "concept": "epistemic trust", "turns": 2, "annotator": "A-1"},
        {
            "id": "a2",
            "concept": "repair",
            "turns": [1, 2],
            "annotator": "A-1",
            "relations": {"repairs": ["a1"]},
        },
    ],
}


def _edit(path: str, value: Any) -> dict[str, Any]:
    """BASE with the value at a slash path replaced (or removed when value is ...)."""
    data: dict[str, Any] = json.loads(json.dumps(BASE))
    *parents, last = path.split("/")
    node: Any = data
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node[step]
    key: Any = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return data


def test_the_base_document_passes() -> None:
    assert errors(BASE) == []


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("turns", ..., ": 'turns' is a required property"),
        ("turns", [], "turns: [] should be non-empty"),
        ("session/setting", "indivdual", "session/setting: 'indivdual' is not one of"),
        ("session/number", "twelve", "session/number: 'twelve' is not of type 'integer'"),
        ("session/number", 0, "session/number: 0 is less than the minimum of 1"),
        ("session/date", "14.10.2024", "session/date: '14.10.2024'"),
        ("session/date", "2024-13-45", "session/date: '2024-13-45' is not a 'date'"),
        ("session/id", "susan 12", "session/id: 'susan 12' is not valid"),
        ("turns/0/id", "one", "turns/0/id: 'one' is not of type 'integer'"),
        ("turns/0/id", 0, "turns/0/id: 0 is less than the minimum of 1"),
        ("turns/1/text", "", "turns/1/text: '' should be non-empty"),
        ("turns/1/speaker", ..., "turns/1: 'speaker' is a required property"),
        ("participants/0/role", "client", "participants/0/role: 'client' is not one of"),
        ("annotations/0/confidence", 1.5, "annotations/0/confidence: 1.5 is greater than"),
        ("annotations/0/confidence", "high", "annotations/0/confidence: 'high' is not of type"),
        ("annotations/0/turns", [1, 2, 3], "annotations/0/turns: [1, 2, 3] is not valid"),
        ("annotations/0/turns", "two", "annotations/0/turns: 'two' is not valid"),
        ("annotations/0/anotator", "A-1", "Additional properties are not allowed ('anotator'"),
        ("annotations/1/relations", {"repares": "a1"}, "('repares' was unexpected)"),
        ("annotations/0/concept", 42, "annotations/0/concept: 42 is not valid"),
        ("extra", True, ": Additional properties are not allowed ('extra' was unexpected)"),
    ],
)
def test_documents_the_schema_rejects(path: str, value: Any, where: str) -> None:
    found = errors(_edit(path, value))
    assert found, f"the schema accepted {path} = {value!r}"
    assert any(where in e for e in found), found


def test_a_free_spelling_of_a_concept_is_allowed() -> None:
    for name in ("EpistemicTrust", "mbt:EpistemicTrust", "EPISTEMIC TRUST"):
        assert errors(_edit("annotations/0/concept", name)) == []


def test_the_example_session_can_point_editors_at_the_schema() -> None:
    """The modeline documented in docs/session-format.md resolves from examples/sessions/."""
    modeline = "# yaml-language-server: $schema=../../shapes/session.schema.json"
    target = (resource_dir("examples") / "sessions" / modeline.split("=", 1)[1]).resolve()
    assert target == SCHEMA_PATH.resolve()


def test_the_format_doc_example_passes_the_schema() -> None:
    doc = Path(__file__).resolve().parent.parent / "docs" / "session-format.md"
    text = doc.read_text(encoding="utf-8").split("```yaml\n")[1].split("```", 1)[0]
    assert text.startswith("# yaml-language-server: $schema=../../shapes/session.schema.json")
    assert errors(as_json(yaml.safe_load(text))) == []


def test_schema_reader_and_docs_know_the_same_relations() -> None:
    in_schema = set(schema()["$defs"]["annotation"]["properties"]["relations"]["properties"])
    in_reader = set(default_index().relation_labels.values())
    assert in_schema == in_reader
    doc = (Path(__file__).resolve().parent.parent / "docs" / "session-format.md").read_text(
        encoding="utf-8"
    )
    table = doc.split("## Relations", 1)[1].split("\n## ", 1)[0]
    for name in in_reader:
        assert f"| `{name}` |" in table, name


def test_a_preceded_by_link_passes_the_schema_and_the_reader(tmp_path: Path) -> None:
    from mbtkg.sessions import read_session, session_to_rdf
    from mbtkg.validation.validate import validate_graphs

    data = _edit("annotations/1/relations", {"precededBy": ["a1"]})
    assert errors(data) == []
    assert errors(_edit("annotations/1/relations", {"precededBy": "a1"})) == []
    assert errors(_edit("annotations/1/relations", {"precededBy": []}))
    path = tmp_path / "preceded.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    session = read_session(path)
    [relation] = session.annotations[1].relations
    assert relation.property_iri == f"{vocab.MBT}precededBy"
    assert validate_graphs([session_to_rdf(session)], engine="fast").conforms
