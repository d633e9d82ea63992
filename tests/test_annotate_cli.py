"""``mbtkg annotate`` from the command line: it opens on the examples, and says what is wrong."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path

from annotate_process import mbtkg_annotate
from click.testing import CliRunner
from example_session_facts import all_coded_turns, counts

from mbtkg.cli import main
from mbtkg.resources import example_sessions


def test_annotate_opens_on_the_example_sessions() -> None:
    folder = Path(example_sessions()[0]).parent
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    with mbtkg_annotate(folder) as app:
        with urllib.request.urlopen(app.url, timeout=120) as page:
            html = page.read().decode()
        assert page.status == 200
        assert "<title>mbtkg annotate</title>" in html and "X-Mbtkg-Token" in html
        request = urllib.request.Request(
            f"{app.base}/api/files", headers={"X-Mbtkg-Token": app.token}
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            files = json.load(answer)["files"]
    assert [f["file"] for f in files] == sorted(Path(p).name for p in example_sessions())
    assert all(f["state"] == "ok" and f["problems"] == 0 for f in files)
    susan = next(f for f in files if f["file"] == "susan-12.yaml")
    expected = counts(folder / "susan-12.yaml")
    assert (susan["turns"], susan["annotations"], susan["annotators"]) == expected
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()} == before


def test_a_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["annotate", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere: not a folder" in result.output


def test_suggestions_measure_prints_the_table() -> None:
    result = CliRunner().invoke(main, ["suggestions", "measure"])
    assert result.exit_code == 0, result.output
    assert "6 sessions, leave-one-session-out" in result.output
    row = f"| mbtkg-lexical (BM25) | ontology + other sessions | {all_coded_turns()} |"
    assert row in result.output


def test_a_taken_port_is_an_input_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["annotate", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on port {port}" in result.output
