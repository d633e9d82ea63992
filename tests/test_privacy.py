"""Privacy: the graph never records a user's folders, messages never quote session text, and
the validation cache keeps no text.

Session text is clinical data. The checks here plant a distinctive marker in every free-text
field of the example sessions (turn text, quotes, notes), break the file next to it in many
ways, and assert the marker is in no message; and they load from a folder named like a real
client and assert that folder is in no quad and no export.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.errors import InputError
from mbtkg.export import export_session
from mbtkg.loading import load
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session
from mbtkg.sessions.csv_reader import CsvProblems, read_csv_sessions
from mbtkg.sessions.to_rdf import recorded_source
from mbtkg.stores import open_store
from mbtkg.validation.cache import CachedResult, ValidationCache, shape_messages
from mbtkg.validation.fast_shacl.parallel import validate_paths
from mbtkg.validation.validate import Violation

FIXTURES = Path(__file__).parent / "fixtures"

#: A folder name of the kind that carries a real client's name.
CLIENT_FOLDER = "Clients Jane Q Example"


@pytest.fixture()
def client_folder(tmp_path: Path) -> Path:
    folder = tmp_path / CLIENT_FOLDER / "2025"
    folder.mkdir(parents=True)
    for path in example_sessions():
        shutil.copy(path, folder / path.name)
    return folder.resolve()


# -- the source of a session -------------------------------------------------------------------


def test_no_quad_of_a_load_from_an_absolute_path_names_its_folders(client_folder: Path) -> None:
    store = open_store("oxigraph:memory")
    files = sorted(client_folder.glob("*.yaml"))
    load([str(p) for p in files], store, jobs=1)
    dumped = [str(q) for q in store._store.quads_for_pattern(None, None, None)]  # type: ignore[attr-defined]
    assert len(dumped) > 1000
    assert not [q for q in dumped if CLIENT_FOLDER in q or str(client_folder) in q]
    sources = {q for q in dumped if "/source>" in q and "/session/" in q}
    assert len(sources) == len(files)
    assert all(any(f'"{p.name}"' in q for q in sources) for p in files)


@pytest.mark.parametrize("fmt", ["jsonld", "ttl", "yaml"])
def test_no_export_names_the_folders(client_folder: Path, fmt: str) -> None:
    store = open_store("oxigraph:memory")
    load([str(client_folder / "susan-12.yaml")], store, jobs=1)
    text = export_session(store, "susan-12", fmt)
    assert CLIENT_FOLDER not in text and str(client_folder) not in text


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        ("/home/me/Clients Jane/s1.yaml", "s1.yaml"),
        ("relative/dir/s1.csv", "s1.csv"),
        ("s1.eaf", "s1.eaf"),
        ("C:\\Users\\me\\Jane\\s1.yaml", "s1.yaml"),
        ("/home/me/Jane/study.qdpx [interview 1.txt]", "study.qdpx [interview 1.txt]"),
    ],
)
def test_the_recorded_source_is_the_file_name(given: str, recorded: str) -> None:
    assert recorded_source(given) == recorded


# -- messages never quote session text ---------------------------------------------------------

#: Three words, long enough that no message could show it as an id or a number.
MARKER = "Quokka marble whisper 4417"
_TURN = re.compile(r'^(\s*- \{id: (\d+), speaker: ([^,]+), text: )"((?:[^"\\]|\\.)*)"(\})\s*$')
_QUOTE = re.compile(r'quote: "((?:[^"\\]|\\.)*)"')


def _marked(text: str) -> str:
    """The session with the marker in every turn text and quote, and a note on each annotation."""
    out = []
    for line in text.splitlines():
        turn = _TURN.match(line)
        if turn:
            line = f'{turn[1]}"{MARKER} {turn[4]}"{turn[5]}'
        elif "concept:" in line and line.lstrip().startswith("- {"):
            line = _QUOTE.sub(f'quote: "{MARKER}"', line).replace(
                "concept:", f'note: "{MARKER}", concept:', 1
            )
        out.append(line)
    return "\n".join(out) + "\n"


def _first(lines: list[str], pattern: str) -> int:
    return next(i for i, line in enumerate(lines) if re.search(pattern, line))


def _break(text: str, how: str) -> str:
    """The marked session broken next to its text, one way."""
    lines = text.splitlines()
    t = _first(lines, r"speaker: .*text: ")
    a = _first(lines, r"note: ")
    turn = _TURN.match(lines[t])
    assert turn is not None
    head = f"  - {{id: {turn[2]}, speaker: {turn[3]}, "
    said = f"{MARKER} and more words"
    changes = {
        "quote not said": lambda: lines.__setitem__(
            a,
            _QUOTE.sub(f'quote: "{MARKER} never said"', lines[a])
            if "quote:" in lines[a]
            else lines[a].replace("note:", f'quote: "{MARKER} never said", note:'),
        ),
        "empty text": lambda: lines.__setitem__(t, head + 'text: ""}'),
        "unknown speaker": lambda: lines.__setitem__(
            t, lines[t].replace(f"speaker: {turn[3]}", "speaker: X-9")
        ),
        "bad turn id": lambda: lines.__setitem__(
            t, lines[t].replace(f"id: {turn[2]},", "id: x1,", 1)
        ),
        "text a list": lambda: lines.__setitem__(t, head + f'text: ["{said}", "{MARKER}"]}}'),
        "text a mapping": lambda: lines.__setitem__(t, head + f'text: {{said: "{said}"}}}}'),
        "text a number": lambda: lines.__setitem__(t, head + "text: 12}"),
        "unterminated text": lambda: lines.__setitem__(t, head + f'text: "{said}}}'),
        "turn a list": lambda: lines.__setitem__(t, f'  - [{turn[2]}, {turn[3]}, "{said}"]'),
        "turn a string": lambda: lines.__setitem__(t, f'  - "{said}"'),
        "turn a block": lambda: lines.__setitem__(t, f"  - {said}: {said}"),
        "text twice": lambda: lines.__setitem__(t, head + f'text: "{said}", text: "{MARKER}"}}'),
        "text misspelt": lambda: lines.__setitem__(t, head + f'txt: "{said}"}}'),
        "text as key": lambda: lines.__setitem__(t, head + f'text: "x", "{said}": 1}}'),
        "quote in turns": lambda: lines.__setitem__(
            a, re.sub(r"turns: [^,]+(, \d+\])?,", f'turns: "{said}",', lines[a], count=1)
        ),
        "quote in confidence": lambda: lines.__setitem__(
            a, re.sub(r"confidence: [0-9.]+", f'confidence: "{said}"', lines[a])
        ),
        "quote in id": lambda: lines.__setitem__(
            a, re.sub(r"id: [^,]+,", f'id: "{said}",', lines[a], count=1)
        ),
        "note a list": lambda: lines.__setitem__(
            a, lines[a].replace(f'note: "{MARKER}"', f'note: ["{said}"]')
        ),
        "bad confidence": lambda: lines.__setitem__(
            a, re.sub(r"confidence: [0-9.]+", "confidence: 7", lines[a])
        ),
        "tab indent": lambda: lines.__setitem__(t, "\t" + lines[t].lstrip()),
        "bad date": lambda: lines.__setitem__(_first(lines, r"^  date: "), f'  date: "{said}"'),
        "unknown concept": lambda: lines.__setitem__(
            a, re.sub(r"concept: [^,]+,", f'concept: "{said}",', lines[a])
        ),
        "not utf-8": lambda: lines.__setitem__(t, lines[t].replace(MARKER, MARKER + " \udce9")),
    }
    changes[how]()
    return "\n".join(lines) + "\n"


BREAKS = (
    "quote not said", "empty text", "unknown speaker", "bad turn id", "text a list",
    "text a mapping", "text a number", "unterminated text", "turn a list", "turn a string",
    "turn a block", "text twice", "text misspelt", "text as key", "quote in turns",
    "quote in confidence", "quote in id", "note a list", "bad confidence", "tab indent",
    "bad date", "unknown concept", "not utf-8",
)  # fmt: skip


@pytest.fixture(scope="module")
def mutated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every example session, marked, then broken each way: one file per (session, break)."""
    folder = tmp_path_factory.mktemp("mutated")
    files = []
    for example in example_sessions():
        marked = _marked(example.read_text(encoding="utf-8"))
        assert marked.count(MARKER) > 10
        for i, how in enumerate(BREAKS):
            path = folder / f"{example.stem}-{i:02d}.yaml"
            text = _break(marked, how)
            path.write_bytes(text.encode("utf-8", "surrogateescape"))
            files.append(path)
    return files


