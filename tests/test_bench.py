"""``mbtkg bench --json`` on a tiny corpus: the keys are there and the values make sense.

No timing is asserted: only that each figure was measured, is positive, and that the engines
compared gave the same answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.concepts import default_ontology_quads
from mbtkg.queries import list_queries


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("bench")
    args = ["bench", "--sessions", "2", "--repeat", "1", "--pyshacl-cap", "1", "--rdflib-cap", "2"]
    args += ["--rdflib-timeout", "10", "--turns", "12", "--workdir", str(work), "--json"]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    assert list(work.iterdir()) == []  # the temporary corpus and stores are gone
    data: dict[str, Any] = json.loads(run.output)
    return data


def test_top_level_keys(result: dict[str, Any]) -> None:
    assert {"sessions", "machine", "corpus", "load", "validation", "queries", "memory", "ratios",
            "targets", "met"} <= set(result)  # fmt: skip
    assert result["sessions"] == 2
    assert result["machine"]["nproc"] >= 1
    assert result["machine"]["versions"]["pyoxigraph"] != "absent"


def test_load_figures(result: dict[str, Any]) -> None:
    load = result["load"]
    assert load["quads"] == result["corpus"]["triples"] + len(default_ontology_quads())
    for key in ("read_s", "to_rdf_s", "write_s", "validate_fast_s", "load_s", "raw_bulk_load_s"):
        assert load[key] > 0, key
    assert result["ratios"]["load_vs_raw"] == pytest.approx(
        load["load_s"] / load["raw_bulk_load_s"], rel=1e-2
    )
    # mbtkg load and the raw bulk load of the same quads leave the same number of quads.
    assert load["same_quads"] is True
    assert load["stored_quads"] > len(default_ontology_quads())
    # Each load ran in its own process, whose memory was measured from outside.
    assert load["peak_memory_mb"]["load"] > 10 and load["peak_memory_mb"]["raw_bulk_load"] > 10


def test_inference_figures(result: dict[str, Any]) -> None:
    load = result["load"]
    assert load["load_infer_s"] > 0
    assert result["ratios"]["infer_vs_no_infer"] == pytest.approx(
        load["load_infer_s"] / load["load_s"], rel=1e-2
    )
    # two generated sessions of 12 turns: every turn, role and occurrence gets its BFO and
    # superclass types, so the inferred graphs hold well over one quad per turn
    assert load["inferred_quads"] > 2 * 12
    assert result["ratios"]["inferred_quads"] == load["inferred_quads"]
    # the target, said as a flag that follows the measured ratio
    ratio = result["ratios"]["infer_vs_no_infer"]
    assert result["met"]["inference"] is (ratio <= result["targets"]["infer_ratio_max"] == 1.5)
    # processor time of each load (process and workers), and its ratio
    cpu = load["cpu_s"]
    assert cpu["load"] > 0 and cpu["load_infer"] > 0 and cpu["raw_bulk_load"] > 0
    assert result["ratios"]["infer_vs_no_infer_cpu"] == pytest.approx(
        cpu["load_infer"] / cpu["load"], rel=1e-2
    )


def test_only_the_load_on_disk(tmp_path: Path) -> None:
    args = ["bench", "--sessions", "3", "--repeat", "1", "--turns", "12", "--disk"]
    args += ["--only", "load", "--workdir", str(tmp_path), "--json"]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert data["phases"] == ["load"]
    assert data["validation"] is None and data["queries"] is None
    assert data["load"]["store"] == "disk" and data["load"]["same_quads"] is True
    assert "validate_fast_s" not in data["load"]  # no session was kept in memory
    assert set(data["met"]) == {"load", "inference", "disk_memory"}
    assert data["met"]["disk_memory"] is (data["ratios"]["load_peak_memory_gb"] < 4.0)
    assert list(tmp_path.iterdir()) == []


def test_validation_figures(result: dict[str, Any]) -> None:
    v = result["validation"]
    assert v["compared_sessions"] == 1
    assert v["identical"] is True
    assert v["violations"] == 0  # a generated corpus without planted errors is clean
    assert v["pyshacl_subset_s"] > 0 and v["fast_subset_s"] > 0
    assert result["ratios"]["validation_speedup_vs_pyshacl"] == pytest.approx(
        v["pyshacl_subset_s"] / v["fast_subset_s"], rel=1e-2
    )
    assert v["fell_back"] == []


def test_every_query_is_measured_and_the_engines_agree(result: dict[str, Any]) -> None:
    rows = result["queries"]
    assert {r["query"] for r in rows} == {q.name for q in list_queries()}
    for r in rows:
        assert r["rows"] == r["raw_rows"], r["query"]  # mbtkg and raw Oxigraph: same answer
        assert r["mbtkg_s"] > 0 and r["raw_s"] > 0
        # Fast queries are run more often, so that their ratio is not timer noise.
        assert r["runs"] == 25 if max(r["mbtkg_s"], r["raw_s"]) < 0.01 else r["runs"] >= 1
        assert r["rdflib_timed_out"] or r["rdflib_s"] > 0
    slowest = max(r["mbtkg_s"] for r in rows)
    assert result["ratios"]["slowest_query_s"] == pytest.approx(slowest, abs=1e-4)


def test_memory_is_reported(result: dict[str, Any]) -> None:
    assert result["memory"]["self_mb"] > 10
    assert "ru_maxrss" in result["memory"]["measured"]


def test_bench_refuses_no_sessions(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["bench", "--sessions", "0"])
    assert run.exit_code == 2
    assert "0" in run.output
