"""Fuzzing the readers: whatever bytes a session file holds, the answer is a session or one of
mbtkg's own errors, never another exception, a hang or unbounded memory.

Inputs are mutations of real files (the bundled examples and the test fixtures: bytes flipped,
cut, deleted, repeated; YAML tags, anchors and aliases, XML and CSV syntax inserted; deep
nesting; huge fields) and generated structures (YAML mappings, JSON documents, sheets).
Hypothesis runs derandomized, so CI sees the same few thousand examples every time; set
``MBTKG_FUZZ_SCALE`` (e.g. 10) for a longer local run. Each example is bounded in time by
an interval timer; a fixed sample also runs in a child process under an address-space limit.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml
from conftest import FIXTURES, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mbtkg.errors import MbtkgError
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session, session_to_rdf
from mbtkg.sessions.csv_reader import read_csv_sessions
from mbtkg.sessions.eaf_reader import read_eaf
from mbtkg.sessions.jsonld_reader import read_rdf_sessions
from mbtkg.sessions.qdpx_reader import read_qdpx

SCALE = int(os.environ.get("MBTKG_FUZZ_SCALE", "1"))
#: Seconds one example may take before it counts as a hang (a real read takes milliseconds).
HANG_SECONDS = 30
#: Address space for the child process that reads the sampled inputs.
CHILD_MEMORY_BYTES = 1_500_000_000


def _settings(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        derandomize=True,
        database=None,
        max_examples=examples * SCALE,
        deadline=None,  # time is bounded by HANG_SECONDS instead: CI machines vary
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


# -- seeds: real files --------------------------------------------------------------------------


def _serialized(triples: list[ox.Triple], fmt: ox.RdfFormat) -> bytes:
    data = ox.serialize(triples, format=fmt)
    assert data is not None  # no output file given, so the bytes are returned
    return data


def _qdpx_bytes(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.name != "mapping.yaml":
                archive.write(file, str(file.relative_to(folder)))
    return buffer.getvalue()


def _seeds() -> dict[str, list[bytes]]:
    examples = example_sessions()
    session = read_session(examples[0])
    nquads = session_to_rdf(session).nquads

    triples = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS)
    ]
    return {
        ".yaml": [p.read_bytes() for p in examples[:3]]
        + [p.read_bytes() for p in sorted((FIXTURES / "valid").glob("*.yaml"))[:2]],
        ".csv": [(FIXTURES / "csv" / n).read_bytes() for n in ("turns.csv", "turns-wide.csv")],
        ".eaf": [(FIXTURES / "eaf" / "two-speakers.eaf").read_bytes()],
        ".qdpx": [_qdpx_bytes(FIXTURES / "qdpx" / "atlas-like")],
        ".jsonld": [_serialized(triples, ox.RdfFormat.JSON_LD)],
        ".ttl": [_serialized(triples, ox.RdfFormat.TURTLE)],
    }


SEEDS = _seeds()

#: Snippets inserted into the files: what breaks parsers and what made them blow up before.
TOKENS: dict[str, list[bytes]] = {
    ".yaml": [
        b"!!int x",
        b"!!map [1]",
        b"!!float y",
        b"!!bool maybe",
        b"!!timestamp 2020-99-99",
        b"!!binary zz",
        b"!!set {a}",
        b"!!omap [a]",
        b"!!python/object:os.system x",
        b"&a [1, 2]",
        b"*a",
        b"&b {x: *b}",
        b"<<: 5",
        b"<<: *a",
        b"? [a]\n: 1",
        b"{a: 1}",
        b"[[[[[[[[[[",
        b"}}}",
        b"\t",
        b"\x00",
        b"\xff",
        b"'",
        b'"',
        b"|\n",
        b">-\n",
        b"---\n",
        b"...\n",
        b"%YAML 1.1\n",
        b"- ",
        b": ",
        b"# ",
        b"\n  ",
        b"id: 1",
        b"turns: [1, 99]",
    ],
    ".csv": [
        b'"',
        b",",
        b";",
        b"\t",
        b"\n",
        b"\r",
        b"\r\n",
        b"\x00",
        b'""',
        b"\xef\xbb\xbf",
        b"session",
        b"turn",
        b"0",
        b"-1",
        b"999999999999",
        b"yes",
        b"\xff",
    ],
    ".eaf": [
        b'encoding="UTF-7"',
        b'encoding="latin-1"',
        b'TIME_VALUE="1e3"',
        b'TIME_VALUE="-1"',
        b'TIME_VALUE=""',
        b"<TIER>",
        b"</TIER>",
        b"&amp;",
        b"&#0;",
        b"<!DOCTYPE x>",
        b'<!ENTITY a "b">',
        b"\x00",
        b'PARENT_REF="T01 speech"',
        b'ANNOTATION_REF="a1"',
        b"<![CDATA[x]]>",
        b"<?pi x?>",
        b"<!-- -->",
        b"]]>",
        b"\xff\xfe",
    ],
}
TOKENS[".qdpx"] = TOKENS[".eaf"] + [
    b'startPosition="-5"',
    b'endPosition="99999999"',
    b'startPosition="1e9"',
    b'plainTextPath="internal://../x"',
    b'plainTextPath="file:///etc/passwd"',
    b'<Code guid="x" name="y">',
    b"</Code>",
    b'isCodable="false"',
    b'targetGUID=""',
]
TOKENS[".jsonld"] = [
    b"{",
    b"}",
    b"[",
    b"]",
    b'"@context": 1',
    b'"@id": ""',
    b'"@type": []',
    b'"@value": 1e999',
    b'"@list": [[[]]]',
    b"null",
    b'"\\u0000"',
    b",",
    b":",
]
TOKENS[".ttl"] = [
    b"<",
    b">",
    b'"',
    b"@prefix x: <y> .",
    b"[",
    b"]",
    b"(",
    b")",
    b";",
    b".",
    b'"x"^^<http://www.w3.org/2001/XMLSchema#integer>',
    b"\\u",
    b"_:b",
    b"\x00",
]

#: Attribute values that are not what the attribute should hold.
STRANGE_VALUES = [
    b"",
    b"1e3",
    b"-1",
    b"1.5",
    b"\xc2\xb2",
    b"9" * 30,
    b"x",
    b"&amp;",
    b"NaN",
    b"internal://../../x",
    b"{00000000-0000-0000-0000-000000000000}",
    b" 7 ",
]

# -- mutations ----------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> bytes:
    """A seed file of ``kind`` with one to four mutations."""
    data = bytearray(draw(st.sampled_from(SEEDS[kind])))
    for _ in range(draw(st.integers(1, 4))):
        ops = ["flip", "cut", "delete", "insert", "repeat", "nest", "huge"]
        op = draw(st.sampled_from(ops + (["value"] * 3 if kind in (".eaf", ".qdpx") else [])))
        at = draw(st.integers(0, len(data)))
        if op == "value":  # an XML attribute given a strange value
            starts = [k + 2 for k in range(len(data) - 1) if data[k : k + 2] == b'="']
            if starts:
                begin = draw(st.sampled_from(starts))
                end = data.find(b'"', begin)
                data[begin : end if end >= 0 else begin] = draw(st.sampled_from(STRANGE_VALUES))
        elif op == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[at:]
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS[kind]))
        elif op == "repeat":
            start = draw(st.integers(0, len(data)))
            piece = bytes(data[start : start + draw(st.integers(1, 400))])
            data[at:at] = piece * draw(st.integers(1, 50))
        elif op == "nest":
            opener, closer = draw(
                st.sampled_from([(b"[", b"]"), (b"{a: ", b"}"), (b"<x>", b"</x>"), (b"- ", b"")])
            )
            depth = draw(st.sampled_from([50, 150, 1200, 5000]))
            data[at:at] = opener * depth + closer * depth
        else:  # a huge field: past the CSV module's default cell limit and the YAML buffer
            data[at:at] = draw(st.sampled_from([b"x", b"\xc3\xa9", b" ", b"\n"])) * draw(
                st.sampled_from([1000, 140_000, 300_000])
            )
    if kind == ".qdpx":
        return _mutate_members(bytes(data), draw)
    return bytes(data)


def _mutate_members(archive: bytes, draw: st.DrawFn) -> bytes:
    """An archive whose members are mutated too (the bytes of the archive itself may be)."""
    try:
        source = zipfile.ZipFile(io.BytesIO(archive))
        members = [(i.filename, source.read(i)) for i in source.infolist()]
    except Exception:  # the mutation broke the archive: keep it broken
        return archive
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members:
            if draw(st.booleans()):
                mutable = bytearray(data)
                at = draw(st.integers(0, len(mutable)))
                mutable[at:at] = draw(st.sampled_from(TOKENS[".qdpx"]))
                data = bytes(mutable)
            target.writestr(name, data)
    return out.getvalue()


# -- generated structures -----------------------------------------------------------------------

_KEYS = [
    "session",
    "participants",
    "annotators",
    "turns",
    "annotations",
    "id",
    "date",
    "number",
    "setting",
    "role",
    "speaker",
    "text",
    "start",
    "end",
    "concept",
    "quote",
    "annotator",
    "confidence",
    "relations",
    "note",
    "repairs",
    "respondsTo",
]
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(
        ["therapist", "patient", "individual", "mentalizing", "T", "P", "2024-10-14", "A-1"]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


def yaml_documents() -> st.SearchStrategy[bytes]:
    document = st.fixed_dictionaries(
        {},
        optional={
            k: _VALUES for k in ["session", "participants", "annotators", "turns", "annotations"]
        },
    )
    return document.map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode("utf-8"))


def json_documents() -> st.SearchStrategy[bytes]:
    context = st.sampled_from(["https://w3id.org/mbtkg/context.jsonld", {}, 1, [None]])
    node = st.dictionaries(
        st.sampled_from(
            [
                "@id",
                "@type",
                "@value",
                "@list",
                "@graph",
                "sessionId",
                "turnIndex",
                "hasTurn",
                "text",
            ]
        )
        | st.text(max_size=6),
        _VALUES,
        max_size=5,
    )
    return st.tuples(context, st.lists(node, max_size=4)).map(
        lambda cn: json.dumps({"@context": cn[0], "@graph": cn[1]}, default=str).encode("utf-8")
    )


def csv_sheets() -> st.SearchStrategy[bytes]:
    cell = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
        ["s1", "1", "2", "T", "P", "therapist", "x", "1.5", "mentalizing"]
    )
    header = st.lists(
        st.sampled_from(
            ["session", "turn", "speaker", "text", "role", "start", "end", "mentalizing", "curious"]
        ),
        min_size=1,
        max_size=8,
    )
    rows = st.lists(st.lists(cell, max_size=9), max_size=8)

    def render(parts: tuple[list[str], list[list[str]]]) -> bytes:
        out = io.StringIO()
        import csv

        writer = csv.writer(out)
        writer.writerow(parts[0])
        writer.writerows(parts[1])
        return out.getvalue().encode("utf-8")

    return st.tuples(header, rows).map(render)


# -- the property ---------------------------------------------------------------------------------


class Hang(Exception):
    """An example took longer than HANG_SECONDS."""


@contextmanager
def _bounded_time() -> Iterator[None]:
    def expire(*_: object) -> None:
        raise Hang(f"a reader took more than {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_any(path: Path) -> None:
    """Read ``path`` as the importers do; a session read is also turned into RDF."""
    kind = path.suffix
    if kind == ".csv":
        for session in read_csv_sessions(path, skip_unmapped=True).sessions:
            session_to_rdf(session)
    elif kind == ".eaf":
        session_to_rdf(read_eaf(path, skip_unmapped=True).session)
    elif kind == ".qdpx":
        for session in read_qdpx(
            path, mapping=None, skip_unmapped=True, default_speaker="P"
        ).sessions:
            session_to_rdf(session)
    elif kind in (".jsonld", ".ttl"):
        for session in read_rdf_sessions(path):
            session_to_rdf(session)
    else:
        session_to_rdf(read_session(path))


def _our_error_or_success(tmp_path: Path, kind: str, data: bytes) -> None:
    path = tmp_path / f"fuzz{kind}"
    path.write_bytes(data)
    # Our error means the property holds; any other exception fails the test.
    with _bounded_time(), contextlib.suppress(MbtkgError):
        read_any(path)


@pytest.mark.parametrize(
    ("kind", "examples"),
    [(".yaml", 700), (".csv", 400), (".eaf", 400), (".qdpx", 400), (".jsonld", 250), (".ttl", 150)],
)
def test_mutated_files_give_a_session_or_our_error(
    tmp_path: Path, kind: str, examples: int
) -> None:
    @_settings(examples)
    @given(data=mutated(kind))
    def check(data: bytes) -> None:
        _our_error_or_success(tmp_path, kind, data)

    check()


@_settings(300)
@given(data=yaml_documents())
def test_generated_yaml_gives_a_session_or_our_error(tmp_path: Path, data: bytes) -> None:
    _our_error_or_success(tmp_path, ".yaml", data)


@_settings(200)
@given(data=json_documents())
def test_generated_jsonld_gives_a_session_or_our_error(tmp_path: Path, data: bytes) -> None:
    _our_error_or_success(tmp_path, ".jsonld", data)


@_settings(200)
@given(data=csv_sheets())
def test_generated_sheets_give_a_session_or_our_error(tmp_path: Path, data: bytes) -> None:
    _our_error_or_success(tmp_path, ".csv", data)


# -- memory: a fixed sample in a child process under an address-space limit -----------------------

_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
sys.path.insert(0, {tests!r})
from pathlib import Path
from mbtkg.errors import MbtkgError
from test_fuzz_readers import read_any
for name in sys.argv[1:]:
    try:
        read_any(Path(name))
    except MbtkgError:
        pass
    print("ok", name, flush=True)
"""


