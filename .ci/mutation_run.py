"""A small, fixed mutation run: plant plausible bugs one at a time and see which tests catch them.

Each mutant replaces one exact piece of source text (it must occur exactly once) in a throwaway
copy of the checkout, then runs only the tests that cover that module. A mutant is *killed*
when those tests fail, *survived* when they pass. The list is hand-written: flipped comparisons,
off-by-one bounds, dropped checks, the kind of slip a reviewer could miss. It includes the four
planted bugs that survived in issue 12.

Usage (from the checkout): ``python .ci/mutation_run.py [--only NAME ...] [--tests-from DIR]``.
``--tests-from`` runs another checkout's ``tests/`` (to measure an older test suite against
the same mutants). Prints one line per mutant and a killed/survived summary; exit 1 when a
mutant survived.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


ARCHIVE = ("tests/test_safe_archive.py", "tests/test_import_qdpx.py")
LOADING = ("tests/test_load_atomic.py", "tests/test_bulk_load.py")
YAML = ("tests/test_yaml_reader.py",)
SUBSET = ("tests/test_yaml_subset.py",)
INFERENCE = ("tests/test_fast_inference.py",)
ROWS = ("tests/test_oxigraph_rows.py",)
SHACL = (
    "tests/test_w3c_shacl.py",
    "tests/test_fast_shacl_batch.py",
    "tests/test_fast_shacl_differential.py",
    "tests/test_shapes.py",
)
QUERIES = ("tests/test_competency_queries.py", "tests/test_queries_corpus.py")

MUTANTS = (
    # safe_archive.py
    Mutant("archive-member-count-dropped", "mbtkg/safe_archive.py",
           "if len(infos) > lim.max_members:", "if False:", ARCHIVE),
    Mutant("archive-nul-byte-allowed", "mbtkg/safe_archive.py",
           'if "\\x00" in name:', "if False:", ARCHIVE),
    Mutant("archive-backslash-absolute", "mbtkg/safe_archive.py",
           'if unified.startswith("/"):', 'if name.startswith("/"):', ARCHIVE),
    Mutant("archive-total-limit-doubled", "mbtkg/safe_archive.py",
           "if total > lim.max_total_bytes:", "if total > 2 * lim.max_total_bytes:", ARCHIVE),
    Mutant("archive-lying-size-unchecked", "mbtkg/safe_archive.py",
           "if len(data) > limit:", "if len(data) > limit + 1:", ARCHIVE),
    Mutant("archive-ratio-and-to-or", "mbtkg/safe_archive.py",
           "if info.file_size > RATIO_FLOOR_BYTES and ratio > lim.max_ratio:",
           "if info.file_size > RATIO_FLOOR_BYTES and ratio > 10 * lim.max_ratio:", ARCHIVE),
    # loading.py
    Mutant("load-duplicate-id-dropped", "mbtkg/loading/__init__.py",
           "                if session.session_id in seen:", "                if False:", LOADING),
    Mutant("read-graphs-duplicate-id-dropped", "mbtkg/loading/__init__.py",
           "        if graph.session_id in seen:", "        if False:", LOADING),
    Mutant("load-abort-dropped", "mbtkg/loading/__init__.py",
           "    except BaseException:\n        target.abort()\n        raise",
           "    except BaseException:\n        raise", LOADING),
    Mutant("load-skip-invalid-ignored", "mbtkg/loading/__init__.py",
           "    if errors and not skip_invalid:\n        raise LoadInputError(errors)\n    report(",
           "    if errors:\n        raise LoadInputError(errors)\n    report(", LOADING),
    # sessions/yaml_reader.py
    Mutant("yaml-boolean-id-accepted", "mbtkg/sessions/yaml_reader.py",
           "        if isinstance(value, bool):\n            self.problem(\n                f\"{what} id",
           "        if False:\n            self.problem(\n                f\"{what} id", YAML),
    Mutant("yaml-turn-id-zero", "mbtkg/sessions/yaml_reader.py",
           "or not isinstance(tid, int) or tid < 1:", "or not isinstance(tid, int) or tid < 0:",
           YAML),
    Mutant("yaml-span-bool-accepted", "mbtkg/sessions/yaml_reader.py",
           "if isinstance(value, int) and not isinstance(value, bool):",
           "if isinstance(value, int):", YAML),
    Mutant("yaml-time-bool-accepted", "mbtkg/sessions/yaml_reader.py",
           "                    isinstance(value, bool) or not isinstance(value, int | float)\n                ):\n                    self.problem(\n                        f\"turn {key}",
           "                    not isinstance(value, int | float)\n                ):\n                    self.problem(\n                        f\"turn {key}",
           YAML),
    # sessions/yaml_subset.py: what it reads must be what PyYAML reads
    Mutant("subset-duplicate-key-kept", "mbtkg/sessions/yaml_subset.py",
           "            if key in result:\n                raise OutsideSubset  # PyYAML says",
           "            if False:\n                raise OutsideSubset  # PyYAML says", SUBSET),
    Mutant("subset-document-end-read", "mbtkg/sessions/yaml_subset.py",
           'if line.startswith(("---", "...")):', 'if line.startswith("---"):', SUBSET),
    Mutant("subset-quote-pair-kept", "mbtkg/sessions/yaml_subset.py",
           "return match.group(1).replace(\"''\", \"'\"), match.end()",
           "return match.group(1), match.end()", SUBSET),
    Mutant("subset-surrogate-escape-read", "mbtkg/sessions/yaml_subset.py",
           "if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:", "if value > 0x10FFFF:", SUBSET),
    Mutant("subset-plain-never-resolved", "mbtkg/sessions/yaml_subset.py",
           "    if tag == _STR:\n        value = text", "    if True:\n        value = text", SUBSET),
    # fast_shacl
    Mutant("shacl-minLength-le", "mbtkg/validation/fast_shacl/compiler.py",
           '(("minLength", "<"), ("maxLength", ">"))', '(("minLength", "<="), ("maxLength", ">"))',
           SHACL),
    Mutant("shacl-maxLength-ge", "mbtkg/validation/fast_shacl/compiler.py",
           '(("minLength", "<"), ("maxLength", ">"))', '(("minLength", "<"), ("maxLength", ">="))',
           SHACL),
    Mutant("shacl-minCount-batch-le", "mbtkg/validation/fast_shacl/compiler.py",
           'BatchForm("count", path=path, op="<", bound=_term(n))',
           'BatchForm("count", path=path, op="<=", bound=_term(n))', SHACL),
    Mutant("shacl-maxCount-batch-ge", "mbtkg/validation/fast_shacl/compiler.py",
           'BatchForm("count", path=path, op=">", bound=_term(n))',
           'BatchForm("count", path=path, op=">=", bound=_term(n))', SHACL),
    Mutant("shacl-minCount-general-le", "mbtkg/validation/fast_shacl/compiler.py",
           "GROUP BY ?this }} FILTER (?c < {_term(n)})",
           "GROUP BY ?this }} FILTER (?c <= {_term(n)})", SHACL),
    Mutant("shacl-minInclusive-strict", "mbtkg/validation/fast_shacl/compiler.py",
           '"minInclusive": ">=",', '"minInclusive": ">",', SHACL),
    Mutant("shacl-datatype-lexical-unchecked", "mbtkg/validation/fast_shacl/compiler.py",
           'else f"COALESCE(isLiteral({d}(STR(?value))), false)"', 'else "true"', SHACL),
    Mutant("shacl-deactivated-ignored", "mbtkg/validation/fast_shacl/shapes.py",
           "if (node, SH.deactivated, rdflib.Literal(True)) in g:", "if False:", SHACL),
    Mutant("shacl-batch-ready-always", "mbtkg/validation/fast_shacl/engine.py",
           "return data.endswith(b\"\\n\") and lines == data.count(suffix)", "return True", SHACL),
    # queries.py
    Mutant("query-required-param-optional", "mbtkg/queries.py",
           "                if p.required:", "                if False:", QUERIES),
    Mutant("query-id-pattern-unchecked", "mbtkg/queries.py",
           "if not ID_PATTERN.match(raw):", "if False:", QUERIES),
    Mutant("query-unknown-param-accepted", "mbtkg/queries.py",
           "            if name not in known:", "            if False:", QUERIES),
    Mutant("query-repeat-lines-kept", "mbtkg/queries.py",
           'text = self.sparql if repeats else _REPEAT_LINE.sub("", self.sparql)',
           "text = self.sparql", QUERIES),
    Mutant("query-graph-marker-for-virtuoso", "mbtkg/queries.py",
           'if repeats and p.type == "session":', 'if p.type == "session":',
           (*QUERIES, "tests/test_query_graph_markers.py")),
    Mutant("query-graph-marker-unchecked", "mbtkg/queries.py",
           "    _check_graph_markers(path, text, params)\n", "", ("tests/test_query_graph_markers.py",)),
    # stores/oxigraph.py: a served disk store's writer lock, handed to each update's writer
    Mutant("serve-lock-not-taken-back", "mbtkg/stores/oxigraph.py",
           "                with contextlib.suppress(StoreError):\n                    lock.take()",
           "                pass", ("tests/test_serve_shared_store.py",)),
    Mutant("serve-reader-not-reopened", "mbtkg/stores/oxigraph.py",
           "        self._store = ox.Store.read_only(str(self.path))\n\n    def close",
           "\n    def close", ("tests/test_serve_shared_store.py",)),
    # session_reasoning/fast.py: the joining rules' batches
    Mutant("infer-transitive-backward-dropped", "mbtkg/session_reasoning/fast.py",
           "            longer += [(before, o) for s, o in pairs for before in ins.get(s, ())]\n",
           "", INFERENCE),
    Mutant("infer-link-objects-not-kept", "mbtkg/session_reasoning/fast.py",
           "            self.link_objects.update(o for _, o in pairs)", "            pass", INFERENCE),
    Mutant("infer-count-misses-links", "mbtkg/session_reasoning/fast.py",
           "for classes, nodes in typed) + len(other)", "for classes, nodes in typed)", INFERENCE),
    # stores/oxigraph_rows.py: answers read from TSV text
    Mutant("rows-tab-escape-kept", "mbtkg/stores/oxigraph_rows.py",
           r'_ECHAR = {"t": "\t",', r'_ECHAR = {"t": "t",', ROWS),
    Mutant("rows-block-drops-a-row", "mbtkg/stores/oxigraph_rows.py",
           "lines[start : min(start + _BLOCK, end)]", "lines[start : min(start + _BLOCK - 1, end)]",
           ROWS),
    Mutant("rows-bare-decimal-as-integer", "mbtkg/stores/oxigraph_rows.py",
           '    elif "." in cell:', '    elif "." in cell and False:', ROWS),
    # the CSV reader's paused collector, the writer's blocks of lines
    Mutant("csv-collector-not-paused", "mbtkg/sessions/csv_reader.py",
           "@collector_paused()  # keeps the time per row constant as sheets grow\n", "",
           ("tests/test_import_csv.py",)),
    Mutant("nquads-block-loses-a-line", "mbtkg/sessions/to_rdf.py",
           "triples[i : i + _NQUADS_BLOCK]", "triples[i : i + _NQUADS_BLOCK - 1]",
           ("tests/test_session_nquads.py",)),
    # prementalizing-to-mentalizing: the window's first turn, a transition with no intervention
    Mutant("p2m-window-excludes-the-modes-turn", "queries/prementalizing-to-mentalizing.rq",
           "?iEnd >= ?mode_turn", "?iEnd > ?mode_turn", ("tests/test_queries_corpus.py",)),
    Mutant("p2m-no-intervention-looks-up-unbound", "queries/prementalizing-to-mentalizing.rq",
           "BIND (COALESCE(?found, rdf:nil) AS ?i)", "BIND (?found AS ?i)",
           ("tests/test_queries_corpus.py",)),
    # the bench's peak memory of a child: its own VmHWM as the floor, not ru_maxrss
    Mutant("peak-memory-without-own-peak", "mbtkg/bench/process_memory.py",
           "and own > peak:", "and own > peak and False:", ("tests/test_process_memory.py",)),
    Mutant("own-peak-from-ru-maxrss", "mbtkg/bench/process_memory.py",
           'if line.startswith("VmHWM:"):', 'if line.startswith("VmHWM:") and False:',
           ("tests/test_process_memory.py",)),
)  # fmt: skip


def _copy_checkout(root: Path, dest: Path, tests_from: Path | None) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True
    ).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        rel = raw.decode()
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if (root / rel).is_file():
            shutil.copy2(root / rel, target)
    if tests_from is not None:
        shutil.rmtree(dest / "tests")
        shutil.copytree(tests_from / "tests", dest / "tests")


def _run_tests(copy: Path, tests: tuple[str, ...], timeout: float | None) -> int | None:
    """pytest's exit code on the tests that exist in the copy; None when it ran out of time."""
    present = [t for t in tests if (copy / t).exists()]
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *present]
    try:
        done = subprocess.run(
            cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None
    return done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="mutant names to run")
    parser.add_argument("--tests-from", type=Path, default=None, help="take tests/ from here")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per mutant")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    chosen = [m for m in MUTANTS if args.only is None or m.name in args.only]
    survived: list[str] = []
    errors = 0
    with tempfile.TemporaryDirectory(prefix="mbtkg-mutants-") as tmp:
        copy = Path(tmp) / "checkout"
        _copy_checkout(root, copy, args.tests_from)
        for mutant in chosen:
            source = copy / mutant.path
            original = source.read_text(encoding="utf-8")
            if original.count(mutant.old) != 1:
                print(f"{mutant.name}: SOURCE CHANGED (text found {original.count(mutant.old)}x)")
                continue
            source.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
            started = time.monotonic()
            try:
                code = _run_tests(copy, mutant.tests, args.timeout)
            finally:
                source.write_text(original, encoding="utf-8")
            verdict = {1: "killed", 0: "survived", None: "timed out"}.get(code, f"error {code}")
            if code == 0:
                survived.append(mutant.name)
            elif code != 1:
                errors += 1
            print(f"{mutant.name}: {verdict} ({time.monotonic() - started:.0f} s)", flush=True)
    killed = len(chosen) - len(survived) - errors
    print(
        f"\n{killed} killed, {len(survived)} survived, {errors} errors or timeouts of {len(chosen)}"
    )
    for name in survived:
        print(f"  survived: {name}")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
