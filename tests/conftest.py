"""Shared fixtures: the bundled example sessions and stores loaded with them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mbtkg.loading import load
from mbtkg.resources import example_sessions
from mbtkg.stores import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def susan_path() -> Path:
    """The flagship example session."""
    return next(p for p in example_sessions() if p.stem == "susan-12")


@pytest.fixture()
def memory_store() -> Iterator[Store]:
    """An empty in-memory store."""
    store = open_store("oxigraph:memory")
    yield store
    store.close()


@pytest.fixture(scope="session")
def example_store() -> Store:
    """An in-memory store holding every bundled example session (read-only by convention)."""
    store = open_store("oxigraph:memory")
    load(example_sessions(), store)
    return store
