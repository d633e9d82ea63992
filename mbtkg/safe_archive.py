"""Read members of an untrusted zip archive in memory, refusing traversal and zip bombs.

Nothing is ever extracted to disk. Member names that climb out of the archive (``../x``),
absolute names, drive letters and NUL bytes are refused; so are archives whose members
would expand past a total size limit or whose compression ratio is suspiciously high.
Declared sizes can lie, so every read also stops at the limit.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import InputError, Location

#: Default limits: total uncompressed size, size of one member, compression ratio, members.
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100.0
MAX_MEMBERS = 10_000
#: Members smaller than this are not ratio-checked (small text compresses very well).
RATIO_FLOOR_BYTES = 1024 * 1024
#: The general-purpose flag bit of an encrypted member, and the compression methods read.
_ENCRYPTED = 0x1
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


class UnsafeArchiveError(InputError):
    """An archive is refused because reading it could escape, exhaust memory or lie."""


@dataclass(frozen=True)
class ArchiveLimits:
    """How much an archive may expand; every limit can be raised by a caller who trusts it."""

    max_total_bytes: int = MAX_TOTAL_BYTES
    max_member_bytes: int = MAX_MEMBER_BYTES
    max_ratio: float = MAX_RATIO
    max_members: int = MAX_MEMBERS


def check_member_name(name: str) -> str | None:
    """Why a member name is unsafe, or None when it is a plain relative path.

    >>> check_member_name("sources/a.txt") is None
    True
    >>> check_member_name("../etc/passwd")
    "it climbs out of the archive with '..'"
    """
    if "\x00" in name:
        return "it contains a NUL byte"
    unified = name.replace("\\", "/")
    if unified.startswith("/"):
        return "it is an absolute path"
    if len(unified) >= 2 and unified[1] == ":":
        return "it starts with a drive letter"
    if any(part == ".." for part in PurePosixPath(unified).parts):
        return "it climbs out of the archive with '..'"
    return None


class SafeArchive:
    """An opened zip archive whose member names and sizes have been checked.

    Use as a context manager; :meth:`read` returns a member's bytes, never touching the disk.
    """

    def __init__(self, path: str | Path, *, limits: ArchiveLimits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or ArchiveLimits()
        where = Location(str(self.path))
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise InputError("no such file", where) from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise InputError(f"not a zip archive (a .qdpx is a zip file): {exc}", where) from None
        try:
            self._check()
        except UnsafeArchiveError:
            self._zip.close()
            raise

    def _check(self) -> None:
        infos = self._zip.infolist()
        lim = self.limits
        where = Location(str(self.path))
        if len(infos) > lim.max_members:
            raise UnsafeArchiveError(
                f"the archive has {len(infos)} members; at most {lim.max_members} are accepted",
                where,
            )
        total = 0
        for info in infos:
            why = check_member_name(info.filename)
            if why is not None:
                raise UnsafeArchiveError(
                    f"refused member {info.filename!r}: {why}; nothing was extracted", where
                )
            if info.flag_bits & _ENCRYPTED:
                raise UnsafeArchiveError(
                    f"refused member {info.filename!r}: it is encrypted; export the project "
                    "without a password",
                    where,
                )
            if info.compress_type not in _METHODS:
                raise UnsafeArchiveError(
                    f"refused member {info.filename!r}: compression method {info.compress_type} "
                    "is not supported; expected stored or deflated members (as QDA tools write)",
                    where,
                )
            if info.file_size > lim.max_member_bytes:
                raise UnsafeArchiveError(
                    f"refused member {info.filename!r}: it expands to {info.file_size} bytes, "
                    f"more than the limit of {lim.max_member_bytes}",
                    where,
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR_BYTES and ratio > lim.max_ratio:
                raise UnsafeArchiveError(
                    f"refused member {info.filename!r}: compression ratio {ratio:.0f}:1 is above "
                    f"the limit of {lim.max_ratio:.0f}:1 (a zip bomb?)",
                    where,
                )
            total += info.file_size
        if total > lim.max_total_bytes:
            raise UnsafeArchiveError(
                f"the archive expands to {total} bytes, more than the limit of "
                f"{lim.max_total_bytes}",
                where,
            )

    def names(self) -> list[str]:
        """The names of the file members (directories left out), as stored."""
        return [i.filename for i in self._zip.infolist() if not i.is_dir()]

    def read(self, name: str) -> bytes:
        """A member's bytes, read in memory and cut off at the member limit (sizes can lie)."""
        limit = self.limits.max_member_bytes
        try:
            with self._zip.open(name) as handle:
                data = handle.read(limit + 1)
        except KeyError:
            raise InputError(
                f"no member {name!r} in the archive", Location(str(self.path))
            ) from None
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            zlib.error,
            RuntimeError,  # an encrypted member (refused above unless the flag lies)
            NotImplementedError,
            ValueError,
            LookupError,
        ) as exc:
            raise InputError(
                f"member {name!r} cannot be read (the archive is damaged): {exc}",
                Location(str(self.path)),
            ) from None
        if len(data) > limit:
            raise UnsafeArchiveError(
                f"refused member {name!r}: it expands past the limit of {limit} bytes",
                Location(str(self.path)),
            )
        return data

    def close(self) -> None:
        """Close the underlying file."""
        self._zip.close()

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
