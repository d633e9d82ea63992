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
from pyoxigraph import BlankNode

from mbtkg.cli import main
from mbtkg.concepts import default_ontology_quads
from mbtkg.queries import list_queries


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("bench")
    args = ["bench", "--sessions", "2", "--repeat", "1", "--pyshacl-cap", "1", "--rdflib-cap", "2"]
    args += ["--rdflib-timeout", "10", "--turns", "12", "--workdir", str(work), "--json"]
    args += ["--reader-sizes", "20,40"]
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


def test_load_target_is_the_issue_16_figure(result: dict[str, Any]) -> None:
    # issue 16: a load of 1,000 sessions within 1.2 times the raw bulk load (issue 6 said 1.5)
    assert result["targets"]["load_ratio_max"] == 1.2
    ratio = result["ratios"]["load_vs_raw"]
    assert result["met"]["load"] is (ratio <= 1.2 and result["load"]["same_quads"])


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
    # the issue's target, said as a flag that follows the measured ratio
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


def test_only_the_queries_on_disk(tmp_path: Path) -> None:
    """How the 10,000-session disk run asks its questions: no timed load, no session kept."""
    args = ["bench", "--sessions", "3", "--repeat", "1", "--turns", "12", "--disk"]
    args += ["--rdflib-cap", "0", "--only", "queries", "--workdir", str(tmp_path), "--json"]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert data["phases"] == ["queries"] and data["validation"] is None
    assert data["load"]["load_s"] is None and data["load"]["raw_bulk_load_s"] is None
    rows = data["queries"]
    assert {r["query"] for r in rows} == {q.name for q in list_queries()}
    assert all(r["rows"] == r["raw_rows"] and r["rdflib_s"] is None for r in rows)
    one = [r for r in rows if r["variant"] == "one session"]
    assert one and {r["params"]["session"] for r in one} == {"p0001-s01"}
    assert set(data["met"]) == {"disk_queries"}
    # questions without a session parameter (unused-concepts, we-ness-sessions ...) ask about
    # the whole store: they are judged with the all-session variants, not against 50 ms
    assert {r["variant"] for r in rows} == {"one session", "all sessions", "example"}
    slowest_one = max(r["mbtkg_s"] for r in rows if r["variant"] == "one session")
    slowest_all = max(r["mbtkg_s"] for r in rows if r["variant"] != "one session")
    ratios = data["ratios"]
    assert ratios["slowest_one_session_query_s"] == pytest.approx(slowest_one, abs=1e-4)
    assert ratios["slowest_all_sessions_query_s"] == pytest.approx(slowest_all, abs=1e-4)
    assert data["met"]["disk_queries"] is (slowest_one <= 0.05 and slowest_all <= 10.0)
    # the disk store is compacted after its bulk load, as `mbtkg load` leaves a first load
    prepared = data["query_store"]
    assert prepared["bulk_load_s"] > 0 and prepared["optimize_s"] >= 0
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
        assert r["runs"] in (1, 7, 25), r  # repeat=1, medium and fast queries
        assert r["rdflib_timed_out"] or r["rdflib_s"] > 0
    # Fast queries are run more often, so that their ratio is not timer noise. The count is
    # chosen on the first run, which a busy machine can slow past 50 ms now and then, so most
    # (not all) queries whose median is under 10 ms got the fast count.
    fast = [r for r in rows if max(r["mbtkg_s"], r["raw_s"]) < 0.01]
    assert len(fast) >= len(rows) // 2
    assert sum(r["runs"] == 25 for r in fast) >= 0.8 * len(fast)
    slowest = max(r["mbtkg_s"] for r in rows)
    assert result["ratios"]["slowest_query_s"] == pytest.approx(slowest, abs=1e-4)


