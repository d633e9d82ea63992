"""``mbtkg annotate`` refuses what it must, over raw HTTP, and changes nothing when it does.

The app runs as a real subprocess on loopback over a copy of the example sessions, with a file
outside the folder (and symbolic links to it) that no request may read or write.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from annotate_process import Running, mbtkg_annotate

from mbtkg.resources import example_sessions

FILE = "susan-12.yaml"


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("annotate-security")
    folder = root / "sessions"
    folder.mkdir()
    for path in example_sessions():
        shutil.copy(path, folder / Path(path).name)
    outside = root / "outside.yaml"
    shutil.copy(folder / FILE, outside)
    (folder / "link-out.yaml").symlink_to(outside)
    (root / "elsewhere").mkdir()
    (folder / "sub").symlink_to(root / "elsewhere", target_is_directory=True)
    shutil.copy(folder / FILE, root / "elsewhere" / "inner.yaml")
    (folder / "notes.txt").write_text("not a session\n")
    return root


@pytest.fixture(scope="module")
def app(place: Path) -> Iterator[Running]:
    with mbtkg_annotate(place / "sessions") as running:
        yield running


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def request(
    app: Running,
    method: str,
    path: str,
    body: object | None = None,
    *,
    headers: dict[str, str] | None = None,
    token: bool = True,
) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=120)
    sent = {"Host": f"127.0.0.1:{app.port}"}
    if token:
        sent["X-Mbtkg-Token"] = app.token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for k, v in sent.items():
        conn.putheader(k, v)
    if data is not None and "Content-Length" not in sent:
        conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = {"raw": raw.decode("utf-8", "replace")}
    return response.status, parsed


def session_version(app: Running, name: str = FILE) -> str:
    status, view = request(app, "GET", f"/api/session?file={name}")
    assert status == 200, view
    return str(view["version"])


def an_edit(app: Running) -> dict[str, object]:
    return {
        "file": FILE,
        "version": session_version(app),
        "op": "add",
        "fields": {"concept": "mentalizing", "turns": 3, "annotator": "A-2"},
    }


def test_the_token_is_needed_for_the_page_and_every_call(app: Running, place: Path) -> None:
    before = digest(place / "sessions" / FILE)
    assert request(app, "GET", "/", token=False)[0] == 401
    assert request(app, "GET", "/?token=wrong", token=False)[0] == 403
    assert request(app, "GET", f"/?token={app.token}", token=False)[0] == 200
    assert request(app, "GET", "/api/files", token=False)[0] == 401
    assert request(app, "GET", "/api/files", headers={"X-Mbtkg-Token": "x" * 43})[0] == 403
    status, answer = request(app, "POST", "/api/edit", an_edit(app), token=False)
    assert status == 401, answer
    # the token in the query string does not stand in for the header on API calls
    assert request(app, "POST", f"/api/edit?token={app.token}", an_edit(app), token=False)[0] == 401
    assert digest(place / "sessions" / FILE) == before


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "127.0.0.1:1", "localhost.evil.example:{port}", ""]
)
def test_a_foreign_host_is_refused(app: Running, place: Path, host: str) -> None:
    before = digest(place / "sessions" / FILE)
    edit = an_edit(app)
    status, answer = request(
        app, "POST", "/api/edit", edit, headers={"Host": host.format(port=app.port)}
    )
    assert status == 403, answer
    assert request(app, "GET", "/api/files", headers={"Host": host.format(port=app.port)})[0] == 403
    assert digest(place / "sessions" / FILE) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_foreign_origin_is_refused(app: Running, place: Path, headers: dict[str, str]) -> None:
    before = digest(place / "sessions" / FILE)
    status, answer = request(app, "POST", "/api/edit", an_edit(app), headers=headers)
    assert status == 403, answer
    assert digest(place / "sessions" / FILE) == before


def test_the_own_origin_may_write(app: Running, place: Path) -> None:
    """The refusals above are not a server that refuses everything."""
    target = place / "sessions" / "noor-02.yaml"
    before = target.read_text()
    version = session_version(app, "noor-02.yaml")
    edit: dict[str, object] = {"file": "noor-02.yaml", "version": version, "op": "add"}
    edit["fields"] = {"concept": "mentalizing", "turns": 2, "annotator": "A-1"}
    status, answer = request(
        app, "POST", "/api/edit", edit, headers={"Origin": f"http://127.0.0.1:{app.port}"}
    )
    assert status == 200, answer
    after = target.read_text()
    assert after.startswith(before)
    assert after[len(before) :].count("\n") == 1 and "concept: mentalizing" in after[len(before) :]


@pytest.mark.parametrize(
    "name",
    [
        "../outside.yaml",
        "sub/../../outside.yaml",
        "/etc/passwd",
        "{root}/outside.yaml",
        "link-out.yaml",
        "sub/inner.yaml",
        "notes.txt",
        ".hidden.yaml",
        "./susan-12.yaml",
        "susan-12.yaml\x00.txt",
        "..\\outside.yaml",
    ],
)
def test_a_path_outside_the_folder_is_refused(app: Running, place: Path, name: str) -> None:
    name = name.format(root=place)
    watched = [
        place / "outside.yaml",
        place / "elsewhere" / "inner.yaml",
        place / "sessions" / FILE,
    ]
    before = [digest(p) for p in watched]
    status, answer = request(app, "GET", "/api/session?" + _query(name))
    assert 400 <= status < 500, answer
    assert "version" not in answer
    edit: dict[str, object] = {"file": name, "version": digest(place / "outside.yaml"), "op": "add"}
    edit["fields"] = {"concept": "mentalizing", "turns": 3, "annotator": "A-1"}
    status, answer = request(app, "POST", "/api/edit", edit)
    assert 400 <= status < 500, answer
    status, answer = request(app, "POST", "/api/suggest", {"file": name, "turn": 3})
    assert 400 <= status < 500, answer
    assert [digest(p) for p in watched] == before


def _query(name: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"file": name})


def test_only_session_files_are_listed(app: Running) -> None:
    status, answer = request(app, "GET", "/api/files")
    assert status == 200
    listed = answer["files"]
    assert isinstance(listed, list)
    files = [f["file"] for f in listed]
    assert files == sorted(Path(p).name for p in example_sessions())


def test_bodies_are_bounded_and_must_be_json(app: Running, place: Path) -> None:
    before = digest(place / "sessions" / FILE)
    big = an_edit(app)
    big["fields"]["note"] = "x" * 300_000  # type: ignore[index]
    assert request(app, "POST", "/api/edit", big)[0] == 413
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=60)
    conn.putrequest("POST", "/api/edit", skip_host=True)
    conn.putheader("Host", f"127.0.0.1:{app.port}")
    conn.putheader("X-Mbtkg-Token", app.token)
    conn.putheader("Content-Type", "application/json")
    conn.endheaders()
    assert conn.getresponse().status == 411
    conn.close()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert request(app, "POST", "/api/edit", an_edit(app), headers=form)[0] == 415
    assert digest(place / "sessions" / FILE) == before


def test_a_stale_version_is_a_conflict(app: Running, place: Path) -> None:
    before = digest(place / "sessions" / FILE)
    edit = an_edit(app)
    edit["version"] = "0" * 64
    status, answer = request(app, "POST", "/api/edit", edit)
    assert status == 409 and answer["conflict"] is True
    assert digest(place / "sessions" / FILE) == before
