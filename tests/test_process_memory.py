"""The bench's peak-memory measurement of a child process (mbtkg.bench.process_memory)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mbtkg.bench.process_memory import run_measured

# A child that touches 80 MB, reports its own peak and exits at once, long before a second
# sample could be taken.
_QUICK_CHILD = (
    "import json; from mbtkg.bench.process_memory import own_peak_mb; "
    "b = b'x' * (80 << 20); print(json.dumps({'n': len(b), 'peak_rss_mb': own_peak_mb()}))"
)


def _measure_in_a_fresh_process(interval: float, ballast_mb: int) -> dict[str, object]:
    # A fresh parent holding ``ballast_mb`` of its own: a child started by it must not be
    # charged with the parent's memory.
    script = textwrap.dedent(
        f"""
        import json, sys
        from mbtkg.bench.process_memory import run_measured
        ballast = b"z" * ({ballast_mb} << 20)
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
    result = _measure_in_a_fresh_process(interval=30.0, ballast_mb=0)
    output = result["output"]
    assert isinstance(output, dict) and output["n"] == 80 << 20
    assert isinstance(result["peak"], float)
    assert 80 <= result["peak"] < 400, result
    assert "VmHWM" in str(result["method"])


def test_a_child_is_not_charged_with_its_parents_memory() -> None:
    # ru_maxrss keeps the peak from before execve: read when the child was reaped, it gave
    # every load of the benchmark the benchmark's own 2.7 GB.
    result = _measure_in_a_fresh_process(interval=30.0, ballast_mb=600)
    assert isinstance(result["peak"], float)
    assert 80 <= result["peak"] < 400, result


def test_the_bench_child_reports_its_own_peak(tmp_path: Path) -> None:
    nquads = tmp_path / "one.nq"
    nquads.write_text(
        '<https://example.org/a> <https://example.org/b> "c" <https://example.org/g> .\n',
        encoding="utf-8",
    )
    ballast = b"z" * (600 << 20)  # this process is big; the child is not
    measured = run_measured(
        [sys.executable, "-m", "mbtkg.bench.child", "raw", "memory", str(nquads)], interval=30.0
    )
    assert len(ballast) == 600 << 20
    assert measured.output["quads"] == 1
    assert 10 < measured.output["peak_rss_mb"] < 400
    assert 10 < measured.peak_tree_mb < 400, measured


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


@pytest.mark.parametrize(
    ("code", "found"),
    [("pass", "printed nothing"), ("print('not json')", "a last line of 8 characters"),
     ("print('[1, 2]')", "a last line of 6 characters")],
)  # fmt: skip
def test_a_command_without_a_json_object_is_said(code: str, found: str) -> None:
    with pytest.raises(RuntimeError, match=found) as caught:
        run_measured([sys.executable, "-c", code], interval=0.05)
    assert "expected one JSON object as its last line" in str(caught.value)


def test_the_method_names_the_sampling_interval() -> None:
    measured = run_measured([sys.executable, "-c", "print('{}')"], interval=0.05)
    assert measured.method.startswith("summed VmRSS of the process tree, sampled every 0.05 s")
