"""Run a command and measure the peak memory of its whole process tree (Linux).

A load uses a parent and worker processes, so the memory that matters is their sum. This
samples the resident set (``VmRSS`` in ``/proc/PID/status``) of the process and of every
descendant a few times a second and keeps the largest total. Pages shared between a parent
and its forked workers are counted once per process, so the figure errs on the high side.
Where ``/proc`` is missing, the child's own ``ru_maxrss`` is reported instead.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
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


def run_measured(args: list[str], *, interval: float = 0.2, timeout: float = 7200) -> Measured:
    """Run ``args``; return the JSON of its last output line and its peak tree memory.

    Raises RuntimeError when the command fails, with its error output.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    peak = 0.0
    started = time.monotonic()
    has_proc = (_PROC / str(process.pid)).exists()
    while process.poll() is None:
        if has_proc:
            peak = max(peak, tree_rss_mb(process.pid))
        if time.monotonic() - started > timeout:
            process.kill()
            raise RuntimeError(f"{' '.join(args[:4])} … took more than {timeout:.0f} s")
        time.sleep(interval)
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} … failed ({process.returncode}):\n{stderr}")
    method = "summed VmRSS of the process tree, sampled every 0.2 s"
    if not has_proc or peak == 0.0:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peak = usage / (1024 * 1024 if sys.platform == "darwin" else 1024)
        method = "ru_maxrss of the largest child process"
    last = [line for line in stdout.splitlines() if line.strip()][-1]
    return Measured(json.loads(last), round(peak, 1), method)