def test_the_query_stores_hold_what_a_default_load_writes(tmp_path: Path) -> None:
    """The query store (asked through mbtkg and raw) holds the asserted and the inferred graphs,
    quad for quad what ``mbtkg load`` writes by default: the queries on defined classes,
    answered from the inferred graphs, are timed on the work a user's store makes them do."""
    from mbtkg.bench.phases import measure_load, stores_from
    from mbtkg.generate import generate_corpus
    from mbtkg.loading import load
    from mbtkg.queries import run_query
    from mbtkg.stores import open_store

    corpus = generate_corpus(tmp_path / "gen", sessions=4, seed=1, turns=80)
    figures, _graphs, nquads, _first = measure_load(
        list(corpus.files), repeat=1, jobs=1, disk=False, workdir=tmp_path, keep_graphs=False,
        timed=False, infer=True,
    )  # fmt: skip
    store, raw, prepared = stores_from(nquads, disk=False, workdir=tmp_path)
    assert prepared["optimize_s"] is None  # nothing to compact in memory
    loaded = open_store("oxigraph:memory")
    summary = load(corpus.files, loaded)
    assert figures["query_store_inferred_quads"] == summary.inferred > 0

    def named(quads: Any) -> set[Any]:  # blank nodes of the ontology graph are renamed per load
        return {q for q in quads if not any(isinstance(t, BlankNode) for t in q)}

    assert raw is store.raw  # the raw side asks the same store, without mbtkg
    assert len(store.raw) == len(loaded.raw)  # type: ignore[attr-defined]
    assert named(store.raw) == named(loaded.raw)  # type: ignore[attr-defined]
    answered = run_query(store, "repaired-ruptures")
    assert len(answered) > 0
    assert answered.values() == run_query(loaded, "repaired-ruptures").values()


def test_memory_is_reported(result: dict[str, Any]) -> None:
    assert result["memory"]["self_mb"] > 10
    assert "ru_maxrss" in result["memory"]["measured"]


def test_bench_refuses_no_sessions(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["bench", "--sessions", "0"])
    assert run.exit_code == 2
    assert "0" in run.output


def test_readers_per_turn_at_each_size(result: dict[str, Any]) -> None:
    readers = result["readers"]
    assert readers["sizes"] == [20, 40]
    for name in ("csv", "yaml"):
        rows = readers["formats"][name]["sizes"]
        assert [r["turns"] >= size for r, size in zip(rows, (20, 40), strict=True)] == [True] * 2
        assert rows[0]["turns"] < rows[1]["turns"]
        for row in rows:
            assert row["conforms"] is True and row["annotations"] > 0
            assert row["read_us_per_turn"] == pytest.approx(
                row["read_s"] / row["turns"] * 1e6, rel=0.05, abs=0.2
            )
        ratios = readers["formats"][name]["ratios"]
        for key in ("read_us_per_turn", "check_us_per_turn"):
            per_turn = [r[key] for r in rows]
            assert ratios[key] == pytest.approx(max(per_turn) / min(per_turn), rel=1e-2)
            flat = f"{name}_{key.removesuffix('_us_per_turn')}_per_turn_max_vs_min"
            assert result["ratios"][flat] == ratios[key]
    assert result["met"]["readers"] is readers["met"]


def test_remote_load_and_queries_through_oxigraph_serve(result: dict[str, Any]) -> None:
    remote = result["remote"]
    assert remote["ran"] is True, remote
    assert remote["same_quads"] is True
    assert remote["stored_quads"] == result["load"]["stored_quads"]
    assert remote["load_s"] > 0 and remote["raw_upload_s"] > 0
    assert result["ratios"]["remote_load_vs_raw_upload"] == pytest.approx(
        remote["load_s"] / remote["raw_upload_s"], rel=1e-2
    )
    assert {(q["query"], q["variant"]) for q in remote["queries"]} == {
        (q["query"], q["variant"]) for q in result["queries"]
    }
    local = {(q["query"], q["variant"]): q["rows"] for q in result["queries"]}
    for q in remote["queries"]:
        assert q["rows"] == q["raw_rows"] == local[(q["query"], q["variant"])], q
    assert result["met"]["remote_load"] is remote["met"]


