"""Whether an ``oxigraph:DIR`` selector names a store that exists, for commands that only read.

Opening an Oxigraph store creates its directory, so a misspelt folder would silently become a
new, empty store and every query would answer nothing. Commands that only read call
:func:`require_existing_store` first; ``load``, ``import`` and ``demo`` create stores.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from ..errors import StoreError

#: The file every Oxigraph (RocksDB) store directory holds.
_MARKER = "CURRENT"


def is_store_directory(path: Path) -> bool:
    """Whether ``path`` is a directory holding an Oxigraph store."""
    return path.is_dir() and (path / _MARKER).is_file()


def require_existing_store(path: str | Path, selector: str) -> None:
    """Raise StoreError unless ``path`` holds an Oxigraph store; the message names the closest
    existing folder beside it and how to create a store."""
    path = Path(path)
    if is_store_directory(path):
        return
    create = "create a store with `mbtkg load FILE ... --store " + selector + "`"
    if path.is_dir():
        raise StoreError(
            f"{selector}: the folder {path} holds no Oxigraph store (no {_MARKER} file); "
            f"choose the folder of a store, or {create}"
        )
    if path.exists():
        raise StoreError(f"{selector}: {path} is a file, not the folder of an Oxigraph store")
    parent = path.parent
    missing = path
    while not parent.is_dir() and parent != parent.parent:
        missing, parent = parent, parent.parent
    hint = _closest(missing.name, parent)
    raise StoreError(
        f"{selector}: there is no folder {missing}{hint}; this command only reads a store and "
        f"does not create one: {create}"
    )


def _closest(name: str, parent: Path) -> str:
    try:
        folders = [p for p in parent.iterdir() if p.is_dir()]
    except OSError:
        return ""
    stores = sorted(p.name for p in folders if is_store_directory(p))
    others = sorted(p.name for p in folders if p.name not in stores)
    hits = difflib.get_close_matches(name, stores, n=1, cutoff=0.5) or difflib.get_close_matches(
        name, others, n=1, cutoff=0.6
    )
    if hits:
        return f" (did you mean --store oxigraph:{parent / hits[0]}?)"
    if stores:
        return f" (stores in {parent}: {', '.join(stores[:5])})"
    return ""
