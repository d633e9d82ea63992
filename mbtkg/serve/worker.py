"""Run one query in a forked worker process that is killed at the time limit.

Oxigraph cannot cancel a running query, and a thread cannot be stopped, so each query runs in a
child process forked from the server: it sees the store as it was at the fork (copy-on-write, so
a memory store is not copied), answers through a pipe and exits. At the time limit the child is
sent SIGKILL and reaped: its CPU and memory are freed at once. The child's address space is
capped (``RLIMIT_AS``: what it already maps plus ``memory_bytes``); a query that needs more is
stopped by the kernel (the engine aborts on a failed allocation) and answered as such. Should
the server itself die, Linux kills the child with it (``PR_SET_PDEATHSIG``), and a CPU limit one
second past the time limit is a further backstop. The child closes the listening socket.

Defence in depth: before it runs anything, the child leaves the network (a network namespace of
its own, where no interface is up). SERVICE and LOAD are refused on a parse before the query gets
here (:mod:`mbtkg.sparql_guard`); should that check ever miss a form, the engine still cannot
reach any address. Where the system allows no namespaces, the parse check stands alone.

The child never writes to the server's store: writes (``mbtkg serve --allow-update``) run in the
server process, under the same lock that forks take, so a child never starts in the middle of a
write. (A child may rehearse an update on its private copy of a memory store.)
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from ..errors import MbtkgError
from .refused import Answer, Refused


@dataclass(frozen=True)
class WorkerLimits:
    """What one query worker may use."""

    timeout: float
    memory_bytes: int | None
    max_output: int = 256 * 1024 * 1024


def run_in_worker(
    work: Callable[[], Answer],
    limits: WorkerLimits,
    *,
    fork_lock: AbstractContextManager[Any],
    close_in_child: tuple[int, ...] = (),
) -> Answer:
    """Run ``work`` in a forked child within the limits; return its Answer or raise Refused.

    ``close_in_child``: descriptors the child closes first (the server's listening socket)."""
    read_end, write_end = os.pipe()
    with fork_lock:
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child: measured by the tests through its effects
        os.close(read_end)
        for fd in close_in_child:
            with contextlib.suppress(OSError):
                os.close(fd)
        _die_with_parent()
        leave_the_network()
        _child(work, limits, write_end)
    os.close(write_end)
    try:
        data = _collect(pid, read_end, limits)
    finally:
        os.close(read_end)
    status = _reap(pid)
    if data is None:
        raise _timed_out(limits)
    if status != 0 or not data:
        raise _died(status, limits)
    outcome = pickle.loads(data)
    if isinstance(outcome, Exception):
        raise outcome
    if not isinstance(outcome, Answer):
        raise Refused(HTTPStatus.INTERNAL_SERVER_ERROR, "the query worker sent no answer")
    return outcome


def _child(
    work: Callable[[], Answer], limits: WorkerLimits, write_end: int
) -> None:  # pragma: no cover
    code = 0
    try:
        _limit_self(limits)
        try:
            outcome: object = work()
        except Refused as exc:
            outcome = exc
        except MbtkgError as exc:
            outcome = Refused(HTTPStatus.BAD_REQUEST, str(exc))
        except MemoryError:
            outcome = Refused(HTTPStatus.SERVICE_UNAVAILABLE, _memory_message(limits))
        except Exception as exc:  # noqa: BLE001 - a failure of the engine or a bug: said, not fatal
            outcome = Refused(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                f"the query failed in its worker ({type(exc).__name__})",
            )
        data = pickle.dumps(outcome)
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view) :]
    except BaseException:  # noqa: BLE001 - the child never returns into the server's code
        code = 70
    finally:
        os._exit(code)


_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


def leave_the_network() -> bool:
    """Move this (single-threaded) process into a network namespace of its own, with no
    interface up: nothing it runs can open a connection, loopback included. As root this needs
    ``unshare(CLONE_NEWNET)``; otherwise an unprivileged user namespace is tried first. Returns
    whether it worked (it cannot where the system forbids both)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return any(
            libc.unshare(flags) == 0 for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET)
        )
    except (OSError, AttributeError):
        return False


def network_sandbox_available() -> bool:
    """Whether a worker can leave the network on this system (tried in a throw-away child)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os._exit(0 if leave_the_network() else 1)
    return _reap(pid) == 0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to kill this child when the server dies (prctl PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the CPU limit still ends the child


def _limit_self(limits: WorkerLimits) -> None:  # pragma: no cover - runs in the child
    cpu = math.ceil(limits.timeout) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if limits.memory_bytes is not None:
        cap = _mapped_bytes() + limits.memory_bytes
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _mapped_bytes() -> int:  # pragma: no cover - runs in the child
    """The address space this process maps now (VmSize), 0 when the system does not say."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _collect(pid: int, read_end: int, limits: WorkerLimits) -> bytes | None:
    """The child's whole output, or None when the time limit passed first (the child is killed)."""
    deadline = time.monotonic() + limits.timeout
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(pid)
            return None
        ready, _, _ = select.select([read_end], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(read_end, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limits.max_output:
            _kill(pid)
            raise Refused(
                HTTPStatus.BAD_REQUEST,
                f"the answer is larger than {limits.max_output // (1024 * 1024)} MiB; add LIMIT",
            )
        chunks.append(chunk)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _reap(pid: int) -> int:
    """Wait for the child; its exit code, or minus the signal that ended it."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _timed_out(limits: WorkerLimits) -> Refused:
    return Refused(
        HTTPStatus.SERVICE_UNAVAILABLE,
        f"the query ran longer than the time limit of {limits.timeout:g} s and was stopped; "
        "narrow it (bind a session, add LIMIT) or start the server with a longer --timeout",
    )


def _died(status: int, limits: WorkerLimits) -> Refused:
    if status == -signal.SIGXCPU:
        return _timed_out(limits)
    if limits.memory_bytes is not None and status in (-signal.SIGABRT, -signal.SIGSEGV):
        return Refused(HTTPStatus.SERVICE_UNAVAILABLE, _memory_message(limits))
    return Refused(
        HTTPStatus.INTERNAL_SERVER_ERROR, f"the query worker stopped unexpectedly (status {status})"
    )


def _memory_message(limits: WorkerLimits) -> str:
    mib = (limits.memory_bytes or 0) // (1024 * 1024)
    return (
        f"the query needed more than the memory limit of {mib} MiB and was stopped; narrow it "
        "(bind a session, add LIMIT) or start the server with a larger --max-memory"
    )
