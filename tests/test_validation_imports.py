"""The two SHACL engines share a module below both instead of importing each other's insides."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path
from types import ModuleType

import mbtkg.validation.cache
import mbtkg.validation.fast_shacl
import mbtkg.validation.validate
import mbtkg.validation.violations


def _modules() -> dict[str, Path]:
    """The checking modules by dotted name (found from the modules, wherever they live)."""
    plain: list[ModuleType] = [
        mbtkg.validation.validate,
        mbtkg.validation.violations,
        mbtkg.validation.cache,
    ]
    found = {m.__name__: Path(str(m.__file__)) for m in plain}
    fast = mbtkg.validation.fast_shacl
    found[fast.__name__] = Path(str(fast.__file__))
    for info in pkgutil.iter_modules(fast.__path__):
        found[f"{fast.__name__}.{info.name}"] = Path(str(fast.__file__)).parent / f"{info.name}.py"
    return found


CHECKING = _modules()
FAST = mbtkg.validation.fast_shacl.__name__
REFERENCE = mbtkg.validation.validate.__name__


def _imports(name: str) -> list[tuple[str, str]]:
    """(module, name) for every import of a module, relative ones resolved."""
    path = CHECKING[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found += [(module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return found


def test_the_fast_engine_does_not_import_the_reference_module() -> None:
    found = {
        name: [m for m, _ in _imports(name) if m == REFERENCE]
        for name in CHECKING
        if name.startswith(FAST) or name == mbtkg.validation.cache.__name__
    }
    assert {k: v for k, v in found.items() if v} == {}
    assert len(found) >= 8  # the cache and the fast engine's modules were all looked at


def test_the_shared_module_imports_neither_engine() -> None:
    modules = {m for m, _ in _imports(mbtkg.validation.violations.__name__)}
    assert not {m for m in modules if m == REFERENCE or m.startswith(FAST)}


def test_no_private_name_crosses_between_the_checking_modules() -> None:
    crossing = [
        (importer, module, name)
        for importer in CHECKING
        for module, name in _imports(importer)
        if module.startswith("mbtkg") and name.startswith("_") and name != "__future__"
    ]
    assert crossing == []
