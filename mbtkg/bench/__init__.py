"""``mbtkg bench``: measure load, validation and queries on a generated corpus, against limits.

One run generates a corpus in a temporary directory, then measures, on that same corpus:
the load path against a raw Oxigraph bulk load of the same quads; the fast validation engine
against pySHACL on the same sessions (pySHACL only up to a cap, since it takes seconds per
session); every competency query through mbtkg against the same SPARQL on raw Oxigraph and, up
to a cap, on rdflib; and peak memory. Times are medians of repeated runs, in seconds. The
``cli`` phase times what a user waits for: whole ``mbtkg`` processes (``--help``, ``validate``
and ``query`` of one session, ``demo``) and a load of ten sessions against a raw bulk load
(:mod:`mbtkg.bench.cli_latency`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ..concepts import default_ontology_quads
from ..generate import generate_corpus
from .cli_latency import format_latency, measure_latency
from .phases import (
    inferred_nquads_path,
    measure_load,
    measure_queries,
    measure_validation,
    stores_from,
)
from .timing import machine, peak_rss_mb

#: The targets of issues 6, 14 and 16, stated for 1,000 sessions on two cores. Issue 6 asked
#: for a load within 1.5 times the raw bulk load; issue 16 tightened it to 1.2.
TARGETS = {
    "load_ratio_max": 1.2,
    "infer_ratio_max": 1.5,
    "validation_speedup_min": 20.0,
    "query_ratio_max": 1.1,
    "query_seconds_max": 1.0,
    "disk_peak_memory_gb_max": 4.0,
    "reader_per_turn_ratio_max": 1.5,
    "remote_load_ratio_max": 1.5,
    # Issue 16, on disk (10,000 sessions): one session at once, every session within seconds.
    "disk_one_session_query_s_max": 0.05,
    "disk_all_sessions_query_s_max": 10.0,
}


#: What a run can measure; ``--only load`` is how the 10,000-session load is measured, and
#: ``--only queries`` skips the timed loads (the stores are still bulk-loaded to be queried).
#: ``cli`` (whole ``mbtkg`` processes, :mod:`mbtkg.bench.cli_latency`) and ``readers`` (big
#: single sessions, see :mod:`mbtkg.bench.readers`) need no corpus; ``remote`` loads and
#: queries the corpus through an ``oxigraph serve`` the bench starts (:mod:`mbtkg.bench.remote`).
PHASES = ("load", "validation", "queries", "cli", "readers", "remote")
#: The phases that need the generated corpus and its load.
_CORPUS_PHASES = ("load", "validation", "queries", "remote")


def run_bench(
    sessions: int,
    *,
    repeat: int = 3,
    seed: int = 0,
    jobs: int | None = None,
    pyshacl_cap: int = 20,
    rdflib_cap: int = 100,
    rdflib_timeout: float = 60.0,
    disk: bool = False,
    workdir: str | Path | None = None,
    turns: int = 200,
    phases: tuple[str, ...] = PHASES,
    cli_runs: int | None = None,
    reader_sizes: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """Run the benchmark and return its results as a JSON-ready dictionary.

    ``phases`` chooses what is measured; with ``("load",)`` no session graph is kept in this
    process, so corpora far larger than memory can be measured. Raises ValueError for fewer
    than one session or an unknown phase. ``cli_runs`` is how many runs of each command the
    ``cli`` phase times (default: ``repeat``).
    """
    if sessions < 1:
        raise ValueError("the benchmark needs at least one session")
    unknown = sorted(set(phases) - set(PHASES))
    if unknown or not phases:
        raise ValueError(f"unknown phase(s) {unknown}; choose from {', '.join(PHASES)}")
    from ..process_pool import default_jobs

    jobs = jobs or default_jobs()
    base = Path(tempfile.mkdtemp(prefix="mbtkg-bench-", dir=workdir))
    validation: dict[str, Any] | None = None
    queries: list[dict[str, Any]] | None = None
    load: dict[str, Any] | None = None
    extra: dict[str, Any] = {}
    generated_s = 0.0
    try:
        if "cli" in phases:
            extra["cli"] = measure_latency(
                runs=cli_runs or repeat, repeat=repeat, jobs=jobs, seed=seed, turns=turns,
                workdir=base,
            )  # fmt: skip
        if "readers" in phases:
            from .readers import SIZES, measure_readers

            extra["readers"] = measure_readers(base / "readers", sizes=reader_sizes or SIZES)
        if not any(p in phases for p in _CORPUS_PHASES):
            return _summary(
                sessions, repeat=repeat, seed=seed, jobs=jobs, turns=turns, phases=phases,
                rdflib_timeout=rdflib_timeout, generated_s=generated_s, load=None,
                validation=None, queries=None, extra=extra,
            )  # fmt: skip
        started = time.perf_counter()
        corpus = generate_corpus(base / "corpus", sessions=sessions, seed=seed, turns=turns)
        generated_s = time.perf_counter() - started
        paths = list(corpus.files)
        # Session graphs stay in memory only where they are used: validation, the remote
        # phase, and rdflib's copy of a small corpus; queries need only the first session's id.
        keep = (
            "validation" in phases
            or "remote" in phases
            or ("queries" in phases and sessions <= rdflib_cap)
        )
        load, graphs, nquads, first = measure_load(
            paths, repeat=repeat, jobs=jobs, disk=disk, workdir=base, keep_graphs=keep,
            timed="load" in phases, infer="queries" in phases,
        )  # fmt: skip
        if "remote" in phases:
            from .remote import measure_remote

            extra["remote"] = measure_remote(
                paths, nquads, graphs, repeat=repeat, jobs=jobs, workdir=base
            )
        if "validation" in phases:
            validation = measure_validation(
                graphs, repeat=repeat, jobs=jobs, pyshacl_cap=pyshacl_cap
            )
        if "queries" in phases:
            store, raw, extra["query_store"] = stores_from(nquads, disk=disk, workdir=base)
            queries = measure_queries(
                graphs, store, raw, repeat=repeat, rdflib_cap=rdflib_cap,
                rdflib_timeout=rdflib_timeout, first_session=first,
                inferred=inferred_nquads_path(nquads),
            )  # fmt: skip
            store.close()
            del raw
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return _summary(
        sessions, repeat=repeat, seed=seed, jobs=jobs, turns=turns, phases=phases,
        rdflib_timeout=rdflib_timeout, generated_s=generated_s, load=load,
        validation=validation, queries=queries, extra=extra,
    )  # fmt: skip


def _summary(
    sessions: int,
    *,
    repeat: int,
    seed: int,
    jobs: int,
    turns: int,
    phases: tuple[str, ...],
    rdflib_timeout: float,
    generated_s: float,
    load: dict[str, Any] | None,
    validation: dict[str, Any] | None,
    queries: list[dict[str, Any]] | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON object of a run: figures, the ratios the targets are stated in, and ``met``."""
    memory = peak_rss_mb()
    result: dict[str, Any] = {
        "sessions": sessions,
        "repeat": repeat,
        "seed": seed,
        "phases": list(phases),
        "rdflib_timeout": rdflib_timeout,
        "jobs": jobs,
        "machine": machine(),
        "corpus": {
            "turns_per_session": turns,
            "triples": None if load is None else load["quads"] - len(default_ontology_quads()),
            "generate_s": round(generated_s, 3),
        },
        "load": load,
        "validation": validation,
        "queries": queries,
        "memory": {
            **memory,
            "measured": "ru_maxrss (peak resident set) of this process and of its finished "
            "child processes; the load's own peak is load.peak_memory_mb",
        },
        "targets": TARGETS,
    }
    ratios: dict[str, Any] = {}
    met: dict[str, bool] = {}
    if load is not None:
        ratios["load_vs_raw"] = load["ratio_load_vs_raw"]
        if load["ratio_load_vs_raw"] is not None:
            met["load"] = load["ratio_load_vs_raw"] <= TARGETS["load_ratio_max"] and bool(
                load["same_quads"]
            )
        if load.get("ratio_infer_vs_no_infer") is not None:
            ratios["infer_vs_no_infer"] = load["ratio_infer_vs_no_infer"]
            ratios["infer_vs_no_infer_cpu"] = load["cpu_ratio_infer_vs_no_infer"]
            ratios["inferred_quads"] = load["inferred_quads"]
            # issue 14: loading with inferred graphs at most 1.5 times loading without them
            met["inference"] = (
                load["ratio_infer_vs_no_infer"] <= TARGETS["infer_ratio_max"]
                and load["inferred_quads"] > 0
            )
    if load is not None and load["store"] == "disk" and load["peak_memory_mb"]["load"] is not None:
        peak_gb = load["peak_memory_mb"]["load"] / 1024
        ratios["load_peak_memory_gb"] = round(peak_gb, 2)
        met["disk_memory"] = peak_gb < TARGETS["disk_peak_memory_gb_max"]
    if validation is not None:
        ratios["validation_speedup_vs_pyshacl"] = validation["speedup_vs_pyshacl"]
        met["validation"] = (validation["speedup_vs_pyshacl"] or 0) >= TARGETS[
            "validation_speedup_min"
        ] and bool(validation["identical"])
    if queries is not None:
        worst = max((q["ratio_vs_raw"] or 0 for q in queries), default=0.0)
        slowest = max((q["mbtkg_s"] for q in queries), default=0.0)
        ratios["worst_query_vs_raw"] = round(worst, 3)
        ratios["slowest_query_s"] = round(slowest, 4)
        if load is not None and load["store"] == "disk":
            # a query without a session parameter ("example") asks about the whole store, as
            # the all-session variants do; only a one-session variant is held to 50 ms
            one = [q["mbtkg_s"] for q in queries if q["variant"] == "one session"]
            every = [q["mbtkg_s"] for q in queries if q["variant"] != "one session"]
            ratios["slowest_one_session_query_s"] = round(max(one, default=0.0), 4)
            ratios["slowest_all_sessions_query_s"] = round(max(every, default=0.0), 4)
            met["disk_queries"] = (
                ratios["slowest_one_session_query_s"] <= TARGETS["disk_one_session_query_s_max"]
                and ratios["slowest_all_sessions_query_s"]
                <= TARGETS["disk_all_sessions_query_s_max"]
            )
        else:
            met["queries"] = (
                worst <= TARGETS["query_ratio_max"] and slowest <= TARGETS["query_seconds_max"]
            )
    _extra_ratios(extra or {}, result, ratios, met)
    result["ratios"] = ratios
    result["met"] = met
    return result


