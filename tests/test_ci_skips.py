"""On CI (``CI=true``) a skipped test fails the run, unless its reason is on the allowed list."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parent / "conftest.py"

SUITE = """
import pytest


def test_runs() -> None:
    assert 1 + 1 == 2


def test_skips() -> None:
    pytest.skip("virtuoso-t is not installed")


@pytest.mark.skipif(True, reason="chromium is not installed")
def test_marked() -> None:
    pass


@pytest.mark.xfail(strict=True, reason="a known deviation")
def test_known() -> None:
    assert False
"""

MODULE_SKIP = """
import pytest

pytest.importorskip("a_module_that_is_not_installed_anywhere", reason="an extra is absent")


def test_never_collected() -> None:
    pass
"""


@pytest.fixture()
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copy(CONFTEST, pytester.path / "conftest.py")
    pytester.makepyfile(test_suite=SUITE, test_module_skip=MODULE_SKIP)
    return pytester


def test_skips_pass_off_ci(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:doctest")
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)


def test_skips_fail_on_ci_with_their_reason(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:doctest", "--continue-on-collection-errors"
    )
    # a skip in the test fails it; a skip in setup (a skipif mark) or collection is an error
    result.assert_outcomes(passed=1, failed=1, errors=2, xfailed=1)
    out = result.stdout.str()
    assert "skipped on CI, where this test must run: virtuoso-t is not installed" in out
    assert "skipped on CI, where this test must run: chromium is not installed" in out
    assert "skipped on CI, where this test must run: an extra is absent" in out
    assert result.ret == pytest.ExitCode.TESTS_FAILED
