"""Which session files a command-line path names: a file, a folder of session files, or a glob.

``mbtkg validate`` and ``mbtkg load`` take any mix of the three. A folder stands for the session
files directly inside it (by suffix, see :data:`mbtkg.sessions.READERS`; subfolders are not
entered); a path with ``*``, ``?`` or ``[`` that names no file is a glob pattern (``**`` enters
subfolders) standing for the session files it matches, so a pattern works even when no shell
expanded it.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError, Location

_GLOB_CHARACTERS = frozenset("*?[")


def session_suffixes() -> tuple[str, ...]:
    """The file suffixes read as sessions, sorted (``.csv``, ``.yaml``, ...)."""
    from . import READERS

    return tuple(sorted(READERS))


def _is_pattern(text: str) -> bool:
    return any(c in _GLOB_CHARACTERS for c in text)


def _folder_files(folder: Path) -> list[Path]:
    suffixes = set(session_suffixes())
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise InputError(
            f"the folder holds no session files (expected files ending in "
            f"{', '.join(session_suffixes())})",
            Location(str(folder)),
        )
    return files


def expand_session_paths(arguments: Iterable[str | Path]) -> list[str]:
    """The session files named by files, folders and glob patterns, in order, each once.

    Raises InputError for a folder without session files and for a pattern that matches no
    file. A path that exists nowhere is passed on unchanged: the reader says it is missing.

    >>> expand_session_paths(["examples/sessions/susan-12.yaml"])
    ['examples/sessions/susan-12.yaml']
    """
    out: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        if path not in seen:
            seen.add(path)
            out.append(path)

    for argument in arguments:
        text = str(argument)
        path = Path(text)
        if path.is_dir():
            for file in _folder_files(path):
                add(str(file))
        elif not path.exists() and _is_pattern(text):
            found = sorted(m for m in glob.glob(text, recursive=True) if Path(m).is_file())
            matches = [m for m in found if Path(m).suffix.lower() in session_suffixes()]
            if not matches:
                what = f"{len(found)} file(s), none of them a session file" if found else "no file"
                raise InputError(
                    f"the pattern {text!r} matches {what} (session files end in "
                    f"{', '.join(session_suffixes())})"
                )
            for match in matches:
                add(match)
        else:
            add(text)
    return out
