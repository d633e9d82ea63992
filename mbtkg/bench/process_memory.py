"""Run a command and measure the peak memory of its whole process tree (Linux).

A load uses a parent and worker processes, so the memory that matters is their sum. This
samples the resident set (``VmRSS`` in ``/proc/PID/status``) of the process and of every
descendant a few times a second and keeps the largest total. Pages shared between a parent
and its forked workers are counted once per process, so the figure errs on the high side.
A command may report its own peak (``peak_rss_mb``, from :func:`own_peak_mb`), which is then
the floor: a command that ends between two samples (or where ``/proc`` is missing) is not
reported at the memory of its first moment.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PROC = Path("/proc")


@dataclass(frozen=True)
class Measured:
    """What a measured command printed (its last line, as JSON) and its peak tree memory."""

    output: dict[str, Any]
    peak_tree_mb: float
    method: str


def _rss_kb(pid: int) -> int:
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in (_PROC / str(pid) / "task").iterdir():
            text = (task / "children").read_text()
            out.extend(int(c) for c in text.split())
    except OSError:
        pass
    return out


def tree_rss_mb(pid: int) -> float:
    """The summed resident memory of a process and all its descendants, in MB."""
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _rss_kb(current)
        todo.extend(_children(current))
    return total / 1024


def own_peak_mb() -> float:
    """This process's own peak resident memory since it started its program, in MB.

    ``VmHWM`` of ``/proc/self/status`` belongs to the program's own address space. ``ru_maxrss``
    does not serve on Linux: it keeps the peak of the address space before ``execve``, which for
    a child started by ``subprocess`` is the parent's (a load started by a 2.7 GB benchmark
    process reported 2.7 GB). Where ``/proc`` is missing, ``ru_maxrss`` is the fallback.
    """
    try:
        for line in (_PROC / "self" / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / (1024 * 1024 if sys.platform == "darwin" else 1024)


def run_measured(args: list[str], *, interval: float = 0.2, timeout: float = 7200) -> Measured:
    """Run ``args``; return the JSON of its last output line and its peak tree memory.

    A command that reports its own peak (:func:`own_peak_mb`) as ``peak_rss_mb`` in that JSON
    has it as the floor, so a command that ends before a second sample still has its peak.
    Output goes to temporary files, so a command that writes much cannot stall on a pipe.
    Raises RuntimeError when the command fails, with its error output.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(args, stdout=out, stderr=err, text=True, env=env)
        peak = _watch(process, interval=interval, timeout=timeout, args=args)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} … failed ({process.returncode}):\n{stderr}")
    output = _last_json_line(stdout, args)
    own = output.get("peak_rss_mb")
    method = f"summed VmRSS of the process tree, sampled every {interval:g} s"
    if isinstance(own, (int, float)) and own > peak:
        peak = float(own)
        method += ", or the process's own VmHWM (peak_rss_mb) where that is larger"
    return Measured(output, round(peak, 1), method)


def _last_json_line(stdout: str, args: list[str]) -> dict[str, Any]:
    """The JSON object a measured command printed last; RuntimeError when there is none."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        output = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        output = None
    if not isinstance(output, dict):
        found = "nothing" if not lines else f"a last line of {len(lines[-1])} characters"
        raise RuntimeError(
            f"{' '.join(args[:4])} … printed {found}; expected one JSON object as its last line"
        )
    return output


def _watch(
    process: subprocess.Popen[str], *, interval: float, timeout: float, args: list[str]
) -> float:
    """Sample the tree every ``interval`` s until the process ends (noticed within 10 ms);
    return the largest sampled sum in MB."""
    peak = 0.0
    started = time.monotonic()
    next_sample = started
    has_proc = (_PROC / str(process.pid)).exists()
    while process.poll() is None:
        now = time.monotonic()
        if now - started > timeout:
            process.kill()
            process.wait()
            raise RuntimeError(f"{' '.join(args[:4])} … took more than {timeout:.0f} s")
        if has_proc and now >= next_sample:
            peak = max(peak, tree_rss_mb(process.pid))
            next_sample = now + interval
        time.sleep(min(0.01, interval))
    return peak
