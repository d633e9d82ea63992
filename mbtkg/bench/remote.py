"""The ``remote`` phase of ``mbtkg bench``: a load and the queries through ``oxigraph serve``.

The load (``mbtkg.loading.load`` into a ``sparql+http://`` store) is compared with a raw upload
of exactly the same quads (the N-Quads file of the raw bulk load, one ``POST`` to the server's
Graph Store endpoint), each into a freshly started server, so both write to an empty store.
Each competency query is then run through mbtkg on the loaded server and as the same bound
SPARQL text sent straight to the server, alternately.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..loading import load
from ..queries import get_query, run_query
from ..sessions.to_rdf import SessionGraph
from ..stores.settings import RemoteSettings
from ..stores.sparql_http import SparqlHttpStore
from .oxigraph_serve import oxigraph_binary, oxigraph_serve
from .phases import _paired_times, _ratio, _variants

#: Remote load against a raw upload of the same quads to the same server (issue 16).
REMOTE_LOAD_RATIO_MAX = 1.5


def _store(base: str) -> SparqlHttpStore:
    settings = RemoteSettings(update_url=f"{base}/update", gsp_url=f"{base}/store")
    return SparqlHttpStore(f"sparql+{base}/query", settings=settings)


def _raw_upload(base: str, body: bytes) -> None:
    request = urllib.request.Request(
        f"{base}/store",
        data=body,
        method="POST",
        headers={"Content-Type": "application/n-quads"},
    )
    with urllib.request.urlopen(request, timeout=3600) as answer:
        answer.read()


def _raw_select(base: str, text: str) -> list[Any]:
    request = urllib.request.Request(
        f"{base}/query",
        data=urllib.parse.urlencode({"query": text}).encode(),
        headers={
            "Accept": "application/sparql-results+json",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=3600) as answer:
        rows: list[Any] = json.loads(answer.read())["results"]["bindings"]
    return rows


def _count(base: str) -> int:
    rows = _raw_select(base, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    return int(rows[0]["n"]["value"])


def measure_remote(
    paths: Sequence[Path],
    nquads: Path,
    graphs: Sequence[SessionGraph],
    *,
    repeat: int,
    jobs: int,
    workdir: Path,
) -> dict[str, Any]:
    """Load and raw-upload times through fresh ``oxigraph serve`` processes, and the queries."""
    if oxigraph_binary() is None:
        return {"ran": False, "why": "the oxigraph server binary is not installed"}
    body = nquads.read_bytes()
    load_times: list[float] = []
    raw_times: list[float] = []
    load_quads = raw_quads = -1
    for run in range(max(1, repeat)):
        with oxigraph_serve(workdir / f"serve-raw-{run}") as base:
            started = time.perf_counter()
            _raw_upload(base, body)
            raw_times.append(time.perf_counter() - started)
            raw_quads = _count(base)
        with oxigraph_serve(workdir / f"serve-load-{run}") as base:
            store = _store(base)
            started = time.perf_counter()
            # without inferred graphs: the same quads as the raw upload (as the local load)
            load(paths, store, jobs=jobs, infer=False)
            load_times.append(time.perf_counter() - started)
            load_quads = _count(base)
            if run == max(1, repeat) - 1:
                queries = _queries(base, store, graphs, repeat)
    load_s, raw_s = statistics.median(load_times), statistics.median(raw_times)
    ratio = _ratio(load_s, raw_s)
    return {
        "ran": True,
        "server": "oxigraph serve (loopback, on disk)",
        "load_s": round(load_s, 4),
        "raw_upload_s": round(raw_s, 4),
        "ratio_load_vs_raw_upload": ratio,
        "stored_quads": raw_quads,
        "same_quads": raw_quads == load_quads,
        "upload_bytes": len(body),
        "queries": queries,
        "met": ratio is not None and ratio <= REMOTE_LOAD_RATIO_MAX and raw_quads == load_quads,
    }


def _queries(
    base: str, store: SparqlHttpStore, graphs: Sequence[SessionGraph], repeat: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, variant, params in _variants(graphs[0].session_id):
        text = get_query(name).bind(params)
        ours_s, answer, raw_s, raw_rows, runs = _paired_times(
            lambda: run_query(store, name, params),  # noqa: B023
            lambda: _raw_select(base, text),  # noqa: B023
            repeat,
        )
        rows.append(
            {
                "query": name,
                "variant": variant,
                "rows": len(answer),
                "raw_rows": len(raw_rows),
                "mbtkg_s": round(ours_s, 5),
                "raw_s": round(raw_s, 5),
                "ratio_vs_raw": _ratio(ours_s, raw_s),
                "runs": runs,
            }
        )
    return rows
