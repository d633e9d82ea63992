"""Loads of many sessions: written as they are checked, undone on failure, recovered after a crash.

``mbtkg.loading.load`` writes sessions to an Oxigraph store while worker processes are still
reading later files (see ``mbtkg.stores.oxigraph_bulk``). These tests force a write after
every session (a tiny flush size) so that a failure or a crash really happens after data has
reached the store, and check that the store ends as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_load_atomic import ALREADY_THERE, SHACL_BAD, snapshot

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.errors import ValidationFailed
from mbtkg.generate import generate_corpus
from mbtkg.loading import LoadInputError, load, read_graphs, session_ids
from mbtkg.stores import open_store, oxigraph_bulk
from mbtkg.stores.oxigraph import OxigraphStore


@pytest.fixture()
def corpus(tmp_path: Path) -> list[Path]:
    """Twelve small generated sessions (enough for worker processes to be used)."""
    out = tmp_path / "corpus"
    generate_corpus(out, sessions=12, seed=3, turns=12)
    return sorted(out.glob("*.yaml"))


@pytest.fixture()
def flush_every_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oxigraph_bulk, "FLUSH_BYTES", 1)


def test_an_in_memory_store_is_given_each_graph_as_it_arrives(corpus: list[Path]) -> None:
    """In memory, a session is written when it is added (the loading process is otherwise idle
    while workers check the next files), and an abort still removes it; on disk, graphs wait
    in the buffer for one large bulk load."""
    graphs, errors = read_graphs(corpus[:2])
    assert not errors
    store = OxigraphStore(None)
    writer = store.bulk_load()
    writer.add(graphs[0].graph, graphs[0].nquads)
    assert store.graph_size(graphs[0].graph) == len(graphs[0])
    writer.add(graphs[1].graph, graphs[1].nquads)
    assert store.graph_size(graphs[1].graph) == len(graphs[1])
    writer.abort()
    assert store.graph_names() == []


def test_an_on_disk_store_buffers_graphs_until_the_flush(
    tmp_path: Path, corpus: list[Path]
) -> None:
    graphs, errors = read_graphs(corpus[:1])
    assert not errors
    store = OxigraphStore(tmp_path / "db")
    try:
        writer = store.bulk_load()
        writer.add(graphs[0].graph, graphs[0].nquads)
        assert store.graph_names() == []
        writer.commit()
        assert store.graph_size(graphs[0].graph) == len(graphs[0])
    finally:
        store.close()


@pytest.mark.parametrize("where", ["memory", "disk"])
def test_a_failure_after_writes_removes_what_was_written(
    where: str, tmp_path: Path, corpus: list[Path], flush_every_session: None
) -> None:
    store = OxigraphStore(None if where == "memory" else tmp_path / "db")
    try:
        load([ALREADY_THERE], store)
        before = snapshot(store)
        # Eleven good sessions are written before the bad file, the last one, is checked.
        with pytest.raises(ValidationFailed):
            load([*corpus[:11], SHACL_BAD], store, jobs=2)
        assert snapshot(store) == before
        assert session_ids(store) == ["valid-one-turn"]
        assert not (tmp_path / "db" / oxigraph_bulk.JOURNAL).exists()
    finally:
        store.close()


def test_an_unreadable_file_after_writes_removes_them_too(
    tmp_path: Path, corpus: list[Path], flush_every_session: None
) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("session: [unclosed\n", encoding="utf-8")
    store = OxigraphStore(tmp_path / "db")
    try:
        with pytest.raises(LoadInputError) as info:
            load([*corpus, bad], store, jobs=2)
        assert str(bad) in str(info.value)
        assert session_ids(store) == []
        assert store.graph_names() == []
    finally:
        store.close()


def test_skip_invalid_keeps_the_good_sessions_written_before_a_bad_one(
    tmp_path: Path, corpus: list[Path], flush_every_session: None
) -> None:
    store = OxigraphStore(tmp_path / "db")
    try:
        summary = load([*corpus[:5], SHACL_BAD, *corpus[5:8]], store, skip_invalid=True, jobs=2)
        assert summary.skipped == (str(SHACL_BAD),)
        assert len(summary.sessions) == 8
        assert sorted(summary.sessions) == session_ids(store)
        assert vocab.ONTOLOGY_GRAPH in store.graph_names()
    finally:
        store.close()


def test_a_large_load_gives_the_same_graph_as_a_small_one(
    tmp_path: Path, corpus: list[Path], flush_every_session: None
) -> None:
    one_by_one = OxigraphStore(tmp_path / "piecewise")
    whole = OxigraphStore()
    try:
        load(corpus, one_by_one, jobs=2)
        oxigraph_bulk.FLUSH_BYTES = 1 << 40  # the fixture puts the value back
        load(corpus, whole, jobs=1)
        assert snapshot(one_by_one) == snapshot(whole)
        assert len(session_ids(whole)) == len(corpus)
    finally:
        one_by_one.close()


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from mbtkg.loading import read_graphs
    from mbtkg.stores.oxigraph import OxigraphStore

    store = OxigraphStore(sys.argv[1])
    graphs, errors = read_graphs(sorted(Path(sys.argv[2]).glob("*.yaml")))
    assert not errors, errors
    load = store.bulk_load()
    load._flush_bytes = 1  # write each session as soon as it is added
    for g in graphs:
        load.add(g.graph, g.nquads)
    print(len(store.graph_names()), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # dies before commit: the journal stays behind
    """
)