def _sample(kind: str, count: int, rnd: random.Random) -> Iterator[bytes]:
    """Deterministic heavy inputs: the blow-ups of before, plus random mutations."""
    bomb = "".join(
        f"{n}: &{n} [{', '.join([f'*{p}' if p else 'lol'] * 9)}]\n"
        for p, n in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True)
    )
    heavy = {
        ".yaml": [bomb.encode() + b"session: {id: s, number: *h}\n"],
        ".csv": [b"session,turn,speaker,text\ns1,1,T," + b"x" * 1_200_000 + b"\n"],
        ".eaf": [
            b"<ANNOTATION_DOCUMENT>"
            + b"<x>" * 100_000
            + b"</x>" * 100_000
            + b"</ANNOTATION_DOCUMENT>"
        ],
        ".jsonld": [b"[" * 200_000 + b"]" * 200_000],
    }
    yield from heavy.get(kind, [])
    for _ in range(count):
        data = bytearray(rnd.choice(SEEDS[kind]))
        at = rnd.randrange(len(data))
        data[at:at] = rnd.choice(TOKENS[kind]) * rnd.choice([1, 100, 20_000])
        yield bytes(data)


def test_a_sample_stays_within_a_memory_bound(tmp_path: Path) -> None:
    rnd = random.Random(11)
    paths = []
    for kind in (".yaml", ".csv", ".eaf", ".qdpx", ".jsonld"):
        for k, data in enumerate(_sample(kind, 8, rnd)):
            path = tmp_path / f"sample-{k}{kind}"
            path.write_bytes(data)
            paths.append(str(path))
    code = _CHILD.format(limit=CHILD_MEMORY_BYTES, tests=str(Path(__file__).parent))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", code, *paths],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("ok ") == len(paths)