def _extra_ratios(
    extra: dict[str, Any], result: dict[str, Any], ratios: dict[str, Any], met: dict[str, bool]
) -> None:
    """The cli, readers and remote phases' figures, ratios and ``met`` put into the result."""
    cli, readers, remote = extra.get("cli"), extra.get("readers"), extra.get("remote")
    result["cli"], result["readers"], result["remote"] = cli, readers, remote
    # the query store's bulk load and, on disk, its compaction (as `mbtkg load` leaves it)
    result["query_store"] = extra.get("query_store")
    if cli is not None:
        for command in cli["commands"]:
            ratios[f"cli_{command['command']}_s"] = command["median_s"]
            met[f"cli_{command['command']}"] = bool(command["met"])
        ratios["small_load_vs_raw"] = cli["small_load"]["ratio_load_vs_raw"]
        met["small_load"] = bool(cli["small_load"]["met"])
    if readers is not None:
        for name, fmt in readers["formats"].items():
            for key, value in fmt["ratios"].items():
                ratios[f"{name}_{key.removesuffix('_us_per_turn')}_per_turn_max_vs_min"] = value
        met["readers"] = bool(readers["met"])
    if remote is not None and remote["ran"]:
        ratios["remote_load_vs_raw_upload"] = remote["ratio_load_vs_raw_upload"]
        met["remote_load"] = bool(remote["met"])


