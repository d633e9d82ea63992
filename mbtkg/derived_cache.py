"""Keep what mbtkg derives from the ontology and the shapes on disk, built once, read by every process.

Every process that reads or validates sessions needs the concept index (names to IRIs) and the
compiled shapes; building them parses the ontology and the shapes and takes most of a second,
which a one-session command or a worker process would otherwise pay each time. An entry is
keyed by a SHA-256 over the names and bytes of the input files (ontology, shapes), the source
of the modules that build it and the installed versions of the libraries it uses; change any
of them and the entry is built afresh (the old entry of that kind is removed).

An entry is a pickle, read with an unpickler that accepts only the classes its caller names,
so a file in the cache cannot make mbtkg run code. Entries hold the ontology and shapes in
derived form and nothing from any session. The directory is ``$MBTKG_CACHE_DIR/derived``, else
``$XDG_CACHE_HOME/mbtkg/derived``, else ``~/.cache/mbtkg/derived``, readable by the user alone
(files mode 600); a directory someone else owns or may write is not used at all. A damaged or
unreadable entry counts as a miss; a cache that cannot be written is only a slower start.

:data:`builds` counts the entries this process built (a read from disk is not a build); each
build and each read is logged at DEBUG level on the ``mbtkg.derived_cache`` logger with the
process id, so a test can see which process did what.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

#: The environment variable naming the directory of mbtkg's caches.
CACHE_ENV = "MBTKG_CACHE_DIR"
_FORMAT = b"mbtkg-derived-cache-1"
_PACKAGE = Path(__file__).resolve().parent

#: Entries built (not read) by this process, per kind.
builds: Counter[str] = Counter()


def cache_root() -> Path:
    """``$MBTKG_CACHE_DIR``, else ``$XDG_CACHE_HOME/mbtkg``, else ``~/.cache/mbtkg``.

    Raises RuntimeError when none is set and the home directory cannot be found.
    """
    own = os.environ.get(CACHE_ENV)
    if own:
        return Path(own)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mbtkg"


def derived_dir() -> Path | None:
    """Where the derived entries live: ``derived/`` in :func:`cache_root`; None when there is
    no cache directory (no home directory): then every process builds what it needs."""
    try:
        return cache_root() / "derived"
    except RuntimeError:
        return None


def _private(directory: Path) -> bool:
    """Whether a directory is this user's alone: owned by them, writable by nobody else.

    Entries in any other directory are neither read nor written: someone else could have put
    compiled shapes there that check less than ours.
    """
    try:
        info = directory.stat()
    except OSError:
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & 0o022


def _library_stamp(name: str) -> bytes:
    """Where an installed library is and when its files were written, without importing it.

    An upgrade or reinstall changes it; cheaper than ``importlib.metadata`` at start-up.
    """
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return f"{name}:absent".encode()
    try:
        stamp = os.stat(spec.origin).st_mtime_ns
    except OSError:
        stamp = 0
    return f"{name}:{spec.origin}:{stamp}".encode()


def fingerprint(
    inputs: Iterable[Path], *, code: Iterable[str], libraries: Iterable[str] = ()
) -> str:
    """The key of an entry built from ``inputs`` (files) by ``code`` (module files, relative to
    the package) using ``libraries`` (importable names)."""
    digest = hashlib.sha256(_FORMAT)
    for path in inputs:
        digest.update(b"\0input\0" + path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    for module in code:
        digest.update(b"\0code\0" + module.encode() + b"\0")
        source = _PACKAGE / module
        if not source.is_file():
            # a wheel holds every module's source: a missing one is a wrong name here, and the
            # key would not change when that code does
            raise RuntimeError(f"derived cache: no module file {module} in the package")
        digest.update(source.read_bytes())
    for name in libraries:
        digest.update(b"\0library\0" + _library_stamp(name))
    digest.update(f"\0python {sys.version_info[:2]}".encode())
    return digest.hexdigest()


class _Restricted(pickle.Unpickler):
    """An unpickler that only builds the classes it is given (and plain containers)."""

    def __init__(self, data: bytes, allowed: Collection[type]) -> None:
        super().__init__(io.BytesIO(data))
        self._allowed = {(c.__module__, c.__qualname__): c for c in allowed}
        self._allowed.update({("builtins", "frozenset"): frozenset, ("builtins", "set"): set})

    def find_class(self, module: str, name: str) -> type:
        found = self._allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a derived entry")
        return found


def _read(path: Path, expected: type, allowed: Collection[type]) -> object | None:
    try:
        data = path.read_bytes()
        value = _Restricted(data, [expected, *allowed]).load()
    except (OSError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            pickle.UnpicklingError):  # fmt: skip
        return None
    return value if isinstance(value, expected) else None


def _write(directory: Path, path: Path, kind: str, value: object) -> None:
    try:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        for old in directory.glob(f"{kind}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # the cache is only a shortcut


def load_or_build(
    kind: str,
    key: str,
    build: Callable[[], T],
    expected: type[T],
    *,
    allowed: Collection[type] = (),
    directory: Path | None = None,
) -> T:
    """The entry ``kind`` with ``key``: read from the cache directory, else built and stored.

    ``expected`` is the type of the entry, ``allowed`` the other classes it may contain.
    """
    directory = directory if directory is not None else derived_dir()
    if directory is not None and not directory.exists():
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            directory = None  # the cache is only a shortcut
    usable = directory is not None and _private(directory)
    path = directory / f"{kind}-{key}.pickle" if directory is not None else None
    if usable and path is not None:
        found = _read(path, expected, allowed)
        if found is not None:
            log.debug("read %s from the cache in process %d", kind, os.getpid())
            return found  # type: ignore[return-value]
    value = build()
    builds[kind] += 1
    log.debug("built %s in process %d", kind, os.getpid())
    if usable and directory is not None and path is not None:
        _write(directory, path, kind, value)
    return value