# -- offsets: the sparse map agrees with counting every character -------------------------------


def _reference_starts(raw: str, reading: object) -> tuple[list[int], int]:
    """Where each character of the normalised text starts, counted one character at a time."""
    from mbtkg.sessions.text_offsets import Reading

    assert isinstance(reading, Reading)
    had_bom = raw.startswith("\ufeff")
    raw = raw[1:] if had_bom else raw
    unit = 1 if reading.bom_counted and had_bom else 0
    starts, i = [], 0
    while i < len(raw):
        starts.append(unit)
        if raw[i] == "\r" and raw[i + 1 : i + 2] == "\n":
            unit += reading.crlf
            i += 2
            continue
        unit += 2 if reading.unit.startswith("UTF-16") and ord(raw[i]) > 0xFFFF else 1
        i += 1
    return starts, unit


@_settings(300)
@given(
    text=st.lists(
        st.sampled_from(["a", " ", "\r", "\n", "\r\n", "é", "😀", "\U0001f9e0", "\ufeff"]),
        max_size=40,
    ).map("".join)
)
def test_offset_maps_agree_with_counting_each_character(text: str) -> None:
    from mbtkg.sessions.text_offsets import OffsetMap, candidate_readings, decode_source

    source = decode_source(text.encode("utf-8"))
    for reading in candidate_readings(source):
        omap = OffsetMap(source, reading)
        starts, total = _reference_starts(text, reading)
        assert omap.total == total
        assert omap.length == len(source.text) == len(starts)
        expected = {offset: k for k, offset in enumerate(starts)} | {total: len(starts)}
        for offset in range(-1, total + 2):
            assert omap.to_index(offset) == expected.get(offset), (reading, offset)


@_settings(300)
@given(
    spans=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 6), st.booleans()), max_size=12),
    time=st.integers(-1, 28),
)
def test_elan_turns_found_by_time_agree_with_a_scan(
    spans: list[tuple[int, int, bool]], time: int
) -> None:
    from mbtkg.sessions.eaf_reader import _TurnsByTime

    turns = sorted((float(s), float(s + d), own) for s, d, own in spans)
    expected = next(
        (
            k
            for k, (start, end, own) in enumerate(turns, start=1)
            if own and (start <= time < end or start == time)
        ),
        None,
    )
    finder = _TurnsByTime([(s, e) for s, e, _ in turns], [own for _, _, own in turns])
    assert finder.find(float(time)) == expected