def format_report(result: dict[str, Any]) -> str:
    """The results as a few readable tables."""
    m = result["machine"]
    load, ratios = result["load"], result["ratios"]
    if load is None:
        return "\n".join(
            [f"mbtkg bench: {', '.join(result['phases'])}", _machine_line(m), ""]
            + _extra_lines(result)
            + [
                "targets met: "
                + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in result["met"].items())
            ]
        )
    peak = load["peak_memory_mb"]

    def seconds(value: float | None) -> str:
        return "not run" if value is None else f"{value:.3f}"

    lines = [
        f"mbtkg bench: {result['sessions']} sessions, {result['corpus']['triples']} triples, "
        f"median of {result['repeat']} run(s), {result['jobs']} job(s), {load['store']} stores",
        f"machine: {m['nproc']} CPUs, {m['ram_gb']} GB RAM, Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f", load average {m['load_average']}",
        "",
        "load                                   seconds",
        f"  mbtkg load ({result['jobs']} jobs)                 {seconds(load['load_s'])}",
        f"  raw pyoxigraph bulk load             {seconds(load['raw_bulk_load_s'])}",
        f"  load / raw bulk load                 {ratios['load_vs_raw']}x (target <= 1.5); "
        f"same quads: {load['same_quads']}",
        *_inference_lines(load, ratios),
        f"  peak memory, load / raw (MB)         {peak['load']} / {peak['raw_bulk_load']}",
        "  steps, one process: "
        + ", ".join(
            f"{k} {load[k]:.3f}"
            for k in ("read_s", "to_rdf_s", "validate_fast_s", "write_s")
            if load.get(k) is not None
        ),
    ]
    val = result["validation"]
    if val is not None:
        lines += [
            "",
            f"validation ({val['compared_sessions']} sessions compared)   seconds",
            f"  fast, all sessions, {val['jobs']} jobs           {val['fast_all_s']:.3f}",
            f"  fast, all sessions, 1 job            {val['fast_all_jobs1_s']:.3f}",
            f"  fast, compared sessions              {val['fast_subset_s']:.3f}",
            f"  pySHACL, compared sessions (1 run)   {val['pyshacl_subset_s']:.3f}",
            f"  speed-up {ratios['validation_speedup_vs_pyshacl']}x (target >= 20), "
            f"identical results: {val['identical']}",
        ]
    if result["queries"] is not None:
        lines += [
            "",
            f"{'query':<34}{'variant':<14}{'rows':>7}{'mbtkg s':>10}{'raw s':>10}{'ratio':>7}{'rdflib s':>10}",
        ]
        for q in result["queries"]:
            rdf = "-" if q["rdflib_s"] is None else f"{q['rdflib_s']:.4f}"
            rdf = f">{result['rdflib_timeout']:g}" if q["rdflib_timed_out"] else rdf
            lines.append(
                f"{q['query']:<34}{q['variant']:<14}{q['rows']:>7}{q['mbtkg_s']:>10.4f}"
                f"{q['raw_s']:>10.4f}{q['ratio_vs_raw']!s:>7}{rdf:>10}"
            )
    lines += _extra_lines(result)
    mem = result["memory"]
    lines += [
        "",
        f"peak memory of the benchmark itself: {mem['self_mb']} MB",
        "targets met: "
        + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in result["met"].items()),
    ]
    return "\n".join(lines)


