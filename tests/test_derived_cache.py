"""The cache of derived rules (concept index, compiled shapes): built once, read after, rebuilt
when an input changes, never trusted blindly; and load workers that neither build nor read it.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mbtkg import concepts, derived_cache
from mbtkg.generate import generate_corpus
from mbtkg.loading import load
from mbtkg.loading.workers import iter_checked
from mbtkg.resources import example_sessions, shape_files
from mbtkg.stores import open_store
from mbtkg.validation.fast_shacl import engine, parallel

_MESSAGE = "the session needs exactly one id"  # a sh:message of shapes/session.ttl


def _entries(directory: Path, kind: str) -> list[Path]:
    return sorted(directory.glob(f"{kind}-*.pickle"))


@pytest.fixture()
def shapes_copy(tmp_path: Path) -> list[Path]:
    out = tmp_path / "shapes"
    out.mkdir()
    copies = []
    for path in shape_files():
        shutil.copy(path, out / path.name)
        copies.append(out / path.name)
    return copies


def test_the_shapes_are_compiled_once_then_read(tmp_path: Path, shapes_copy: list[Path]) -> None:
    cache = tmp_path / "cache"
    before = derived_cache.builds["compiled-shapes"]
    first = engine.compiled_rules(shapes_copy, directory=cache)
    assert derived_cache.builds["compiled-shapes"] == before + 1
    [entry] = _entries(cache, "compiled-shapes")
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    second = engine.compiled_rules(shapes_copy, directory=cache)
    assert derived_cache.builds["compiled-shapes"] == before + 1  # read, not built
    assert second == first
    assert second.compiled.batch is not None and second.fact_nquads  # the batch form and facts


def test_editing_a_shape_file_invalidates_the_entry(
    tmp_path: Path, shapes_copy: list[Path]
) -> None:
    cache = tmp_path / "cache"
    first = engine.compiled_rules(shapes_copy, directory=cache)
    messages = {b.message for b in first.compiled.branches}
    assert _MESSAGE in messages
    text = shapes_copy[0].read_text(encoding="utf-8")
    assert text.count(_MESSAGE) == 1
    shapes_copy[0].write_text(text.replace(_MESSAGE, "a session has one id"), "utf-8")
    before = derived_cache.builds["compiled-shapes"]
    edited = engine.compiled_rules(shapes_copy, directory=cache)
    assert derived_cache.builds["compiled-shapes"] == before + 1  # compiled again
    edited_messages = {b.message for b in edited.compiled.branches}
    assert "a session has one id" in edited_messages and _MESSAGE not in edited_messages
    assert len(_entries(cache, "compiled-shapes")) == 1  # the stale entry is gone


def test_a_damaged_entry_is_rebuilt(tmp_path: Path, shapes_copy: list[Path]) -> None:
    cache = tmp_path / "cache"
    good = engine.compiled_rules(shapes_copy, directory=cache)
    [entry] = _entries(cache, "compiled-shapes")
    entry.write_bytes(entry.read_bytes()[:1000])
    before = derived_cache.builds["compiled-shapes"]
    assert engine.compiled_rules(shapes_copy, directory=cache) == good
    assert derived_cache.builds["compiled-shapes"] == before + 1


class _Planted:
    """Unpickling this would run code: it must never be built from a cache file."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo planted > planted.txt",))


def test_an_entry_naming_other_classes_runs_no_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    key = "k" * 64
    (cache / f"concept-index-{key}.pickle").write_bytes(pickle.dumps(_Planted()))
    calls = []

    def build() -> concepts.ConceptIndex:
        calls.append(1)
        return concepts.default_index()

    monkeypatch.chdir(tmp_path)
    found = derived_cache.load_or_build(
        "concept-index", key, build, concepts.ConceptIndex, directory=cache
    )
    assert calls == [1] and found == concepts.default_index()
    assert not (tmp_path / "planted.txt").exists()


