"""Remember validation results by content, so unchanged sessions are not validated again.

The key of a file is a SHA-256 over its bytes, the bytes of the shapes and ontology files,
the mbtkg version and the engine. Change any of them and the file is validated afresh. An
entry stores the violations without the file name, so a copied or renamed file hits too.
Entries are small JSON files in one directory; a damaged entry counts as a miss.

An entry holds no session text: the session id, and per violation its line, node, path,
constraint and shape, the shape's own message, and the found value as validate.py renders it
(which never quotes a text, see ``validate.literal_description``). A violation whose message is
not one the shapes declare is not written. The directory is ``$MBTKG_CACHE_DIR/validation``,
else ``$XDG_CACHE_HOME/mbtkg/validation``, else ``~/.cache/mbtkg/validation`` (made readable by
the user alone); ``--cache DIR`` chooses another and ``--no-cache`` writes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .. import vocab
from ..derived_cache import CACHE_ENV, cache_root
from ..errors import MbtkgError
from ..resources import ontology_files, shape_files
from .violations import Violation

_FORMAT = "mbtkg-validation-cache-2"
__all__ = [
    "CACHE_ENV",
    "CachedResult",
    "ValidationCache",
    "default_cache_dir",
    "rules_fingerprint",
    "shape_messages",
]
#: The message pySHACL results carry when a shape declares none.
_NO_MESSAGE = "does not conform"


def default_cache_dir() -> Path:
    """``$MBTKG_CACHE_DIR/validation``, else ``$XDG_CACHE_HOME/mbtkg/validation``, else
    ``~/.cache/mbtkg/validation``."""
    return cache_root() / "validation"


@lru_cache(maxsize=1)
def shape_messages() -> frozenset[str]:
    """Every ``sh:message`` the shapes declare (with the generated ones): the only message
    texts an entry may hold.

    Read with Oxigraph's parser, so remembering a result does not need rdflib.
    """
    import pyoxigraph as ox

    message = ox.NamedNode(vocab.SH + "message")
    found = {_NO_MESSAGE}
    from .generated_shapes import generated_shapes_turtle

    sources = [ox.parse(path=str(path), format=ox.RdfFormat.TURTLE) for path in shape_files()]
    sources.append(ox.parse(generated_shapes_turtle(), format=ox.RdfFormat.TURTLE))
    for triples in sources:
        for triple in triples:
            if triple.predicate == message and isinstance(triple.object, ox.Literal):
                found.add(triple.object.value)
    return frozenset(found)


@lru_cache(maxsize=1)
def rules_fingerprint() -> str:
    """A hash of everything besides the file that decides its validation result."""
    digest = hashlib.sha256(_FORMAT.encode())
    try:
        digest.update(version("mbtkg").encode())
    except PackageNotFoundError:  # pragma: no cover - a bare checkout
        digest.update(b"unknown")
    for path in [*shape_files(), *ontology_files()]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class CachedResult:
    """What the cache remembers of one file: its session id and violations (source blank)."""

    session_id: str
    violations: tuple[Violation, ...]


class ValidationCache:
    """A directory of validation results keyed by content hash.

    >>> import tempfile
    >>> cache = ValidationCache(tempfile.mkdtemp())
    >>> key = cache.key(b"session: {}", engine="fast")
    >>> cache.get(key, source="s.yaml") is None
    True
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise MbtkgError(
                f"cannot create the validation cache directory {self.directory}: {exc.strerror}; "
                "choose another with --cache DIR or turn it off with --no-cache"
            ) from None

    def key(self, content: bytes, *, engine: str) -> str:
        """The cache key of a file's bytes under the current shapes, ontology and engine."""
        digest = hashlib.sha256(rules_fingerprint().encode())
        digest.update(engine.encode())
        digest.update(b"\0")
        digest.update(content)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, *, source: str) -> CachedResult | None:
        """The remembered result, with each violation's source set to ``source``; else None."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            violations = tuple(
                Violation(**{**item, "source": source}) for item in data["violations"]
            )
            return CachedResult(str(data["session_id"]), violations)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, result: CachedResult) -> None:
        """Remember a result; a write that fails is ignored (the cache is only a shortcut).

        A result with a message the shapes do not declare is not remembered: only text the
        shapes themselves carry may reach the disk.
        """
        if any(v.message not in shape_messages() for v in result.violations):
            return
        body = {
            "session_id": result.session_id,
            "violations": [{**dataclasses.asdict(v), "source": ""} for v in result.violations],
        }
        path = self._path(key)
        try:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(body))
            tmp.replace(path)
        except OSError:
            pass
