"""The measured phases of ``mbtkg bench``: load, validation and queries, each against its limit.

Each phase returns a plain dictionary (JSON-ready) of medians in seconds and the ratios the
targets are stated in. Nothing is extrapolated: what was not run is reported as None.
"""

from __future__ import annotations

import inspect
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .. import vocab
from ..concepts import default_ontology_quads
from ..loading import load, read_graphs
from ..queries import list_queries, run_query
from ..sessions import read_session, session_to_rdf
from ..sessions.to_rdf import SessionGraph
from ..stores.base import Store
from ..stores.oxigraph import OxigraphStore
from ..validate import validate_graphs, violation_keys
from .timing import median_time, peak_rss_mb


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def _open(disk: bool, workdir: Path) -> tuple[OxigraphStore, ox.Store]:
    """An mbtkg store and a raw Oxigraph store, both fresh, in memory or on disk."""
    if not disk:
        return OxigraphStore(), ox.Store()
    first = Path(tempfile.mkdtemp(prefix="mbtkg-store-", dir=workdir))
    second = Path(tempfile.mkdtemp(prefix="raw-store-", dir=workdir))
    return OxigraphStore(first), ox.Store(str(second))


def all_quads(graphs: Sequence[SessionGraph]) -> list[ox.Quad]:
    """Every quad a load writes: the ontology graph and each session graph."""
    quads = list(default_ontology_quads())
    for g in graphs:
        quads.extend(g.quads)
    return quads


def _load_fast(paths: Sequence[Path], store: Store, jobs: int) -> int:
    """What ``mbtkg load`` does with the fast engine: read, validate, write in one operation."""
    graphs, errors = read_graphs(paths)
    if errors:
        raise errors[0]
    report = validate_graphs(graphs, engine="fast", jobs=jobs)
    if not report.conforms:
        raise AssertionError(f"the generated corpus does not conform: {report.violations[0]}")
    batch: dict[str, Sequence[ox.Quad]] = {vocab.ONTOLOGY_GRAPH: list(default_ontology_quads())}
    for g in graphs:
        batch[g.graph] = g.quads
    store.replace_graphs(batch)
    return len(graphs)


def measure_load(
    paths: Sequence[Path],
    *,
    repeat: int,
    jobs: int,
    pyshacl_cap: int,
    disk: bool,
    workdir: Path,
) -> tuple[dict[str, Any], list[SessionGraph], OxigraphStore, ox.Store]:
    """Time the load path against a raw bulk load of the same quads; return the loaded stores."""
    out: dict[str, Any] = {"store": "disk" if disk else "memory"}
    out["read_s"], sessions = median_time(lambda: [read_session(p) for p in paths], repeat)
    out["to_rdf_s"], graphs = median_time(lambda: [session_to_rdf(s) for s in sessions], repeat)
    quads = all_quads(graphs)
    out["quads"] = len(quads)
    nquads = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""

    def raw_bulk() -> ox.Store:
        raw = _open(disk, workdir)[1]
        raw.bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
        return raw

    def raw_extend() -> ox.Store:
        raw = _open(disk, workdir)[1]
        raw.extend(quads)
        if disk:
            raw.flush()
        return raw

    out["raw_bulk_load_s"], raw_store = median_time(raw_bulk, repeat)
    out["raw_extend_s"], _ = median_time(raw_extend, repeat)

    def write() -> OxigraphStore:
        store = _open(disk, workdir)[0]
        batch: dict[str, Sequence[ox.Quad]] = {vocab.ONTOLOGY_GRAPH: list(default_ontology_quads())}
        batch.update({g.graph: g.quads for g in graphs})
        store.replace_graphs(batch)
        return store

    out["write_s"], _ = median_time(write, repeat)
    out["validate_fast_s"], _ = median_time(
        lambda: validate_graphs(graphs, engine="fast", jobs=jobs), repeat
    )

    def load_fast() -> OxigraphStore:
        store = _open(disk, workdir)[0]
        _load_fast(paths, store, jobs)
        return store

    out["load_fast_path_s"], store = median_time(load_fast, repeat)
    out["read_to_rdf_write_s"] = round(out["read_s"] + out["to_rdf_s"] + out["write_s"], 4)
    # mbtkg.loading.load itself: with the fast engine if it offers one, else (pySHACL) capped.
    takes_engine = "engine" in inspect.signature(load).parameters
    out["load_api_engine"] = "fast" if takes_engine else "pyshacl"
    out["load_api_s"] = None
    if takes_engine or len(paths) <= pyshacl_cap:
        kwargs: dict[str, Any] = {"engine": "fast"} if takes_engine else {}
        out["load_api_s"], _ = median_time(
            lambda: load(paths, _open(disk, workdir)[0], **kwargs),
            1 if not takes_engine else repeat,
        )
    out["ratio_load_fast_path_vs_raw"] = _ratio(out["load_fast_path_s"], out["raw_bulk_load_s"])
    out["ratio_load_api_vs_raw"] = _ratio(out["load_api_s"], out["raw_bulk_load_s"])
    out["ratio_no_validation_vs_raw"] = _ratio(out["read_to_rdf_write_s"], out["raw_bulk_load_s"])
    out["memory_after_load"] = peak_rss_mb()
    return out, graphs, store, raw_store


