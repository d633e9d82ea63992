"""Untrusted archives and XML: traversal, zip bombs and entities are refused; nothing is extracted."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.errors import InputError
from mbtkg.safe_archive import ArchiveLimits, SafeArchive, UnsafeArchiveError, check_member_name
from mbtkg.safe_xml import UnsafeXmlError, parse_xml
from mbtkg.sessions.eaf_reader import read_eaf
from mbtkg.sessions.qdpx_reader import read_qdpx

PROJECT = b'<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="x"/>'

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Project [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&secret;"/>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol4;"/>"""


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory so any extraction would show up in it."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", "climbs out of the archive"),
        ("sources/../../evil.txt", "climbs out of the archive"),
        ("/etc/evil.txt", "absolute path"),
        ("..\\evil.txt", "climbs out of the archive"),
        ("C:/evil.txt", "drive letter"),
    ],
)
def test_member_names_that_escape_are_refused(
    name: str, why: str, workdir: Path, tmp_path: Path
) -> None:
    archive = _zip(tmp_path / "evil.qdpx", {"project.qde": PROJECT, name: b"pwned"})
    with pytest.raises(UnsafeArchiveError) as info:
        read_qdpx(archive, mapping=None)
    assert why in str(info.value) and "nothing was extracted" in str(info.value)
    assert list(workdir.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_plain_names_are_accepted() -> None:
    assert check_member_name("Sources/{AB}.txt") is None
    assert check_member_name("a..b/c.txt") is None


def test_zip_bomb_ratio_is_refused(tmp_path: Path, workdir: Path) -> None:
    bomb = _zip(
        tmp_path / "bomb.qdpx", {"project.qde": PROJECT, "sources/z.txt": b"\0" * (4 << 20)}
    )
    with pytest.raises(UnsafeArchiveError) as info:
        read_qdpx(bomb, mapping=None)
    assert "compression ratio" in str(info.value) and "100:1" in str(info.value)
    assert list(workdir.iterdir()) == []


def test_total_size_limit_is_configurable(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "big.qdpx", {"project.qde": PROJECT, "sources/a.txt": b"a" * 5000})
    with pytest.raises(UnsafeArchiveError, match="more than the limit of 4000"):
        SafeArchive(archive, limits=ArchiveLimits(max_total_bytes=4000, max_member_bytes=4000))
    with SafeArchive(archive) as ok:
        assert ok.read("sources/a.txt") == b"a" * 5000


def test_lying_sizes_are_cut_off_while_reading(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.qdpx", {"sources/a.txt": b"a" * 5000})
    with SafeArchive(archive, limits=ArchiveLimits(max_member_bytes=10_000)) as safe:
        safe.limits = ArchiveLimits(max_member_bytes=100)  # as if the header had lied
        with pytest.raises(UnsafeArchiveError, match="expands past the limit of 100"):
            safe.read("sources/a.txt")


def test_not_a_zip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.qdpx"
    path.write_text("hello")
    with pytest.raises(InputError, match="not a zip archive"):
        read_qdpx(path, mapping=None)


@pytest.mark.parametrize(("doc", "what"), [(XXE, "document type"), (LAUGHS, "document type")])
def test_entities_are_refused_in_projects(doc: bytes, what: str, tmp_path: Path) -> None:
    archive = _zip(tmp_path / "x.qdpx", {"project.qde": doc})
    with pytest.raises(UnsafeXmlError) as info:
        read_qdpx(archive, mapping=None)
    assert what in str(info.value) and "project.qde:2" in str(info.value)


def test_entities_are_refused_in_elan_files(tmp_path: Path) -> None:
    path = tmp_path / "x.eaf"
    path.write_bytes(LAUGHS.replace(b"Project", b"ANNOTATION_DOCUMENT"))
    with pytest.raises(UnsafeXmlError, match="does not process DTDs or entities"):
        read_eaf(path)


def test_entity_declaration_without_doctype_handler_still_refused() -> None:
    with pytest.raises(UnsafeXmlError):
        parse_xml(b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>', "a.xml")
    assert parse_xml(b'<a xmlns="urn:x"><b c="1"/></a>', "a.xml").find("b") is not None


def test_malformed_xml_names_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"a\.xml:2:\d+: not well-formed XML"):
        parse_xml(b"<a>\n<b></a>", "a.xml")


def test_cli_refuses_with_exit_code_2(tmp_path: Path, workdir: Path) -> None:
    archive = _zip(tmp_path / "evil.qdpx", {"project.qde": PROJECT, "../../evil.txt": b"x"})
    result = CliRunner().invoke(main, ["import", "qdpx", str(archive)])
    assert result.exit_code == 2
    assert "refused member '../../evil.txt'" in result.output
    assert os.listdir(workdir) == []


def test_member_count_limit_is_enforced(tmp_path: Path) -> None:
    members = {f"sources/{i}.txt": b"x" for i in range(4)}
    archive = _zip(tmp_path / "many.qdpx", members)
    with pytest.raises(UnsafeArchiveError, match="has 4 members; at most 3 are accepted"):
        SafeArchive(archive, limits=ArchiveLimits(max_members=3))
    with SafeArchive(archive, limits=ArchiveLimits(max_members=4)) as ok:
        assert len(ok.names()) == 4


def test_total_size_limit_counts_every_member(tmp_path: Path) -> None:
    # each member is under the member limit; only their sum is over the total limit
    archive = _zip(
        tmp_path / "two.qdpx", {"sources/a.txt": b"a" * 3000, "sources/b.txt": b"b" * 3000}
    )
    with pytest.raises(UnsafeArchiveError, match="the archive expands to 6000 bytes, more than"):
        SafeArchive(archive, limits=ArchiveLimits(max_total_bytes=5999, max_member_bytes=4000))
    with SafeArchive(archive, limits=ArchiveLimits(max_total_bytes=6000, max_member_bytes=4000)):
        pass


def test_ratio_limit_is_the_configured_one(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    data = bytes(rng.choice(b"ab") for _ in range(2 << 20))  # about 7:1 under deflate
    archive = _zip(tmp_path / "ab.qdpx", {"sources/ab.txt": data})
    info = zipfile.ZipFile(archive).getinfo("sources/ab.txt")
    assert 4 < info.file_size / info.compress_size < 12
    with pytest.raises(UnsafeArchiveError, match="above the limit of 3:1"):
        SafeArchive(archive, limits=ArchiveLimits(max_ratio=3))
    with SafeArchive(archive, limits=ArchiveLimits(max_ratio=20)) as ok:
        assert ok.read("sources/ab.txt") == data


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("a\x00b.txt", "it contains a NUL byte"),
        ("\\etc\\passwd", "it is an absolute path"),
        ("d:evil.txt", "it starts with a drive letter"),
    ],
)
def test_member_name_reasons(name: str, why: str) -> None:
    assert check_member_name(name) == why