def test_only_the_readers_needs_no_corpus(tmp_path: Path) -> None:
    args = ["bench", "--only", "readers", "--reader-sizes", "15", "--workdir", str(tmp_path)]
    run = CliRunner().invoke(main, [*args, "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert data["load"] is None and data["remote"] is None
    assert set(data["met"]) == {"readers"}
    assert list(tmp_path.iterdir()) == []
    bad = CliRunner().invoke(main, ["bench", "--only", "readers", "--reader-sizes", "1k"])
    assert bad.exit_code == 2 and "--reader-sizes" in bad.output


class _Clock:
    """A clock that moves only when told: each query run takes 1 ms, freeing an answer 50 ms."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


class _Answer:
    """An answer whose freeing is slow (as thousands of Python objects are)."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock

    def __del__(self) -> None:
        self.clock.now += 0.050


def test_paired_times_take_turns_and_do_not_time_the_previous_answers_freeing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The side that goes first alternates, and freeing a side's previous answer is not counted
    in its next run (it was: ours, always first and with the bigger answers, came out slower)."""
    from types import SimpleNamespace

    from mbtkg.bench import phases

    clock = _Clock()
    monkeypatch.setattr(phases, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    calls: list[str] = []

    def ours() -> _Answer:
        calls.append("ours")
        clock.now += 0.001
        return _Answer(clock)

    def raw() -> list[int]:
        calls.append("raw")
        clock.now += 0.001
        return [1]

    ours_s, answer, raw_s, raw_answer, runs = phases._paired_times(ours, raw, 3)
    assert runs == phases.FAST_QUERY_RUNS  # a 1 ms query is run more often
    # one untimed warm-up through ours, then the sides take turns at going first
    assert calls[:7] == ["ours", "ours", "raw", "raw", "ours", "ours", "raw"]
    assert calls.count("ours") == runs + 1 and calls.count("raw") == runs
    assert ours_s == pytest.approx(0.001) and raw_s == pytest.approx(0.001)
    assert isinstance(answer, _Answer) and raw_answer == [1]


def test_paired_times_do_not_charge_a_cold_start_to_the_side_that_goes_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A query timed once per side (the 10,000-session runs) used to charge the store's cold
    start (pages read from disk) to ours, which always goes first; an untimed run comes first."""
    from types import SimpleNamespace

    from mbtkg.bench import phases

    clock = _Clock()
    monkeypatch.setattr(phases, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    cold = [True]

    def ask() -> list[int]:
        clock.now += 20.0 if cold[0] else 2.0  # the first run on the store reads it from disk
        cold[0] = False
        return [1]

    ours_s, _answer, raw_s, _raw_answer, runs = phases._paired_times(ask, ask, 1)
    assert runs == 1
    assert ours_s == pytest.approx(2.0) and raw_s == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("seconds", "repeat", "expected"),
    [
        (0.001, 3, 25),
        (0.049, 1, 25),
        (0.05, 3, 7),
        (0.4, 3, 7),
        (0.4, 9, 9),
        (0.99, 1, 7),
        (1.0, 3, 3),
        (2.5, 1, 1),
    ],
)
def test_paired_times_give_queries_under_a_second_enough_runs_for_a_stable_median(
    monkeypatch: pytest.MonkeyPatch, seconds: float, repeat: int, expected: int
) -> None:
    """Three runs of a 0.4 s query gave medians 12 % apart between benchmark runs, more than
    the 1.1x target's margin: queries under 1 s run at least seven times, under 50 ms 25 times,
    and --repeat still sets the floor."""
    from types import SimpleNamespace

    from mbtkg.bench import phases

    clock = _Clock()
    monkeypatch.setattr(phases, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    calls: list[str] = []

    def ask() -> list[int]:
        calls.append("ask")
        clock.now += seconds
        return [1]

    ours_s, _answer, raw_s, _raw_answer, runs = phases._paired_times(ask, ask, repeat)
    assert runs == expected
    assert len(calls) == 1 + 2 * expected  # the untimed warm-up, then each side once a run
    assert ours_s == pytest.approx(seconds) and raw_s == pytest.approx(seconds)


def test_a_reader_size_row_keeps_the_time_its_figure_per_turn_comes_from() -> None:
    """A small file is read in under a millisecond: rounded to 0.1 ms, its time was 7 % off
    the time per turn computed from it (CI's run of 2026-12-07 failed the check above)."""
    from mbtkg.bench.readers import size_row

    row = size_row(21, 5, 0.00075, 0.0021, True)
    assert row["read_us_per_turn"] == 35.7 and row["check_us_per_turn"] == 100.0
    for key in ("read", "check"):
        assert row[f"{key}_us_per_turn"] == pytest.approx(
            row[f"{key}_s"] / row["turns"] * 1e6, rel=0.01
        )