def test_a_directory_others_may_write_is_not_used(tmp_path: Path, shapes_copy: list[Path]) -> None:
    cache = tmp_path / "cache"
    good = engine.compiled_rules(shapes_copy, directory=cache)
    [entry] = _entries(cache, "compiled-shapes")
    cache.chmod(0o777)  # anyone could have replaced the entry
    before = derived_cache.builds["compiled-shapes"]
    assert engine.compiled_rules(shapes_copy, directory=cache) == good
    assert derived_cache.builds["compiled-shapes"] == before + 1  # built, not read
    cache.chmod(0o700)
    assert engine.compiled_rules(shapes_copy, directory=cache) == good
    assert derived_cache.builds["compiled-shapes"] == before + 1  # read again
    assert _entries(cache, "compiled-shapes") == [entry]


def test_an_unwritable_cache_only_costs_a_build(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    value = derived_cache.load_or_build("x", "k", lambda: "built", str, directory=blocker)
    assert value == "built"


def test_the_concept_index_comes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MBTKG_CACHE_DIR", str(tmp_path))
    built = concepts.ConceptIndex.from_quads(concepts.load_ontology_quads())
    concepts.default_index.cache_clear()
    try:
        before = derived_cache.builds["concept-index"]
        assert concepts.default_index() == built
        assert derived_cache.builds["concept-index"] == before + 1
        concepts.default_index.cache_clear()
        assert concepts.default_index() == built
        assert derived_cache.builds["concept-index"] == before + 1
        assert len(_entries(tmp_path / "derived", "concept-index")) == 1
    finally:
        concepts.default_index.cache_clear()


def _blank(quad: object) -> bool:
    import pyoxigraph as ox

    assert isinstance(quad, ox.Quad)
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def _shape(quad: object) -> str:
    """A quad with its blank nodes written as ``_``."""
    import pyoxigraph as ox

    assert isinstance(quad, ox.Quad)
    return " ".join(
        "_" if isinstance(t, ox.BlankNode) else str(t)
        for t in (quad.subject, quad.predicate, quad.object, quad.graph_name)
    )


def test_a_load_writes_the_ontology_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ontology graph a load writes comes from the cached N-Quads: built by the first
    load, read by the next, and in the store the same graph as the Turtle files parse to."""
    import pyoxigraph as ox

    from mbtkg import vocab
    from mbtkg.stores.oxigraph import OxigraphStore

    monkeypatch.setenv("MBTKG_CACHE_DIR", str(tmp_path / "cache"))
    example = [p for p in example_sessions() if p.suffix == ".yaml"][:1]
    # what the Turtle files parse to, as an Oxigraph store keeps it (the store itself writes
    # a literal such as "2"^^xsd:nonNegativeInteger as an xsd:integer)
    reference = ox.Store()
    reference.extend(concepts.load_ontology_quads())
    parsed = list(reference)
    concepts.default_ontology_nquads.cache_clear()
    before = derived_cache.builds["ontology-nquads"]
    try:
        for expected_builds in (1, 1):
            concepts.default_ontology_nquads.cache_clear()
            store = OxigraphStore(None)
            try:
                load(example, store, jobs=1, infer=False)
                graph = ox.NamedNode(vocab.ONTOLOGY_GRAPH)
                stored = list(store.raw.quads_for_pattern(None, None, None, graph))
            finally:
                store.close()
            assert derived_cache.builds["ontology-nquads"] == before + expected_builds
            # each store names blank nodes its own way: the quads without them must be the
            # same, and those with them the same up to the names
            assert len(stored) == len(parsed) > 5000
            assert {q for q in stored if not _blank(q)} == {q for q in parsed if not _blank(q)}
            assert sorted(map(_shape, stored)) == sorted(map(_shape, parsed))
        assert len(_entries(tmp_path / "cache" / "derived", "ontology-nquads")) == 1
    finally:
        concepts.default_ontology_nquads.cache_clear()


# ---------------------------------------------------------------- workers


@pytest.fixture()
def fresh_process_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache directory, nothing derived in this process yet, and a log of who
    built or read what (the log file is shared with forked workers)."""
    monkeypatch.setenv("MBTKG_CACHE_DIR", str(tmp_path / "cache"))
    concepts.default_index.cache_clear()
    concepts.default_ontology_nquads.cache_clear()
    engine.default_rules.cache_clear()
    monkeypatch.setattr(parallel, "_validator", None)
    log_path = tmp_path / "derived.log"
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("mbtkg.derived_cache")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield log_path
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()
        concepts.default_index.cache_clear()
        concepts.default_ontology_nquads.cache_clear()
        engine.default_rules.cache_clear()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Ten generated sessions: enough files and bytes that a load uses worker processes."""
    out = tmp_path_factory.mktemp("corpus")
    return list(generate_corpus(out / "c", sessions=10, seed=3, turns=120).files)


def _spy_pool(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import mbtkg.loading.workers as workers

    started: list[int] = []
    real = workers.process_pool

    def pool(jobs: int) -> object:
        started.append(jobs)
        return real(jobs)

    monkeypatch.setattr(workers, "process_pool", pool)
    return started


def test_load_workers_neither_build_nor_read_the_rules(
    fresh_process_state: Path, corpus: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _spy_pool(monkeypatch)
    store = open_store("oxigraph:memory")
    try:
        summary = load(corpus, store, jobs=2)
    finally:
        store.close()
    assert len(summary.sessions) == 10
    assert started == [2]  # worker processes did run
    lines = fresh_process_state.read_text().splitlines()
    me = os.getpid()
    # Built once, here (the rules before the workers started, the ontology's N-Quads for
    # the write); no worker built or read anything.
    assert sorted(lines) == [
        f"built compiled-shapes in process {me}",
        f"built concept-index in process {me}",
        f"built ontology-nquads in process {me}",
    ]


def test_with_a_warm_cache_nothing_is_built(
    fresh_process_state: Path, corpus: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = list(iter_checked(corpus, engine="fast", jobs=2))  # fills the cache
    concepts.default_index.cache_clear()
    engine.default_rules.cache_clear()
    monkeypatch.setattr(parallel, "_validator", None)
    fresh_process_state.write_text("")
    again = list(iter_checked(corpus, engine="fast", jobs=2))
    assert [c.sessions for _f, c in again] == [c.sessions for _f, c in chunks]
    me = os.getpid()
    assert sorted(fresh_process_state.read_text().splitlines()) == [
        f"read compiled-shapes from the cache in process {me}",
        f"read concept-index from the cache in process {me}",
    ]


def test_small_inputs_start_no_worker(
    fresh_process_state: Path, corpus: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _spy_pool(monkeypatch)
    store = open_store("oxigraph:memory")
    try:
        # Six example sessions (about 50 KB) and three generated ones: below the thresholds.
        assert len(load(example_sessions(), store, jobs=2).sessions) == 6
        assert len(load(corpus[:3], store, jobs=2).sessions) == 3
    finally:
        store.close()
    assert started == []
    seven = [str(p) for p in corpus[:7]]  # enough bytes, too few files
    assert sum(Path(p).stat().st_size for p in seven) >= parallel.SMALL_INPUT_BYTES
    assert not parallel.use_workers(seven, 2)
    assert not parallel.use_workers([str(p) for p in example_sessions()] * 2, 2)
    assert parallel.use_workers([str(p) for p in corpus], 2)
    assert not parallel.use_workers([str(p) for p in corpus], 1)


def test_a_bundled_query_changed_in_memory_is_parsed_and_refused() -> None:
    """The remembered verdicts are keyed by the query's text, not its name or file."""
    import dataclasses

    from mbtkg.queries import get_query
    from mbtkg.sparql_guard import UnsafeSparqlError

    query = get_query("rupture-repair-latency")
    query.check()  # the bundled text passes
    remote = query.sparql.replace(
        "WHERE {", "WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } ", 1
    )
    assert remote != query.sparql
    changed = dataclasses.replace(query, sparql=remote)
    with pytest.raises(UnsafeSparqlError, match="SERVICE"):
        changed.check()


def test_a_code_file_that_does_not_exist_is_an_error() -> None:
    """A key names the modules whose code decides an entry; a wrong name would make a key that
    never changes with that code, so it is refused."""
    from mbtkg.derived_cache import fingerprint

    assert fingerprint([], code=("vocab.py",))
    with pytest.raises(RuntimeError, match="no_such_module.py"):
        fingerprint([], code=("no_such_module.py",))
