"""One on-disk store for the analysis, graph and plot tests, loaded once per test run.

It holds the flagship example ``susan-12`` and the small fixture sessions of
``tests/fixtures/analysis/`` (tiny-01, tiny-02, three-coders), so the expected values do not
move when the example corpus grows. Loading validates every session, which takes seconds, so it
happens once; each test opens the store, and closes it before the CLI opens it again.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from mbtkg.loading import PreparedLoad, prepare, write
from mbtkg.resources import example_sessions
from mbtkg.stores import Store, open_store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "analysis"


@cache
def prepared() -> PreparedLoad:
    """susan-12 and the fixture sessions, read and validated once (validation is the slow part)."""
    files = [p for p in example_sessions() if p.stem == "susan-12"]
    return prepare([*files, *sorted(FIXTURES.glob("*.yaml"))])


@cache
def store_selector() -> str:
    """The selector of the loaded test store (``oxigraph:DIR``), created on first use."""
    directory = Path(tempfile.mkdtemp(prefix="mbtkg-analysis-"))
    atexit.register(shutil.rmtree, directory, True)
    selector = f"oxigraph:{directory / 'store'}"
    store = open_store(selector)
    try:
        write(prepared(), store)
    finally:
        store.close()
    return selector


@contextmanager
def analysis_store() -> Iterator[Store]:
    """The loaded test store, open for the duration of a ``with`` block."""
    store = open_store(store_selector())
    try:
        yield store
    finally:
        store.close()
