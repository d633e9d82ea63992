"""Bundled resources are found in a checkout and travel inside the wheel."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mbtkg.errors import ResourceError
from mbtkg.queries import list_queries
from mbtkg.resources import example_sessions, ontology_files, resource_dir, shape_files

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("ontology", "shapes", "queries", "examples")


@pytest.mark.parametrize("kind", KINDS)
def test_resources_are_found_in_the_checkout(kind: str) -> None:
    assert resource_dir(kind) == ROOT / kind


def test_the_resource_lists() -> None:
    assert [p.name for p in ontology_files()][:1] and all(
        p.suffix == ".ttl" for p in ontology_files()
    )
    assert ROOT / "ontology" / "mbt.ttl" in ontology_files()
    assert ROOT / "shapes" / "session.ttl" in shape_files()
    assert ROOT / "examples" / "sessions" / "susan-12.yaml" in example_sessions()
    assert example_sessions() == sorted(example_sessions())


def test_unknown_resource_kind() -> None:
    with pytest.raises(ResourceError) as info:
        resource_dir("fixtures")
    assert (
        "unknown resource kind 'fixtures'; expected one of ontology, shapes, queries, examples"
        in str(info.value)
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout (without build isolation when hatchling is at hand)."""
    if importlib.util.find_spec("build") is None:
        pytest.skip("the 'build' package is not installed (pip install 'mbtkg[test]')")
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out)]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-isolation")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("mbtkg-*.whl")
    return built


def test_the_wheel_carries_every_resource(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind in KINDS:
        source = sorted(
            p for p in (ROOT / kind).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
        assert source, kind
        for path in source:
            packed = f"mbtkg/_resources/{path.relative_to(ROOT).as_posix()}"
            assert packed in names, f"{packed} is missing from {wheel.name}"
    assert "mbtkg/_resources/shapes/session.schema.json" in names
    assert "mbtkg/_resources/examples/sessions/susan-12.yaml" in names
    assert {f"mbtkg/_resources/queries/{q.name}.rq" for q in list_queries()} <= names
    assert not any(n.startswith(("tests/", "mbtkg/tests/")) for n in names)


def test_the_unpacked_wheel_finds_its_own_resources(wheel: Path, tmp_path: Path) -> None:
    """Installed (unpacked) code reads mbtkg/_resources, never the checkout."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import mbtkg, mbtkg.resources as r, mbtkg.queries as q;"
        "print(mbtkg.__file__);"
        "print(*(r.resource_dir(k) for k in ('ontology', 'shapes', 'queries', 'examples')), sep='\\n');"
        "print(len(q.list_queries()), len(r.example_sessions()))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert Path(lines[0]).is_relative_to(site)
    for kind, line in zip(KINDS, lines[1:5], strict=True):
        assert Path(line) == site / "mbtkg" / "_resources" / kind
    queries, sessions = map(int, lines[5].split())
    assert queries == len(list_queries())
    assert sessions == len(example_sessions())