def _killed_load(directory: Path, corpus: list[Path]) -> Counter[tuple[object, ...]]:
    """Load one session, then kill a process in the middle of adding the corpus; return the
    snapshot of the store before the killed load."""
    store = open_store(f"oxigraph:{directory}")
    load([ALREADY_THERE], store)
    before = snapshot(store)
    store.close()
    folder = corpus[0].parent
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(directory), str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == -9, done.stderr
    graphs_when_killed = int(done.stdout.strip())
    # ontology, the old session and its inferred graph, the new sessions
    assert graphs_when_killed == 3 + len(corpus)
    assert (directory / oxigraph_bulk.JOURNAL).exists()
    return before


def test_the_next_open_undoes_a_load_killed_before_it_finished(
    tmp_path: Path, corpus: list[Path]
) -> None:
    directory = tmp_path / "db"
    before = _killed_load(directory, corpus)
    reopened = OxigraphStore(directory)
    try:
        assert len(reopened.recovered) == len(corpus)
        assert snapshot(reopened) == before
        assert not (directory / oxigraph_bulk.JOURNAL).exists()
    finally:
        reopened.close()


def test_mbtkg_load_says_when_it_undid_an_interrupted_load(
    tmp_path: Path, corpus: list[Path]
) -> None:
    directory = tmp_path / "db"
    _killed_load(directory, corpus)
    run = CliRunner().invoke(main, ["load", str(corpus[0]), "--store", f"oxigraph:{directory}"])
    assert run.exit_code == 0, run.output
    assert f"{len(corpus)} graph(s) were dropped when the store was opened" in run.output
    assert "loaded 1 session(s)" in run.output


def test_mbtkg_load_takes_a_number_of_jobs(tmp_path: Path, corpus: list[Path]) -> None:
    files = [str(p) for p in corpus]
    for jobs in ("1", "2"):
        store = f"oxigraph:{tmp_path / f'db-{jobs}'}"
        run = CliRunner().invoke(main, ["load", *files, "--jobs", jobs, "--store", store])
        assert run.exit_code == 0, run.output
        assert f"loaded {len(corpus)} session(s)" in run.output
    refused = CliRunner().invoke(main, ["load", *files, "--jobs", "0"])
    assert refused.exit_code == 2
    assert "--jobs" in refused.output
