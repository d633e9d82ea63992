"""One way to start worker processes: the pool module, and that nobody starts another."""

from __future__ import annotations

import ast
import multiprocessing
import sys
from pathlib import Path

import pytest

import mbtkg
from mbtkg.process_pool import default_jobs, process_pool, start_method

#: Set after import: a forked worker sees it, a spawned one would see the value at import.
_parent_state = {"value": "at import"}


def _seen_in_worker(_: int) -> tuple[str, str]:
    return _parent_state["value"], multiprocessing.current_process().name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is the Linux start method")
def test_workers_are_forked_and_inherit_the_parents_state() -> None:
    assert start_method() == "fork"
    _parent_state["value"] = "set by the parent"
    try:
        with process_pool(2) as pool:
            seen = list(pool.map(_seen_in_worker, range(4)))
    finally:
        _parent_state["value"] = "at import"
    assert {value for value, _name in seen} == {"set by the parent"}
    assert all(name != "MainProcess" for _value, name in seen)


def test_default_jobs_is_a_positive_count() -> None:
    jobs = default_jobs()
    assert isinstance(jobs, int) and 1 <= jobs <= (multiprocessing.cpu_count() or 1)


def _pool_starters(path: Path) -> list[int]:
    """Lines of a module that build a process pool or pick a start method themselves."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = name or (node.func.id if isinstance(node.func, ast.Name) else None)
            if name in {"ProcessPoolExecutor", "Pool"}:
                found.append(node.lineno)
    return found


def test_no_module_but_process_pool_starts_a_pool() -> None:
    package = Path(mbtkg.__file__).parent
    others = {
        str(p.relative_to(package)): lines
        for p in sorted(package.rglob("*.py"))
        if p.name != "process_pool.py" and (lines := _pool_starters(p))
    }
    assert others == {}
