"""Stores say what they can do (bulk loads, dialect, serving); callers ask, never test a class."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox
import pytest

import mbtkg
import mbtkg.stores
from mbtkg.loading import load, session_ids
from mbtkg.queries import repeats_restrictions
from mbtkg.resources import example_sessions
from mbtkg.stores.base import CAPABILITIES, DIALECTS, Store, is_servable
from mbtkg.stores.oxigraph import OxigraphStore
from mbtkg.stores.oxigraph_bulk import BulkGraphLoad
from mbtkg.stores.settings import RemoteSettings
from mbtkg.stores.sparql_http import SparqlHttpStore

FLAGS = ("can_bulk_load", "servable", "compacts")


def _store_classes() -> list[type]:
    """Every class in mbtkg.stores that writes graphs: each is a Store backend."""
    found = []
    for info in pkgutil.iter_modules(mbtkg.stores.__path__, "mbtkg.stores."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if getattr(cls, "_is_protocol", False) or cls.__module__ != module.__name__:
                continue
            if callable(getattr(cls, "replace_graphs", None)):
                found.append(cls)
    return found


def test_the_store_classes_are_the_two_backends() -> None:
    assert {c.__name__ for c in _store_classes()} == {"OxigraphStore", "SparqlHttpStore"}


@pytest.mark.parametrize("cls", _store_classes(), ids=lambda c: c.__name__)
def test_every_store_class_declares_every_capability(cls: type) -> None:
    for flag in FLAGS:
        assert isinstance(vars(cls).get(flag), bool), f"{cls.__name__} does not declare {flag}"
    for method in ("dialect", "bulk_load", "optimize"):
        assert callable(vars(cls).get(method)), f"{cls.__name__} does not define {method}()"
    assert set(CAPABILITIES) == {*FLAGS, "recovered", "dialect", "bulk_load", "optimize"}


def _remote() -> SparqlHttpStore:
    # Nothing listens on port 9 and nothing is sent: only declarations are read.
    return SparqlHttpStore(
        "sparql+http://127.0.0.1:9/sparql", settings=RemoteSettings(dialect="standard")
    )


def test_the_declared_capabilities_of_each_backend() -> None:
    memory, remote = OxigraphStore(), _remote()
    try:
        for store in (memory, remote):
            assert isinstance(store, Store)
            assert store.dialect() in DIALECTS
            assert store.recovered == ()
        assert (memory.can_bulk_load, memory.servable, is_servable(memory)) == (True, True, True)
        assert (remote.can_bulk_load, remote.servable, is_servable(remote)) == (True, False, False)
        # only an embedded store compacts (on disk); memory and a server have nothing to
        assert (memory.compacts, remote.compacts) == (True, False)
        assert memory.optimize() is None and remote.optimize() is None
        remote_load = remote.bulk_load()  # asks the server nothing until the first graph
        remote_load.abort()
    finally:
        memory.close()
        remote.close()


class _NoBulkOxigraph(OxigraphStore):
    """A real Oxigraph store that says it cannot bulk-load; it counts its writes."""

    can_bulk_load = False

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[set[str]] = []

    def bulk_load(self) -> BulkGraphLoad:
        raise AssertionError("bulk_load called on a store that declares it cannot bulk-load")

    def replace_graphs(self, graphs: Mapping[str, Sequence[ox.Quad]]) -> None:
        self.writes.append(set(graphs))
        super().replace_graphs(graphs)


def test_a_load_honours_a_store_that_cannot_bulk_load() -> None:
    store = _NoBulkOxigraph()
    try:
        files = example_sessions()[:2]
        summary = load(files, store, jobs=1)
        assert len(summary.sessions) == 2
        assert len(session_ids(store)) == 2
        # one atomic write holding both sessions, their inferred graphs and the ontology graph
        assert len(store.writes) == 1 and len(store.writes[0]) == 5
        assert mbtkg.vocab.ONTOLOGY_GRAPH in store.writes[0]
        assert sum(g.endswith("/inferred") for g in store.writes[0]) == 2
    finally:
        store.close()


class _VirtuosoSpeaking(OxigraphStore):
    def dialect(self) -> str:
        return "virtuoso"


class _NotServable(OxigraphStore):
    servable = False


def test_queries_and_serve_ask_the_store_not_its_class() -> None:
    plain, virtuoso, hidden = OxigraphStore(), _VirtuosoSpeaking(), _NotServable()
    try:
        assert repeats_restrictions(plain) is True
        assert repeats_restrictions(virtuoso) is False
        assert is_servable(plain) and not is_servable(hidden)
    finally:
        for store in (plain, virtuoso, hidden):
            store.close()


def _class_checks(path: Path) -> list[str]:
    """``isinstance(x, …Store)`` and ``getattr(x, "bulk_load" …)`` checks in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        args = [ast.unparse(a) for a in node.args]
        if node.func.id == "isinstance" and len(args) == 2 and args[1].endswith("Store"):
            found.append(f"{path.name}:{node.lineno}")
        capability = len(args) >= 2 and args[1].strip("'\"") in CAPABILITIES
        if node.func.id in {"getattr", "hasattr"} and capability:
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_call_site_tests_a_store_class_or_probes_a_capability() -> None:
    package = Path(mbtkg.__file__).parent
    assert [hit for p in sorted(package.rglob("*.py")) for hit in _class_checks(p)] == []
