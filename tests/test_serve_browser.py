"""The page of ``mbtkg serve`` in headless Chromium: YASGUI loads offline with the examples.

Chromium runs with background networking off and a fresh profile; the page loads only from
the local server, so a CDN reference would leave the editor missing and fail this test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_process import mbtkg_serve

from mbtkg.serve.page import examples

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with mbtkg_serve() as base:
        yield base


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=8000",
            "--window-size=1280,900",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_dom_holds_the_editor_and_every_example(url: str, tmp_path: Path) -> None:
    result = chromium(f"{url}/", tmp_path / "profile", "--dump-dom")
    dom = result.stdout
    assert 'class="yasgui' in dom, result.stderr[-2000:]
    assert "CodeMirror" in dom, "the YASQE editor did not start"
    tab_names = re.findall(r'role="tab"[^>]*>.*?<span>([^<]*)</span>', dom, re.S)
    titles = [e["title"] for e in examples()]
    assert tab_names == titles
    first = examples()[0]
    assert "# title: " + first["title"] in re.sub(r"<[^>]+>", "", dom)


def test_a_screenshot_shows_the_page(url: str, tmp_path: Path) -> None:
    shot = tmp_path / "serve.png"
    result = chromium(f"{url}/", tmp_path / "profile", f"--screenshot={shot}")
    assert shot.is_file(), result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 900)
    assert len(data) > 30_000, "an almost blank page compresses to a few kilobytes"
