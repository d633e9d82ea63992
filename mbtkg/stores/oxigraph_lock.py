"""Keep other processes from writing to an Oxigraph store that this process serves read-only.

``mbtkg serve --allow-update`` serves a disk store from a read-only handle and opens a writer
for each update alone (a query worker forked next to a live writer can hang; see
:meth:`mbtkg.stores.oxigraph.OxigraphStore.update_through_a_brief_writer`). Between updates the
server still owns the store: it holds a lock on the store's own ``LOCK`` file, the one every
writer (RocksDB's) takes, so ``mbtkg load`` or another server is told the store is in use.

The lock is an open-file-description lock (Linux ``F_OFD_SETLK``). RocksDB takes a classic
POSIX record lock on the same file, and the two kinds conflict even within one process, so the
server's own writer must be handed the lock: :meth:`StoreLock.release` before it opens,
:meth:`StoreLock.take` once it has closed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from pathlib import Path

from ..errors import StoreError

_F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)


def _whole_file(kind: int) -> bytes:
    """A struct flock (Linux x86-64, arm64) over the whole file; l_pid 0, as OFD locks need."""
    return struct.pack("hhqqi", kind, os.SEEK_SET, 0, 0, 0)


class StoreLock:
    """The writer's lock of the Oxigraph store in ``directory``, held by this process.

    The lock belongs to one open file description, kept open from the first :meth:`take` to
    :meth:`close`: query workers forked meanwhile inherit it without holding the lock longer
    (it is released for all of them by :meth:`release`, and outlives none of the server's)."""

    def __init__(self, directory: Path, selector: str) -> None:
        self.path = directory / "LOCK"
        self.selector = selector
        self._fd: int | None = None
        self.held = False

    def take(self) -> None:
        """Take the lock; StoreError when another process (a writer) holds it."""
        if self.held:
            return
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise StoreError(f"cannot lock the store {self.selector}: {exc.strerror}") from None
        try:
            fcntl.fcntl(self._fd, _F_OFD_SETLK, _whole_file(fcntl.F_WRLCK))
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise StoreError(
                    f"the store {self.selector} is in use by another process (it holds the "
                    "lock); stop that process or choose another directory"
                ) from None
            raise StoreError(f"cannot lock the store {self.selector}: {exc.strerror}") from None
        self.held = True

    def release(self) -> None:
        """Let go of the lock (for this process's own writer, say); the file stays open."""
        if self.held and self._fd is not None:
            fcntl.fcntl(self._fd, _F_OFD_SETLK, _whole_file(fcntl.F_UNLCK))
        self.held = False

    def close(self) -> None:
        """Let go of the lock and close the file."""
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
