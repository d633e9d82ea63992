"""Shared fixtures (the bundled example sessions and stores loaded with them), and the CI rule
that a test which should run here does not skip."""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from mbtkg.loading import load
from mbtkg.resources import example_sessions
from mbtkg.stores import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every cache of this test run (derived rules, validation results) in a directory of its
    own, inherited by the processes tests start: a test never writes to the user's cache, and
    a result remembered there from the user's own work cannot change what a test sees (a
    remembered validation skips reading the file)."""
    previous = os.environ.get("MBTKG_CACHE_DIR")
    os.environ["MBTKG_CACHE_DIR"] = str(tmp_path_factory.mktemp("mbtkg-cache"))
    yield
    if previous is None:
        os.environ.pop("MBTKG_CACHE_DIR", None)
    else:
        os.environ["MBTKG_CACHE_DIR"] = previous


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


# ------------------------------------------------------------------ no silent skips on CI

#: Skip reasons CI accepts (regular expression -> why the skip is right even on CI). Every
#: other skip fails the run when ``CI`` is set: CI installs Java (HermiT), Virtuoso, the
#: oxigraph server, Chromium and every test extra (the suggestion model too: .ci/run installs it),
#: so a test that skips there has lost what it tests.
ALLOWED_SKIPS_ON_CI: dict[str, str] = {}

pytest_plugins = ["pytester"]  # tests/test_ci_skips.py runs small suites in a subprocess


def on_ci() -> bool:
    """Whether this run is CI's (``CI`` set to true, 1 or yes, as CI services and .ci/run do)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _refuse_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not report.skipped or not on_ci() or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if any(re.search(pattern, reason) for pattern in ALLOWED_SKIPS_ON_CI):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"skipped on CI, where this test must run: {reason}\n"
        "(install what it needs, or add the reason to ALLOWED_SKIPS_ON_CI in tests/conftest.py "
        "with why the skip is right on CI)"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    _refuse_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, None]:
    outcome = yield
    _refuse_skip(outcome.get_result())
