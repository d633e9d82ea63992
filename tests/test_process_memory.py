"""The bench's peak-memory measurement of a child process (mbtkg.bench.process_memory)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from mbtkg.bench.process_memory import run_measured

# A child that touches 80 MB and exits at once, long before a second sample could be taken.
_QUICK_CHILD = "import json; b = b'x' * (80 << 20); print(json.dumps({'n': len(b)}))"


def _measure_in_a_fresh_process(interval: float) -> dict[str, object]:
    # A fresh process has no finished children whose memory could stand in for this one's.
    script = textwrap.dedent(
        f"""
        import json, sys
        from mbtkg.bench.process_memory import run_measured
        m = run_measured([sys.executable, "-c", {_QUICK_CHILD!r}], interval={interval})
        print(json.dumps({{"peak": m.peak_tree_mb, "method": m.method, "output": m.output}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_a_child_that_ends_before_the_second_sample_still_has_its_peak() -> None:
    # CI once reported 0.2 MB for a raw bulk load of two sessions: the only sample was taken
    # while the child was starting, and it ended before the next one.
    result = _measure_in_a_fresh_process(interval=30.0)
    assert result["output"] == {"n": 80 << 20}
    assert isinstance(result["peak"], float)
    assert 80 <= result["peak"] < 400, result


def test_a_tree_is_summed_while_it_runs() -> None:
    # A parent that keeps 60 MB and a child that keeps 60 MB for a second: the sum is seen.
    child = "import time; b = b'y' * (60 << 20); time.sleep(1.5)"
    parent = (
        "import json, subprocess, sys; a = b'x' * (60 << 20); "
        f"subprocess.run([sys.executable, '-c', {child!r}], check=True); "
        "print(json.dumps({'ok': True}))"
    )
    measured = run_measured([sys.executable, "-c", parent], interval=0.05)
    assert measured.output == {"ok": True}
    assert measured.peak_tree_mb >= 120, measured


def test_a_failing_command_is_reported_with_its_error_output() -> None:
    with pytest.raises(RuntimeError, match="failed \\(3\\)") as caught:
        run_measured([sys.executable, "-c", "import sys; sys.stderr.write('no way'); sys.exit(3)"])
    assert "no way" in str(caught.value)


def test_a_child_that_writes_much_to_its_error_output_does_not_stall() -> None:
    # More than a pipe's buffer on stderr before the last stdout line: nothing may block.
    noisy = "import sys, json; sys.stderr.write('w' * (1 << 20)); print(json.dumps({'done': 1}))"
    measured = run_measured([sys.executable, "-c", noisy], interval=0.05, timeout=60)
    assert measured.output == {"done": 1}
