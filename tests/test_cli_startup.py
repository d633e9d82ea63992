"""Start-up of the command line: what each command imports, not how long it takes.

`mbtkg --help` must not import the engines, and a command imports what it uses: each case runs
the real command in a fresh interpreter and reads the modules it ended with (``sys.modules``).
Timings are `mbtkg bench`'s business (mbtkg/bench/cli_latency.py), not the tests'.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from mbtkg.cli import COMMAND_MODULES, main
from mbtkg.resources import example_sessions

ROOT = Path(__file__).resolve().parent.parent

#: Modules no command may import unless it uses them.
HEAVY = ("rdflib", "pyshacl", "networkx", "pandas", "matplotlib", "torch", "owlready2",
         "pylode", "sentence_transformers", "numpy", "mbtkg.loading", "mbtkg.validation.fast_shacl",
         "mbtkg.validation.validate", "mbtkg.stores.oxigraph", "pyoxigraph")  # fmt: skip

_PROBE = """
import json, sys, runpy
sys.argv = ["mbtkg", *json.loads(sys.argv[1])]
try:
    runpy.run_module("mbtkg.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stdout.flush()
print("\\n@@MODULES@@" + json.dumps([code, sorted(sys.modules)]))
"""


def _modules_after(args: list[str], tmp_path: Path) -> tuple[int, set[str], str]:
    """Run ``mbtkg ARGS`` in a fresh interpreter; its exit code, modules and output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MBTKG_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
    )  # fmt: skip
    output, _, tail = run.stdout.rpartition("\n@@MODULES@@")
    assert tail, run.stderr
    code, modules = json.loads(tail)
    return int(code or 0), set(modules), output


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")}


def test_help_imports_no_engine_and_no_command_module(tmp_path: Path) -> None:
    code, modules, output = _modules_after(["--help"], tmp_path)
    assert code == 0
    assert "validate" in output and "concept" in output
    assert _heavy(modules) == set()
    command_modules = {m for m in modules if m.startswith("mbtkg.cli.")}
    assert command_modules == set()


def test_version_imports_no_engine(tmp_path: Path) -> None:
    code, modules, output = _modules_after(["--version"], tmp_path)
    assert code == 0 and output.startswith("mbtkg, version ")
    assert _heavy(modules) == set()


def test_a_command_help_imports_only_its_module(tmp_path: Path) -> None:
    code, modules, output = _modules_after(["concept", "--help"], tmp_path)
    assert code == 0 and "concept card" in output
    assert {m for m in modules if m.startswith("mbtkg.cli.")} == {"mbtkg.cli.ontology"}
    assert _heavy(modules) == set()


def test_concept_imports_neither_the_shacl_engines_nor_the_reasoner(tmp_path: Path) -> None:
    code, modules, output = _modules_after(["concept", "Epistemic Trust"], tmp_path)
    assert code == 0, output
    assert "epistemic trust  (mbt:EpistemicTrust)" in output
    for name in ("pyshacl", "networkx", "pandas", "matplotlib", "torch", "owlready2", "pylode",
                 "mbtkg.validation.fast_shacl", "mbtkg.ontology.reasoning", "mbtkg.ontology.qc", "rdflib.plugins.sparql"):  # fmt: skip
        assert name not in modules, name


def test_validate_fast_of_a_clean_session_needs_neither_rdflib_nor_pyshacl(tmp_path: Path) -> None:
    susan = next(p for p in example_sessions() if p.stem == "susan-12")
    for _run in range(2):  # the first run fills the cache of derived rules, the second reads it
        code, modules, output = _modules_after(
            ["validate", "--engine", "fast", "--no-cache", str(susan)], tmp_path
        )
        assert code == 0, output
        assert "1 session(s) conform" in output
    assert "mbtkg.validation.fast_shacl.engine" in modules
    assert {m for m in modules if m.split(".")[0] in {"rdflib", "pyshacl"}} == set()


def test_the_command_table_matches_the_commands() -> None:
    """COMMAND_MODULES names each command's module and help as the command itself has them,
    and every command module of the package is in it (else --help would import it)."""
    import importlib
    import pkgutil

    import mbtkg.cli as cli

    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(cli.__path__):
        module = importlib.import_module(f"mbtkg.cli.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            found[command.name] = (info.name, command.get_short_help_str(10_000))
    assert found == COMMAND_MODULES


def test_help_lists_every_command_as_when_all_are_imported() -> None:
    """The lazy listing says what click would say with every command loaded."""
    from click.testing import CliRunner

    from mbtkg.cli import _Main

    lazy_group = _Main("mbtkg", help=main.help)  # no command imported: stand-ins only
    lazy = CliRunner().invoke(lazy_group, ["--help"], terminal_width=100).output
    eager = click.Group("mbtkg", help=main.help)
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None
        eager.add_command(command, name)
    full = CliRunner().invoke(eager, ["--help"], terminal_width=100).output
    lazy_rows = lazy[lazy.index("Commands:") :]
    full_rows = full[full.index("Commands:") :]
    assert lazy_rows == full_rows
    assert len(lazy_rows.splitlines()) == len(COMMAND_MODULES) + 1


@pytest.mark.parametrize("name", sorted(COMMAND_MODULES))
def test_every_listed_command_resolves(name: str) -> None:
    ctx = click.Context(main)
    command = main.get_command(ctx, name)
    assert command is not None and command.name == name


def test_the_export_formats_are_the_release_formats() -> None:
    from mbtkg.cli.ontology import EXPORT_FORMATS
    from mbtkg.ontology.release import FORMATS

    assert tuple(FORMATS) == EXPORT_FORMATS


def test_query_of_one_session_needs_neither_rdflib_nor_pyshacl(tmp_path: Path) -> None:
    """A bundled competency query is not parsed again once the guard has passed its text (the
    verdict is kept, as a hash, in the cache of derived rules)."""
    from mbtkg.loading import load
    from mbtkg.stores.oxigraph import OxigraphStore

    store = OxigraphStore(str(tmp_path / "store"))
    try:
        load([p for p in example_sessions() if p.stem == "susan-12"], store, jobs=1)
    finally:
        store.close()
    args = ["query", "rupture-repair-latency", "-p", "session=susan-12", "--store",
            f"oxigraph:{tmp_path / 'store'}"]  # fmt: skip
    first_code, first_modules, first = _modules_after(args, tmp_path)
    code, modules, output = _modules_after(args, tmp_path)
    assert first_code == code == 0, output
    assert first == output and "susan-12" in output
    assert "rdflib.plugins.sparql.parser" in first_modules  # the first run checked the queries
    assert {m for m in modules if m.split(".")[0] in {"rdflib", "pyshacl", "pyparsing"}} == set()
