"""The folder ``mbtkg annotate`` works on: which files it may touch and what each one holds.

A file is named by its path relative to the folder. Only ``*.yaml``/``*.yml`` files inside the
folder are reachable: absolute names, ``..`` parts, hidden parts and symbolic links are refused,
and the resolved path must still lie inside the folder. The files stay the source of truth:
each request reads the file from disk; nothing is cached between requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ..errors import InputError
from ..sessions.model import Session
from ..sessions.to_rdf import session_to_rdf
from ..sessions.yaml_reader import SessionReadError, parse_yaml_session
from ..validation.fast_shacl.engine import FastValidator
from ..validation.validate import Violation

SUFFIXES = (".yaml", ".yml")
#: The largest session file the app reads or writes.
MAX_FILE_BYTES = 5_000_000


class OutsideFolder(InputError):
    """A request named a file the app may not touch (outside the folder, not a session file)."""


@dataclass(frozen=True)
class Problem:
    """One problem of a session: a reader error or a SHACL violation, in the CLI's words."""

    message: str
    line: int | None
    turns: tuple[int, ...]
    annotation: str | None

    def as_json(self) -> dict[str, object]:
        """The problem as the page receives it."""
        return {
            "message": self.message,
            "line": self.line,
            "turns": list(self.turns),
            "annotation": self.annotation,
        }


@dataclass(frozen=True)
class Checked:
    """A session file read and validated: its text, version, model (if it read) and problems."""

    name: str
    text: str
    version: str
    session: Session | None
    problems: tuple[Problem, ...]


def version_of(data: bytes) -> str:
    """The version the page holds of a file: the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def _validator() -> FastValidator:
    return FastValidator()


class Workspace:
    """The session files of one folder."""

    def __init__(self, folder: str | Path) -> None:
        root = Path(folder)
        if not root.is_dir():
            raise InputError(
                f"{folder}: not a folder; mbtkg annotate needs a folder of session files"
            )
        self.root = root.resolve(strict=True)

    def files(self) -> list[str]:
        """The session files of the folder (not its subfolders), by name."""
        out = []
        for path in sorted(self.root.iterdir()):
            hidden = path.name.startswith(".")
            if path.suffix in SUFFIXES and not hidden and not path.is_symlink() and path.is_file():
                out.append(path.name)
        return out

    def path(self, name: object) -> Path:
        """The path of a session file named relative to the folder, or OutsideFolder."""
        if not isinstance(name, str) or not name or len(name) > 255 or "\x00" in name:
            raise OutsideFolder("a file must be named by its path inside the folder")
        pure = PurePosixPath(name)
        raw_parts = name.split("/")
        if "\\" in name or pure.is_absolute() or any(p in ("..", ".", "") for p in raw_parts):
            raise OutsideFolder(f"{name!r} is not a path inside the folder")
        if any(p.startswith(".") for p in pure.parts) or pure.suffix not in SUFFIXES:
            raise OutsideFolder(f"{name!r} is not a session file (*.yaml or *.yml) of the folder")
        path = self.root.joinpath(*pure.parts)
        probe = self.root
        for part in pure.parts:
            probe = probe / part
            if probe.is_symlink():
                raise OutsideFolder(f"{name!r} is a symbolic link; the app follows none")
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            raise OutsideFolder(f"{name!r} is not a session file of the folder")
        return resolved

    def read_bytes(self, name: str) -> bytes:
        """The bytes of a session file, bounded in size."""
        path = self.path(name)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{name}: larger than {MAX_FILE_BYTES} bytes; not opened")
        return path.read_bytes()

    def check(self, name: str, data: bytes | None = None) -> Checked:
        """Read and validate one file (or the given bytes as that file) with the fast engine."""
        if data is None:
            data = self.read_bytes(name)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8 text (byte {exc.start})") from None
        return check_text(name, text, version_of(data))


def check_text(name: str, text: str, version: str) -> Checked:
    """Read a session file's text and validate it; problems are located at turns."""
    try:
        session = parse_yaml_session(text, name)
    except SessionReadError as exc:
        problems = tuple(Problem(str(p), _line_of(p), (), None) for p in exc.problems)
        return Checked(name, text, version, None, problems)
    except InputError as exc:
        return Checked(name, text, version, None, (Problem(str(exc), _line_of(exc), (), None),))
    violations = _validator().validate(session_to_rdf(session))
    return Checked(name, text, version, session, tuple(_locate(v, session) for v in violations))


def _line_of(error: InputError) -> int | None:
    location = getattr(error, "location", None)
    return getattr(location, "line", None) if location is not None else None


def _locate(v: Violation, session: Session) -> Problem:
    """A violation placed at the turns of the annotation or turn whose line it names."""
    for an in session.annotations:
        if an.line == v.line:
            turns: tuple[int, ...] = ()
            if an.start is not None:
                turns = (an.start,)
            return Problem(str(v), v.line, turns, an.id)
    for t in session.turns:
        if t.line == v.line:
            return Problem(str(v), v.line, (t.id,), None)
    return Problem(str(v), v.line, (), None)
