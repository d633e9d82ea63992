"""`mbtkg load` compacts a disk store after a load that at least doubled it (a first load), and
not after a small load into a larger store; `--optimize` / `--no-optimize` decide otherwise.

A bulk load leaves its data in files of its own beside the store's, and every lookup searches
all of them: on a freshly loaded 10,000-session store one session's answers took up to 435 ms,
and 1-13 ms once compacted (docs/performance.md). The tests read the effect RocksDB leaves on
disk (fewer table files) besides the command's message, and check that the data is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.errors import StoreError
from mbtkg.generate import generate_corpus
from mbtkg.stores.oxigraph import OxigraphStore

COMPACTED = "for reading in"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("optimize-corpus")
    return sorted(generate_corpus(out, sessions=12, seed=5, turns=40).files)


def _load(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["load", *args])
    return result.exit_code, result.stderr


def _tables(store: Path) -> int:
    return len(list(store.glob("*.sst")))


def _quads(store: Path) -> int:
    opened = OxigraphStore(store, read_only=True)
    try:
        return len(opened.raw)
    finally:
        opened.close()


def test_a_first_load_into_a_disk_store_is_compacted(corpus: list[Path], tmp_path: Path) -> None:
    files = [str(p) for p in corpus[:10]]
    compacted, plain = tmp_path / "compacted", tmp_path / "plain"
    code, err = _load(*files, "--store", f"oxigraph:{compacted}")
    assert code == 0, err
    assert f"compacted oxigraph:{compacted} {COMPACTED}" in err
    code, err = _load(*files, "--store", f"oxigraph:{plain}", "--no-optimize")
    assert code == 0, err
    assert COMPACTED not in err
    assert _quads(compacted) == _quads(plain) > 10_000
    assert _tables(compacted) < _tables(plain)


def test_a_small_load_into_a_larger_store_is_not_compacted_unless_asked(
    corpus: list[Path], tmp_path: Path
) -> None:
    store = tmp_path / "kg"
    selector = f"oxigraph:{store}"
    code, err = _load(*(str(p) for p in corpus[:10]), "--store", selector)
    assert code == 0 and COMPACTED in err, err
    code, err = _load(str(corpus[10]), "--store", selector)
    assert code == 0, err
    assert COMPACTED not in err  # 1 session into 10 does not double the store
    before = _tables(store)
    code, err = _load(str(corpus[11]), "--store", selector, "--optimize")
    assert code == 0, err
    assert f"compacted {selector} {COMPACTED}" in err
    assert _tables(store) < before + 1  # the new session's files were merged too


def test_optimize_on_the_memory_store_says_there_is_nothing_to_compact(
    corpus: list[Path],
) -> None:
    code, err = _load(str(corpus[0]), "--optimize")
    assert code == 0, err
    assert "--optimize: oxigraph:memory has nothing to compact" in err
    assert COMPACTED not in err


def test_a_read_only_store_is_not_compacted(corpus: list[Path], tmp_path: Path) -> None:
    store = tmp_path / "kg"
    code, err = _load(str(corpus[0]), "--store", f"oxigraph:{store}", "--no-optimize")
    assert code == 0, err
    opened = OxigraphStore(store, read_only=True)
    try:
        with pytest.raises(StoreError, match="opened read-only; nothing was changed"):
            opened.optimize()
    finally:
        opened.close()
    assert OxigraphStore().optimize() is None  # in memory: nothing to compact