def test_the_marked_examples_are_valid_before_they_are_broken(tmp_path: Path) -> None:
    paths = []
    for example in example_sessions():
        path = tmp_path / example.name
        path.write_text(_marked(example.read_text(encoding="utf-8")), encoding="utf-8")
        paths.append(path)
    result = validate_paths(paths, engine="fast", jobs=1)
    assert result.errors == () and result.report.conforms, result.report


def test_no_message_over_the_broken_corpus_quotes_session_text(
    mutated: list[Path], tmp_path: Path
) -> None:
    cache = ValidationCache(tmp_path / "cache")
    result = validate_paths(mutated, engine="fast", jobs=1, cache=cache)
    messages = [str(e) for e in result.errors] + [str(v) for v in result.report.violations]
    # Every break is found: as a read error or as a violation of its file.
    flagged = {Path(str(e.location.path)).name for e in result.errors if e.location}
    flagged |= {Path(v.source).name for v in result.report.violations}
    assert flagged == {p.name for p in mutated}
    assert len(messages) >= len(mutated)
    leaks = [m for m in messages if MARKER in m or "Quokka" in m or "4417" in m]
    assert leaks == []
    cached = [p.read_text(encoding="utf-8") for p in (tmp_path / "cache").rglob("*.json")]
    assert cached and not [c for c in cached if "Quokka" in c]


