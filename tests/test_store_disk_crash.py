"""The on-disk store under a crash and under a second process.

A subprocess writes a large set of sessions (copies of an example under new ids) into an
on-disk store that already holds an older version of the same sessions, and is killed with
SIGKILL in the middle of the write. Opened afterwards, the store holds either every old session
or every new one, never a mix. The subprocess uses the same write path as ``mbtkg load``
(``mbtkg.loading.write``); it skips SHACL validation, which is slow and not what is tested here.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.errors import StoreError
from mbtkg.resources import example_sessions
from mbtkg.stores import Store, open_store

COPIES = 40

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from mbtkg import vocab
    from mbtkg.loading import PreparedLoad, ontology_graph_quads, read_graphs, write
    from mbtkg.stores import open_store

    store_dir, folder = sys.argv[1], Path(sys.argv[2])
    graphs, errors = read_graphs(sorted(folder.glob("*.yaml")))
    assert not errors, errors
    batch = {vocab.ONTOLOGY_GRAPH: ontology_graph_quads()}
    batch.update({g.graph: g.quads for g in graphs})
    prepared = PreparedLoad(batch, tuple(g.session_id for g in graphs),
                            sum(len(g) for g in graphs), (), 0.0)
    store = open_store("oxigraph:" + store_dir)
    print("writing", flush=True)
    write(prepared, store)
    store.close()
    print("done", flush=True)
    """
)


def make_sessions(folder: Path, *, version: str) -> None:
    """COPIES copies of the Susan example, ids big-000…, text marked with ``version``."""
    source = next(p for p in example_sessions() if p.stem == "susan-12").read_text("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(COPIES):
        text = source.replace("id: susan-12", f"id: big-{i:03d}", 1)
        assert text != source, "the example's id line moved; update this test"
        text = text.replace('text: "', f'text: "[{version}] ')
        (folder / f"big-{i:03d}.yaml").write_text(text, encoding="utf-8")


def run_writer(store_dir: Path, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store_dir), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def versions(store: Store) -> dict[str, set[str]]:
    """For each big-* session: which version markers its turn texts carry."""
    rows = store.select(
        "PREFIX mbt: <https://w3id.org/mbtkg/ontology#> "
        "SELECT ?g ?text WHERE { GRAPH ?g { ?t mbt:text ?text } "
        'FILTER (CONTAINS(STR(?g), "/session/big-")) }'
    )
    out: dict[str, set[str]] = {}
    for g, text in rows.rows:
        marker = str(text).split("]", 1)[0].lstrip("[") if str(text).startswith("[") else "?"
        out.setdefault(str(g), set()).add(marker)
    return out


def sizes(store: Store) -> dict[str, int]:
    return {g: store.graph_size(g) for g in store.graph_names() if "/session/big-" in g}


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("crash")
    make_sessions(base / "old", version="old")
    make_sessions(base / "new", version="new")
    return base / "old", base / "new"


@pytest.fixture(scope="module")
def old_store(
    tmp_path_factory: pytest.TempPathFactory, old_and_new: tuple[Path, Path]
) -> tuple[Path, dict[str, int]]:
    """A closed on-disk store holding the old version of every big-* session, and its sizes."""
    store_dir = tmp_path_factory.mktemp("old-store") / "store"
    _write_and_wait(store_dir, old_and_new[0])
    with _opened(store_dir) as store:
        old_sizes = sizes(store)
        assert len(old_sizes) == COPIES
        assert all(v == {"old"} for v in versions(store).values())
    return store_dir, old_sizes


def _write_and_wait(store_dir: Path, folder: Path) -> None:
    writer = run_writer(store_dir, folder)
    out, err = writer.communicate(timeout=600)
    assert writer.returncode == 0, err
    assert out.split() == ["writing", "done"]


@pytest.mark.parametrize("delay", [0.1, 1.0])
def test_a_killed_load_leaves_old_or_new_never_a_mix(
    tmp_path: Path,
    old_and_new: tuple[Path, Path],
    old_store: tuple[Path, dict[str, int]],
    delay: float,
) -> None:
    store_dir = tmp_path / "store"
    shutil.copytree(old_store[0], store_dir)
    writer = run_writer(store_dir, old_and_new[1])
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "writing"
    time.sleep(delay)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)

    with _opened(store_dir) as store:
        found = versions(store)
        assert len(found) == COPIES, "a session graph went missing"
        markers = set().union(*found.values())
        assert markers in ({"old"}, {"new"}), f"a mix of versions: {sorted(markers)}"
        assert sizes(store) == old_store[1]  # the versions differ in text only


def test_the_new_version_differs_from_the_old(
    tmp_path: Path, old_and_new: tuple[Path, Path], old_store: tuple[Path, dict[str, int]]
) -> None:
    """Without a kill, the write completes: the crash test can tell old from new."""
    store_dir = tmp_path / "store"
    shutil.copytree(old_store[0], store_dir)
    _write_and_wait(store_dir, old_and_new[1])
    with _opened(store_dir) as store:
        assert set().union(*versions(store).values()) == {"new"}
        assert sizes(store) == old_store[1]


class _opened:
    """Open an on-disk store and close it on exit (the store releases its lock)."""

    def __init__(self, store_dir: Path) -> None:
        self.store = open_store(f"oxigraph:{store_dir}")

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from mbtkg.stores import open_store
    store = open_store("oxigraph:" + sys.argv[1])
    print("holding", flush=True)
    time.sleep(120)
    """
)


def test_a_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreError, match="in use by another process"):
            open_store(f"oxigraph:{store_dir}")
        result = CliRunner().invoke(main, ["sessions", "--store", f"oxigraph:{store_dir}"])
        assert result.exit_code == 2
        assert "in use by another process" in result.output
        assert "stop that process or choose another directory" in result.output
    finally:
        holder.kill()
        holder.wait(timeout=30)
