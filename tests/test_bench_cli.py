"""``mbtkg bench --only cli --json``: the shape of the command-latency figures, on one run each.

No timing is asserted: only that every command was run and timed, that each ``met`` says what
its figure and target say, and that the small load stored the same quads as the raw load.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from mbtkg.bench import format_report
from mbtkg.cli import main

TARGETS = {"help": 0.2, "validate": 0.6, "query": 0.6, "demo": 1.5}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("bench-cli")
    args = ["bench", "--sessions", "1", "--only", "cli", "--repeat", "1", "--turns", "12"]
    run = CliRunner().invoke(main, [*args, "--workdir", str(work), "--json"])
    assert run.exit_code == 0, run.output
    assert list(work.iterdir()) == []  # corpus, stores and caches are gone
    data: dict[str, Any] = json.loads(run.output)
    return data


def test_every_command_is_timed_against_its_target(result: dict[str, Any]) -> None:
    assert result["phases"] == ["cli"]
    assert result["validation"] is None and result["queries"] is None
    commands = result["cli"]["commands"]
    assert [c["command"] for c in commands] == ["help", "validate", "query", "demo"]
    for c in commands:
        assert c["runs"] == 1
        assert c["median_s"] > 0 and c["median_cpu_s"] > 0 and c["first_run_s"] > 0
        assert c["target_s"] == TARGETS[c["command"]]
        assert c["met"] is (c["median_s"] <= c["target_s"])
        assert result["met"][f"cli_{c['command']}"] is c["met"]
        assert result["ratios"][f"cli_{c['command']}_s"] == c["median_s"]
        assert c["argv"][0] == "mbtkg"
        assert not any("/" in a for a in c["argv"])  # no path of this machine in the report
    assert commands[1]["argv"][-1] == "susan-12.yaml"


def test_the_small_load_is_compared_with_a_raw_load(result: dict[str, Any]) -> None:
    small = result["cli"]["small_load"]
    assert small["sessions"] == 10 and small["same_quads"] is True
    assert small["load_s"] > 0 and small["raw_bulk_load_s"] > 0
    assert small["ratio_load_vs_raw"] == pytest.approx(
        small["load_s"] / small["raw_bulk_load_s"], rel=1e-2
    )
    assert small["met"] is (small["ratio_load_vs_raw"] <= small["target_ratio"] == 2.0)
    assert result["met"]["small_load"] is small["met"]
    assert result["ratios"]["small_load_vs_raw"] == small["ratio_load_vs_raw"]


def test_the_report_shows_the_commands(result: dict[str, Any]) -> None:
    text = format_report(result)
    assert "mbtkg --help" in text and "mbtkg demo" in text
    assert "load of 10 sessions" in text
