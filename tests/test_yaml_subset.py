"""The fast YAML subset reader against PyYAML, the reference: same values, types and lines.

:mod:`mbtkg.sessions.yaml_subset` may refuse any text (PyYAML then reads it), but what it
accepts must be exactly what PyYAML gives: the same values of the same types, the same keys in
the same order, and the same line for every mapping, key, list and item. And it must accept
what mbtkg and its users write, or the speed it exists for is lost without notice.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from mbtkg.generate import generate_corpus
from mbtkg.resources import example_sessions
from mbtkg.sessions.yaml_reader import _YamlLimit, read_with_pyyaml
from mbtkg.sessions.yaml_subset import MAX_LINES, LineMap, LineSeq, OutsideSubset, read_subset

FIXTURES = Path(__file__).parent / "fixtures"


def _same(ours: object, theirs: object, where: str = "document") -> None:
    """Assert deep equality with types, key order and every line kept."""
    assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} vs {type(theirs).__name__}"
    if isinstance(ours, LineMap):
        assert isinstance(theirs, LineMap)
        assert ours.line == theirs.line, f"{where}: mapping line"
        assert list(ours) == list(theirs), f"{where}: keys"
        assert [type(k) for k in ours] == [type(k) for k in theirs], f"{where}: key types"
        assert ours.key_lines == theirs.key_lines, f"{where}: key lines"
        for key in ours:
            _same(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(ours, LineSeq):
        assert isinstance(theirs, LineSeq)
        assert ours.line == theirs.line, f"{where}: list line"
        assert ours.item_lines == theirs.item_lines, f"{where}: item lines"
        assert len(ours) == len(theirs), f"{where}: length"
        for n, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same(a, b, f"{where}[{n}]")
    else:
        both_nan = ours != ours and theirs != theirs  # noqa: PLR0124 (NaN is not itself)
        assert ours == theirs or both_nan, f"{where}: {ours!r} vs {theirs!r}"


def _agree(text: str) -> bool:
    """Check one text; True when the subset read it (and then agreed with PyYAML)."""
    try:
        ours = read_subset(text)
    except OutsideSubset:
        return False
    try:
        theirs = read_with_pyyaml(text)
    except (yaml.YAMLError, _YamlLimit) as exc:
        pytest.fail(f"the subset read a text PyYAML refuses ({exc}):\n{text}")
    _same(ours, theirs)
    return True


def test_every_example_session_is_read_by_the_subset_as_pyyaml_reads_it() -> None:
    paths = example_sessions()
    assert len(paths) >= 6
    for path in paths:
        assert _agree(path.read_text(encoding="utf-8")), f"{path.name} fell back to PyYAML"


def test_generated_sessions_are_read_by_the_subset_as_pyyaml_reads_them(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path, sessions=6, seed=3, turns=40, inject_errors=4)
    read = [_agree(path.read_text(encoding="utf-8")) for path in corpus.files]
    assert all(read), "a generated session fell back to PyYAML"


def test_every_yaml_fixture_agrees_where_the_subset_reads_it() -> None:
    paths = sorted(FIXTURES.rglob("*.yaml")) + sorted(FIXTURES.rglob("*.yml"))
    assert paths
    read = [_agree(path.read_text(encoding="utf-8", errors="replace")) for path in paths]
    assert sum(read) >= len(paths) // 2


#: Small documents: what each one is for is in its text. Each either is read the same by both
#: readers or refused by the subset.
CASES = {
    "yaml 1.1 scalars": "a: yes\nb: No\nc: on\nd: ~\ne: null\nf: 0x1F\ng: 0o17\nh: 017\n"
    "i: 1_000\nk: .inf\nl: -.5\nm: 1e3\nn: +12\no: 2024-01-08\np: y\nq: Null\n",
    "sexagesimal": "a: 1:20\n",
    "bad dates": "a: 2024-13-01\nb: 2024-02-30\n",
    "date and time": "a: 2024-01-08 10:00:00\nb: 2024-01-08T10:00:00Z\n",
    "quoted": 'a: "yes"\nb: \'it\'\'s\'\nc: "tab\\there"\nd: "\\x41\\u00e9\\U0001F600"\nh: \'\'\ni: ""\n',
    "escapes": 'a: "\\0\\a\\b\\v\\f\\r\\e\\ \\N\\_\\L\\P\\"\\\\"\n',
    "slash escape": 'a: "\\/"\n',
    "unknown escape": 'a: "\\q"\n',
    "surrogate escape": 'a: "\\ud800"\n',
    "comments": "# top\na: 1 # one\n  # indented comment\nc: 'q' #c\nd: [1] # c\n",
    "hash without space": "b: x#y\n",
    "hash after quote": 'd: "q"#c\n',
    "compact list": "a:\n- 1\n- {b: 2}\n- c: 3\n  d: 4\ne: 5\n",
    "list of lists": "a:\n  - - 1\n    - 2\n",
    "item below its dash": "a:\n  -\n    b: 1\n  - []\n  - {}\n",
    "indent changes": "a:\n    b: 1\n  c: 2\n",
    "dedent into list": "a:\n  - 1\n  b: 2\n",
    "plain with spaces": "text:   several   words  here  \nlist: [a b, c  d]\n",
    "commas": "a: x, y\n",
    "brackets in plain": "b: x [y]\n",
    "nested flow": "c: {d: [1, [2, 3]], e: {f: g}}\n",
    "trailing comma": "a: {b: 1,}\nc: [1,]\n",
    "flow empty value": "d: {e: }\n",
    "flow space before colon": "f: {g : 1}\n",
    "flow quoted key": 'h: {"i": 1}\n',
    "flow pair in list": "j: [k: 1]\n",
    "multi-line plain": "a: one\n  two\n",
    "multi-line flow": "b: [1,\n  2]\n",
    "multi-line quoted": 'c: "x\n  y"\n',
    "block scalars": "a: |\n  x\nb: >\n  y\n",
    "anchors": "a: &x 1\nb: *x\n",
    "tags": "c: !!str 5\n",
    "merge key": "base: {a: 1}\nm:\n  <<: {a: 1}\n  b: 2\n",
    "duplicate keys": "a: 1\na: 2\n",
    "duplicate flow keys": "a: {b: 1, b: 2}\n",
    "duplicate keys by value": "1: a\n0x1: b\n",
    "float keys": ".nan: 1\n.nan: 2\n",
    "non-string keys": "1: a\nfalse: b\n2024-01-08: d\n",
    "keys equal as values": "1: a\ntrue: b\n",
    "null key": "~: c\n",
    "markers": "---\na: 1\n...\n",
    "document end before a key": "... x: 1\n",
    "document start before a key": "--- x: 1\n",
    "directive": "%YAML 1.1\n---\na: 1\n",
    "tabs": "a:\n\tb: 1\n",
    "carriage returns": "a: 1\r\nb: 2\r\n",
    "lone carriage return": "a: 1\rb: 2\n",
    "odd characters": "a: \x85x\nb: \u2028\nc: \ufeffx\nd: \x7f\n",
    "top-level list": "- 1\n- 2\n",
    "top-level scalar": "just text\n",
    "empty": "",
    "only comments": "# nothing\n",
    "empty values": "a:\nb: \nc: # comment\n",
    "empty item": "a:\n  -\n  - 1\n",
    "dash values": "b: -1\nc: -x\n",
    "dash alone": "a: -\n",
    "dash and space": "d: - x\n",
    "indicators": "a: ?x\nb: :x\nc: @x\nd: `x\ne: %x\nf: |x\ng: >x\n",
    "colons": "a: b:c\nd: http://e\n",
    "quoted keys": "\"a b\": 1\n'c': 2\n",
    "quoted key without space": '"d":3\n',
    "key with space before colon": "a : 1\n",
    "long key": "k" * 1100 + ": 1\n",
    "unicode": 'a: Zoë\nb: "日本"\nc: [é, ü]\n',
    "session": "session:\n  id: s-1\n  date: 2024-10-14\nturns:\n  - {id: 1, speaker: T-1, "
    "text: \"Hello, it's me.\"}\n  - id: 2\n    speaker: P-1\n    text: 'Hi'\n",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_small_documents_agree_or_are_left_to_pyyaml(case: str) -> None:
    _agree(CASES[case])


def test_the_subset_reads_what_it_is_for() -> None:
    """Guards against a subset that refuses too much to be of use."""
    meant = {
        "yaml 1.1 scalars", "bad dates", "quoted", "escapes", "comments", "compact list",
        "item below its dash", "nested flow", "empty values", "commas", "plain with spaces",
        "unicode", "carriage returns", "quoted keys", "non-string keys", "top-level list",
        "session",
    }  # fmt: skip
    assert {case for case in meant if _agree(CASES[case])} == meant


def test_millions_of_lines_are_left_to_pyyaml_and_its_limits() -> None:
    """The subset keeps each line while it parses: past MAX_LINES it does not start."""
    read_subset("- 1\n" * (MAX_LINES - 1))
    with pytest.raises(OutsideSubset):
        read_subset("- 1\n" * MAX_LINES)


#: Characters and fragments YAML gives meaning to, for the edits below.
_PIECES = list(":#,[]{}\"'-?&*!|>%@`\\ \t\n") + [
    ": ", " #", "- ", "  ", "yes", "~", "0x1", "1_0", "2024-13-01", "\\x4", "\\u00e9", "''",
    "{a: 1}", "[1, 2]", "&a ", "*a", "!!int ", "<<", ".nan", "---", "\r\n", "\u2028",
]  # fmt: skip


def _edit(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    kind = rng.randrange(6)
    n = rng.randrange(len(lines))
    if kind == 0:  # insert a piece somewhere in a line
        line = lines[n]
        at = rng.randrange(len(line) + 1)
        lines[n] = line[:at] + rng.choice(_PIECES) + line[at:]
    elif kind == 1 and lines[n]:  # delete a few characters
        at = rng.randrange(len(lines[n]))
        lines[n] = lines[n][:at] + lines[n][at + rng.randint(1, 3) :]
    elif kind == 2:  # indent or dedent a line
        lines[n] = " " * rng.choice((1, 2, 4)) + lines[n] if rng.random() < 0.6 else lines[n][2:]
    elif kind == 3:  # repeat a line (duplicate keys, ids)
        lines.insert(n, lines[n])
    elif kind == 4:  # swap two lines
        m = rng.randrange(len(lines))
        lines[n], lines[m] = lines[m], lines[n]
    else:  # replace a value
        line = lines[n]
        if ": " in line:
            head = line[: line.index(": ") + 2]
            lines[n] = head + rng.choice(_PIECES + ["x y", "1.5", "'q'", '"q"', "", "[]", "{}"])
    return "\n".join(lines)


def _samples() -> list[str]:
    """Short texts to edit: the head of each example session (the edits need no more)."""
    texts = []
    for path in example_sessions():
        lines = path.read_text(encoding="utf-8").split("\n")
        texts.append("\n".join(lines[:14] + lines[-30:]))
    return texts


@pytest.mark.parametrize("seed", range(8))
def test_edited_sessions_agree_or_are_left_to_pyyaml(seed: int) -> None:
    """Thousands of edits (one to three each) of real session text: whatever the subset reads,
    PyYAML reads the same; whatever PyYAML refuses, the subset refuses too."""
    rng = random.Random(seed)
    samples = _samples()
    read = 0
    for _ in range(500):
        text = rng.choice(samples)
        for _ in range(rng.randint(1, 3)):
            text = _edit(text, rng)
        read += _agree(text)
    assert read > 100  # most single edits leave valid, plain YAML