def test_the_cli_quotes_no_session_text_with_either_engine(mutated: list[Path]) -> None:
    one_session = [p for p in mutated if p.name.startswith("noor-02")]
    runner = CliRunner()
    for engine in ("pyshacl", "fast"):
        result = runner.invoke(
            main, ["validate", "--engine", engine, "--no-cache", *map(str, one_session)]
        )
        assert result.exit_code in (1, 2), result.output
        assert "noor-02-00.yaml" in result.output
        assert "Quokka" not in result.output and "4417" not in result.output


def _fixture_texts(path: Path) -> list[str]:
    """The turn texts, quotes and notes of a fixture, as far as it parses."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return []
    found = []
    for key, field in (("turns", "text"), ("annotations", "quote"), ("annotations", "note")):
        for item in (data or {}).get(key) or []:
            if isinstance(item, dict) and isinstance(item.get(field), str):
                found.append(item[field])
    return [t for t in found if len(t) >= 8]


def test_the_invalid_fixtures_report_without_quoting_their_text() -> None:
    fixtures = sorted((FIXTURES / "invalid").glob("*.yaml"))
    texts = {t for p in fixtures for t in _fixture_texts(p)}
    assert len(texts) >= 4
    result = CliRunner().invoke(main, ["validate", "--no-cache", *map(str, fixtures)])
    assert result.exit_code == 1
    assert result.output.count("violation") >= 1
    assert [t for t in texts if t in result.output] == []


def test_csv_messages_name_the_cell_not_its_text(tmp_path: Path) -> None:
    turns = tmp_path / "turns.csv"
    turns.write_text(
        "session,turn,speaker,role,text\n"
        f'demo-1,1,T-1,therapist,"{MARKER} first"\n'
        f'demo-1,{MARKER},P-1,patient,"{MARKER} second"\n'
        f'demo-1,3,"{MARKER}",patient,"{MARKER} third"\n'
        f'demo-1,4,P-1,"{MARKER}","fourth"\n',
        encoding="utf-8",
    )
    annotations = tmp_path / "annotations.csv"
    annotations.write_text(
        "session,id,concept,first_turn,last_turn,quote,confidence\n"
        f'demo-1,a1,mentalizing,1,1,"{MARKER} not said",0.5\n'
        f'demo-1,a2,mentalizing,"{MARKER}",1,,0.5\n'
        f'demo-1,a3,mentalizing,1,1,,"{MARKER}"\n',
        encoding="utf-8",
    )
    with pytest.raises(CsvProblems) as info:
        read_csv_sessions(turns, annotations_path=annotations)
    text = str(info.value)
    assert "turns.csv row 3, column 'turn'" in text and "a text of 26 characters" in text
    assert "Quokka" not in text


# -- the validation cache ----------------------------------------------------------------------


def _example_texts() -> set[str]:
    return {t for p in example_sessions() for t in _fixture_texts(p)}


def test_the_default_cache_holds_no_session_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutated: list[Path]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MBTKG_CACHE_DIR", raising=False)
    files = [str(p) for p in example_sessions()] + [str(p) for p in mutated[:23]]
    result = CliRunner().invoke(main, ["validate", "--engine", "fast", *files])
    assert result.exit_code == 2, result.output  # the broken files are named
    entries = list((tmp_path / "xdg" / "mbtkg" / "validation").rglob("*.json"))
    assert len(entries) >= len(example_sessions())
    assert not (tmp_path / "home").exists()
    texts = _example_texts()
    assert len(texts) > 100
    for entry in entries:
        body = entry.read_text(encoding="utf-8")
        assert not [t for t in texts if t in body], entry
        assert "Quokka" not in body
        assert entry.stat().st_mode & 0o077 == 0


def test_the_cache_goes_where_the_user_says_or_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("MBTKG_CACHE_DIR", str(tmp_path / "mine"))
    files = [str(p) for p in example_sessions()[:2]]
    runner = CliRunner()
    assert (
        runner.invoke(main, ["validate", "--engine", "fast", "--no-cache", *files]).exit_code == 0
    )
    assert not (tmp_path / "mine").exists() and not (tmp_path / "xdg").exists()
    assert runner.invoke(main, ["validate", "--engine", "fast", *files]).exit_code == 0
    assert len(list((tmp_path / "mine" / "validation").rglob("*.json"))) == 2
    assert not (tmp_path / "xdg").exists()


def test_a_result_carrying_other_text_is_not_cached(tmp_path: Path) -> None:
    cache = ValidationCache(tmp_path)
    key = cache.key(b"session", engine="fast")
    leaked = Violation("s.yaml", 3, "urn:x", None, "sh:x", "mbtsh:X", f"not in {MARKER}")
    cache.put(key, CachedResult("s1", (leaked,)))
    assert cache.get(key, source="s.yaml") is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    declared = Violation("s.yaml", 3, "urn:x", None, "sh:x", "mbtsh:X", sorted(shape_messages())[0])
    cache.put(key, CachedResult("s1", (declared,)))
    assert cache.get(key, source="t.yaml") == CachedResult(
        "s1", (replace(declared, source="t.yaml"),)
    )


def test_a_json_ld_triple_that_would_be_lost_is_named_without_its_text(tmp_path: Path) -> None:
    store = open_store("oxigraph:memory")
    load([str(next(p for p in example_sessions() if p.stem == "susan-12"))], store, jobs=1)
    document = json.loads(export_session(store, "susan-12", "jsonld"))
    node = document["@graph"][0] if "@graph" in document else document
    node["http://example.org/extra"] = f"{MARKER} about the patient"
    path = tmp_path / "susan-12.jsonld"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(
        InputError, match=r"1 triple\(s\) are not part of the session format"
    ) as info:
        read_session(path)
    message = str(info.value)
    assert "http://example.org/extra" in message and "a text of 44 characters" in message
    assert "Quokka" not in message