def _inference_lines(load: dict[str, Any], ratios: dict[str, Any]) -> list[str]:
    """The load with inferred graphs against the load without, when the loads were timed."""
    if load.get("load_infer_s") is None:
        return []
    return [
        f"  mbtkg load with inferred graphs      {load['load_infer_s']:.3f}",
        f"  with / without inference             {ratios['infer_vs_no_infer']}x "
        f"(issue 14 asks <= 1.5); {load['inferred_quads']} inferred quads",
        f"  with / without inference, CPU time   {ratios['infer_vs_no_infer_cpu']}x "
        f"({load['cpu_s']['load_infer']:.3f} / {load['cpu_s']['load']:.3f} s)",
    ]


def _machine_line(m: dict[str, Any]) -> str:
    return (
        f"machine: {m['nproc']} CPUs, {m['ram_gb']} GB RAM, Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f", load average {m['load_average']}"
    )


def _extra_lines(result: dict[str, Any]) -> list[str]:
    """Tables of the cli, readers and remote phases' figures, when they ran."""
    lines: list[str] = []
    if result.get("cli") is not None:
        lines += format_latency(result["cli"])
    readers = result.get("readers")
    if readers is not None:
        lines += ["", f"{'reader':<8}{'turns':>9}{'read us/turn':>14}{'check us/turn':>15}"]
        for name, fmt in readers["formats"].items():
            for row in fmt["sizes"]:
                lines.append(
                    f"{name:<8}{row['turns']:>9}{row['read_us_per_turn']:>14}"
                    f"{row['check_us_per_turn']:>15}"
                )
            r = fmt["ratios"]
            lines.append(
                f"  {name}: largest / smallest per turn: read {r['read_us_per_turn']}x, check "
                f"{r['check_us_per_turn']}x (target <= 1.5)"
            )
    remote = result.get("remote")
    if remote is not None:
        if not remote["ran"]:
            lines += ["", f"remote: not run ({remote['why']})"]
        else:
            lines += [
                "",
                f"remote ({remote['server']})             seconds",
                f"  mbtkg load                           {remote['load_s']:.3f}",
                f"  raw upload of the same quads         {remote['raw_upload_s']:.3f}",
                f"  load / raw upload                    {remote['ratio_load_vs_raw_upload']}x "
                f"(target <= 1.5); same quads: {remote['same_quads']}",
            ]
            worst = max(remote["queries"], key=lambda q: q["ratio_vs_raw"] or 0, default=None)
            slowest = max(remote["queries"], key=lambda q: q["mbtkg_s"], default=None)
            if worst is not None and slowest is not None:
                lines.append(
                    f"  queries through the server: worst ratio {worst['ratio_vs_raw']}x "
                    f"({worst['query']}, {worst['variant']}), slowest {slowest['mbtkg_s']:.4f} s "
                    f"({slowest['query']}, {slowest['variant']})"
                )
    return lines


__all__ = ["PHASES", "TARGETS", "format_report", "run_bench"]