def measure_validation(
    graphs: Sequence[SessionGraph], *, repeat: int, jobs: int, pyshacl_cap: int
) -> dict[str, Any]:
    """Fast validation of every session, and both engines on the same first sessions."""
    from ..fast_shacl import default_compiled

    out: dict[str, Any] = {"jobs": jobs}
    out["fell_back"] = [{"shape": s, "reason": r} for s, r in default_compiled().fell_back]
    out["fast_all_s"], fast_all = median_time(
        lambda: validate_graphs(graphs, engine="fast", jobs=jobs), repeat
    )
    out["fast_all_jobs1_s"], _ = median_time(
        lambda: validate_graphs(graphs, engine="fast", jobs=1), repeat
    )
    out["violations"] = len(fast_all.violations)
    subset = list(graphs[:pyshacl_cap])
    out["compared_sessions"] = len(subset)
    out["fast_subset_s"], fast = median_time(
        lambda: validate_graphs(subset, engine="fast", jobs=jobs), repeat
    )
    out["pyshacl_subset_s"], reference = median_time(lambda: validate_graphs(subset), 1)
    out["pyshacl_runs"] = 1
    out["speedup_vs_pyshacl"] = _ratio(out["pyshacl_subset_s"], out["fast_subset_s"])
    out["identical"] = violation_keys(fast) == violation_keys(reference) and sorted(
        fast.violations, key=lambda v: (v.source, v.key)
    ) == sorted(reference.violations, key=lambda v: (v.source, v.key))
    out["memory_after_validation"] = peak_rss_mb()
    return out


def _variants(graphs: Sequence[SessionGraph]) -> list[tuple[str, str, dict[str, str]]]:
    """(query, variant, params): the example parameters, with ``session`` set to one generated
    session and left out (every session); queries without a session parameter run once."""
    first = graphs[0].session_id if graphs else "none"
    out: list[tuple[str, str, dict[str, str]]] = []
    for q in list_queries():
        params = dict(q.example)
        names = {p.name for p in q.parameters}
        if "session" in names:
            out.append((q.name, "one session", {**params, "session": first}))
            out.append(
                (q.name, "all sessions", {k: v for k, v in params.items() if k != "session"})
            )
        else:
            out.append((q.name, "example", params))
    return out


def measure_queries(
    graphs: Sequence[SessionGraph],
    store: OxigraphStore,
    raw: ox.Store,
    *,
    repeat: int,
    rdflib_cap: int,
    rdflib_timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """Each competency query through mbtkg, on raw Oxigraph, and (small corpora) on rdflib."""
    from ..queries import get_query

    dataset = None
    rdflib_load_s = None
    if len(graphs) <= rdflib_cap:
        import rdflib

        data = ox.serialize(all_quads(graphs), format=ox.RdfFormat.N_QUADS) or b""

        def parse() -> rdflib.Dataset:
            ds = rdflib.Dataset()
            ds.parse(data=data.decode("utf-8"), format="nquads")
            return ds

        rdflib_load_s, dataset = median_time(parse, 1)
    rows: list[dict[str, Any]] = []
    for name, variant, params in _variants(graphs):
        text = get_query(name).bind(params)
        mbtkg_s, answer = median_time(lambda: run_query(store, name, params), repeat)  # noqa: B023
        raw_s, raw_rows = median_time(lambda: list(raw.query(text)), repeat)  # type: ignore[arg-type]  # noqa: B023
        row: dict[str, Any] = {
            "query": name,
            "variant": variant,
            "params": params,
            "rows": len(answer),
            "raw_rows": len(raw_rows),
            "mbtkg_s": round(mbtkg_s, 5),
            "raw_s": round(raw_s, 5),
            "ratio_vs_raw": _ratio(mbtkg_s, raw_s),
            "rdflib_s": None,
            "rdflib_rows": None,
            "rdflib_load_s": rdflib_load_s,
            "rdflib_timed_out": False,
        }
        if dataset is not None:
            seconds, count = _rdflib_run(dataset, text, rdflib_timeout)
            row["rdflib_s"] = None if seconds is None else round(seconds, 5)
            row["rdflib_rows"] = count
            row["rdflib_timed_out"] = seconds is None
        rows.append(row)
    return rows


def _rdflib_child(dataset: Any, text: str, conn: Any) -> None:
    started = time.perf_counter()
    count = len(list(dataset.query(text)))
    conn.send((time.perf_counter() - started, count))


def _rdflib_run(dataset: Any, text: str, timeout: float) -> tuple[float | None, int | None]:
    """One run of a query on rdflib, in a forked process stopped after ``timeout`` seconds.

    rdflib cannot be interrupted, and some joins take it minutes; (None, None) on timeout.
    Where fork is unavailable, the query runs here, without a time limit.
    """
    if not sys.platform.startswith("linux"):
        started = time.perf_counter()
        count = len(list(dataset.query(text)))
        return time.perf_counter() - started, count
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_rdflib_child, args=(dataset, text, child))
    process.start()
    try:
        if parent.poll(timeout):
            seconds, count = parent.recv()
            return float(seconds), int(count)
        return None, None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
