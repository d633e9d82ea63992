"""The README's two commands are the ones CI runs, and its Python example works."""

from __future__ import annotations

import re

from conftest import ROOT


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_has_a_demo_command_and_a_test_command() -> None:
    commands = _commands()
    assert any("mbtkg demo" in c and "pip install" in c for c in commands)
    assert any("pytest" in c and "[test]" in c for c in commands)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(c for c in _commands() if "pytest" in c and "[test]" in c)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # CI may add flags after the command; the command itself must appear verbatim.
    assert test_command in ci


def test_readme_python_example_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, flags=re.S)
    assert block is not None, "the README needs a Python example"
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert namespace.get("rows") is not None


def _table_extras() -> set[str]:
    """The extras the feature table ("What it does") marks, as `[name]` in its cells."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## What it does", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    return set(re.findall(r"`\[([a-z]+)\]`", table))


def _installed_extras(command: str) -> set[str]:
    found = re.findall(r"pip install[^`\n]*?'\.\[([a-z,]+)\]'", command)
    return {name for group in found for name in group.split(",")}


def test_every_extra_of_the_feature_table_is_installed_by_the_readme() -> None:
    import tomllib

    extras = _table_extras()
    assert {"plots", "docs", "sheet", "annotate"} <= extras
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert extras <= set(declared)
    demo = next(c for c in _commands() if "mbtkg demo" in c and "pip install" in c)
    # the model's extra needs torch first (about 1 GB): the README installs it on its own line
    assert extras - {"suggest"} <= _installed_extras(demo)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert extras <= _installed_extras(text)
